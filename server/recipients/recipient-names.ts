/**
 * A recipient's names for each interface language: what the public pages call them in Korean or
 * Ukrainian, where the directory's own fields are in one language (often English, whatever language the
 * recipient reads), and what a letter sent to them in that language calls them (merge-fields.ts). Pure.
 */

/** How a recipient is named in one language: the name, the title and the institution. */
export interface RecipientName {
  name: string;
  title: string;
  organisation: string;
}

/**
 * A recipient's names by interface language; where one is missing, the directory's own fields stand.
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

/**
 * A name kept with a delivery or a reply (the recipient as the letter went to them), in `language` where
 * the directory has a name typed for it, field by field; otherwise as kept, not as the directory says
 * now (a new ambassador since is not who the letter went to).
 */
export function keptNameIn(
  kept: { name: string; organisation: string },
  recipient: { names: RecipientNames } | undefined,
  language: string,
): { name: string; organisation: string } {
  const { name, organisation } = recipientNamedIn(
    { ...kept, title: '', names: recipient?.names ?? {} },
    language,
  );
  return { name, organisation };
}
