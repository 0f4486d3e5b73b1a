import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import { createAccount, loginAs } from '../support/accounts.js';
import { createLetter } from '../support/factories.js';
import { byId, innerHtml, mainOf, startTags, textOf } from '../support/html.js';
import type { Visitor } from '../support/http.js';
import { storeSignature } from '../support/stored-signatures.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

const SECRET = 'test-secret-test-secret-test-secret-0123';
const SUPPORTER = { name: 'Hidden Supporter', email: 'hidden.supporter@example.org' };

/** The audit page's rows, newest first: the action, and the "who" and "what" cells as text and links. */
function auditRows(html: string) {
  return startTags(html, 'tr')
    .filter((tr) => tr.attrs.class === 'audit-row')
    .map((tr) => {
      const cells = innerHtml(html, tr).split('</td>').slice(0, -1);
      const links = (cell: string) =>
        startTags(cell, 'a').map((a) => ({ href: a.attrs.href, text: textOf(innerHtml(cell, a)) }));
      return {
        action: tr.attrs['data-action']!,
        actor: textOf(cells[1]!),
        actorLinks: links(cells[1]!),
        what: textOf(cells[3]!),
        whatLinks: links(cells[3]!),
      };
    });
}

describe('the audit page names what each entry is about, with links, not raw ids', () => {
  let t: TestPlatform;
  let admin: User;
  let organizer: User;
  let viewer: Visitor;
  let letter: { id: number; slug: string };
  let rows: ReturnType<typeof auditRows>;
  let page: string;

  beforeAll(async () => {
    t = await createTestPlatform();
    const deps = t.platform.appDeps;
    admin = await createAccount(t.platform, 'admin');
    organizer = await createAccount(t.platform, 'organizer');
    letter = await createLetter(t.platform.db, t.clock.now(), { title: 'Free to choose asylum' });

    await deps.userAdmin.changeRole(admin, organizer.id, 'admin');
    const form = {
      name: 'Ministry of Unification',
      title: '',
      organisation: '',
      country: 'KR',
      email: 'minister@unification.example.org',
      language: 'en',
      salutation: 'Dear Minister',
      notes: '',
    };
    const kept = await deps.recipients.create(admin, form);
    const gone = await deps.recipients.create(admin, {
      ...form,
      name: 'A Closed Embassy',
      email: 'closed@embassy.example.org',
    });
    if (kept.kind !== 'saved' || gone.kind !== 'saved') throw new Error('the recipients were not added');
    await deps.recipients.delete(admin, gone.id);
    const signature = await storeSignature(t.platform.db, SECRET, letter.id, {
      ...SUPPORTER,
      status: 'confirmed',
      country: 'KR',
      createdAt: '2026-11-22T10:00:00.000Z',
    });
    await deps.moderation.invalidate(admin, signature, 'a duplicate');
    // As the letter steps record them: the letter in the details, and the account a step concerns.
    await deps.audit.record(
      {
        actor: admin,
        action: 'letter-closed',
        targetType: 'letter',
        targetId: letter.id,
        details: { letterId: letter.id, userId: organizer.id },
      },
      t.clock.now(),
    );
    await deps.audit.record(
      { actor: admin, action: 'letter-closed', targetType: 'letter', targetId: 999_999, details: {} },
      t.clock.now(),
    );
    await deps.audit.record(
      { actor: 'platform', action: 'export', targetType: 'letter', targetId: letter.slug, details: {} },
      t.clock.now(),
    );

    viewer = await loginAs(t.app, admin);
    const response = await viewer.get('/admin/audit');
    expect(response.status).toBe(200);
    page = response.text;
    rows = auditRows(page);
  });
  afterAll(async () => {
    await t?.close();
  });

  const row = (action: string, index = 0) => {
    const found = rows.filter((r) => r.action === action)[index];
    if (!found) throw new Error(`no ${action} row on the audit page`);
    return found;
  };

  it('links who did it to their account on the users page, and says when it was the platform', async () => {
    expect(row('role-changed').actorLinks).toEqual([
      { href: `/admin/users#user-${admin.id}`, text: admin.email },
    ]);
    expect(row('export').actor).toBe('The platform');
    expect(row('export').actorLinks).toEqual([]);
    const users = await viewer.get('/admin/users');
    expect(byId(users.text, `user-${organizer.id}`), 'the account the link points to').toBeDefined();
  });

  it('names an account by its address, linked to the users page', () => {
    expect(row('role-changed').whatLinks).toEqual([
      { href: `/admin/users#user-${organizer.id}`, text: organizer.email },
    ]);
  });

  it('names a recipient by name, linked to its edit page, and a deleted one by the name it had', () => {
    const changed = rows.filter((r) => r.action === 'recipient-created');
    expect(changed.map((r) => r.what)).toEqual([
      'Recipient: A Closed Embassy (deleted)',
      'Recipient: Ministry of Unification',
    ]);
    expect(changed[1]!.whatLinks).toEqual([
      { href: expect.stringMatching(/^\/admin\/recipients\/\d+$/), text: 'Ministry of Unification' },
    ]);
    expect(changed[0]!.whatLinks).toEqual([]);
    expect(row('recipient-deleted').what).toBe('Recipient: A Closed Embassy (deleted)');
  });

  it('names a letter by its title, linked to its editor, whether the entry holds its id or its slug', () => {
    const editor = { href: `/admin/letters/${letter.id}`, text: 'Free to choose asylum' };
    // Newest first: the entry about the deleted letter was written after this one.
    expect(row('letter-closed', 1).whatLinks).toEqual([
      editor,
      { href: `/admin/users#user-${organizer.id}`, text: organizer.email },
    ]);
    expect(row('export').whatLinks).toEqual([editor]);
    expect(row('letter-closed', 1).what).toContain('Letter: Free to choose asylum');
  });

  it('says a letter that no longer exists is deleted, without a link', () => {
    const deleted = row('letter-closed', 0);
    expect(deleted.what).toBe('Letter (deleted)');
    expect(deleted.whatLinks).toEqual([]);
  });

  it("names a signature by number and its letter by title, never the supporter's name or address", () => {
    const invalidated = row('signature-invalidated');
    expect(invalidated.what).toMatch(/^Signature: #\d+ Letter: Free to choose asylum$/);
    expect(invalidated.whatLinks).toEqual([
      { href: `/admin/letters/${letter.id}`, text: 'Free to choose asylum' },
    ]);
    const shown = textOf(mainOf(page));
    expect(shown).not.toContain(SUPPORTER.email);
    expect(shown).not.toContain(SUPPORTER.name);
  });

  it('shows no raw ids where a name can be shown', () => {
    expect(rows.map((r) => r.what)).not.toContainEqual(
      expect.stringMatching(/^(letter|user|recipient) \d+$/),
    );
  });
});
