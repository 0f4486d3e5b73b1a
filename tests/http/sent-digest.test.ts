import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signedIn } from '../support/accounts.js';
import { postForm } from '../support/admin-forms.js';
import { createLetter, signingForm } from '../support/factories.js';
import { hrefsIn, mainOf, startTags, textOf } from '../support/html.js';
import { Visitor } from '../support/http.js';
import { lastMailTo, pathOf, signatureLinks } from '../support/signing.js';
import { createTestPlatform, TEST_PUBLIC_URL, type TestPlatform } from '../support/test-platform.js';

const SUPPORTER = { name: 'Park Sun-hee Digest', email: 'sun-hee.digest@example.org' };

/** SHA-256 (hex) of the bytes an SMTP server received. */
const sha256 = (raw: string) => createHash('sha256').update(Buffer.from(raw, 'utf8')).digest('hex');

describe('mail keeps no body once sent, only the SHA-256 of what went', () => {
  let t: TestPlatform;
  let letter: { id: number; slug: string };

  beforeEach(async () => {
    t = await createTestPlatform();
    letter = await createLetter(t.platform.db, t.clock.now(), {
      slug: 'sent-digest',
      title: 'Let the soldiers choose',
    });
  });
  afterEach(async () => {
    await t.close();
  });

  const outboxRows = () => t.platform.db.selectFrom('outbox_messages').selectAll().orderBy('id').execute();
  const contentRows = () => t.platform.db.selectFrom('outbox_contents').selectAll().execute();

  it('a signing request writes no rendered body; the worker renders the confirmation, with links that work', async () => {
    const supporter = new Visitor(t.app);
    const signed = await supporter.submit(
      `/letters/${letter.slug}`,
      `/letters/${letter.slug}/sign`,
      signingForm({ name: SUPPORTER.name, email: SUPPORTER.email }),
    );
    expect(signed.status).toBe(303);

    // What the request wrote: the queue row says what to render, and nothing is rendered yet.
    const [queued] = await outboxRows();
    expect(queued).toMatchObject({
      kind: 'signature-confirmation',
      to_address: SUPPORTER.email,
      render_language: 'en',
      status: 'queued',
      attachment_count: 0,
    });
    expect(await contentRows()).toEqual([]);

    expect(await t.drainOutbox()).toBe(1);
    const mail = lastMailTo(t, SUPPORTER.email);
    expect(mail.parsed.messageId).toBe(queued!.message_id);
    expect(mail.parsed.subject).toContain('Let the soldiers choose');
    expect(mail.parsed.text).toContain(SUPPORTER.name);
    expect(mail.parsed.headers.get('auto-submitted')).toBe('auto-generated');
    const links = signatureLinks(mail);
    const html = typeof mail.parsed.html === 'string' ? mail.parsed.html : '';
    // The links carry a query (?lang=…&text=…), escaped in the markup as HTML escapes it.
    expect(hrefsIn(html)).toContain(`${TEST_PUBLIC_URL}${links.confirm}`);
    expect(mail.parsed.text).toContain(`${TEST_PUBLIC_URL}/privacy/erase/`);

    // The link confirms the signature.
    const confirmed = await supporter.submit(links.confirm, links.confirm, {});
    expect(confirmed.status).toBe(303);
    expect(confirmed.headers.location).toBe(`/letters/${letter.slug}/thank-you?lang=en`);
    const signature = await t.platform.db
      .selectFrom('signatures')
      .select('status')
      .where('email', '=', SUPPORTER.email)
      .executeTakeFirstOrThrow();
    expect(signature.status).toBe('confirmed');

    // Sent: the queue keeps the digest of the bytes the server received, and no body.
    const [sent] = await outboxRows();
    expect(sent).toMatchObject({ status: 'sent', sent_sha256: sha256(mail.raw) });
    expect(sent!.sent_size).toBe(Buffer.byteLength(mail.raw, 'utf8'));
    expect(await contentRows()).toEqual([]);
    expect(pathOf(`${TEST_PUBLIC_URL}${links.withdraw}`)).toBe(links.withdraw);
  });

  it('keeps the SHA-256 of a delivered letter as received by the server, and the delivery record shows it', async () => {
    const { visitor: admin } = await signedIn(t.app, t.platform, 'admin');
    const delivery = `/admin/letters/${letter.id}/delivery`;
    const test = await postForm(admin, delivery, `${delivery}/test`, [['request_key', 'digest-test']]);
    expect(test.status).toBe(303);
    expect(await t.compileDeliveries()).toBe(1);
    expect(await t.drainOutbox()).toBe(1);

    const [message] = await outboxRows();
    const [received] = t.sink.messages.filter((m) => m.parsed.messageId === message!.message_id);
    expect(received, 'the sink received the letter').toBeDefined();
    expect(message).toMatchObject({
      kind: 'letter-delivery',
      status: 'sent',
      sent_sha256: sha256(received!.raw),
    });
    expect(message!.content_removed_at).not.toBeNull();
    expect(await contentRows()).toEqual([]);

    const page = textOf(mainOf((await admin.get(delivery)).text));
    expect(page).toContain(`Content removed after sending; SHA-256 ${message!.sent_sha256}`);
  });

  it('lets a failed message be retried for a week; then its content goes, and the queue page offers no retry', async () => {
    const { visitor: admin } = await signedIn(t.app, t.platform, 'admin');
    const supporter = new Visitor(t.app);
    const signed = await supporter.submit(
      `/letters/${letter.slug}`,
      `/letters/${letter.slug}/sign`,
      signingForm({ name: SUPPORTER.name, email: SUPPORTER.email }),
    );
    expect(signed.status).toBe(303);
    expect(await t.drainOutbox()).toBe(1);
    // A delivery compiled with the supporter's name, refused for good by the recipient's server.
    const delivery = `/admin/letters/${letter.id}/delivery`;
    await postForm(admin, delivery, `${delivery}/test`, [['request_key', 'digest-failed']]);
    await t.compileDeliveries();
    t.sink.reply = (attempt) => (attempt === 1 ? { code: 550, message: '5.7.1 Refused' } : undefined);
    await t.drainOutbox();
    t.sink.reply = undefined;
    const letterRow = async () => (await outboxRows()).find((r) => r.kind === 'letter-delivery')!;
    const failed = await letterRow();
    expect(failed.status).toBe('failed');

    // Days pass between the looks: each is by an admin who has just logged in.
    const queuePage = async () =>
      (await (await signedIn(t.app, t.platform, 'admin')).visitor.get('/admin/queue')).text;
    const retryForms = async () =>
      startTags(await queuePage(), 'form').filter(
        (f) => f.attrs.action === `/admin/queue/${failed.id}/retry`,
      );
    // Within the week the content is kept, so an admin can still send it again.
    t.clock.advance(6 * 86_400_000);
    await t.drainOutbox();
    expect((await contentRows()).map((c) => c.outbox_message_id)).toEqual([failed.id]);
    expect(await retryForms()).toHaveLength(1);

    // Past it, the worker drops the content: the page says so, and a retry is refused.
    t.clock.advance(2 * 86_400_000);
    await t.drainOutbox();
    expect(await contentRows()).toEqual([]);
    expect((await letterRow()).content_removed_at).toBe(t.clock.now().toISOString());
    expect(await retryForms()).toEqual([]);
    expect(textOf(mainOf(await queuePage()))).toContain(
      'Content removed (sent, cancelled or erased): it can no longer be retried.',
    );
    const { visitor: later } = await signedIn(t.app, t.platform, 'admin');
    const refused = await later.submit('/admin/queue', `/admin/queue/${failed.id}/retry`, {});
    expect(refused.status).toBe(409);
    expect((await letterRow()).status).toBe('failed');
  });
});
