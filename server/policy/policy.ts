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
  /** The letter's id, when known: a refusal names it in the audit log (it decides nothing). */
  id?: number;
  ownerId: number | null;
  collaboratorIds: readonly number[];
}

/** A directory recipient as the rules see it: the letters that address it. */
export interface RecipientResource {
  /** The recipient's id, when known: a refusal names it in the audit log (it decides nothing). */
  id?: number;
  usedBy: readonly (LetterResource & {
    /**
     * Published while the platform requires review: what it sends changes only through an admin's
     * review, so a change to its recipients' addresses may not skip that review either.
     */
    reviewed?: boolean;
  })[];
}

/** Every action, with the resource its rule needs (`undefined`: the rule depends on the actor alone). */
export interface Actions {
  /**
   * Open a page of the admin-only areas (settings, queue, users, audit log…): the routes' gate, which
   * refuses before the page's service asserts its own action.
   */
  'admin.page': undefined;
  /** See and edit a letter's draft, texts, recipients, preview and deliveries. */
  'letter.edit': LetterResource;
  /** Share a letter with other organizers, or stop sharing it. */
  'letter.manage-collaborators': LetterResource;
  /** Delete a draft that was never published: its owner or an admin, not a collaborator. */
  'letter.delete-draft': LetterResource;
  /** Stop working on a letter someone else shared with one: only its collaborators may, not its owner. */
  'letter.leave': LetterResource;
  /** Publish without an admin's review, when the platform requires review. */
  'letter.publish-unreviewed': LetterResource;
  /** Approve or return a letter waiting for review. */
  'letter.review': LetterResource;
  /**
   * Take back one's own request for review of a draft, to keep working on it: its owner and the
   * accounts it is shared with, not an admin as such (an admin approves it or sends it back instead).
   */
  'letter.withdraw-review': LetterResource;
  /** See every letter on the platform, not just one's own and shared ones. */
  'letter.list-all': undefined;
  /** See the letters (and changes to published letters) waiting for an admin's review. */
  'letter.list-awaiting-review': undefined;
  'letter.create': undefined;
  /** Add a recipient to the directory, or import a list. */
  'recipient.create': undefined;
  /** Change or delete a directory recipient: its address decides where letters go. */
  'recipient.change': RecipientResource;
  /** Admin areas. */
  'signature.moderate': undefined;
  'signature.export': undefined;
  /** Erase a person by their address, across every letter (a supporter erases through their own link). */
  'signature.erase': undefined;
  'queue.manage': undefined;
  'user.manage': undefined;
  'audit.read': undefined;
  'settings.change': undefined;
  /** Read the captured mailbox (it holds invitations, supporters' addresses and hidden names). */
  'mailbox.read': undefined;
  /** Keep the block and allow lists, and see where signatures come from (trending sources). */
  'abuse.manage': undefined;
  /**
   * Read one letter's signatures through the organizer API, as an export does but with addresses only
   * of supporters who agreed to updates: whoever may work on the letter.
   */
  'signature.export-letter': LetterResource;
  /** Create, list and revoke API tokens: one's own (an admin: anyone's, to stop a leaked one). */
  'apiToken.manage': ApiTokenResource;
  /** See every account's working tokens, to find and revoke a leaked one (revoking is apiToken.manage). */
  'apiToken.oversee': undefined;
  /** Register, change, rotate and delete a letter's webhook endpoints, and read their delivery log. */
  'webhook.manage': LetterResource;
  /** Send the recipients of a delivered list a correction of its count (an erratum): whoever may work on the letter. */
  'delivery.correct': LetterResource;
  /** Read the replies officials sent to a letter's deliveries, and publish them on its record or take them off. */
  'reply.manage': LetterResource;
  /**
   * Set a letter's escalation schedule and its recipients' tiers, and cancel its pending steps: it
   * decides who else receives the letter, so whoever may deliver it.
   */
  'escalation.manage': LetterResource;
}

/** An API token as the rules see it: whose it is. */
export interface ApiTokenResource {
  ownerId: number;
}

export type Action = keyof Actions;

function canEditLetter(actor: Actor, letter: LetterResource): boolean {
  return actor.role === 'admin' || letter.ownerId === actor.id || letter.collaboratorIds.includes(actor.id);
}

const isAdmin = (actor: Actor) => actor.role === 'admin';

const RULES: { [A in Action]: (actor: Actor, resource: Actions[A]) => boolean } = {
  'admin.page': isAdmin,
  'letter.edit': canEditLetter,
  'letter.manage-collaborators': (actor, letter) => isAdmin(actor) || letter.ownerId === actor.id,
  'letter.leave': (actor, letter) => letter.collaboratorIds.includes(actor.id),
  'letter.delete-draft': (actor, letter) => isAdmin(actor) || letter.ownerId === actor.id,
  'letter.publish-unreviewed': (actor) => isAdmin(actor),
  'letter.review': (actor) => isAdmin(actor),
  'letter.withdraw-review': (actor, letter) =>
    letter.ownerId === actor.id || letter.collaboratorIds.includes(actor.id),
  'letter.list-all': isAdmin,
  'letter.list-awaiting-review': isAdmin,
  'letter.create': () => true,
  'recipient.create': () => true,
  // An organizer may change a recipient only while no one else's letter addresses it: otherwise they
  // could redirect another organizer's letter to an address of their choosing. Nor one on a reviewed
  // letter: that would change where it goes without the review its other changes wait for.
  'recipient.change': (actor, recipient) =>
    isAdmin(actor) || recipient.usedBy.every((letter) => !letter.reviewed && canEditLetter(actor, letter)),
  'signature.moderate': isAdmin,
  'signature.export': isAdmin,
  'signature.erase': isAdmin,
  'queue.manage': isAdmin,
  'user.manage': isAdmin,
  'audit.read': isAdmin,
  'settings.change': isAdmin,
  'mailbox.read': isAdmin,
  'abuse.manage': isAdmin,
  // Only what the token's account may reach: its own and shared letters (every letter for an admin).
  'signature.export-letter': canEditLetter,
  'apiToken.manage': (actor, token) => isAdmin(actor) || token.ownerId === actor.id,
  'apiToken.oversee': isAdmin,
  'webhook.manage': canEditLetter,
  'delivery.correct': canEditLetter,
  // Replies hold officials' addresses and words not yet public: only whoever may work on the letter.
  'reply.manage': canEditLetter,
  'escalation.manage': canEditLetter,
};

/**
 * What a refusal says, where a general "your account may not do this" would not help: the code and
 * message key of the 403. Admin-only actions say "only admins"; the others fall back to errors.forbidden.
 */
const REFUSALS: Partial<Record<Action, { code: string; messageKey: string }>> = {
  'letter.edit': { code: 'letter_forbidden', messageKey: 'errors.letterForbidden' },
  'letter.manage-collaborators': { code: 'letter_forbidden', messageKey: 'errors.onlyOwnerShares' },
  'letter.leave': { code: 'not_collaborator', messageKey: 'errors.onlySharedLeave' },
  'letter.delete-draft': { code: 'letter_forbidden', messageKey: 'errors.onlyOwnerDeletes' },
  'letter.review': { code: 'admin_only', messageKey: 'errors.adminOnly' },
  'letter.publish-unreviewed': { code: 'admin_only', messageKey: 'errors.adminOnly' },
  'letter.withdraw-review': { code: 'letter_forbidden', messageKey: 'errors.onlyOrganizersWithdrawReview' },
  'recipient.change': { code: 'recipient_change_forbidden', messageKey: 'policy.recipients.changeForbidden' },
  'signature.export-letter': { code: 'letter_forbidden', messageKey: 'errors.letterForbidden' },
  'webhook.manage': { code: 'letter_forbidden', messageKey: 'errors.letterForbidden' },
  'delivery.correct': { code: 'letter_forbidden', messageKey: 'errors.letterForbidden' },
  'reply.manage': { code: 'letter_forbidden', messageKey: 'errors.letterForbidden' },
  'escalation.manage': { code: 'letter_forbidden', messageKey: 'errors.letterForbidden' },
};

/** A letter as the rules see it, from its owner and the organizers it is shared with. */
export function letterResource(
  letter: { id?: number; ownerId: number | null },
  collaboratorIds: readonly number[],
): LetterResource {
  return {
    ...(letter.id === undefined ? {} : { id: letter.id }),
    ownerId: letter.ownerId,
    collaboratorIds,
  };
}

/** What a refused action was aimed at, when its resource names it: the audit log's target. */
export interface RefusedTarget {
  type: 'letter' | 'recipient';
  id: number;
}

/**
 * The 403 of a policy refusal: the one error shape, plus which action was refused and on what, so the
 * error handler can put a signed-in account's refusal on the audit record (http/errors.ts). Recorded
 * there, not here: a service often asserts inside its transaction, and the refusal rolls that back.
 */
export class PolicyRefusal extends AppError {
  constructor(
    error: AppError,
    readonly action: Action,
    readonly target: RefusedTarget | undefined,
  ) {
    super(error.status, error.code, error.messageKey, error.params);
  }
}

function refusedTarget(resource: unknown): RefusedTarget | undefined {
  if (typeof resource !== 'object' || resource === null) return undefined;
  const { id } = resource as { id?: unknown };
  if (typeof id !== 'number') return undefined;
  if ('usedBy' in resource) return { type: 'recipient', id };
  if ('collaboratorIds' in resource) return { type: 'letter', id };
  return undefined;
}

/** Every action there is, for tests that check each has a rule in the table. */
export const ACTIONS = Object.keys(RULES) as Action[];

type ResourceArg<A extends Action> = Actions[A] extends undefined ? [] : [resource: Actions[A]];

/** Whether the actor may do this. Pure: for routes and views that show or hide what is allowed. */
export function can<A extends Action>(actor: Actor, action: A, ...resource: ResourceArg<A>): boolean {
  const rule = RULES[action] as (actor: Actor, resource: unknown) => boolean;
  return rule(actor, resource[0]);
}

/** Asserts inside a service that the actor may do this; otherwise 403 with a message that says so. */
export function authorize<A extends Action>(actor: Actor, action: A, ...resource: ResourceArg<A>): void {
  if (can(actor, action, ...resource)) return;
  throw new PolicyRefusal(refusalOf(action), action, refusedTarget(resource[0]));
}

function refusalOf(action: Action): AppError {
  const refusal = REFUSALS[action];
  if (refusal) return new AppError(403, refusal.code, refusal.messageKey);
  const adminOnly = (RULES[action] as unknown) === isAdmin;
  return adminOnly
    ? new AppError(403, 'admin_only', 'errors.adminOnly')
    : new AppError(403, 'forbidden', 'errors.forbidden', { action });
}
