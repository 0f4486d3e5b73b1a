import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../server/lib/errors.js';
import {
  ACTIONS,
  authorize,
  can,
  letterResource,
  PolicyRefusal,
  type Action,
  type Actor,
  type LetterResource,
  type RecipientResource,
} from '../../../server/policy/policy.js';

const admin: Actor = { id: 1, role: 'admin' };
const owner: Actor = { id: 2, role: 'organizer' };
const collaborator: Actor = { id: 3, role: 'organizer' };
const stranger: Actor = { id: 4, role: 'organizer' };

const ownersLetter: LetterResource = { ownerId: owner.id, collaboratorIds: [collaborator.id] };
const nobodysLetter: LetterResource = { ownerId: null, collaboratorIds: [] };
const strangersLetter: LetterResource = { ownerId: stranger.id, collaboratorIds: [] };

const unused: RecipientResource = { usedBy: [] };
const onOwnersLetter: RecipientResource = { usedBy: [ownersLetter] };
const onOwnersAndStrangersLetters: RecipientResource = { usedBy: [ownersLetter, strangersLetter] };
const onNobodysLetter: RecipientResource = { usedBy: [nobodysLetter] };
/** On the owner's letter, published while review is required. */
const onOwnersReviewedLetter: RecipientResource = { usedBy: [{ ...ownersLetter, reviewed: true }] };

type Row = [who: string, actor: Actor, action: Action, what: string, resource: unknown, allowed: boolean];

/** The whole policy as a table: who, does what, to what, allowed or not. */
const TABLE: Row[] = [
  // Working on a letter: admins, its owner, the organizers it is shared with; nobody else.
  ['admin', admin, 'letter.edit', "an organizer's letter", ownersLetter, true],
  ['admin', admin, 'letter.edit', 'a letter nobody owns', nobodysLetter, true],
  ['owner', owner, 'letter.edit', 'their letter', ownersLetter, true],
  ['collaborator', collaborator, 'letter.edit', 'a letter shared with them', ownersLetter, true],
  ['another organizer', stranger, 'letter.edit', "someone else's letter", ownersLetter, false],
  ['an organizer', owner, 'letter.edit', 'a letter nobody owns', nobodysLetter, false],
  // Sharing: the owner and admins, not collaborators.
  ['admin', admin, 'letter.manage-collaborators', "an organizer's letter", ownersLetter, true],
  ['owner', owner, 'letter.manage-collaborators', 'their letter', ownersLetter, true],
  [
    'collaborator',
    collaborator,
    'letter.manage-collaborators',
    'a letter shared with them',
    ownersLetter,
    false,
  ],
  [
    'another organizer',
    stranger,
    'letter.manage-collaborators',
    "someone else's letter",
    ownersLetter,
    false,
  ],
  // Leaving a shared letter: its collaborators only; its owner cannot leave it ownerless, nor can an
  // admin or another organizer leave what they were never given.
  ['collaborator', collaborator, 'letter.leave', 'a letter shared with them', ownersLetter, true],
  ['owner', owner, 'letter.leave', 'their letter', ownersLetter, false],
  ['admin', admin, 'letter.leave', "an organizer's letter", ownersLetter, false],
  ['another organizer', stranger, 'letter.leave', "someone else's letter", ownersLetter, false],
  // Deleting a draft: its owner or an admin, not a collaborator or another organizer.
  ['owner', owner, 'letter.delete-draft', 'their draft', ownersLetter, true],
  ['admin', admin, 'letter.delete-draft', "an organizer's draft", ownersLetter, true],
  ['collaborator', collaborator, 'letter.delete-draft', 'a draft shared with them', ownersLetter, false],
  ['another organizer', stranger, 'letter.delete-draft', "someone else's draft", ownersLetter, false],
  // Review: only admins skip it, approve or return.
  ['admin', admin, 'letter.publish-unreviewed', "an organizer's letter", ownersLetter, true],
  ['owner', owner, 'letter.publish-unreviewed', 'their letter', ownersLetter, false],
  ['collaborator', collaborator, 'letter.publish-unreviewed', 'a shared letter', ownersLetter, false],
  ['admin', admin, 'letter.review', "an organizer's letter", ownersLetter, true],
  ['owner', owner, 'letter.review', 'their own letter', ownersLetter, false],
  // Withdrawing a review request: the letter's own organizers; an admin decides it instead.
  ['owner', owner, 'letter.withdraw-review', 'their draft in review', ownersLetter, true],
  ['collaborator', collaborator, 'letter.withdraw-review', 'a draft shared with them', ownersLetter, true],
  ['admin', admin, 'letter.withdraw-review', "an organizer's draft in review", ownersLetter, false],
  ['another organizer', stranger, 'letter.withdraw-review', "someone else's draft", ownersLetter, false],
  ['admin', admin, 'letter.list-awaiting-review', 'the review list', undefined, true],
  ['an organizer', owner, 'letter.list-awaiting-review', 'the review list', undefined, false],
  ['admin', admin, 'letter.list-all', 'every letter', undefined, true],
  ['an organizer', owner, 'letter.list-all', 'every letter', undefined, false],
  ['an organizer', owner, 'letter.create', 'a new letter', undefined, true],
  // The directory: anyone adds; a recipient another organizer's letter addresses is changed by admins only.
  ['an organizer', stranger, 'recipient.create', 'a new recipient', undefined, true],
  ['admin', admin, 'recipient.change', "a recipient on an organizer's letter", onOwnersLetter, true],
  ['admin', admin, 'recipient.change', 'a recipient on a letter nobody owns', onNobodysLetter, true],
  ['owner', owner, 'recipient.change', 'a recipient only their letter uses', onOwnersLetter, true],
  [
    'collaborator',
    collaborator,
    'recipient.change',
    'a recipient only a shared letter uses',
    onOwnersLetter,
    true,
  ],
  ['an organizer', stranger, 'recipient.change', 'a recipient no letter uses', unused, true],
  [
    'another organizer',
    stranger,
    'recipient.change',
    "a recipient on someone else's letter",
    onOwnersLetter,
    false,
  ],
  [
    'owner',
    owner,
    'recipient.change',
    "a recipient on their letter and someone else's",
    onOwnersAndStrangersLetters,
    false,
  ],
  ['an organizer', owner, 'recipient.change', 'a recipient on a letter nobody owns', onNobodysLetter, false],
  ['owner', owner, 'recipient.change', 'a recipient on their reviewed letter', onOwnersReviewedLetter, false],
  [
    'admin',
    admin,
    'recipient.change',
    "a recipient on an organizer's reviewed letter",
    onOwnersReviewedLetter,
    true,
  ],
  // The organizer API and webhooks: what the account may reach, no more.
  ['owner', owner, 'signature.export-letter', 'their letter', ownersLetter, true],
  ['collaborator', collaborator, 'signature.export-letter', 'a letter shared with them', ownersLetter, true],
  ['admin', admin, 'signature.export-letter', "an organizer's letter", ownersLetter, true],
  ['another organizer', stranger, 'signature.export-letter', "someone else's letter", ownersLetter, false],
  ['an organizer', owner, 'signature.export-letter', 'a letter nobody owns', nobodysLetter, false],
  ['owner', owner, 'webhook.manage', 'their letter', ownersLetter, true],
  ['collaborator', collaborator, 'webhook.manage', 'a letter shared with them', ownersLetter, true],
  ['another organizer', stranger, 'webhook.manage', "someone else's letter", ownersLetter, false],
  ['owner', owner, 'delivery.correct', 'their letter', ownersLetter, true],
  ['collaborator', collaborator, 'delivery.correct', 'a letter shared with them', ownersLetter, true],
  ['admin', admin, 'delivery.correct', "an organizer's letter", ownersLetter, true],
  ['another organizer', stranger, 'delivery.correct', "someone else's letter", ownersLetter, false],
  ['owner', owner, 'reply.manage', 'their letter', ownersLetter, true],
  ['collaborator', collaborator, 'reply.manage', 'a letter shared with them', ownersLetter, true],
  ['admin', admin, 'reply.manage', "an organizer's letter", ownersLetter, true],
  ['another organizer', stranger, 'reply.manage', "someone else's letter", ownersLetter, false],
  ['owner', owner, 'escalation.manage', 'their letter', ownersLetter, true],
  ['collaborator', collaborator, 'escalation.manage', 'a letter shared with them', ownersLetter, true],
  ['admin', admin, 'escalation.manage', "an organizer's letter", ownersLetter, true],
  ['another organizer', stranger, 'escalation.manage', "someone else's letter", ownersLetter, false],
  ['an organizer', owner, 'apiToken.manage', 'their own token', { ownerId: owner.id }, true],
  ['another organizer', stranger, 'apiToken.manage', "someone else's token", { ownerId: owner.id }, false],
  ['admin', admin, 'apiToken.manage', "an organizer's token", { ownerId: owner.id }, true],
  ['an organizer', owner, 'apiToken.oversee', "every account's tokens", undefined, false],
  ['admin', admin, 'apiToken.oversee', "every account's tokens", undefined, true],
  // Admin areas.
  ...(
    [
      'admin.page',
      'signature.moderate',
      'signature.export',
      'signature.erase',
      'queue.manage',
      'user.manage',
      'audit.read',
      'settings.change',
      'mailbox.read',
      'abuse.manage',
    ] as const
  ).flatMap((action): Row[] => [
    ['admin', admin, action, 'the admin area', undefined, true],
    ['an organizer', owner, action, 'the admin area', undefined, false],
  ]),
];

/** `can` and `authorize` with a resource chosen at run time (the table mixes actions). */
const canAny = (actor: Actor, action: Action, resource: unknown) =>
  (can as (actor: Actor, action: Action, resource?: unknown) => boolean)(actor, action, resource);
const authorizeAny = (actor: Actor, action: Action, resource: unknown) =>
  (authorize as (actor: Actor, action: Action, resource?: unknown) => void)(actor, action, resource);

describe('the access policy', () => {
  it.each(TABLE)('%s: %s on %s → allowed %s', (_who, actor, action, _what, resource, allowed) => {
    expect(canAny(actor, action, resource)).toBe(allowed);
    if (allowed) expect(() => authorizeAny(actor, action, resource)).not.toThrow();
    else expect(() => authorizeAny(actor, action, resource)).toThrow(AppError);
  });

  it('has rows for every action, each allowed to someone: a new action needs its rows here', () => {
    const covered = new Set(TABLE.map((row) => row[2]));
    expect([...ACTIONS].sort()).toEqual([...covered].sort());
    for (const action of covered)
      expect(
        TABLE.some((row) => row[2] === action && row[5]),
        action,
      ).toBe(true);
  });

  it('refuses with a 403 that says why: the letter is someone else’s, admins only, or the recipient is another’s', () => {
    const refusal = (fn: () => void) => {
      try {
        fn();
      } catch (error) {
        return error instanceof AppError
          ? { status: error.status, code: error.code, key: error.messageKey }
          : error;
      }
      return undefined;
    };
    expect(refusal(() => authorize(stranger, 'letter.edit', ownersLetter))).toEqual({
      status: 403,
      code: 'letter_forbidden',
      key: 'errors.letterForbidden',
    });
    expect(refusal(() => authorize(owner, 'audit.read'))).toEqual({
      status: 403,
      code: 'admin_only',
      key: 'errors.adminOnly',
    });
    expect(refusal(() => authorize(stranger, 'recipient.change', onOwnersLetter))).toEqual({
      status: 403,
      code: 'recipient_change_forbidden',
      key: 'policy.recipients.changeForbidden',
    });
    expect(refusal(() => authorize(collaborator, 'letter.manage-collaborators', ownersLetter))).toEqual({
      status: 403,
      code: 'letter_forbidden',
      key: 'errors.onlyOwnerShares',
    });
    expect(refusal(() => authorize(owner, 'letter.leave', ownersLetter))).toEqual({
      status: 403,
      code: 'not_collaborator',
      key: 'errors.onlySharedLeave',
    });
    expect(refusal(() => authorize(admin, 'letter.withdraw-review', ownersLetter))).toEqual({
      status: 403,
      code: 'letter_forbidden',
      key: 'errors.onlyOrganizersWithdrawReview',
    });
  });

  it('says which action it refused and on what, for the audit record: the letter or recipient when its id is known', () => {
    const refusedBy = (fn: () => void) => {
      try {
        fn();
      } catch (error) {
        return error instanceof PolicyRefusal ? { action: error.action, target: error.target } : error;
      }
      return undefined;
    };
    const letter = letterResource({ id: 7, ownerId: owner.id }, []);
    expect(refusedBy(() => authorize(stranger, 'letter.edit', letter))).toEqual({
      action: 'letter.edit',
      target: { type: 'letter', id: 7 },
    });
    expect(refusedBy(() => authorize(stranger, 'letter.edit', ownersLetter))).toEqual({
      action: 'letter.edit',
      target: undefined,
    });
    expect(
      refusedBy(() => authorize(stranger, 'recipient.change', { id: 9, usedBy: [ownersLetter] })),
    ).toEqual({ action: 'recipient.change', target: { type: 'recipient', id: 9 } });
    expect(refusedBy(() => authorize(owner, 'admin.page'))).toEqual({
      action: 'admin.page',
      target: undefined,
    });
  });

  it('lets an organizer work on a letter exactly when they own it or it is shared with them', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000 }),
        fc.option(fc.integer({ min: 1, max: 1_000 }), { nil: null }),
        fc.array(fc.integer({ min: 1, max: 1_000 }), { maxLength: 10 }),
        (userId, ownerId, collaboratorIds) => {
          const letter = letterResource({ ownerId }, collaboratorIds);
          expect(can({ id: userId, role: 'organizer' }, 'letter.edit', letter)).toBe(
            ownerId === userId || collaboratorIds.includes(userId),
          );
          expect(can({ id: userId, role: 'admin' }, 'letter.edit', letter)).toBe(true);
        },
      ),
    );
  });

  it('lets an organizer change a recipient exactly when every letter addressing it is one they may edit', () => {
    const letter = fc.record({
      ownerId: fc.option(fc.integer({ min: 1, max: 5 }), { nil: null }),
      collaboratorIds: fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 3 }),
    });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(letter, { maxLength: 5 }), (userId, usedBy) => {
        const actor: Actor = { id: userId, role: 'organizer' };
        expect(can(actor, 'recipient.change', { usedBy })).toBe(
          usedBy.every((l) => can(actor, 'letter.edit', l)),
        );
      }),
    );
  });
});
