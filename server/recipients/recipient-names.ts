/**
 * A recipient's names in the other interface languages: what the public pages call them in Korean or
 * Ukrainian, where their own fields are in the language they read. Pure.
 */

/** How a recipient is named in one language: the name, the title and the institution. */
export interface RecipientName {
  name: string;
  title: string;
  organisation: string;
}

/**
 * A recipient's names in languages other than their own, by language code, for the public pages; the
 * recipient's own language is its fields themselves (what the letter to them says).
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
