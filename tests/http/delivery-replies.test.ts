import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import { DeliveryRepository } from '../../server/deliveries/delivery-repository.js';
import { replyAddress } from '../../server/deliveries/delivery-reply.js';
import { signedIn } from '../support/accounts.js';
import { addRecipient, createDraft, postForm } from '../support/admin-forms.js';
import { freePort } from '../support/free-port.js';
import { byId, innerHtml, mainOf, startTags, textOf, textsByClass } from '../support/html.js';
import { Visitor } from '../support/http.js';
import { loopbackTransport } from '../support/mail-worker.js';
import { openApiValidator } from '../support/public-api.js';
import type { SinkMessage } from '../support/smtp-sink.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

const EMBASSY = {
  name: 'Ambassador Kovalenko',
  organisation: 'Embassy of Ukraine in Seoul',
  email: 'embassy-seoul@example.org',
};
const MINISTRY = { name: 'Ministry of Foreign Affairs', organisation: '', email: 'mfa-desk@example.org' };
const ORGANISATION = 'campaigns@ngo.example.org';
const CONSUL = 'consul.private@embassy.example.org';
const REPLY_PATTERN = /^replies\+d(\d+)-[0-9a-f]{16}@undersigned\.example\.org$/;

/** The embassy's DKIM key, published in the test's DNS zone, and one of another domain's. */
const EMBASSY_KEY = generateKeyPairSync('rsa', { modulusLength: 2048 });
const OTHER_KEY = generateKeyPairSync('rsa', { modulusLength: 2048 });
const dkimRecord = (key: { publicKey: KeyObject }) =>
  `v=DKIM1; k=rsa; p=${key.publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;
const ZONE = {
  'mail2026._domainkey.embassy.example.org': dkimRecord(EMBASSY_KEY),
  'mail2026._domainkey.elsewhere.example.net': dkimRecord(OTHER_KEY),
};
/** nodemailer's DKIM option: the message signed as `domain`'s mail server would sign it. */
const signedAs = (domain: string, key: { privateKey: KeyObject }) => ({
  dkim: {
    domainName: domain,
    keySelector: 'mail2026',
    privateKey: key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  },
});

/** An SMTP error's reply code, from nodemailer's rejection. */
async function refusal(sending: Promise<unknown>): Promise<number | undefined> {
  try {
    await sending;
  } catch (error) {
    return (error as { responseCode?: number }).responseCode;
  }
  return undefined;
}

describe('replies to a delivery', () => {
  let t: TestPlatform;
  let port: number;
  let organizer: User;
  let visitor: Visitor;
  let stranger: Visitor;
  let letterId: number;
  let slug: string;
  /** The letter each recipient got, and the one the organizer's test got. */
  let letters: { embassy: SinkMessage; ministry: SinkMessage; test: SinkMessage };

  const replyToOf = (message: SinkMessage) => message.parsed.replyTo!.value[0]!.address!;
  const rows = () => t.platform.db.selectFrom('delivery_replies').selectAll().orderBy('id').execute();

  /** Sends a message over SMTP to the platform's inbound listener, as a recipient's mail server would. */
  async function send(to: string, mail: Record<string, unknown>) {
    const transport = loopbackTransport(port);
    try {
      return await transport.sendMail({ from: `Consul Park <${CONSUL}>`, to, ...mail });
    } finally {
      transport.close();
    }
  }

  beforeAll(async () => {
    port = await freePort();
    t = await createTestPlatform({ env: { BOUNCE_SMTP_PORT: String(port) }, dnsTxt: ZONE });
    ({ user: organizer, visitor } = await signedIn(t.app, t.platform, 'organizer'));
    stranger = (await signedIn(t.app, t.platform, 'organizer')).visitor;
    const ids = [
      await addRecipient(t.platform.db, t.clock.now(), {
        ...EMBASSY,
        title: 'Ambassador',
        names: { ko: { name: '코발렌코 대사', title: '대사', organisation: '주한 우크라이나 대사관' } },
      }),
      await addRecipient(t.platform.db, t.clock.now(), { ...MINISTRY, title: '' }),
    ];
    letterId = await createDraft(visitor, ids, { slug: 'replies-are-kept' });
    slug = 'replies-are-kept';
    await new DeliveryRepository(t.platform.db).saveSettings(
      letterId,
      { mode: 'manual', milestoneEvery: null, deliverAt: null, replyTo: ORGANISATION },
      t.clock.now(),
    );
    const delivery = `/admin/letters/${letterId}/delivery`;
    for (const [action, requestKey] of [
      ['publish', ''],
      ['delivery/test', 'replies-test-0001'],
      ['delivery/deliver', 'replies-deliver-0001'],
    ] as const) {
      const response = await postForm(visitor, delivery, `/admin/letters/${letterId}/${action}`, [
        ['request_key', requestKey],
      ]);
      expect(response.status, action).toBe(303);
      await t.compileDeliveries();
      await t.drainOutbox();
    }
    const to = (address: string) => t.sink.messages.find((m) => m.envelopeTo.includes(address))!;
    letters = { embassy: to(EMBASSY.email), ministry: to(MINISTRY.email), test: to(organizer.email) };
  });
  afterAll(async () => {
    await t?.close();
  });

  it("gives each delivery its own reply address as Reply-To, which the platform's listener accepts", () => {
    const addresses = Object.values(letters).map(replyToOf);
    expect(new Set(addresses).size).toBe(3);
    for (const address of addresses) {
      expect(address).toMatch(REPLY_PATTERN);
      expect(t.platform.replies!.accepts(address)).toBe(true);
    }
    // The organisation's address is not the Reply-To any more: it gets replies by forwarding.
    expect(addresses).not.toContain(ORGANISATION);
    expect(letters.embassy.parsed.text).toContain('Replies to this e-mail reach the organizers.');
  });

  it('keeps a reply for the organizer, forwards it, and shows it publicly only once published', async () => {
    const address = replyToOf(letters.embassy);
    await send(address, {
      subject: 'Re: Let them choose freedom',
      messageId: '<reply-1@embassy.example.org>',
      text: [
        'Thank you for your letter. <script>alert("x")</script> <b>We</b> will answer formally.',
        'Write to me at consul.private@embassy.example.org.',
        '',
        '> Dear Ambassador,',
        '> We ask you to let the captured soldiers choose.',
      ].join('\n'),
    });
    const [stored] = await rows();
    expect(stored).toMatchObject({
      letter_id: letterId,
      from_address: CONSUL,
      from_name: 'Consul Park',
      subject: 'Re: Let them choose freedom',
      automatic: 0,
      published_at: null,
    });
    // Only what the official wrote is kept: the quoted letter (with its annex's names, which an erasure
    // could not reach here) is not.
    expect(stored!.body_text).toContain('will answer formally');
    expect(stored!.body_text).not.toContain('captured soldiers');

    // The organizer sees it, as text: the mail's markup is escaped, never run.
    const page = await visitor.get(`/admin/letters/${letterId}/replies`);
    expect(page.status).toBe(200);
    expect(textsByClass(page.text, 'breadcrumbs')).toEqual(['Back to the letter · Delivery']);
    const article = byId(page.text, `reply-${stored!.id}`)!;
    const html = innerHtml(page.text, article);
    expect(html).toContain('&lt;script&gt;alert(');
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<b>We</b>');
    const text = textOf(html);
    expect(text).toContain(EMBASSY.organisation);
    expect(text).toContain(CONSUL);
    expect(text).toContain('Not published');
    // The round it answered, named by when it was asked for: its id counts every letter's rounds.
    const roundHeading = startTags(page.text, 'h2').find((h) => h.attrs.id?.startsWith('round-'))!;
    expect(textOf(innerHtml(page.text, roundHeading))).toBe('The delivery of November 23, 2026');
    // Unsigned: anyone could have written this From.
    expect(stored!.sender_domain).toBeNull();
    expect(text).toContain(
      "Sender not verified. No signature of the sender's domain could be verified on this message",
    );

    // Not public yet.
    const before = await new Visitor(t.app).get(`/letters/${slug}`);
    expect(before.status).toBe(200);
    expect(before.text).not.toContain('will answer formally');

    // Forwarded to the organisation, answering the official, marked as forwarded by a machine.
    await t.drainOutbox();
    const forward = t.sink.messages.find((m) => m.envelopeTo.includes(ORGANISATION))!;
    expect(forward).toBeDefined();
    expect(forward.parsed.subject).toBe(`Reply from ${EMBASSY.name}: Re: Let them choose freedom`);
    expect(forward.parsed.replyTo?.value[0]?.address).toBe(CONSUL);
    expect(forward.parsed.headers.get('auto-submitted')).toBe('auto-forwarded');
    expect(forward.parsed.text).toContain('> Thank you for your letter.');
    expect(forward.parsed.text).toContain('Sender not verified: nothing proves this message came from');
    expect(forward.parsed.html).not.toContain('<script>');
    expect((await rows())[0]!.forwarded_outbox_message_id).toEqual(expect.any(Number));

    // Published after a confirmation page that shows what the record will show.
    const confirm = await visitor.get(`/admin/letters/${letterId}/replies/${stored!.id}/publish`);
    expect(confirm.status).toBe(200);
    expect(textOf(mainOf(confirm.text))).not.toContain(CONSUL);
    expect(textOf(mainOf(confirm.text))).toContain(
      `The sender of this reply is not verified: nothing proves it came from ${EMBASSY.organisation}.`,
    );
    const published = await postForm(
      visitor,
      `/admin/letters/${letterId}/replies/${stored!.id}/publish`,
      `/admin/letters/${letterId}/replies/${stored!.id}/publish`,
      [],
    );
    expect(published.status).toBe(303);
    expect(published.headers.location).toBe(
      `/admin/letters/${letterId}/replies?done=published#reply-${stored!.id}`,
    );

    const after = await new Visitor(t.app).get(`/letters/${slug}`);
    const record = textOf(innerHtml(after.text, byId(after.text, `reply-${stored!.id}`)!));
    expect(record).toContain(EMBASSY.organisation);
    expect(record).toContain(EMBASSY.name);
    expect(record).toContain('Re: Let them choose freedom');
    expect(record).toContain('will answer formally');
    // Never the sender's address, not even where the text names it; the quoted letter is left out.
    expect(after.text).not.toContain(CONSUL);
    expect(after.text).not.toContain('consul.private');
    expect(record).not.toContain('We ask you to let the captured soldiers choose');
    expect(after.text).not.toContain('<script>alert');

    // The public API's letter carries it too, valid against the OpenAPI document, without the address.
    const api = await new Visitor(t.app).agent
      .get(`/api/v1/letters/${slug}`)
      .set('Accept', 'application/json');
    expect(api.status).toBe(200);
    expect(api.body.replies).toEqual([
      {
        receivedAt: t.clock.now().toISOString(),
        institution: EMBASSY.organisation,
        recipient: EMBASSY.name,
        subject: 'Re: Let them choose freedom',
        text: expect.stringContaining('will answer formally'),
      },
    ]);
    expect(JSON.stringify(api.body)).not.toContain('consul.private');
    // A Korean reader reads who answered in Korean, where the directory has it (page and API).
    const korean = await new Visitor(t.app).get(`/letters/${slug}?lang=ko`);
    const koreanRecord = textOf(innerHtml(korean.text, byId(korean.text, `reply-${stored!.id}`)!));
    expect(koreanRecord).toContain('주한 우크라이나 대사관');
    expect(koreanRecord).not.toContain(EMBASSY.organisation);
    const { validate } = await openApiValidator(t.app);
    expect(validate('Letter', api.body)).toEqual([]);

    // Taken off the record again.
    const unpublished = await postForm(
      visitor,
      `/admin/letters/${letterId}/replies/${stored!.id}/unpublish`,
      `/admin/letters/${letterId}/replies/${stored!.id}/unpublish`,
      [],
    );
    expect(unpublished.status).toBe(303);
    expect((await new Visitor(t.app).get(`/letters/${slug}`)).text).not.toContain('will answer formally');
    // The API keeps a letter for a count epoch (2 s): the next one no longer has it.
    t.clock.advance(3_000);
    expect((await new Visitor(t.app).agent.get(`/api/v1/letters/${slug}`)).body.replies).toEqual([]);
  });

  it("names the domain whose DKIM signature vouches for the sender, and no other's", async () => {
    const address = replyToOf(letters.ministry);
    const sent = [
      // Signed by the From's own domain: verified.
      { id: 'signed', sign: signedAs('embassy.example.org', EMBASSY_KEY), domain: 'embassy.example.org' },
      // Signed, but by another domain than the From's: it proves nothing about the From.
      { id: 'elsewhere', sign: signedAs('elsewhere.example.net', OTHER_KEY), domain: null },
      // The From's domain, but a key that is not the one it publishes: a forgery.
      { id: 'forged', sign: signedAs('embassy.example.org', OTHER_KEY), domain: null },
    ];
    for (const reply of sent)
      await send(address, {
        subject: `Re: verified? (${reply.id})`,
        messageId: `<${reply.id}@embassy.example.org>`,
        text: 'We have received the letter.',
        ...reply.sign,
      });
    const stored = (await rows()).filter((r) => r.subject.startsWith('Re: verified?'));
    expect(stored.map((r) => [r.subject, r.sender_domain])).toEqual(
      sent.map((r) => [`Re: verified? (${r.id})`, r.domain]),
    );

    const page = await visitor.get(`/admin/letters/${letterId}/replies`);
    const shown = (id: number) => textOf(innerHtml(page.text, byId(page.text, `reply-${id}`)!));
    expect(shown(stored[0]!.id)).toContain('Sender verified: signed by embassy.example.org');
    for (const reply of stored.slice(1)) {
      expect(shown(reply.id)).toContain('Sender not verified');
      expect(shown(reply.id)).not.toContain('Sender verified');
    }
    // The confirmation page warns only about the unverified ones.
    const confirm = async (id: number) =>
      textOf(mainOf((await visitor.get(`/admin/letters/${letterId}/replies/${id}/publish`)).text));
    expect(await confirm(stored[0]!.id)).not.toContain('is not verified');
    expect(await confirm(stored[2]!.id)).toContain('The sender of this reply is not verified');

    // The organisation's forward says it too.
    await t.drainOutbox();
    const forwards = t.sink.messages.filter(
      (m) => m.envelopeTo.includes(ORGANISATION) && m.parsed.subject?.includes('Re: verified?'),
    );
    expect(
      forwards.map((m) =>
        m.parsed.text?.includes('Sender verified: the message is signed by embassy.example.org.'),
      ),
    ).toEqual([true, false, false]);
  });

  it('does not take a copy of a signed reply with a subject added above the signed one as verified', async () => {
    // The embassy really signed this message; someone who got a copy adds a Subject of their own on top,
    // which is the one a mail reader (and this platform) shows, and sends it on to the reply address.
    const composed = await nodemailer
      .createTransport({ streamTransport: true, buffer: true, newline: 'windows' })
      .sendMail({
        from: `Consul Park <${CONSUL}>`,
        to: replyToOf(letters.ministry),
        subject: 'Re: a genuine reply',
        messageId: '<doctored@embassy.example.org>',
        text: 'We have received the letter.',
        ...signedAs('embassy.example.org', EMBASSY_KEY),
      });
    const genuine = composed.message as Buffer;
    const doctored = Buffer.concat([Buffer.from('Subject: We will hand them over\r\n'), genuine]);
    await send(replyToOf(letters.ministry), {
      envelope: { from: CONSUL, to: replyToOf(letters.ministry) },
      raw: doctored,
    });
    const [stored] = (await rows()).filter((r) => r.message_id === '<doctored@embassy.example.org>');
    expect(stored!.subject).toBe('We will hand them over');
    expect(stored!.sender_domain).toBeNull();
  });

  it('stores a message once, however often it arrives', async () => {
    const address = replyToOf(letters.ministry);
    const mail = { subject: 'Received', messageId: '<twice@mfa.example.org>', text: 'Received, thank you.' };
    await send(address, mail);
    await send(address, mail);
    expect((await rows()).filter((r) => r.message_id === '<twice@mfa.example.org>')).toHaveLength(1);
  });

  it('refuses at RCPT a forged tag, an unknown delivery and any other address', async () => {
    const before = await rows();
    const genuine = replyToOf(letters.embassy);
    const id = Number(REPLY_PATTERN.exec(genuine)![1]);
    for (const address of [
      replyAddress('replies@undersigned.example.org', id, '0000000000000000'),
      // Another delivery's tag on this delivery's id, and a delivery that does not exist.
      replyAddress(
        'replies@undersigned.example.org',
        id,
        replyToOf(letters.ministry).split('-')[1]!.split('@')[0]!,
      ),
      replyAddress('replies@undersigned.example.org', 999_999, genuine.split('-')[1]!.split('@')[0]!),
      'replies@undersigned.example.org',
      'someone@undersigned.example.org',
      'friend@elsewhere.example.net',
    ]) {
      expect(await refusal(send(address, { subject: 'Hello', text: 'Relay me' })), address).toBe(550);
    }
    expect(await rows()).toEqual(before);
  });

  it('refuses a reply over 2 MB and keeps nothing of it', async () => {
    const before = await rows();
    const code = await refusal(
      send(replyToOf(letters.embassy), { subject: 'Too large', text: 'x'.repeat(2 * 1024 * 1024 + 10) }),
    );
    expect(code).toBe(552);
    expect(await rows()).toEqual(before);
  });

  it('keeps an automatic reply marked, never forwards it, and refuses to publish it', async () => {
    await t.drainOutbox();
    const forwardsBefore = t.sink.messages.filter((m) => m.envelopeTo.includes(ORGANISATION)).length;
    await send(replyToOf(letters.ministry), {
      subject: 'Out of office',
      messageId: '<ooo@mfa.example.org>',
      text: 'I am away until Monday.',
      headers: { 'Auto-Submitted': 'auto-replied' },
    });
    const auto = (await rows()).find((r) => r.message_id === '<ooo@mfa.example.org>')!;
    expect(auto).toMatchObject({ automatic: 1, forwarded_outbox_message_id: null });
    await t.drainOutbox();
    expect(t.sink.messages.filter((m) => m.envelopeTo.includes(ORGANISATION))).toHaveLength(forwardsBefore);

    const page = await visitor.get(`/admin/letters/${letterId}/replies`);
    const article = textOf(innerHtml(page.text, byId(page.text, `reply-${auto.id}`)!));
    expect(article).toContain('Automatic reply');
    expect(article).toContain('cannot be published');
    const refused = await postForm(
      visitor,
      `/admin/letters/${letterId}/replies`,
      `/admin/letters/${letterId}/replies/${auto.id}/publish`,
      [],
    );
    expect(refused.status).toBe(409);
    expect((await rows()).find((r) => r.id === auto.id)!.published_at).toBeNull();
  });

  it('keeps an HTML-only reply as plain text', async () => {
    await send(replyToOf(letters.embassy), {
      subject: 'Formatted answer',
      messageId: '<html-only@embassy.example.org>',
      html: '<p>We <b>received</b> it.</p><script>steal()</script><img src="https://tracker.example/x.png">',
    });
    const stored = (await rows()).find((r) => r.message_id === '<html-only@embassy.example.org>')!;
    expect(stored.body_text).toContain('We received it.');
    // Markup and scripts are gone; an image's address is at most a line of text, never loaded.
    expect(stored.body_text).not.toMatch(/[<>]/);
    expect(stored.body_text).not.toContain('steal()');
  });

  it("lets another organizer neither read a letter's replies nor publish one", async () => {
    const [reply] = await rows();
    expect((await stranger.get(`/admin/letters/${letterId}/replies`)).status).toBe(403);
    expect((await stranger.get(`/admin/letters/${letterId}/replies/${reply!.id}/publish`)).status).toBe(403);
    const refused = await postForm(
      stranger,
      '/admin',
      `/admin/letters/${letterId}/replies/${reply!.id}/publish`,
      [],
    );
    expect(refused.status).toBe(403);
    expect((await rows())[0]!.published_at).toBeNull();
  });
});
