/**
 * A recipient's names for the pages of each interface language: what the public pages call them in
 * Korean or Ukrainian, where the directory's own fields are in one language (often English, whatever
 * language the recipient reads). Pure.
 */

/** How a recipient is named in one language: the name, the title and the institution. */
export interface RecipientName {
  name: string;
  title: string;
  organisation: string;
}

/**
 * A recipient's names by interface language, for the public pages; where one is missing, the
 * directory's own fields (which the letter to them says) stand.
 */
export type RecipientNames = Readonly<Record<string, RecipientName>>;

/**
 * A recipient as a page in `language` names them: the name, title and institution typed for that
 * language, each field that was left empty taken from the recipient's own.
 */
export function recipientNamedIn(
  recipient: RecipientName & { names: RecipientNames },
  language: string,
): RecipientName {
  const named = recipient.names[language];
  return {
    name: named?.name || recipient.name,
    title: named?.title || recipient.title,
    organisation: named?.organisation || recipient.organisation,
  };
}
