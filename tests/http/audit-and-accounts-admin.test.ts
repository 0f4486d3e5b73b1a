import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import { AUDIT_ACTIONS, type AuditAction } from '../../server/audit/audit.js';
import { describeDetails } from '../../server/audit/audit-details.js';
import { formatsFor } from '../../server/lib/format.js';
import { createI18n, fixedT } from '../../server/lib/i18n.js';
import { openDatabase } from '../../server/db/database.js';
import { DeliveryReplyRepository } from '../../server/deliveries/delivery-reply-repository.js';
import { createAccount, loginAs, signedIn, TEST_PASSWORD } from '../support/accounts.js';
import { describesItsError, fieldErrors, fieldsOf, formFieldsFor, postForm } from '../support/admin-forms.js';
import { createLetter } from '../support/factories.js';
import { byClass, byId, innerHtml, mainOf, startTags, textOf, textsByClass } from '../support/html.js';
import { csrfTokenIn, Visitor } from '../support/http.js';
import { linksIn } from '../support/smtp-sink.js';
import { ERROR_TITLES, expectErrorPage, pathOf, sign } from '../support/signing.js';
import { commitList } from '../support/committed-lists.js';
import { recordSentRound } from '../support/sent-deliveries.js';
import { storeSignature } from '../support/stored-signatures.js';
import { outboxMessage, testMessageId } from '../support/temp-database.js';
import { createTestPlatform, TEST_PUBLIC_URL, type TestPlatform } from '../support/test-platform.js';

const SECRET = 'test-secret-test-secret-test-secret-0123';
const DAY = 86_400_000;

const MESSAGES = {
  lastAdmin: 'This is the last active admin: make someone else an admin first.',
  lastAdminInvited:
    'This is the last admin who can log in: an invited admin counts only once they have set their password. Make someone else an admin, and wait for them to set their password, first.',
  unlocked: 'The account was unlocked: its owner can log in now.',
  self: 'You cannot disable your own account.',
  emailInvalid: 'Enter an e-mail address in the form name@example.org.',
  exists: 'An account with this e-mail address already exists.',
  role: 'Choose admin or organizer.',
  invalidLink:
    'This invitation link is not valid: it has expired or has been used. Ask an admin to invite you again.',
  auditChanged: 'the audit log cannot be changed',
};

/** Every audit entry, oldest first, with its details parsed. */
async function auditEntries(t: TestPlatform, action?: string) {
  let query = t.platform.db.selectFrom('audit_events').selectAll();
  if (action) query = query.where('action', '=', action);
  const rows = await query.orderBy('id').execute();
  return rows.map((row) => ({ ...row, details: JSON.parse(row.details) as Record<string, unknown> }));
}

/** The newest entry of an action; fails when there is none. */
async function lastEntry(t: TestPlatform, action: string) {
  const entry = (await auditEntries(t, action)).at(-1);
  if (!entry) throw new Error(`no ${action} entry in the audit log`);
  return entry;
}

/** The rows of the audit page, top to bottom: the action, who, and the cells as shown. */
function auditRows(html: string): { action: string; actor: string; cells: string[] }[] {
  return startTags(html, 'tr')
    .filter((tr) => tr.attrs.class === 'audit-row')
    .map((tr) => {
      const cells = innerHtml(html, tr)
        .split('</td>')
        .slice(0, -1)
        .map((cell) => textOf(cell));
      return { action: tr.attrs['data-action']!, actor: cells[1]!, cells };
    });
}

/** Posts a form from a page with that page's CSRF token. */
function submit(visitor: Visitor, action: string, fields: Record<string, string>, formPage = '/admin') {
  return visitor.submit(formPage, action, fields);
}

describe('the audit log', () => {
  describe('records each audited action', () => {
    let t: TestPlatform;
    let admin: User;
    let as: Visitor;

    beforeAll(async () => {
      t = await createTestPlatform();
      ({ user: admin, visitor: as } = await signedIn(t.app, t.platform, 'admin'));
    });
    afterAll(async () => {
      await t?.close();
    });

    it('records a login, with who logged in', async () => {
      const entry = await lastEntry(t, 'login');
      expect(entry).toMatchObject({ actor_user_id: admin.id, actor_email: admin.email });
      expect(entry.at).toBe(t.clock.now().toISOString());
    });

    it('records failed logins, naming only addresses of real accounts', async () => {
      const wrong = await new Visitor(t.app).submit('/login', '/login', {
        email: admin.email,
        password: 'not the password at all',
      });
      expect(wrong.status).toBe(401);
      expect(await lastEntry(t, 'login-failed')).toMatchObject({
        actor_user_id: admin.id,
        actor_email: admin.email,
        details: { known: true },
      });
      const typo = 'my-secret-passphrase@example.org';
      const unknown = await new Visitor(t.app).submit('/login', '/login', {
        email: typo,
        password: 'whatever it is',
      });
      expect(unknown.status).toBe(401);
      expect(await lastEntry(t, 'login-failed')).toMatchObject({
        actor_user_id: null,
        actor_email: 'platform',
        details: { known: false },
      });
      expect(JSON.stringify(await auditEntries(t))).not.toContain(typo);
    });

    it('records an invitation, a role change, disabling and enabling, on the account they concern', async () => {
      const invited = await submit(as, '/admin/users/invite', {
        email: 'new.organizer@example.org',
        role: 'organizer',
      });
      expect(invited.status).toBe(303);
      const user = (await t.platform.repositories.users.findByEmail('new.organizer@example.org'))!;
      expect(await lastEntry(t, 'user-invited')).toMatchObject({
        actor_email: admin.email,
        target_type: 'user',
        target_id: String(user.id),
        details: { email: 'new.organizer@example.org', role: 'organizer' },
      });
      // Accepting it is their first login: recorded as such.
      await t.drainOutbox();
      const invitation = linksIn(t.sink.to('new.organizer@example.org').at(-1)!).find((l) =>
        l.includes('/account/invite/'),
      )!;
      const accepted = await new Visitor(t.app).submit(pathOf(invitation), pathOf(invitation), {
        password: 'an invited organizer’s password',
        confirm: 'an invited organizer’s password',
      });
      expect(accepted.status).toBe(303);
      expect(await lastEntry(t, 'invitation-accepted')).toMatchObject({
        actor_user_id: user.id,
        target_type: 'user',
        target_id: String(user.id),
      });

      expect(
        (await submit(as, `/admin/users/${user.id}/role`, { role: 'admin', confirmed: 'yes' })).status,
      ).toBe(303);
      expect(await lastEntry(t, 'role-changed')).toMatchObject({
        actor_email: admin.email,
        target_id: String(user.id),
        details: { from: 'organizer', to: 'admin' },
      });

      expect((await submit(as, `/admin/users/${user.id}/disable`, {})).status).toBe(303);
      expect(await lastEntry(t, 'user-disabled')).toMatchObject({
        actor_email: admin.email,
        target_id: String(user.id),
      });
      expect((await submit(as, `/admin/users/${user.id}/enable`, {})).status).toBe(303);
      expect(await lastEntry(t, 'user-enabled')).toMatchObject({
        actor_email: admin.email,
        target_id: String(user.id),
      });
    });

    it('records a password reset by e-mail link, and an admin’s unlock', async () => {
      const owner = await createAccount(t.platform, 'organizer');
      await new Visitor(t.app).submit('/account/reset', '/account/reset', { email: owner.email });
      await t.drainOutbox();
      const link = linksIn(t.sink.to(owner.email).at(-1)!).find((l) => l.includes('/account/reset/'))!;
      const reset = await new Visitor(t.app).submit(pathOf(link), pathOf(link), {
        password: 'a password chosen after forgetting',
        confirm: 'a password chosen after forgetting',
      });
      expect(reset.status).toBe(303);
      expect(await lastEntry(t, 'password-reset')).toMatchObject({
        actor_user_id: owner.id,
        target_type: 'user',
        target_id: String(owner.id),
      });
      // Changing it later, logged in, is recorded too.
      const session = new Visitor(t.app);
      await session.submit('/login', '/login', {
        email: owner.email,
        password: 'a password chosen after forgetting',
      });
      const changed = await session.submit('/account/password', '/account/password', {
        current: 'a password chosen after forgetting',
        password: 'a second password, changed on purpose',
        confirm: 'a second password, changed on purpose',
      });
      expect(changed.status).toBe(303);
      expect(await lastEntry(t, 'password-changed')).toMatchObject({
        actor_user_id: owner.id,
        target_type: 'user',
        target_id: String(owner.id),
      });

      for (let n = 0; n < 3; n += 1) {
        await new Visitor(t.app).submit('/login', '/login', { email: owner.email, password: 'a guess' });
      }
      expect((await submit(as, `/admin/users/${owner.id}/unlock`, {})).status).toBe(303);
      expect(await lastEntry(t, 'user-unlocked')).toMatchObject({
        actor_email: admin.email,
        target_type: 'user',
        target_id: String(owner.id),
        details: { email: owner.email },
      });
    });

    it('records publishing and closing a letter', async () => {
      const { id, slug } = await createLetter(t.platform.db, t.clock.now(), { status: 'draft' });
      expect((await submit(as, `/admin/letters/${id}/publish`, {})).headers.location).toBe(
        `/admin/letters/${id}?done=published`,
      );
      expect(await lastEntry(t, 'letter-published')).toMatchObject({
        actor_email: admin.email,
        target_type: 'letter',
        target_id: String(id),
        details: { slug },
      });
      expect((await submit(as, `/admin/letters/${id}/close`, {})).headers.location).toBe(
        `/admin/letters/${id}?done=closed`,
      );
      expect(await lastEntry(t, 'letter-closed')).toMatchObject({
        actor_email: admin.email,
        target_id: String(id),
        details: { slug },
      });
    });

    it('records a test and a delivery of a letter', async () => {
      const { id } = await createLetter(t.platform.db, t.clock.now());
      const base = `/admin/letters/${id}/delivery`;
      expect((await submit(as, `${base}/test`, { request_key: 'audit-test-round' }, base)).status).toBe(303);
      expect(
        (await submit(as, `${base}/deliver`, { request_key: 'audit-delivery-round' }, base)).status,
      ).toBe(303);
      const entries = (await auditEntries(t, 'delivery')).filter((e) => e.target_id === String(id));
      expect(entries.map((e) => e.details.kind)).toEqual(['test', 'delivery']);
      for (const e of entries) expect(e).toMatchObject({ actor_email: admin.email, target_type: 'letter' });
      const settings = { mode: 'milestones', milestone_every: '100', deliver_at: '', reply_to: '' };
      expect((await submit(as, `${base}/settings`, settings, base)).status).toBe(303);
      expect(await lastEntry(t, 'delivery-settings-changed')).toMatchObject({
        actor_email: admin.email,
        target_type: 'letter',
        target_id: String(id),
        details: { letterId: id, mode: 'milestones', milestoneEvery: 100, deliverAt: null },
      });
    });

    it('records an export', async () => {
      const { slug } = await createLetter(t.platform.db, t.clock.now());
      const response = await submit(
        as,
        '/admin/exports',
        // What a browser sends of the form as it opens: the confirmed status and a column ticked.
        { letter: slug, format: 'jsonl', status: 'confirmed', columns: 'public_name' },
        '/admin/exports',
      );
      expect(response.status).toBe(200);
      expect(await lastEntry(t, 'export')).toMatchObject({
        actor_email: admin.email,
        target_id: slug,
        details: { letter: slug, format: 'jsonl', rows: 0, completed: true },
      });
    });

    it('records invalidating, restoring and bulk invalidating signatures', async () => {
      const { id: letterId, slug } = await createLetter(t.platform.db, t.clock.now());
      await sign(new Visitor(t.app), slug, { email: 'moderated@example.org' });
      const signature = await t.platform.db
        .selectFrom('signatures')
        .select('id')
        .where('email', '=', 'moderated@example.org')
        .executeTakeFirstOrThrow();
      const invalidated = await submit(as, `/admin/signatures/${signature.id}/invalidate`, {
        reason: 'spam',
      });
      expect(invalidated.status).toBe(303);
      expect(await lastEntry(t, 'signature-invalidated')).toMatchObject({
        actor_email: admin.email,
        target_type: 'signature',
        target_id: String(signature.id),
        details: { letter: letterId, reason: 'spam' },
      });
      expect((await submit(as, `/admin/signatures/${signature.id}/restore`, {})).status).toBe(303);
      expect(await lastEntry(t, 'signature-restored')).toMatchObject({
        actor_email: admin.email,
        target_id: String(signature.id),
        details: { to: 'pending' },
      });

      for (const n of [1, 2, 3]) {
        await storeSignature(t.platform.db, SECRET, letterId, {
          name: `Bot ${n}`,
          email: `bot-${n}@bots.example`,
          status: 'confirmed',
          country: 'KR',
          createdAt: t.clock.now().toISOString(),
        });
      }
      const bulk = await submit(
        as,
        '/admin/signatures/bulk',
        { domain: 'bots.example', expected: '3', reason: 'a bot run' },
        '/admin/signatures/bulk?domain=bots.example',
      );
      expect(bulk.status).toBe(303);
      const entry = await lastEntry(t, 'signatures-bulk-invalidated');
      expect(entry).toMatchObject({
        actor_email: admin.email,
        details: { count: 3, emailDomain: 'bots.example', reason: 'a bot run' },
      });
      expect(JSON.stringify(entry)).not.toContain('bot-1@');

      // Undone, by the batch the list linked to right after it.
      const batch = new URL(bulk.headers.location!, 'http://x').searchParams.get('batch')!;
      const restore = await submit(
        as,
        '/admin/signatures/bulk/restore',
        { batch, expected: '3' },
        `/admin/signatures/bulk/restore?batch=${batch}`,
      );
      expect(restore.status).toBe(303);
      const restored = await lastEntry(t, 'signatures-bulk-restored');
      expect(restored).toMatchObject({
        actor_email: admin.email,
        details: { count: 3, batch: Number(batch), reason: null },
      });
      expect(JSON.stringify(restored)).not.toContain('bot-1@');
    });

    it('records an erasure without saying whose it was', async () => {
      const { slug } = await createLetter(t.platform.db, t.clock.now());
      await sign(new Visitor(t.app), slug, { email: 'erase.me@example.org', name: 'Erase Me' });
      const erased = await submit(
        as,
        '/admin/erasure',
        { email: 'erase.me@example.org', confirm: 'yes' },
        '/admin/erasure',
      );
      // Redirected to its result, so reloading it does not post the erasure again.
      expect(erased.status).toBe(303);
      expect(erased.headers.location).toMatch(/^\/admin\/erasure\?done=erased&signatures=1&/);
      const result = await as.get(erased.headers.location!);
      expect(textOf(mainOf(result.text))).toContain('Erased: 1 signature, ');
      expect(result.text).not.toContain('erase.me@example.org');
      const entry = await lastEntry(t, 'erasure');
      expect(entry).toMatchObject({ actor_email: admin.email, details: { signatures: 1 } });
      const everything = JSON.stringify(await auditEntries(t));
      expect(everything).not.toContain('erase.me@example.org');
      expect(everything).not.toContain('Erase Me');
    });

    it('records directory changes, settings, changes to a published letter and queue actions', async () => {
      const deps = t.platform.appDeps;
      const recipient = {
        name: 'Audited Ministry',
        title: '',
        organisation: '',
        country: 'KR',
        email: 'audited@ministry.example.org',
        language: 'en',
        salutation: 'Dear Minister',
        notes: '',
      };
      const created = await deps.recipients.create(admin, recipient);
      if (created.kind !== 'saved') throw new Error('the recipient was not added');
      await deps.recipients.update(admin, created.id, { ...recipient, title: 'Minister' });
      await deps.recipients.delete(admin, created.id);
      const staged = await deps.recipients.stage(
        admin,
        'audited.csv',
        `name,email,language,salutation\nImported,imported@ministry.example.org,en,Dear Sir`,
      );
      if (staged.kind !== 'staged') throw new Error('the import was not staged');
      await deps.recipients.confirm(admin, staged.id);
      for (const action of [
        'recipient-created',
        'recipient-changed',
        'recipient-deleted',
        'recipients-imported',
      ])
        expect(await lastEntry(t, action)).toMatchObject({ actor_email: admin.email });

      await deps.settingsService.change(admin, { ...(await deps.settings.read()), requireReview: true });
      expect(await lastEntry(t, 'settings-changed')).toMatchObject({
        details: { requireReview: 'false → true' },
      });
      const organizer = await createAccount(t.platform, 'organizer');
      const { id } = await createLetter(t.platform.db, t.clock.now());
      await t.platform.db
        .updateTable('letters')
        .set({ owner_id: organizer.id })
        .where('id', '=', id)
        .execute();
      const values = deps.letterAdmin.drafting.valuesOf(
        await deps.letterAdmin.drafting.editor(organizer, id),
      );
      const edited = { ...values, sponsor: 'A sponsor waiting for review' };
      expect((await deps.letterAdmin.drafting.save(organizer, id, edited, true)).kind).toBe(
        'held-for-review',
      );
      const waiting = (await t.platform.repositories.letters.findById(id))!.pendingEditAt!;
      await deps.letterAdmin.workflow.approveChanges(admin, id, waiting);
      expect(
        (await deps.letterAdmin.drafting.save(organizer, id, { ...edited, sponsor: 'Another sponsor' }, true))
          .kind,
      ).toBe('held-for-review');
      await deps.letterAdmin.workflow.returnChanges(admin, id, '');
      for (const action of ['letter-changes-submitted', 'letter-changes-approved', 'letter-changes-returned'])
        expect(await lastEntry(t, action)).toMatchObject({ target_type: 'letter', target_id: String(id) });
      await deps.settingsService.change(admin, { ...(await deps.settings.read()), requireReview: false });

      const message = () =>
        t.platform.repositories.outbox.enqueue(
          outboxMessage({ toAddress: 'queue@ministry.example.org', kind: 'signature-confirmation' }),
          testMessageId(),
          t.clock.now(),
        );
      await deps.queue.cancel(admin, await message());
      const failing = await message();
      t.sink.reply = () => ({ code: 550, message: '5.1.1 User unknown' });
      await t.drainOutbox();
      t.sink.reply = undefined;
      await deps.queue.retry(admin, failing);
      expect(await lastEntry(t, 'message-cancelled')).toMatchObject({ target_type: 'outbox-message' });
      expect(await lastEntry(t, 'message-retried')).toMatchObject({ target_id: String(failing) });
      // A message returned after it was sent is dismissed, not cancelled.
      const returned = await message();
      await t.drainOutbox();
      await t.platform.repositories.outbox.markBounced(returned, 'bounce: 5.1.1', t.clock.now());
      expect(await deps.queue.cancel(admin, returned)).toBe('dismissed');
      expect(await lastEntry(t, 'message-dismissed')).toMatchObject({ target_id: String(returned) });
    });

    it('records block and allow list changes, and clearing a signature the block list silenced', async () => {
      const listed = await submit(
        as,
        '/admin/abuse/entries',
        { list: 'block', kind: 'domain', value: 'Silenced.example', note: 'a bot run' },
        '/admin/abuse',
      );
      expect(listed.headers.location).toBe('/admin/abuse?done=added');
      const added = await lastEntry(t, 'abuse-list-added');
      expect(added).toMatchObject({
        actor_email: admin.email,
        target_type: 'abuse-list-entry',
        details: { list: 'block', kind: 'domain', value: 'silenced.example', note: 'a bot run' },
      });

      // A supporter from the listed domain is answered like any other, and silenced.
      const { id: letterId, slug } = await createLetter(t.platform.db, t.clock.now());
      await sign(new Visitor(t.app), slug, { email: 'someone@silenced.example', name: 'Silenced Someone' });
      const signature = await t.platform.db
        .selectFrom('signatures')
        .select(['id', 'suspect_reasons'])
        .where('email', '=', 'someone@silenced.example')
        .executeTakeFirstOrThrow();
      expect(signature.suspect_reasons).toContain('blocked-domain');
      const suspectPage = await as.get('/admin/signatures?flag=suspect');
      expect(
        startTags(suspectPage.text, 'form').some(
          (f) => f.attrs.action === `/admin/signatures/${signature.id}/clear`,
        ),
      ).toBe(true);
      const cleared = await submit(
        as,
        `/admin/signatures/${signature.id}/clear`,
        { return_to: '/admin/signatures?flag=suspect' },
        '/admin/signatures?flag=suspect',
      );
      expect(cleared.status).toBe(303);
      const clearedEntry = await lastEntry(t, 'signature-cleared');
      expect(clearedEntry).toMatchObject({
        actor_email: admin.email,
        target_type: 'signature',
        target_id: String(signature.id),
        details: { letter: letterId, confirmed: false },
      });
      expect(JSON.stringify(clearedEntry.details.reasons)).toContain('blocked-domain');

      const allowed = await submit(
        as,
        '/admin/abuse/entries',
        { list: 'allow', kind: 'ip', value: '203.0.113.0/24', note: 'the embassy’s office' },
        '/admin/abuse',
      );
      expect(allowed.headers.location).toBe('/admin/abuse?done=added');
      expect(await lastEntry(t, 'abuse-list-added')).toMatchObject({
        details: { list: 'allow', kind: 'ip', value: '203.0.113.0/24' },
      });

      const removePage = `/admin/abuse/entries/${added.target_id}/remove`;
      expect((await as.get(removePage)).status).toBe(200);
      const removed = await submit(as, removePage, {}, removePage);
      expect(removed.headers.location).toBe('/admin/abuse?done=removed');
      expect(await lastEntry(t, 'abuse-list-removed')).toMatchObject({
        actor_email: admin.email,
        target_type: 'abuse-list-entry',
        target_id: added.target_id,
        details: { list: 'block', kind: 'domain', value: 'silenced.example' },
      });
      expect(JSON.stringify(await auditEntries(t))).not.toContain('someone@silenced.example');
    });

    // Moves the clock half a year: it runs last.
    it('records retention as the platform’s own work', async () => {
      const { id, slug } = await createLetter(t.platform.db, t.clock.now());
      await sign(new Visitor(t.app), slug, { email: 'kept-too-long@example.org' });
      await submit(as, `/admin/letters/${id}/close`, {});
      t.clock.advance(190 * DAY);
      expect(await t.platform.privacy.applyRetention()).toBeGreaterThanOrEqual(1);
      const entry = await lastEntry(t, 'retention');
      expect(entry).toMatchObject({ actor_user_id: null, actor_email: 'platform' });
      expect(entry.details.signatures).toBeGreaterThanOrEqual(1);
      expect(JSON.stringify(entry)).not.toContain('kept-too-long@example.org');
    });

    it('records the other steps on a letter, each naming the letter (and the account it is shared with)', async () => {
      const deps = t.platform.appDeps;
      const { drafting, workflow, collaborators } = deps.letterAdmin;
      const requireReview = async (on: boolean) =>
        deps.settings.write({ ...(await deps.settings.read()), requireReview: on }, t.clock.now());
      const organizer = await createAccount(t.platform, 'organizer');
      const id = await drafting.createFromTemplate(organizer, drafting.templates()[0]!.slug);
      await drafting.save(organizer, id, drafting.valuesOf(await drafting.editor(organizer, id)), true);
      await requireReview(true);
      expect((await workflow.publish(organizer, id)).kind).toBe('review-requested');
      await workflow.withdrawReviewRequest(organizer, id);
      expect((await workflow.publish(organizer, id)).kind).toBe('review-requested');
      await workflow.returnToDraft(admin, id, '');
      await requireReview(false);
      expect((await workflow.publish(admin, id)).kind).toBe('published');
      await workflow.close(admin, id);
      await workflow.reopen(admin, id);
      await collaborators.add(admin, id, organizer.email);
      const colleague = await createAccount(t.platform, 'organizer');
      await collaborators.add(admin, id, colleague.email);
      await collaborators.remove(admin, id, colleague.id);
      for (const action of [
        'letter-created',
        'letter-saved',
        'letter-review-requested',
        'letter-review-withdrawn',
        'letter-returned-to-draft',
        'letter-reopened',
      ])
        expect(await lastEntry(t, action)).toMatchObject({
          target_type: 'letter',
          target_id: String(id),
          details: { letterId: id },
        });
      for (const action of ['letter-collaborator-added', 'letter-collaborator-removed'])
        expect(await lastEntry(t, action)).toMatchObject({
          actor_email: admin.email,
          target_id: String(id),
          details: { letterId: id, userId: colleague.id },
        });
      // A collaborator leaving is their own step (after the checks above: it adds a collaborator).
      const leaver = await createAccount(t.platform, 'organizer');
      await collaborators.add(admin, id, leaver.email);
      await collaborators.leave(leaver, id);
      expect(await lastEntry(t, 'letter-collaborator-left')).toMatchObject({
        actor_email: leaver.email,
        target_id: String(id),
        details: { letterId: id, userId: leaver.id },
      });
      // Last: a draft made only to be deleted (its creation would be the newest letter-created above).
      const unwanted = await drafting.createFromTemplate(organizer, drafting.templates()[0]!.slug);
      await workflow.deleteDraft(organizer, unwanted);
      expect(await lastEntry(t, 'letter-deleted')).toMatchObject({
        actor_user_id: organizer.id,
        target_id: String(unwanted),
        details: { letterId: unwanted },
      });
    });

    it("records a change of the language of one's e-mails, with the old and the new language", async () => {
      const { user: owner, visitor } = await signedIn(t.app, t.platform, 'organizer');
      expect(
        (await submit(visitor, '/account/language', { language: 'ko' }, '/account/password')).status,
      ).toBe(303);
      expect(await lastEntry(t, 'email-language-changed')).toMatchObject({
        actor_user_id: owner.id,
        target_type: 'user',
        target_id: String(owner.id),
        details: { from: 'en', to: 'ko' },
      });
    });

    /** A letter of this organizer's own, for the steps only its owner (or an admin) may take. */
    const letterOwnedBy = async (owner: User) => {
      const letter = await createLetter(t.platform.db, t.clock.now());
      await t.platform.db
        .updateTable('letters')
        .set({ owner_id: owner.id })
        .where('id', '=', letter.id)
        .execute();
      return letter;
    };

    it("records an API token's creation and revocation, with its name and first characters, never the token", async () => {
      const { user: owner, visitor } = await signedIn(t.app, t.platform, 'organizer');
      const created = await submit(visitor, '/admin/api-tokens', { name: 'CRM', lifetime: '30' });
      expect(created.status).toBe(201);
      const token = /value="(ust_[^"]+)"/.exec(created.text)![1]!;
      const entry = await lastEntry(t, 'api-token-created');
      expect(entry).toMatchObject({
        actor_user_id: owner.id,
        target_type: 'user',
        target_id: String(owner.id),
      });
      expect(entry.details).toMatchObject({ name: 'CRM', prefix: token.slice(0, 10), lifetimeDays: 30 });
      expect(JSON.stringify(entry)).not.toContain(token);
      const id = entry.details.tokenId as number;
      const revokePage = `/admin/api-tokens/${id}/revoke`;
      expect((await submit(visitor, revokePage, {}, revokePage)).status).toBe(303);
      expect((await lastEntry(t, 'api-token-revoked')).details).toMatchObject({ tokenId: id, name: 'CRM' });
    });

    it("records a webhook endpoint's registration, changes and deletion on its letter, naming its host only", async () => {
      const { user: owner } = await signedIn(t.app, t.platform, 'organizer');
      const letter = await letterOwnedBy(owner);
      const webhooks = t.platform.appDeps.webhooks;
      const url = 'https://93.184.216.34/hooks/receiver-secret-path';
      const { id } = await webhooks.register(owner, letter.id, { url, events: ['letter.published'] });
      await webhooks.setEnabled(owner, letter.id, id, false);
      await webhooks.rotate(owner, letter.id, id, (await webhooks.forStep(owner, letter.id, id)).seenMark);
      await webhooks.remove(owner, letter.id, id);
      const entries = [
        await lastEntry(t, 'webhook-created'),
        ...(await auditEntries(t, 'webhook-changed')),
        await lastEntry(t, 'webhook-deleted'),
      ];
      expect(entries.map((e) => [e.target_type, e.target_id, e.details.host, e.details.change])).toEqual([
        ['letter', String(letter.id), '93.184.216.34', undefined],
        ['letter', String(letter.id), '93.184.216.34', 'disabled'],
        ['letter', String(letter.id), '93.184.216.34', 'secret-rotated'],
        ['letter', String(letter.id), '93.184.216.34', undefined],
      ]);
      expect(JSON.stringify(entries)).not.toContain('receiver-secret-path');
    });

    it("records a change of the sites allowed to frame a letter's embed, with the new list", async () => {
      const { user: owner } = await signedIn(t.app, t.platform, 'organizer');
      const letter = await letterOwnedBy(owner);
      const saved = await t.platform.appDeps.embed.saveOrigins(
        owner,
        letter.id,
        'https://campaign.example.org',
      );
      expect(saved.kind).toBe('saved');
      expect(await lastEntry(t, 'letter-embed-changed')).toMatchObject({
        actor_user_id: owner.id,
        target_type: 'letter',
        target_id: String(letter.id),
        details: { origins: ['https://campaign.example.org'] },
      });
    });

    it("records a correction sent to a delivered list's recipients, with its figures and root, naming no one", async () => {
      const owner = await createAccount(t.platform, 'organizer');
      const letter = await letterOwnedBy(owner);
      const signed = new Date(t.clock.now().getTime() - 86_400_000).toISOString();
      const staying = await storeSignature(t.platform.db, SECRET, letter.id, {
        name: 'Staying Supporter',
        email: 'staying@example.org',
        status: 'confirmed',
        country: 'KR',
        createdAt: signed,
      });
      const withdrawn = await storeSignature(t.platform.db, SECRET, letter.id, {
        name: 'Withdrawn Supporter',
        email: 'withdrawn@example.org',
        status: 'withdrawn',
        country: 'KR',
        createdAt: signed,
      });
      const round = await recordSentRound(
        t.platform.db,
        letter.id,
        [{ name: 'Embassy of the test', organisation: '' }],
        { createdAt: t.clock.now(), sentAt: t.clock.now(), signatureCount: 2 },
      );
      await commitList(
        t.platform.db,
        round,
        [
          { signatureId: staying, leafHash: 'a'.repeat(64) },
          { signatureId: withdrawn, leafHash: 'b'.repeat(64) },
        ],
        t.clock.now(),
      );
      // A tree of one leaf has that leaf for its root.
      const correction = await t.platform.appDeps.errata.send(owner, letter.id, round, {
        requestKey: 'audit-erratum-key',
        confirmedRoot: 'a'.repeat(64),
      });
      const entry = await lastEntry(t, 'erratum-sent');
      expect(entry).toMatchObject({
        actor_user_id: owner.id,
        target_type: 'letter',
        target_id: String(letter.id),
        details: {
          letterId: letter.id,
          round: correction.id,
          corrects: round,
          before: 2,
          after: 1,
          withdrawn: 1,
          erased: 0,
          invalidated: 0,
          root: 'a'.repeat(64),
          recipients: 1,
        },
      });
      expect(JSON.stringify(entry.details)).not.toMatch(/@example\.org|Supporter/);
    });

    it("records a reply's publication on the record and its removal, on its letter, without the sender's address", async () => {
      const { user: owner } = await signedIn(t.app, t.platform, 'organizer');
      const letter = await letterOwnedBy(owner);
      const round = await recordSentRound(
        t.platform.db,
        letter.id,
        [{ name: 'Embassy of the audit', organisation: '' }],
        { createdAt: t.clock.now(), sentAt: t.clock.now(), signatureCount: 1 },
      );
      const delivery = await t.platform.db
        .selectFrom('deliveries')
        .select(['id', 'recipient_id'])
        .where('delivery_round_id', '=', round)
        .executeTakeFirstOrThrow();
      const reply = (await new DeliveryReplyRepository(t.platform.db).store({
        deliveryId: delivery.id,
        letterId: letter.id,
        recipientId: delivery.recipient_id,
        fromAddress: 'consul.audit@example.org',
        fromName: 'Consul',
        subject: 'Re: the letter',
        bodyText: 'We received it.',
        automatic: false,
        messageId: '<audit-reply@example.org>',
        receivedAt: t.clock.now(),
        senderDomain: null,
      }))!;
      await t.platform.appDeps.replies.publish(owner, letter.id, reply.id);
      await t.platform.appDeps.replies.unpublish(owner, letter.id, reply.id);
      const entries = [await lastEntry(t, 'reply-published'), await lastEntry(t, 'reply-unpublished')];
      for (const entry of entries)
        expect(entry).toMatchObject({
          actor_user_id: owner.id,
          target_type: 'letter',
          target_id: String(letter.id),
          details: { letterId: letter.id, replyId: reply.id, recipient: 'Embassy of the audit', round },
        });
      expect(JSON.stringify(entries)).not.toContain('consul.audit@example.org');
    });

    it("records a letter's escalation schedule, the step that fired and one cancelled, on the letter", async () => {
      const { user: owner } = await signedIn(t.app, t.platform, 'organizer');
      const letter = await letterOwnedBy(owner);
      const now = t.clock.now();
      const recipientIds = [];
      for (const [index, organisation] of ['Ministry of Tests', 'Office of the President'].entries())
        recipientIds.push(
          await t.platform.repositories.recipients.findOrCreate(
            {
              name: organisation,
              title: '',
              organisation,
              country: 'KR',
              email: `tier-${index + 2}-${letter.id}@example.org`,
              language: 'en',
              salutation: 'Dear Sir or Madam',
            },
            now,
          ),
        );
      const listed = (await t.platform.repositories.letters.recipientsOfLetters([letter.id])).get(letter.id)!;
      await t.platform.repositories.letters.setRecipients(letter.id, [listed[0]!.id, ...recipientIds]);
      const escalations = t.platform.escalations;
      const saved = await escalations.save(owner, letter.id, {
        days: '14',
        tiers: { [recipientIds[0]!]: '2', [recipientIds[1]!]: '3' },
      });
      expect(saved.kind).toBe('saved');
      expect(await lastEntry(t, 'escalation-changed')).toMatchObject({
        actor_user_id: owner.id,
        target_type: 'letter',
        target_id: String(letter.id),
        details: { days: 14, tiers: { [recipientIds[0]!]: 2, [recipientIds[1]!]: 3 } },
      });
      await t.platform.deliveries.sendTest(owner, letter.id, `audit-test-${letter.id}`);
      await t.platform.deliveries.deliverNow(owner, letter.id, `audit-deliver-${letter.id}`);
      // Due now, as if its 14 days had passed without a reply.
      await t.platform.db
        .updateTable('escalation_steps')
        .set({ due_at: now.toISOString() })
        .where('letter_id', '=', letter.id)
        .execute();
      expect(await escalations.runDue()).toBe(1);
      expect(await lastEntry(t, 'delivery-escalated')).toMatchObject({
        actor_user_id: null,
        target_id: String(letter.id),
        details: { fromTier: 1, toTier: 2, days: 14 },
      });
      const next = (await escalations.panel(owner, letter.id)).steps.find((s) => s.status === 'pending')!;
      await escalations.cancel(owner, letter.id, next.id);
      expect(await lastEntry(t, 'escalation-cancelled')).toMatchObject({
        actor_user_id: owner.id,
        target_id: String(letter.id),
        details: { step: next.id, fromTier: 2, toTier: 3, reason: 'organizer' },
      });
    });

    it("records an organizer refused another organizer's letter, naming the letter and what was refused", async () => {
      const { id } = await createLetter(t.platform.db, t.clock.now());
      const organizer = await createAccount(t.platform, 'organizer');
      const visitor = await loginAs(t.app, organizer);
      expect((await visitor.get(`/admin/letters/${id}`)).status).toBe(403);
      expect(await lastEntry(t, 'access-refused')).toMatchObject({
        actor_user_id: organizer.id,
        target_type: 'letter',
        target_id: String(id),
        details: { policyAction: 'letter.edit', method: 'GET', path: `/admin/letters/${id}` },
      });
    });

    it('has, by now, an entry for every audited action', async () => {
      const actions = new Set((await auditEntries(t)).map((e) => e.action));
      expect([...actions].sort()).toEqual([...AUDIT_ACTIONS].sort());
    });

    it('labels every detail of those entries in each language, never with its raw key', async () => {
      // A deleted draft's "title" showed as "title" in every language: no label had been written.
      const i18n = createI18n();
      const unlabelled = new Set<string>();
      for (const language of ['en', 'ko', 'uk'])
        for (const entry of await auditEntries(t))
          for (const line of describeDetails(
            fixedT(i18n, language),
            formatsFor(language),
            language,
            entry.action as AuditAction,
            entry.details,
          ))
            if (Object.hasOwn(entry.details, line.label))
              unlabelled.add(`${language} ${entry.action}: ${line.label}`);
      expect([...unlabelled]).toEqual([]);
    });
  });

  describe('the audit page', () => {
    let t: TestPlatform;
    let first: User;
    let second: User;
    let viewer: Visitor;

    beforeAll(async () => {
      t = await createTestPlatform();
      first = await createAccount(t.platform, 'admin');
      second = await createAccount(t.platform, 'admin');
      t.clock.set(new Date('2026-11-20T09:00:00.000Z'));
      await loginAs(t.app, first);
      t.clock.set(new Date('2026-11-21T09:00:00.000Z'));
      const secondVisitor = await loginAs(t.app, second);
      t.clock.set(new Date('2026-11-21T15:00:00.000Z'));
      expect(
        (
          await submit(
            secondVisitor,
            '/admin/exports',
            { status: 'confirmed', columns: 'public_name' },
            '/admin/exports',
          )
        ).status,
      ).toBe(200);
      t.clock.set(new Date('2026-11-22T09:00:00.000Z'));
      await new Visitor(t.app).submit('/login', '/login', {
        email: first.email,
        password: 'a wrong password',
      });
      t.clock.set(new Date('2026-11-23T09:00:00.000Z'));
      viewer = await loginAs(t.app, first);
    });
    afterAll(async () => {
      await t?.close();
    });

    const rowsOf = async (query: string) => {
      const page = await viewer.get(`/admin/audit${query}`);
      expect(page.status).toBe(200);
      return auditRows(page.text).map((r) => `${r.action} ${r.actor}`);
    };

    it('shows every entry, newest first', async () => {
      expect(await rowsOf('')).toEqual([
        `login ${first.email}`,
        `login-failed ${first.email}`,
        `export ${second.email}`,
        `login ${second.email}`,
        `login ${first.email}`,
      ]);
      const page = await viewer.get('/admin/audit');
      const [newest] = auditRows(page.text);
      expect(newest!.cells[0]).toContain('2026');
      expect(newest!.cells[0]).toContain('9:00:00');
    });

    it('filters by action', async () => {
      expect(await rowsOf('?action=login')).toEqual([
        `login ${first.email}`,
        `login ${second.email}`,
        `login ${first.email}`,
      ]);
      expect(await rowsOf('?action=erasure')).toEqual([]);
    });

    it('filters by who did it, from any part of the address in any case', async () => {
      expect(await rowsOf(`?actor=${encodeURIComponent(second.email)}`)).toEqual([
        `export ${second.email}`,
        `login ${second.email}`,
      ]);
      // "admin" or the address in capitals found nothing: only the whole address as stored did.
      const local = second.email.slice(0, second.email.indexOf('@'));
      for (const typed of [second.email.toUpperCase(), local])
        expect(await rowsOf(`?actor=${encodeURIComponent(typed)}`), typed).toEqual([
          `export ${second.email}`,
          `login ${second.email}`,
        ]);
    });

    it('filters by date, both days included, and by everything at once', async () => {
      expect(await rowsOf('?from=2026-11-21&to=2026-11-22')).toEqual([
        `login-failed ${first.email}`,
        `export ${second.email}`,
        `login ${second.email}`,
      ]);
      expect(await rowsOf(`?action=login&actor=${encodeURIComponent(first.email)}&from=2026-11-21`)).toEqual([
        `login ${first.email}`,
      ]);
    });

    it('shows what an export asked for and how many rows it had', async () => {
      const page = await viewer.get('/admin/audit?action=export');
      const [row] = auditRows(page.text);
      expect(row!.cells[4]).toContain('Statuses: confirmed');
      expect(row!.cells[4]).toContain('Rows: 0');
      expect(row!.cells[4]).toContain('Completed: yes');
    });

    it.each([
      ['an unknown action', '?action=drop-table', 'field-action', 'Choose an action from the list.'],
      ['a day that does not exist', '?from=2026-02-30', 'field-from', 'Enter a real date (YYYY-MM-DD).'],
      ['a word for a date', '?to=yesterday', 'field-to', 'Enter a real date (YYYY-MM-DD).'],
      [
        'days the wrong way round',
        '?from=2026-11-22&to=2026-11-21',
        'field-to',
        'The end date is before the start date.',
      ],
    ])(
      'answers %s with a 400 and says what to fix, keeping the filters',
      async (_case, query, field, message) => {
        const page = await viewer.get(`/admin/audit${query}`);
        expect(page.status).toBe(400);
        // The summary says what is wrong and links to the field to fix.
        const [summary] = byClass(page.text, 'error-summary');
        expect(summary, 'an error summary').toBeDefined();
        const links = startTags(innerHtml(page.text, summary!), 'a').map((a) => a.attrs.href);
        expect(links).toEqual([`#${field}`]);
        expect(textOf(innerHtml(page.text, summary!))).toContain(message);
        expect(auditRows(page.text)).toEqual([]);
        for (const pair of query.slice(1).split('&')) {
          const [name, value] = pair.split('=') as [string, string];
          if (name !== 'action') expect(byId(page.text, `field-${name}`)!.attrs.value).toBe(value);
        }
      },
    );

    it('is for admins only', async () => {
      const { visitor } = await signedIn(t.app, t.platform, 'organizer');
      expectErrorPage(await visitor.get('/admin/audit'), 403, ERROR_TITLES[403]);
      const anonymous = await new Visitor(t.app).get('/admin/audit');
      expect(anonymous.status).toBe(303);
    });

    describe('cannot be changed', () => {
      it('refuses UPDATE and DELETE in the database itself', async () => {
        const before = await auditEntries(t);
        await expect(
          t.platform.db
            .updateTable('audit_events')
            .set({ actor_email: 'someone-else@example.org' })
            .execute(),
        ).rejects.toThrow(MESSAGES.auditChanged);
        await expect(t.platform.db.deleteFrom('audit_events').execute()).rejects.toThrow(
          MESSAGES.auditChanged,
        );
        // Another connection to the database, as anyone with access to it would have.
        const other = openDatabase(t.config.database);
        try {
          await expect(
            other.db
              .updateTable('audit_events')
              .set({ details: '{}' })
              .where('id', '=', before[0]!.id)
              .execute(),
          ).rejects.toThrow(MESSAGES.auditChanged);
          await expect(
            other.db.deleteFrom('audit_events').where('id', '=', before[0]!.id).execute(),
          ).rejects.toThrow(MESSAGES.auditChanged);
          // SQLite's REPLACE deletes the old row without firing delete triggers: it must not overwrite an
          // entry either. (PostgreSQL has no REPLACE; its upsert is refused like an update.)
          const { sqlite } = other;
          if (sqlite)
            expect(() =>
              sqlite
                .prepare(
                  `insert or replace into audit_events (id, at, actor_email, action, details) values (?, ?, ?, ?, ?)`,
                )
                .run(before[0]!.id, before[0]!.at, 'nobody', 'login', '{}'),
            ).toThrow(MESSAGES.auditChanged);
        } finally {
          await other.close();
        }
        expect(await auditEntries(t)).toEqual(before);
      });

      it('has no route that changes it: only GET reads it, anything else is not found', async () => {
        const stack = (t.app as unknown as { router: { stack: RouteLayer[] } }).router.stack;
        const auditRoutes = routesOf(stack).filter((r) => r.path.includes('audit'));
        expect(auditRoutes).toEqual([{ path: '/audit', methods: ['get'] }]);

        const before = await auditEntries(t);
        const page = await viewer.get('/admin/audit');
        const token = csrfTokenIn(page.text);
        for (const method of ['post', 'put', 'patch', 'delete'] as const) {
          const response = await viewer.agent[method]('/admin/audit')
            .type('form')
            .set('Accept', 'text/html')
            .send({ _csrf: token, id: String(before[0]!.id), action: 'login' });
          expect(response.status, method).toBe(404);
        }
        expect(await auditEntries(t)).toEqual(before);
      });
    });
  });
});

interface RouteLayer {
  handle: { stack?: RouteLayer[] };
  route?: { path: string; methods: Record<string, boolean> };
}

/** Every route in a router stack, with its methods. */
function routesOf(layers: RouteLayer[]): { path: string; methods: string[] }[] {
  return layers.flatMap((layer) => {
    if (layer.route) return [{ path: layer.route.path, methods: Object.keys(layer.route.methods).sort() }];
    return layer.handle.stack ? routesOf(layer.handle.stack) : [];
  });
}

describe('admin users', () => {
  let t: TestPlatform;
  let admin: User;
  let as: Visitor;

  /** Invites an address through the form and returns the path of the link in the e-mail it sends. */
  async function invite(email: string, role = 'organizer'): Promise<string> {
    const before = t.sink.to(email).length;
    const response = await postForm(as, '/admin/users', '/admin/users/invite', fieldsOf({ email, role }));
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe('/admin/users?done=invited');
    await t.drainOutbox();
    const messages = t.sink.to(email);
    expect(messages).toHaveLength(before + 1);
    const link = linksIn(messages.at(-1)!).find((l) => l.startsWith(`${TEST_PUBLIC_URL}/account/invite/`));
    if (!link) throw new Error(`no invitation link in the e-mail to ${email}`);
    return pathOf(link);
  }

  /**
   * Sets a password through an invitation link's form. A link that no longer works has no form: the
   * token then comes from the login page, as a forged or replayed post would have one.
   */
  function accept(visitor: Visitor, link: string, password: string, confirm = password, formPage = link) {
    return visitor.submit(formPage, link, { password, confirm });
  }

  async function canLogIn(email: string, password: string): Promise<boolean> {
    const response = await new Visitor(t.app).submit('/login', '/login', { email, password, next: '/admin' });
    return response.status === 303;
  }

  beforeAll(async () => {
    t = await createTestPlatform();
    ({ user: admin, visitor: as } = await signedIn(t.app, t.platform, 'admin'));
  });
  afterAll(async () => {
    await t?.close();
  });

  it('lists the accounts with their role and state, and marks one’s own', async () => {
    const organizer = await createAccount(t.platform, 'organizer');
    const page = await as.get('/admin/users');
    expect(page.status).toBe(200);
    const rows = startTags(page.text, 'tr').map((tr) => textOf(innerHtml(page.text, tr)));
    expect(rows.find((r) => r.startsWith(admin.email))).toMatch(/you/);
    expect(rows.find((r) => r.startsWith(organizer.email))).toMatch(/active/);
    // Each account's role is the one chosen in its row's role menu.
    const roleOf = (id: number) => {
      const select = byId(page.text, `role-${id}`);
      expect(select, `a role menu for account ${id}`).toBeDefined();
      return startTags(innerHtml(page.text, select!), 'option').find((o) => 'selected' in o.attrs)?.attrs
        .value;
    };
    expect(roleOf(organizer.id)).toBe('organizer');
    expect(roleOf(admin.id)).toBe('admin');
  });

  describe('invitations', () => {
    it('send an e-mail with a link to set a password, valid for 7 days', async () => {
      const link = await invite('invited.person@example.org', 'organizer');
      // Opened in the new account's language (the inviting admin's).
      expect(link).toMatch(/^\/account\/invite\/[A-Za-z0-9_-]{20,64}\?lang=en$/);
      const message = t.sink.to('invited.person@example.org').at(-1)!;
      expect(message.parsed.subject).toBe('You are invited to Undersigned');
      expect(message.parsed.text).toContain(`${admin.email} invited you to Undersigned as an organizer.`);
      expect(message.parsed.text).toContain('November 30, 2026');
      const user = (await t.platform.repositories.users.findByEmail('invited.person@example.org'))!;
      expect(user).toMatchObject({ role: 'organizer', mustChangePassword: true, disabled: false });
      const page = await as.get('/admin/users?done=invited');
      expect(page.text).toContain('The invitation is on its way.');
    });

    it('let the invited person set a password, which logs them in, once', async () => {
      const link = await invite('sets.password@example.org', 'admin');
      const visitor = new Visitor(t.app);
      const form = await visitor.get(link);
      expect(form.status).toBe(200);
      expect(textOf(mainOf(form.text))).toContain('sets.password@example.org');

      const short = await accept(visitor, link, 'too short');
      expect(short.status).toBe(422);
      expect(fieldErrors(short.text, 'field-password')).toHaveLength(1);
      expect(byId(short.text, 'field-password')?.attrs['aria-invalid']).toBe('true');
      const differ = await accept(visitor, link, 'a long and good password', 'a different long password');
      expect(differ.status).toBe(422);
      expect(fieldErrors(differ.text, 'field-confirm')).toHaveLength(1);
      // The error is tied to its field, so a screen reader says it there.
      expect(describesItsError(differ.text, 'field-confirm')).toBe(true);
      expect(byId(differ.text, 'field-confirm')?.attrs['aria-invalid']).toBe('true');

      const accepted = await accept(visitor, link, 'a long and good password');
      expect(accepted.status).toBe(303);
      // The dashboard keeps the invitation's language (its link's ?lang=, the new account's).
      expect(accepted.headers.location).toBe('/admin?lang=en');
      expect((await visitor.get('/admin/users')).status).toBe(200);
      const user = (await t.platform.repositories.users.findByEmail('sets.password@example.org'))!;
      expect(user).toMatchObject({ role: 'admin', mustChangePassword: false });
      // Setting the password logged them in: the accounts page and the audit log say so.
      expect(user.lastLoginAt).toEqual(t.clock.now());
      const entry = (await auditEntries(t, 'invitation-accepted')).at(-1)!;
      expect([entry.actor_user_id, entry.target_id]).toEqual([user.id, String(user.id)]);
      expect(await canLogIn('sets.password@example.org', 'a long and good password')).toBe(true);

      // Used up: the link neither opens nor sets another password.
      const again = await new Visitor(t.app).get(link);
      expectErrorPageOfLink(again);
      const reused = await accept(
        new Visitor(t.app),
        link,
        'an attacker’s long password',
        undefined,
        '/login',
      );
      expect(reused.status).toBe(404);
      expect(await canLogIn('sets.password@example.org', 'an attacker’s long password')).toBe(false);
    });

    it('say so when inviting an address again changes its role, and the audit log keeps the role before', async () => {
      await invite('changing.role@example.org', 'organizer');
      const again = await postForm(
        as,
        '/admin/users',
        '/admin/users/invite',
        fieldsOf({ email: 'CHANGING.ROLE@example.org', role: 'admin' }),
      );
      expect(again.status).toBe(303);
      expect(again.headers.location).toBe('/admin/users?done=invitedRole');
      const page = await as.get(again.headers.location!);
      expect(page.text).toContain('the earlier invitation to this address gave another role');
      const user = (await t.platform.repositories.users.findByEmail('changing.role@example.org'))!;
      expect(user.role).toBe('admin');
      const entry = await lastEntry(t, 'user-invited');
      expect(entry.details).toMatchObject({ role: 'admin', again: true, roleBefore: 'organizer' });
      // The audit page says it in words.
      const audit = await as.get('/admin/audit');
      expect(textOf(mainOf(audit.text))).toContain('Role before: Organizer');
    });

    it('expire after 7 days, and an admin can then invite the person again', async () => {
      const link = await invite('slow.reader@example.org');
      t.clock.advance(7 * DAY - 60_000);
      expect((await new Visitor(t.app).get(link)).status).toBe(200);
      t.clock.advance(2 * 60_000);
      expectErrorPageOfLink(await new Visitor(t.app).get(link));
      expect(
        (await accept(new Visitor(t.app), link, 'a long and good password', undefined, '/login')).status,
      ).toBe(404);

      // The invalid link's page says to ask for a new invitation: that must be possible. (A week on,
      // the admin's own session has expired too.)
      as = await loginAs(t.app, admin);
      const again = await invite('slow.reader@example.org');
      expect(again).not.toBe(link);
      expectErrorPageOfLink(await new Visitor(t.app).get(link));
      expect((await accept(new Visitor(t.app), again, 'a long and good password')).status).toBe(303);
      expect(await canLogIn('slow.reader@example.org', 'a long and good password')).toBe(true);
    });

    it('say on the accounts page when the mail server refused an invitation, until one gets through', async () => {
      const address = 'no-such-mailbox@example.org';
      t.sink.rcptReply = (to) =>
        to === address
          ? { code: 550, message: '5.1.1 <no-such-mailbox@example.org>: no such user' }
          : undefined;
      try {
        const response = await postForm(
          as,
          '/admin/users',
          '/admin/users/invite',
          fieldsOf({ email: address, role: 'organizer' }),
        );
        expect(response.headers.location).toBe('/admin/users?done=invited');
        await t.drainOutbox();
      } finally {
        t.sink.rcptReply = undefined;
      }
      const user = (await t.platform.repositories.users.findByEmail(address))!;
      const flag = async () => {
        const page = await as.get('/admin/users');
        const row = startTags(page.text, 'tr').find((tr) => innerHtml(page.text, tr).includes(address))!;
        return textOf(innerHtml(page.text, row));
      };
      const row = await flag();
      expect(row).toContain('invitation not delivered');
      expect(row).toContain('check the address, then invite it again');
      expect(row).toContain('no such user');
      // Others are not flagged.
      expect(
        startTags((await as.get('/admin/users')).text).filter((tag) => 'data-undelivered' in tag.attrs),
      ).toEqual([
        expect.objectContaining({ attrs: expect.objectContaining({ 'data-undelivered': String(user.id) }) }),
      ]);

      // Invited again, and delivered this time: nothing to say any more.
      await invite(address);
      expect(await flag()).not.toContain('invitation not delivered');
    });

    it.each([
      ['a made-up token', '/account/invite/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'],
      ['a token too short', '/account/invite/abc'],
      ['a hostile token', '/account/invite/%3Cscript%3Ealert(1)%3C%2Fscript%3E'],
    ])('answer %s with a 404 page', async (_case, link) => {
      const response = await new Visitor(t.app).get(link);
      expectErrorPageOfLink(response);
      // The token is not shown back at all, escaped or not.
      expect(response.text).not.toContain('alert(1)');
    });

    it('refuse bad input with 422, the message beside the field and the values kept', async () => {
      const users = (await t.platform.repositories.users.list()).length;
      const outbox = await t.platform.db.selectFrom('outbox_messages').select('id').execute();
      for (const [fields, field, message] of [
        [{ email: 'not-an-address', role: 'organizer' }, 'field-email', MESSAGES.emailInvalid],
        [
          { email: `${'a'.repeat(250)}@example.org`, role: 'organizer' },
          'field-email',
          MESSAGES.emailInvalid,
        ],
        // Within 254 characters, but a mail server refuses more than 64 before the @: never delivered.
        [{ email: `${'a'.repeat(65)}@example.org`, role: 'organizer' }, 'field-email', MESSAGES.emailInvalid],
        [{ email: admin.email.toUpperCase(), role: 'organizer' }, 'field-email', MESSAGES.exists],
        [{ email: 'new.root@example.org', role: 'root' }, 'field-role', MESSAGES.role],
      ] as const) {
        const response = await postForm(as, '/admin/users', '/admin/users/invite', fieldsOf(fields));
        expect(response.status, fields.email).toBe(422);
        expect(fieldErrors(response.text, field)).toEqual([message]);
        expect(byId(response.text, 'field-email')!.attrs.value).toBe(fields.email);
      }
      const kept = await postForm(
        as,
        '/admin/users',
        '/admin/users/invite',
        fieldsOf({ email: 'not-an-address', role: 'admin' }),
      );
      const selected = startTags(innerHtml(kept.text, byId(kept.text, 'field-role')!), 'option').find(
        (o) => 'selected' in o.attrs,
      );
      expect(selected?.attrs.value).toBe('admin');
      expect((await t.platform.repositories.users.list()).length).toBe(users);
      expect(await t.platform.db.selectFrom('outbox_messages').select('id').execute()).toEqual(outbox);
    });
  });

  describe('roles', () => {
    it('change when an admin chooses another, asking first before making someone an admin', async () => {
      const organizer = await createAccount(t.platform, 'organizer');
      const changes = (await auditEntries(t, 'role-changed')).length;
      const asked = await postForm(as, '/admin/users', `/admin/users/${organizer.id}/role`, [
        ['role', 'admin'],
      ]);
      expect(asked.status).toBe(200);
      expect(textOf(mainOf(asked.text))).toContain(
        `${organizer.email} will see every supporter's e-mail address`,
      );
      expect((await t.platform.repositories.users.findById(organizer.id))!.role).toBe('organizer');
      expect(await auditEntries(t, 'role-changed')).toHaveLength(changes);
      const response = await postForm(as, '/admin/users', `/admin/users/${organizer.id}/role`, [
        ...formFieldsFor(asked.text, `/admin/users/${organizer.id}/role`),
      ]);
      expect(response.status).toBe(303);
      expect(response.headers.location).toBe('/admin/users?done=role');
      expect((await t.platform.repositories.users.findById(organizer.id))!.role).toBe('admin');
      const back = await postForm(as, '/admin/users', `/admin/users/${organizer.id}/role`, [
        ['role', 'organizer'],
      ]);
      expect(back.status).toBe(303);
      expect((await t.platform.repositories.users.findById(organizer.id))!.role).toBe('organizer');
      // The role it already has: said so, not "The role was changed", and nothing recorded.
      const before = (await auditEntries(t, 'role-changed')).length;
      const same = await postForm(as, '/admin/users', `/admin/users/${organizer.id}/role`, [
        ['role', 'organizer'],
      ]);
      expect(same.headers.location).toBe('/admin/users?done=roleUnchanged');
      expect(textOf(mainOf((await as.get(same.headers.location!)).text))).toContain(
        'The account already had this role: nothing changed.',
      );
      expect(await auditEntries(t, 'role-changed')).toHaveLength(before);
    });

    it('refuse an unknown role and change nothing', async () => {
      const organizer = await createAccount(t.platform, 'organizer');
      const response = await postForm(as, '/admin/users', `/admin/users/${organizer.id}/role`, [
        ['role', 'root'],
      ]);
      expectRefusedOnList(response, MESSAGES.role, 400);
      expect((await t.platform.repositories.users.findById(organizer.id))!.role).toBe('organizer');
    });

    it('answer an unknown account with 404', async () => {
      const response = await postForm(as, '/admin/users', '/admin/users/999999/role', [['role', 'admin']]);
      expectErrorPage(response, 404, ERROR_TITLES[404]);
    });
  });

  describe('disabling', () => {
    it('asks first, on a page that changes nothing', async () => {
      const organizer = await createAccount(t.platform, 'organizer');
      const page = await as.get(`/admin/users/${organizer.id}/disable`);
      expect(page.status).toBe(200);
      expect(textOf(mainOf(page.text))).toContain(organizer.email);
      expect(
        startTags(page.text, 'form').some((f) => f.attrs.action === `/admin/users/${organizer.id}/disable`),
      ).toBe(true);
      expect((await t.platform.repositories.users.findById(organizer.id))!.disabled).toBe(false);
    });

    it('ends the person’s sessions and stops their logins, until enabled again', async () => {
      const { user, visitor } = await signedIn(t.app, t.platform, 'organizer');
      expect((await visitor.get('/admin')).status).toBe(200);
      const response = await postForm(
        as,
        `/admin/users/${user.id}/disable`,
        `/admin/users/${user.id}/disable`,
        [],
      );
      expect(response.status).toBe(303);
      expect(response.headers.location).toBe('/admin/users?done=disabled');
      expect((await t.platform.repositories.users.findById(user.id))!.disabled).toBe(true);
      const after = await visitor.get('/admin');
      expect(after.status).toBe(303);
      expect(after.headers.location).toMatch(/^\/login/);
      expect(await canLogIn(user.email, TEST_PASSWORD)).toBe(false);
      const page = await as.get(response.headers.location!);
      expect(page.text).toContain('The account was disabled.');

      const enabled = await postForm(as, '/admin/users', `/admin/users/${user.id}/enable`, []);
      expect(enabled.headers.location).toBe('/admin/users?done=enabled');
      expect((await t.platform.repositories.users.findById(user.id))!.disabled).toBe(false);
      expect(await canLogIn(user.email, TEST_PASSWORD)).toBe(true);
    });

    it('cannot disable one’s own account', async () => {
      // The confirmation page says so at once, with no button that would be refused.
      const asked = await as.get(`/admin/users/${admin.id}/disable`);
      expect(textOf(mainOf(asked.text))).toContain(MESSAGES.self);
      expect(mainOf(asked.text)).not.toContain(`action="/admin/users/${admin.id}/disable"`);
      const response = await postForm(as, '/admin/users', `/admin/users/${admin.id}/disable`, []);
      expectRefusedOnList(response, MESSAGES.self);
      expect((await t.platform.repositories.users.findById(admin.id))!.disabled).toBe(false);
      expect((await as.get('/admin/users')).status).toBe(200);
    });
  });

  it('are managed by admins only', async () => {
    const { visitor } = await signedIn(t.app, t.platform, 'organizer');
    const target = await createAccount(t.platform, 'organizer');
    expectErrorPage(await visitor.get('/admin/users'), 403, ERROR_TITLES[403]);
    const response = await postForm(visitor, '/admin', `/admin/users/${target.id}/role`, [['role', 'admin']]);
    expectErrorPage(response, 403, ERROR_TITLES[403]);
    expect((await t.platform.repositories.users.findById(target.id))!.role).toBe('organizer');
  });
});

/**
 * A step on the accounts list that the rules refuse: 409 with the list itself, the reason at the top of
 * it (not an error page leading away from the list).
 */
function expectRefusedOnList(
  response: { status: number; text: string },
  message: string,
  status = 409,
): void {
  expect(response.status).toBe(status);
  expect(
    textOf(
      startTags(response.text, 'h1')
        .map((h) => innerHtml(response.text, h))
        .join(''),
    ),
  ).toBe('Accounts');
  expect(textsByClass(response.text, 'error-summary').map(textOf).join(' ')).toContain(message);
  expect(startTags(response.text, 'form').some((f) => f.attrs.action === '/admin/users/invite')).toBe(true);
}

describe('the last active admin', () => {
  let t: TestPlatform;
  let admin: User;
  let as: Visitor;

  beforeAll(async () => {
    t = await createTestPlatform();
    ({ user: admin, visitor: as } = await signedIn(t.app, t.platform, 'admin'));
  });
  afterAll(async () => {
    await t?.close();
  });

  it('cannot be made an organizer, nor disable themselves', async () => {
    const demoted = await postForm(as, '/admin/users', `/admin/users/${admin.id}/role`, [
      ['role', 'organizer'],
    ]);
    expectRefusedOnList(demoted, MESSAGES.lastAdmin);
    const disabled = await postForm(as, '/admin/users', `/admin/users/${admin.id}/disable`, []);
    expectRefusedOnList(disabled, MESSAGES.self);
    expect(await t.platform.repositories.users.findById(admin.id)).toMatchObject({
      role: 'admin',
      disabled: false,
    });
  });

  it('is still the last when the other admins are disabled', async () => {
    const other = await createAccount(t.platform, 'admin');
    await t.platform.appDeps.userAdmin.disable(admin, other.id);
    const demoted = await postForm(as, '/admin/users', `/admin/users/${admin.id}/role`, [
      ['role', 'organizer'],
    ]);
    expectRefusedOnList(demoted, MESSAGES.lastAdmin);
    expect((await t.platform.repositories.users.findById(admin.id))!.role).toBe('admin');
  });

  it('can step down once another admin is active, and then loses the admin pages', async () => {
    await createAccount(t.platform, 'admin');
    const demoted = await postForm(as, '/admin/users', `/admin/users/${admin.id}/role`, [
      ['role', 'organizer'],
    ]);
    expect(demoted.status).toBe(303);
    expect((await t.platform.repositories.users.findById(admin.id))!.role).toBe('organizer');
    expectErrorPage(await as.get('/admin/users'), 403, ERROR_TITLES[403]);
  });
});

/** The page of an invitation link that does not work. */
function expectErrorPageOfLink(response: { status: number; text: string }): void {
  expect(response.status).toBe(404);
  expect(textOf(mainOf(response.text))).toContain(MESSAGES.invalidLink);
  expect(startTags(response.text, 'input').some((i) => i.attrs.name === 'password')).toBe(false);
}

describe('an admin invited who has not set a password yet', () => {
  let t: TestPlatform;
  let admin: User;
  let as: Visitor;
  let invited: User;

  beforeAll(async () => {
    t = await createTestPlatform();
    ({ user: admin, visitor: as } = await signedIn(t.app, t.platform, 'admin'));
    await t.platform.appDeps.userAdmin.invite(admin, 'invited-admin@example.org', 'admin');
    invited = (await t.platform.repositories.users.findByEmail('invited-admin@example.org'))!;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('does not count as an active admin: the real admin cannot step down, and is told why', async () => {
    const demoted = await postForm(as, '/admin/users', `/admin/users/${admin.id}/role`, [
      ['role', 'organizer'],
    ]);
    expectRefusedOnList(demoted, MESSAGES.lastAdminInvited);
    expect((await t.platform.repositories.users.findById(admin.id))!.role).toBe('admin');
  });

  it('cannot disable the last real admin either, even through the service', async () => {
    await expect(t.platform.appDeps.userAdmin.disable(invited, admin.id)).rejects.toMatchObject({
      status: 409,
      code: 'last_admin',
    });
    expect((await t.platform.repositories.users.findById(admin.id))!.disabled).toBe(false);
  });

  it('can itself be made an organizer while the real admin remains', async () => {
    const changed = await postForm(as, '/admin/users', `/admin/users/${invited.id}/role`, [
      ['role', 'organizer'],
    ]);
    expect(changed.status).toBe(303);
    expect((await t.platform.repositories.users.findById(invited.id))!.role).toBe('organizer');
  });
});

describe('unlocking an account', () => {
  let t: TestPlatform;
  let as: Visitor;

  beforeAll(async () => {
    t = await createTestPlatform();
    ({ visitor: as } = await signedIn(t.app, t.platform, 'admin'));
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Three wrong passwords from this test's connection: its logins for the address then wait. */
  async function lockOut(user: User) {
    for (let n = 0; n < 3; n += 1) {
      await new Visitor(t.app).submit('/login', '/login', { email: user.email, password: 'a wrong guess' });
    }
    const refused = await new Visitor(t.app).submit('/login', '/login', {
      email: user.email,
      password: TEST_PASSWORD,
      next: '/admin',
    });
    expect(refused.status).toBe(429);
  }

  it('shows the accounts locked now, asks first, clears the lock, and the owner logs in at once', async () => {
    const owner = await createAccount(t.platform, 'organizer');
    const bystander = await createAccount(t.platform, 'organizer');
    await lockOut(owner);

    const list = await as.get('/admin/users');
    const badges = startTags(list.text, 'span').filter((s) => s.attrs['data-locked']);
    expect(badges.map((b) => b.attrs['data-locked'])).toEqual([String(owner.id)]);
    const unlockLinks = startTags(list.text, 'a')
      .map((a) => a.attrs.href)
      .filter((href) => href?.endsWith('/unlock'));
    expect(unlockLinks).toEqual([`/admin/users/${owner.id}/unlock`]);
    expect(unlockLinks).not.toContain(`/admin/users/${bystander.id}/unlock`);

    const confirm = await as.get(`/admin/users/${owner.id}/unlock`);
    expect(confirm.status).toBe(200);
    expect(textOf(mainOf(confirm.text))).toContain(owner.email);
    // Asking changed nothing: the owner is still refused.
    expect(
      (
        await new Visitor(t.app).submit('/login', '/login', {
          email: owner.email,
          password: TEST_PASSWORD,
          next: '/admin',
        })
      ).status,
    ).toBe(429);

    const done = await submit(as, `/admin/users/${owner.id}/unlock`, {}, `/admin/users/${owner.id}/unlock`);
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe('/admin/users?done=unlocked');
    const after = await as.get('/admin/users?done=unlocked');
    expect(textOf(innerHtml(after.text, byClass(after.text, 'notice')[0]!))).toBe(MESSAGES.unlocked);
    expect(startTags(after.text, 'span').filter((s) => s.attrs['data-locked'])).toEqual([]);

    await loginAs(t.app, owner);
  });

  it('refuses an unlock without the CSRF token, and the lock stays', async () => {
    const owner = await createAccount(t.platform, 'organizer');
    await lockOut(owner);
    const response = await as.agent
      .post(`/admin/users/${owner.id}/unlock`)
      .type('form')
      .set('Accept', 'text/html')
      .send({});
    expectErrorPage(response, 403, ERROR_TITLES[403]);
    const list = await as.get('/admin/users');
    expect(startTags(list.text, 'span').some((s) => s.attrs['data-locked'] === String(owner.id))).toBe(true);
  });

  it('is for admins only, on the page and in the service itself', async () => {
    const owner = await createAccount(t.platform, 'organizer');
    await lockOut(owner);
    const { user: organizer, visitor } = await signedIn(t.app, t.platform, 'organizer');
    expectErrorPage(await visitor.get(`/admin/users/${owner.id}/unlock`), 403, ERROR_TITLES[403]);
    const posted = await postForm(visitor, '/admin', `/admin/users/${owner.id}/unlock`, []);
    expectErrorPage(posted, 403, ERROR_TITLES[403]);
    await expect(t.platform.appDeps.userAdmin.unlock(organizer, owner.id)).rejects.toMatchObject({
      status: 403,
    });
    const list = await as.get('/admin/users');
    expect(startTags(list.text, 'span').some((s) => s.attrs['data-locked'] === String(owner.id))).toBe(true);
  });
});

describe('every account use case asks the policy itself', () => {
  let t: TestPlatform;
  let organizer: User;
  let target: User;

  beforeAll(async () => {
    t = await createTestPlatform();
    organizer = await createAccount(t.platform, 'organizer');
    target = await createAccount(t.platform, 'organizer');
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each([
    ['list the accounts', () => t.platform.appDeps.userAdmin.list(organizer)],
    ['open one account', () => t.platform.appDeps.userAdmin.find(organizer, target.id)],
    ['invite someone', () => t.platform.appDeps.userAdmin.invite(organizer, 'x@example.org', 'admin')],
    ['change a role', () => t.platform.appDeps.userAdmin.changeRole(organizer, organizer.id, 'admin')],
    ['disable an account', () => t.platform.appDeps.userAdmin.disable(organizer, target.id)],
    ['enable an account', () => t.platform.appDeps.userAdmin.enable(organizer, target.id)],
    ['unlock an account', () => t.platform.appDeps.userAdmin.unlock(organizer, target.id)],
  ])('refuses an organizer who calls the service to %s, with 403', async (_label, call) => {
    await expect(call()).rejects.toMatchObject({ status: 403, code: 'admin_only' });
    expect(await t.platform.repositories.users.findById(organizer.id)).toMatchObject({ role: 'organizer' });
    expect(await t.platform.repositories.users.findByEmail('x@example.org')).toBeUndefined();
  });
});
