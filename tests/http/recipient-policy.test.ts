import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import { signedIn } from '../support/accounts.js';
import { addRecipient, createDraft, fieldsOf, formFieldsFor, postForm } from '../support/admin-forms.js';
import { byClass, byId, innerHtml, mainOf, startTags, textOf } from '../support/html.js';
import { csrfTokenIn, type Visitor } from '../support/http.js';
import { ERROR_TITLES, expectErrorPage } from '../support/signing.js';
import type { SinkMessage } from '../support/smtp-sink.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

const ORIGINAL = 'ambassador@embassy.example.org';
const ATTACKER = 'attacker@elsewhere.example.net';
const REFUSAL =
  "Only an admin can change this recipient: another organizer's letter, or a published letter whose changes an admin must review, is addressed to it, and a change would send that letter somewhere else.";

/** The recipient form filled in as the directory holds it, with `overrides`. */
function recipientForm(overrides: Record<string, string> = {}) {
  return fieldsOf({
    name: 'Embassy of Ukraine',
    title: 'Ambassador',
    organisation: 'Embassy of Ukraine',
    country: 'KR',
    email: ORIGINAL,
    language: 'en',
    salutation: 'Dear Ambassador',
    notes: '',
    ...overrides,
  });
}

const isLetter = (m: SinkMessage) => m.parsed.headers.has('x-undersigned-letter');

describe("the directory keeps one organizer from redirecting another's letter", () => {
  let t: TestPlatform;
  let organizerA: User;
  let organizerB: User;
  let a: Visitor;
  let b: Visitor;
  let recipient: number;
  let letterId: number;

  beforeEach(async () => {
    t = await createTestPlatform();
    ({ user: organizerA, visitor: a } = await signedIn(t.app, t.platform, 'organizer'));
    ({ user: organizerB, visitor: b } = await signedIn(t.app, t.platform, 'organizer'));
    recipient = await addRecipient(t.platform.db, t.clock.now(), {
      name: 'Embassy of Ukraine',
      organisation: 'Embassy of Ukraine',
      email: ORIGINAL,
      salutation: 'Dear Ambassador',
      title: 'Ambassador',
      language: 'en',
    });
    letterId = await createDraft(a, [recipient]);
  });
  afterEach(async () => {
    await t.close();
  });

  const stored = async (id = recipient) => (await t.platform.repositories.recipients.findById(id))!;
  const auditOf = (action: string) =>
    t.platform.db.selectFrom('audit_events').selectAll().where('action', '=', action).orderBy('id').execute();
  const detailsOf = (row: { details: string }) => JSON.parse(row.details) as Record<string, unknown>;

  /** Publishes A's letter, sends the test, delivers it, and lets the worker send everything. */
  async function deliverLettersOfA(): Promise<SinkMessage[]> {
    const path = `/admin/letters/${letterId}/delivery`;
    expect(
      (await postForm(a, `/admin/letters/${letterId}`, `/admin/letters/${letterId}/publish`, [])).status,
    ).toBe(303);
    const press = (action: string) =>
      postForm(a, path, `${path}/${action}`, [['request_key', randomBytes(12).toString('base64url')]]);
    expect((await press('test')).status).toBe(303);
    await t.compileDeliveries();
    await t.drainOutbox();
    expect((await press('deliver')).status).toBe(303);
    await t.compileDeliveries();
    await t.drainOutbox();
    return t.sink.messages.filter(isLetter).filter((m) => !m.envelopeTo.includes(organizerA.email));
  }

  it("refuses organizer B's change to the address of a recipient on A's letter: 403, nothing changed, the letter still goes to the original address", async () => {
    const before = await stored();
    const response = await postForm(
      b,
      `/admin/recipients/${recipient}`,
      `/admin/recipients/${recipient}`,
      recipientForm({ email: ATTACKER }),
    );
    expect(response.status).toBe(403);
    const main = mainOf(response.text);
    // The page says why, keeps what was typed, and offers a copy instead of the change.
    expect(textOf(innerHtml(main, byClass(main, 'error-summary')[0]!))).toContain(REFUSAL);
    expect(startTags(main, 'input').find((i) => i.attrs.name === 'email')?.attrs.value).toBe(ATTACKER);
    const copy = startTags(main, 'button').find((button) => button.attrs.formaction === '/admin/recipients');
    expect(copy && textOf(innerHtml(main, copy))).toBe('Save as a new recipient');

    expect(await stored()).toEqual(before);
    expect(await auditOf('recipient-changed')).toEqual([]);

    const delivered = await deliverLettersOfA();
    expect(delivered.map((m) => m.envelopeTo)).toEqual([[ORIGINAL]]);
    expect(t.sink.to(ATTACKER)).toEqual([]);
  });

  it('refuses the change from any caller of the service, not only the form', async () => {
    const values = Object.fromEntries(recipientForm({ email: ATTACKER })) as Record<string, string>;
    await expect(
      t.platform.appDeps.recipients.update(organizerB, recipient, values as never),
    ).rejects.toMatchObject({ status: 403, code: 'recipient_change_forbidden' });
    await expect(t.platform.appDeps.recipients.delete(organizerB, recipient)).rejects.toMatchObject({
      status: 403,
    });
    expect((await stored()).email).toBe(ORIGINAL);
  });

  it("shows B the recipient as locked, with a way to save a copy B can use, and the copy leaves A's recipient alone", async () => {
    const page = await b.get(`/admin/recipients/${recipient}`);
    expect(page.status).toBe(200);
    expect(textOf(innerHtml(page.text, byId(page.text, 'recipient-locked')!))).toContain(
      "Another organizer's letter, or a published letter whose changes an admin must review, is addressed to this recipient, so only an admin can change or delete it.",
    );
    // No delete link is offered; the delete page explains instead of asking.
    expect(
      startTags(page.text, 'a').some((l) => l.attrs.href === `/admin/recipients/${recipient}/delete`),
    ).toBe(false);
    const deletePage = await b.get(`/admin/recipients/${recipient}/delete`);
    expect(textOf(mainOf(deletePage.text))).toContain(REFUSAL);
    expect(
      startTags(deletePage.text, 'form').some(
        (f) => f.attrs.action === `/admin/recipients/${recipient}/delete`,
      ),
    ).toBe(false);

    // The button posts the same form to the new-recipient address: a copy with B's address.
    const fields = formFieldsFor(page.text, `/admin/recipients/${recipient}`).map(
      ([name, value]): [string, string] => [name, name === 'email' ? 'consul@embassy.example.org' : value],
    );
    const copied = await postForm(b, '/admin/recipients', '/admin/recipients', fields);
    expect(copied.status).toBe(303);
    const copy = await t.platform.repositories.recipients.findByEmail('consul@embassy.example.org');
    expect(copy).toMatchObject({ name: 'Embassy of Ukraine', salutation: 'Dear Ambassador' });
    expect((await stored()).email).toBe(ORIGINAL);
  });

  it("refuses B's deletion of a recipient on A's letter with 403", async () => {
    const response = await postForm(b, '/admin/recipients', `/admin/recipients/${recipient}/delete`, []);
    expectErrorPage(response, 403, ERROR_TITLES[403]);
    expect(textOf(mainOf(response.text))).toContain(REFUSAL);
    expect(await stored()).toBeDefined();
    expect(await auditOf('recipient-deleted')).toEqual([]);
  });

  it("skips, with the reason in the preview, an import row that would change a recipient on A's letter", async () => {
    const csv = [
      'name,title,organisation,country,email,language,salutation,notes',
      `Taken Over,Ambassador,Embassy of Ukraine,KR,${ORIGINAL},en,Dear Sir,`,
      'UNHCR Korea,Representative,UNHCR,KR,korea@unhcr.example.org,en,Dear Representative,',
    ].join('\n');
    const form = await b.get('/admin/recipients/import');
    const uploaded = await b.agent
      .post('/admin/recipients/import')
      .set('Accept', 'text/html')
      .field('pasted', csv)
      .field('_csrf', csrfTokenIn(form.text));
    expect(uploaded.status).toBe(303);
    const path = uploaded.headers.location!;
    const preview = textOf(mainOf((await b.get(path)).text));
    expect(preview).toContain(
      "another organizer's letter, or a published letter whose changes an admin must review, is addressed to this recipient, so only an admin can change it. This row is skipped.",
    );

    const confirmed = await postForm(b, path, `${path}/confirm`, []);
    expect(confirmed.headers.location).toBe('/admin/recipients?done=imported&created=1&updated=0&skipped=1');
    expect((await stored()).name).toBe('Embassy of Ukraine');
    expect((await stored()).salutation).toBe('Dear Ambassador');
    const [imported] = await auditOf('recipients-imported');
    expect(detailsOf(imported!)).toMatchObject({ created: 1, updated: 0, skipped: 1 });
    expect(await auditOf('recipient-changed')).toEqual([]);
  });

  it('lets an admin change it, records the change with the fields and both addresses, and the letter goes to the new address', async () => {
    const { user: admin, visitor: adminVisitor } = await signedIn(t.app, t.platform, 'admin');
    const NEW = 'new-ambassador@embassy.example.org';
    const response = await postForm(
      adminVisitor,
      `/admin/recipients/${recipient}`,
      `/admin/recipients/${recipient}`,
      recipientForm({ email: NEW, salutation: 'Your Excellency' }),
    );
    expect(response.status).toBe(303);
    expect(await stored()).toMatchObject({ email: NEW, salutation: 'Your Excellency' });
    const entries = await auditOf('recipient-changed');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      actor_user_id: admin.id,
      target_type: 'recipient',
      target_id: String(recipient),
    });
    expect(detailsOf(entries[0]!)).toEqual({
      name: 'Embassy of Ukraine',
      fields: ['email', 'salutation_en'],
      emailFrom: ORIGINAL,
      emailTo: NEW,
    });
    const delivered = await deliverLettersOfA();
    expect(delivered.map((m) => m.envelopeTo)).toEqual([[NEW]]);
  });

  it('lets an organizer change a recipient only their own letters use, and records it', async () => {
    const response = await postForm(
      a,
      `/admin/recipients/${recipient}`,
      `/admin/recipients/${recipient}`,
      recipientForm({ title: 'Chargé d’affaires' }),
    );
    expect(response.status).toBe(303);
    expect((await stored()).title).toBe('Chargé d’affaires');
    const [entry] = await auditOf('recipient-changed');
    expect(entry).toMatchObject({ actor_user_id: organizerA.id });
    expect(detailsOf(entry!)).toEqual({ name: 'Embassy of Ukraine', fields: ['title'] });
  });

  it('keeps an organizer from changing, without review, where their own reviewed letter goes', async () => {
    const admin = await signedIn(t.app, t.platform, 'admin');
    const settings = t.platform.appDeps.settings;
    await settings.write({ ...(await settings.read()), requireReview: true }, t.clock.now());
    // While the letter is a draft, its recipient is the organizer's to change.
    const draftChange = await postForm(
      a,
      `/admin/recipients/${recipient}`,
      `/admin/recipients/${recipient}`,
      recipientForm({ title: 'Minister' }),
    );
    expect(draftChange.status).toBe(303);
    // Reviewed and published, it is not: the address change would skip the review.
    await postForm(a, `/admin/letters/${letterId}`, `/admin/letters/${letterId}/publish`, []);
    await postForm(admin.visitor, `/admin/letters/${letterId}`, `/admin/letters/${letterId}/publish`, []);
    expect((await t.platform.repositories.letters.findById(letterId))!.status).toBe('open');
    const refused = await postForm(
      a,
      `/admin/recipients/${recipient}`,
      `/admin/recipients/${recipient}`,
      recipientForm({ title: 'Minister', email: ATTACKER }),
    );
    expect(refused.status).toBe(403);
    expect((await stored()).email).toBe(ORIGINAL);
    // With review off, the organizer may again.
    await settings.write({ ...(await settings.read()), requireReview: false }, t.clock.now());
    const allowed = await postForm(
      a,
      `/admin/recipients/${recipient}`,
      `/admin/recipients/${recipient}`,
      recipientForm({ title: 'Minister', email: 'moved@embassy.example.org' }),
    );
    expect(allowed.status).toBe(303);
  });

  it('records every directory change: adding and deleting too', async () => {
    const added = await postForm(
      b,
      '/admin/recipients/new',
      '/admin/recipients',
      recipientForm({ name: 'UNHCR Korea', email: 'korea@unhcr.example.org' }),
    );
    expect(added.status).toBe(303);
    const id = (await t.platform.repositories.recipients.findByEmail('korea@unhcr.example.org'))!.id;
    const [created] = await auditOf('recipient-created');
    expect(created).toMatchObject({ target_id: String(id) });
    expect(detailsOf(created!)).toEqual({ name: 'UNHCR Korea', email: 'korea@unhcr.example.org' });

    const deleted = await postForm(b, '/admin/recipients', `/admin/recipients/${id}/delete`, []);
    expect(deleted.status).toBe(303);
    const [entry] = await auditOf('recipient-deleted');
    expect(entry).toMatchObject({ target_id: String(id) });
    // The audit page shows the entries to admins.
    const { visitor: adminVisitor } = await signedIn(t.app, t.platform, 'admin');
    const audit = textOf(mainOf((await adminVisitor.get('/admin/audit')).text));
    // Read from the log itself, after the filter's list of every action's name.
    const log = audit.slice(audit.indexOf('When Who'));
    expect(log).toContain('Recipient added');
    expect(log).toContain('Recipient deleted');
  });
});
