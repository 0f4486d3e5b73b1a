/**
 * Who may do what: every access rule of the platform, written once as pure functions.
 *
 * Services assert these (`authorize`) at the start of each use case, whoever called them; routes and
 * views only ask `can` for booleans (to show or hide a button). A service never trusts that its caller
 * checked. Add an action here, with its rule, before using it anywhere.
 */
import type { Role } from '../accounts/account.js';
import { AppError } from '../lib/errors.js';

/** The acting account, as much of it as rules need. */
export interface Actor {
  id: number;
  role: Role;
}

/** A letter as the rules see it: who owns it and who it was shared with. */
export interface LetterResource {
  ownerId: number | null;
  collaboratorIds: readonly number[];
}

/** A directory recipient as the rules see it: the letters that address it. */
export interface RecipientResource {
  usedBy: readonly LetterResource[];
}

/** Every action, with the resource its rule needs (`undefined`: the rule depends on the actor alone). */
export interface Actions {
  /** See and edit a letter's draft, texts, recipients, preview and deliveries. */
  'letter.edit': LetterResource;
  /** Share a letter with other organizers, or stop sharing it. */
  'letter.manage-collaborators': LetterResource;
  /** Publish without an admin's review, when the platform requires review. */
  'letter.publish-unreviewed': LetterResource;
  /** Approve or return a letter waiting for review. */
  'letter.review': LetterResource;
  /** See every letter on the platform, not just one's own and shared ones. */
  'letter.list-all': undefined;
  'letter.create': undefined;
  /** Add a recipient to the directory, or import a list. */
  'recipient.create': undefined;
  /** Change or delete a directory recipient: its address decides where letters go. */
  'recipient.change': RecipientResource;
  /** Admin areas. */
  'signature.moderate': undefined;
  'signature.export': undefined;
  'queue.manage': undefined;
  'user.manage': undefined;
  'audit.read': undefined;
  'settings.change': undefined;
  /** Read the captured mailbox (it holds invitations, supporters' addresses and hidden names). */
  'mailbox.read': undefined;
}

export type Action = keyof Actions;

function canEditLetter(actor: Actor, letter: LetterResource): boolean {
  return actor.role === 'admin' || letter.ownerId === actor.id || letter.collaboratorIds.includes(actor.id);
}

const isAdmin = (actor: Actor) => actor.role === 'admin';

const RULES: { [A in Action]: (actor: Actor, resource: Actions[A]) => boolean } = {
  'letter.edit': canEditLetter,
  'letter.manage-collaborators': (actor, letter) => isAdmin(actor) || letter.ownerId === actor.id,
  'letter.publish-unreviewed': (actor) => isAdmin(actor),
  'letter.review': (actor) => isAdmin(actor),
  'letter.list-all': isAdmin,
  'letter.create': () => true,
  'recipient.create': () => true,
  // An organizer may change a recipient only while no one else's letter addresses it: otherwise they
  // could redirect another organizer's letter to an address of their choosing.
  'recipient.change': (actor, recipient) =>
    isAdmin(actor) || recipient.usedBy.every((letter) => canEditLetter(actor, letter)),
  'signature.moderate': isAdmin,
  'signature.export': isAdmin,
  'queue.manage': isAdmin,
  'user.manage': isAdmin,
  'audit.read': isAdmin,
  'settings.change': isAdmin,
  'mailbox.read': isAdmin,
};

type ResourceArg<A extends Action> = Actions[A] extends undefined ? [] : [resource: Actions[A]];

/** Whether the actor may do this. Pure: for routes and views that show or hide what is allowed. */
export function can<A extends Action>(actor: Actor, action: A, ...resource: ResourceArg<A>): boolean {
  const rule = RULES[action] as (actor: Actor, resource: unknown) => boolean;
  return rule(actor, resource[0]);
}

/** Asserts inside a service that the actor may do this; otherwise 403 with a message that says so. */
export function authorize<A extends Action>(actor: Actor, action: A, ...resource: ResourceArg<A>): void {
  if (can(actor, action, ...resource)) return;
  const adminOnly = (RULES[action] as unknown) === isAdmin;
  throw adminOnly
    ? new AppError(403, 'admin_only', 'errors.adminOnly')
    : new AppError(403, 'forbidden', 'errors.forbidden', { action });
}
