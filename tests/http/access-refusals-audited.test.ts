import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import { REFUSAL_WINDOW_MS } from '../../server/audit/access-refusals.js';
import { createAccount, loginAs } from '../support/accounts.js';
import { auditEntries, whileAuditRefused } from '../support/audit-log.js';
import { createLetter } from '../support/factories.js';
import { mainOf, textOf } from '../support/html.js';
import { Visitor } from '../support/http.js';
import { ERROR_TITLES, expectErrorPage } from '../support/signing.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

describe('refusals of signed-in accounts on the audit record', () => {
  let t: TestPlatform;
  let admin: User;
  let owner: User;
  let prober: User;
  let proberVisitor: Visitor;
  let letterId: number;

  const refusals = () => auditEntries(t.platform.db, 'access-refused');

  beforeAll(async () => {
    t = await createTestPlatform();
    admin = await createAccount(t.platform, 'admin');
    owner = await createAccount(t.platform, 'organizer');
    prober = await createAccount(t.platform, 'organizer');
    proberVisitor = await loginAs(t.app, prober);
  });
  afterAll(() => t.close());

  // A letter of its own per test, owned by another organizer, and a window that starts afresh.
  beforeEach(async () => {
    ({ id: letterId } = await createLetter(t.platform.db, t.clock.now()));
    await t.platform.db
      .updateTable('letters')
      .set({ owner_id: owner.id })
      .where('id', '=', letterId)
      .execute();
    t.clock.advance(REFUSAL_WINDOW_MS + 1);
  });

  it("records an organizer who opens another organizer's letter once per window, and still answers 403", async () => {
    const before = (await refusals()).length;
    const first = await proberVisitor.get(`/admin/letters/${letterId}?tab=texts`);
    expectErrorPage(first, 403, ERROR_TITLES[403]);
    const recorded = (await refusals()).slice(before);
    expect(recorded).toEqual([
      expect.objectContaining({
        actor_user_id: prober.id,
        actor_email: prober.email,
        target_type: 'letter',
        target_id: String(letterId),
        // The address without its query string.
        details: { policyAction: 'letter.edit', method: 'GET', path: `/admin/letters/${letterId}` },
      }),
    ]);

    // Reloading, and other pages of the same letter that ask the same, within the window: no new entry.
    t.clock.advance(REFUSAL_WINDOW_MS - 2);
    expectErrorPage(await proberVisitor.get(`/admin/letters/${letterId}`), 403, ERROR_TITLES[403]);
    expectErrorPage(await proberVisitor.get(`/admin/letters/${letterId}/close`), 403, ERROR_TITLES[403]);
    expect((await refusals()).length).toBe(before + 1);

    // Once the window has passed, the next refusal is recorded again.
    t.clock.advance(3);
    expectErrorPage(await proberVisitor.get(`/admin/letters/${letterId}`), 403, ERROR_TITLES[403]);
    expect((await refusals()).length).toBe(before + 2);
  });

  it('records a refused form post whose service asserts the policy inside its transaction', async () => {
    const before = (await refusals()).length;
    const response = await proberVisitor.submit('/admin', `/admin/letters/${letterId}/embed`, {
      origins: 'https://partner.example.org',
    });
    expectErrorPage(response, 403, ERROR_TITLES[403]);
    expect((await refusals()).slice(before)).toEqual([
      expect.objectContaining({
        actor_user_id: prober.id,
        target_type: 'letter',
        target_id: String(letterId),
        details: {
          policyAction: 'letter.edit',
          method: 'POST',
          path: `/admin/letters/${letterId}/embed`,
        },
      }),
    ]);
    // The refused change itself was not made.
    const letter = await t.platform.repositories.letters.findById(letterId);
    expect(letter?.embedOrigins ?? []).toEqual([]);
  });

  it('records another action on the same letter as an entry of its own', async () => {
    const before = (await refusals()).length;
    expectErrorPage(await proberVisitor.get(`/admin/letters/${letterId}`), 403, ERROR_TITLES[403]);
    expectErrorPage(await proberVisitor.get(`/admin/letters/${letterId}/return`), 403, ERROR_TITLES[403]);
    expect((await refusals()).slice(before).map((e) => e.details.policyAction)).toEqual([
      'letter.edit',
      'letter.review',
    ]);
  });

  it('records an organizer who opens an admin-only page, once per window whichever page', async () => {
    const before = (await refusals()).length;
    expectErrorPage(await proberVisitor.get('/admin/audit?action=login'), 403, ERROR_TITLES[403]);
    expectErrorPage(await proberVisitor.get('/admin/users'), 403, ERROR_TITLES[403]);
    expect((await refusals()).slice(before)).toEqual([
      expect.objectContaining({
        actor_user_id: prober.id,
        target_type: '',
        target_id: '',
        details: { policyAction: 'admin.page', method: 'GET', path: '/admin/audit' },
      }),
    ]);
  });

  it('records nothing for a visitor who is not logged in', async () => {
    const before = (await refusals()).length;
    const anonymous = new Visitor(t.app);
    const page = await anonymous.get(`/admin/letters/${letterId}`);
    expect(page.status).toBe(303);
    expect(page.headers.location).toMatch(/^\/login\?next=/);
    const posted = await anonymous.agent
      .post(`/admin/letters/${letterId}/embed`)
      .type('form')
      .set('Accept', 'text/html')
      .set('Sec-Fetch-Site', 'same-origin')
      .send({ origins: 'https://partner.example.org' });
    expect(posted.status).toBe(303);
    expect(posted.headers.location).toMatch(/^\/login/);
    expect((await refusals()).length).toBe(before);
  });

  it('still answers 403, not 500, when the audit log cannot take the entry', async () => {
    const before = (await refusals()).length;
    const response = await whileAuditRefused(t.platform.db, () =>
      proberVisitor.get(`/admin/letters/${letterId}`),
    );
    expectErrorPage(response, 403, ERROR_TITLES[403]);
    expect((await refusals()).length).toBe(before);
  });

  it('shows refusals on the audit page in words, under an action of their own to filter by', async () => {
    expectErrorPage(await proberVisitor.get(`/admin/letters/${letterId}`), 403, ERROR_TITLES[403]);
    const viewer = await loginAs(t.app, admin);
    const expected = {
      en: ['Access refused', 'work on a letter'],
      ko: ['접근 거부', '편지 작업'],
      uk: ['Доступ заборонено', 'працювати з листом'],
    };
    for (const [language, [action, policyAction]] of Object.entries(expected)) {
      const page = await viewer.get(`/admin/audit?action=access-refused&lang=${language}`);
      expect(page.status).toBe(200);
      // The filter's list of actions offers refusals (selected), and the table lists only them.
      expect(page.text).toContain('<option value="access-refused" selected>');
      const rows = mainOf(page.text).split('<tbody>')[1]!.split('</tbody>')[0]!.split('</tr>').slice(0, -1);
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) expect(row).toContain('data-action="access-refused"');
      const newest = textOf(rows[0]!);
      expect(newest).toContain(action);
      expect(newest).toContain(policyAction);
      expect(newest).toContain(`/admin/letters/${letterId}`);
      expect(newest).toContain(prober.email);
    }
  });
});
