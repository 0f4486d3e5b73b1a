/** The audit log: what is recorded, how an entry looks, and how the page names what an entry is about. */

/** Every audited action, by name. Entries never hold a supporter's e-mail address or name. */
export const AUDIT_ACTIONS = [
  'login',
  'login-failed',
  'role-changed',
  'user-invited',
  'user-disabled',
  'user-enabled',
  'letter-created',
  'letter-saved',
  'letter-review-requested',
  'letter-returned-to-draft',
  'letter-review-withdrawn',
  'letter-published',
  'letter-closed',
  'letter-reopened',
  'letter-collaborator-added',
  'letter-collaborator-removed',
  'letter-collaborator-left',
  'letter-deleted',
  'letter-changes-submitted',
  'letter-changes-approved',
  'letter-changes-returned',
  'letter-embed-changed',
  'recipient-created',
  'recipient-changed',
  'recipient-deleted',
  'recipients-imported',
  'settings-changed',
  'message-retried',
  'message-cancelled',
  'message-dismissed',
  'delivery',
  'delivery-settings-changed',
  'erratum-sent',
  'export',
  'signature-invalidated',
  'signature-restored',
  'signature-cleared',
  'signatures-bulk-invalidated',
  'signatures-bulk-restored',
  'erasure',
  'retention',
  'abuse-list-added',
  'abuse-list-removed',
  'password-reset',
  'password-changed',
  'invitation-accepted',
  'user-unlocked',
  'email-language-changed',
  'api-token-created',
  'api-token-revoked',
  'webhook-created',
  'webhook-changed',
  'webhook-deleted',
  'reply-published',
  'reply-unpublished',
  'escalation-changed',
  'delivery-escalated',
  'escalation-cancelled',
  'access-refused',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/**
 * An entry of a step a person takes on their own account (a password set by link, changed, an
 * invitation accepted): they are its actor and its subject.
 */
export function ownAccountStep(user: { id: number; email: string }, action: AuditAction) {
  return { actor: { id: user.id, email: user.email }, action, targetType: 'user', targetId: user.id };
}

export interface AuditEntry {
  id: number;
  at: Date;
  actorUserId: number | null;
  actorEmail: string;
  action: AuditAction;
  targetType: string;
  targetId: string;
  details: Record<string, unknown>;
}

/** Who did it: an account, or the platform itself (a scheduled job, a supporter's own link). */
export type AuditActor = { id: number; email: string } | 'platform' | 'supporter';

export interface AuditFilters {
  action?: AuditAction | undefined;
  actor?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

/** A letter's title as the reader's lists show it (lib/languages.ts titleFor), and its language. */
export interface AuditLetterName {
  id: number;
  title: string;
  titleLanguage: string;
}

/** What the ids in a page of entries name today (absent: it no longer exists). */
export interface AuditNames {
  letters: ReadonlyMap<number, AuditLetterName>;
  letterSlugs: ReadonlyMap<string, AuditLetterName>;
  users: ReadonlyMap<number, string>;
  recipients: ReadonlyMap<number, string>;
}

/** The kinds of thing an entry can be about. */
export type AuditSubjectKind =
  | 'letter'
  | 'letters'
  | 'user'
  | 'recipient'
  | 'recipient-import'
  | 'signature'
  | 'outbox-message'
  | 'abuse-list-entry'
  | 'settings';

/** One thing an entry is about, as the audit page names it. */
export interface AuditSubject {
  kind: AuditSubjectKind;
  /** Its name today; when it is gone, the label the entry stored, if any. */
  label: string | null;
  /** The language `label` is in, when it is a letter's title; a stored label's is not known. */
  labelLanguage?: string;
  /** Where an admin sees it; null when it is gone or has no page of its own. */
  href: string | null;
  /** It no longer exists. */
  gone: boolean;
}

/** An entry with names and links instead of raw ids: who did it, and what it was about. */
export interface ReadableAuditEntry extends AuditEntry {
  /** The acting account's place on the users page, while the account exists. */
  actorHref: string | null;
  /** The entry's target first, then what its details point to (the letter of a signature, say). */
  subjects: AuditSubject[];
}

const positiveId = (value: unknown): number | undefined => {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
};

/** The letter an entry's details point to: `letterId`, or the number `letter` of a signature step. */
const detailLetter = (details: Record<string, unknown>): number | undefined =>
  positiveId(details.letterId) ??
  (typeof details.letter === 'number' ? positiveId(details.letter) : undefined);

/** An export names its letter by slug (or 'all'); every other entry about a letter, by id. */
const bySlug = (entry: AuditEntry) => entry.action === 'export';

const storedText = (value: unknown): string | null =>
  typeof value === 'string' && value.trim() !== '' ? value : null;

/** The address of a user on the admin's users page. */
export const userHref = (id: number) => `/admin/users#user-${id}`;

/**
 * The ids an entry names, to look up in one go: its target, the letter in its details (`letterId`, or
 * `letter` for signature steps), the account in its details (`userId`), and the acting account.
 */
export function idsNamedBy(entries: readonly AuditEntry[]): {
  letterIds: number[];
  letterSlugs: string[];
  userIds: number[];
  recipientIds: number[];
} {
  const letterIds = new Set<number>();
  const letterSlugs = new Set<string>();
  const userIds = new Set<number>();
  const recipientIds = new Set<number>();
  for (const entry of entries) {
    const target = positiveId(entry.targetId);
    if (entry.targetType === 'letter') {
      if (bySlug(entry)) {
        if (entry.targetId !== '' && entry.targetId !== 'all') letterSlugs.add(entry.targetId);
      } else if (target !== undefined) letterIds.add(target);
    }
    if (entry.targetType === 'user' && target !== undefined) userIds.add(target);
    if (entry.targetType === 'recipient' && target !== undefined) recipientIds.add(target);
    const letter = detailLetter(entry.details);
    if (letter !== undefined) letterIds.add(letter);
    const user = positiveId(entry.details.userId);
    if (user !== undefined) userIds.add(user);
    if (entry.actorUserId !== null) userIds.add(entry.actorUserId);
  }
  return {
    letterIds: [...letterIds],
    letterSlugs: [...letterSlugs],
    userIds: [...userIds],
    recipientIds: [...recipientIds],
  };
}

function letterSubject(found: AuditLetterName | undefined, stored: unknown): AuditSubject {
  return found
    ? {
        kind: 'letter',
        label: found.title,
        labelLanguage: found.titleLanguage,
        href: `/admin/letters/${found.id}`,
        gone: false,
      }
    : { kind: 'letter', label: storedText(stored), href: null, gone: true };
}

function userSubject(id: number, names: AuditNames, stored: unknown): AuditSubject {
  const email = names.users.get(id);
  return email !== undefined
    ? { kind: 'user', label: email, href: userHref(id), gone: false }
    : { kind: 'user', label: storedText(stored), href: null, gone: true };
}

/** What the page says an entry is about, with links to what still exists. Pure: names are looked up first. */
export function readableEntry(entry: AuditEntry, names: AuditNames): ReadableAuditEntry {
  const { details } = entry;
  const target = positiveId(entry.targetId);
  const subjects: AuditSubject[] = [];
  switch (entry.targetType) {
    case 'letter':
      if (!bySlug(entry)) {
        if (target !== undefined) subjects.push(letterSubject(names.letters.get(target), details.title));
      } else if (entry.targetId === 'all') {
        subjects.push({ kind: 'letters', label: null, href: null, gone: false });
      } else subjects.push(letterSubject(names.letterSlugs.get(entry.targetId), entry.targetId));
      break;
    case 'user':
      if (target !== undefined) subjects.push(userSubject(target, names, details.email));
      break;
    case 'recipient':
      if (target !== undefined) {
        const name = names.recipients.get(target);
        subjects.push(
          name !== undefined
            ? { kind: 'recipient', label: name, href: `/admin/recipients/${target}`, gone: false }
            : { kind: 'recipient', label: storedText(details.name), href: null, gone: true },
        );
      }
      break;
    case 'recipient-import':
      subjects.push({ kind: 'recipient-import', label: storedText(details.file), href: null, gone: false });
      break;
    // A signature is named by its number only: the page never shows a supporter's name or address.
    case 'signature':
      subjects.push({ kind: 'signature', label: `#${entry.targetId}`, href: null, gone: false });
      break;
    case 'outbox-message':
      subjects.push({
        kind: 'outbox-message',
        label: `#${entry.targetId}`,
        href: '/admin/queue',
        gone: false,
      });
      break;
    case 'abuse-list-entry':
      subjects.push({
        kind: 'abuse-list-entry',
        label: storedText(details.value),
        href: '/admin/abuse',
        gone: false,
      });
      break;
    case 'settings':
      subjects.push({ kind: 'settings', label: null, href: '/admin/settings', gone: false });
      break;
  }
  const letter = detailLetter(details);
  if (letter !== undefined && !(entry.targetType === 'letter' && !bySlug(entry) && target === letter))
    subjects.push(letterSubject(names.letters.get(letter), details.title));
  const user = positiveId(details.userId);
  if (user !== undefined && !(entry.targetType === 'user' && target === user))
    subjects.push(userSubject(user, names, details.email));
  return {
    ...entry,
    actorHref:
      entry.actorUserId !== null && names.users.has(entry.actorUserId) ? userHref(entry.actorUserId) : null,
    subjects,
  };
}
