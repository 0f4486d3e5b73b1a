import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedIn } from '../../support/accounts.js';
import { addRecipient, createDraft, postForm } from '../../support/admin-forms.js';
import { byId, innerHtml, textOf } from '../../support/html.js';
import type { Visitor } from '../../support/http.js';
import { createTestPlatform, type TestPlatform } from '../../support/test-platform.js';

/**
 * A relay that checks recipients up front (Postfix's default for its own domains) refuses an unknown
 * address at RCPT TO and generates no report: each recipient here gets one kind of answer.
 */
const ANSWERS = {
  'unknown@embassy.example.org': {
    code: 550,
    message:
      '5.1.1 <unknown@embassy.example.org>: Recipient address rejected: User unknown in local recipient table',
  },
  'no-domain@mfa.example.org': { code: 550, message: '5.1.2 <no-domain@mfa.example.org>: Host unknown' },
  'policy@ministry.example.org': {
    code: 550,
    message: '5.7.1 <policy@ministry.example.org>: Relay access denied',
  },
  'full@agency.example.org': { code: 552, message: '5.2.2 <full@agency.example.org>: Mailbox full' },
  'later@office.example.org': {
    code: 450,
    message: '4.1.1 <later@office.example.org>: Recipient address rejected: unverified address',
  },
  // Postfix (smtpd_delay_reject=yes) reports a refused sender at RCPT; {from} is the envelope sender.
  'sender-refused@consulate.example.org': {
    code: 550,
    message: '5.1.0 <{from}>: Sender address rejected: User unknown in virtual mailbox table',
  },
  'sender-unknown@council.example.org': {
    code: 550,
    message: '5.1.1 <{from}>: Sender address rejected: User unknown in local recipient table',
  },
  'names-sender@court.example.org': { code: 550, message: '5.1.1 <{from}>: User unknown' },
  'fine@unhcr.example.org': undefined,
} as const;
type Address = keyof typeof ANSWERS;
const ADDRESSES = Object.keys(ANSWERS) as Address[];

describe('a relay that refuses a recipient at submission', () => {
  let t: TestPlatform;
  let organizer: Visitor;
  let ids: Record<Address, number>;

  beforeAll(async () => {
    t = await createTestPlatform();
    t.sink.rcptReply = (address, from) => {
      const answer = ANSWERS[address as Address];
      return answer && { code: answer.code, message: answer.message.replace('{from}', from) };
    };
    ({ visitor: organizer } = await signedIn(t.app, t.platform, 'organizer'));
    ids = {} as Record<Address, number>;
    for (const email of ADDRESSES) ids[email] = await addRecipient(t.platform.db, t.clock.now(), { email });
    const letterId = await createDraft(organizer, Object.values(ids), { languages: ['en'] });
    const published = await postForm(
      organizer,
      `/admin/letters/${letterId}`,
      `/admin/letters/${letterId}/publish`,
      [],
    );
    expect(published.status).toBe(303);
    const page = `/admin/letters/${letterId}/delivery`;
    for (const action of ['test', 'deliver']) {
      const key = randomBytes(12).toString('base64url');
      expect((await postForm(organizer, page, `${page}/${action}`, [['request_key', key]])).status).toBe(303);
      await t.compileDeliveries();
      await t.drainOutbox();
    }
  });
  afterAll(async () => {
    await t.close();
  });

  const letterTo = (email: Address) =>
    t.platform.db
      .selectFrom('outbox_messages')
      .select(['status', 'last_reply'])
      .where('kind', '=', 'letter-delivery')
      .where('to_address', '=', email)
      .executeTakeFirstOrThrow();
  const recipient = async (email: Address) =>
    (await t.platform.repositories.recipients.findById(ids[email]))!;

  it('marks the address bouncing on a 5.1.x refusal, with the reply, and fails that letter', async () => {
    for (const email of ['unknown@embassy.example.org', 'no-domain@mfa.example.org'] as const) {
      expect(await letterTo(email), email).toMatchObject({
        status: 'failed',
        last_reply: `550 ${ANSWERS[email].message}`,
      });
      const marked = await recipient(email);
      expect(marked.bouncingAt, email).toEqual(t.clock.now());
      expect(marked.bounceReply, email).toBe(`550 ${ANSWERS[email].message}`);
    }
    expect((await letterTo('fine@unhcr.example.org')).status).toBe('sent');
    expect((await recipient('fine@unhcr.example.org')).bouncingAt).toBeNull();

    // The directory shows it on the recipient's own page, as a bounce report would.
    const page = await organizer.get(`/admin/recipients/${ids['unknown@embassy.example.org']}`);
    const shown = textOf(innerHtml(page.text, byId(page.text, 'recipient-bouncing')!));
    expect(shown).toContain('Mail to this address bounces.');
    expect(shown).toContain('User unknown in local recipient table');
  });

  it('fails the letter without marking the address on any other 5xx (policy, a full mailbox)', async () => {
    for (const email of ['policy@ministry.example.org', 'full@agency.example.org'] as const) {
      expect(await letterTo(email), email).toMatchObject({
        status: 'failed',
        last_reply: `${ANSWERS[email].code} ${ANSWERS[email].message}`,
      });
      expect((await recipient(email)).bouncingAt, email).toBeNull();
    }
  });

  it('fails the letter without marking the address when the relay refused our own sender', async () => {
    for (const email of [
      'sender-refused@consulate.example.org',
      'sender-unknown@council.example.org',
      'names-sender@court.example.org',
    ] as const) {
      const letter = await letterTo(email);
      expect(letter.status, email).toBe('failed');
      // The reply named the message's own return path (VERP), as Postfix does.
      expect(letter.last_reply, email).toMatch(/^550 5\.1\.[01] <bounces\+m\d+-/);
      expect((await recipient(email)).bouncingAt, email).toBeNull();
    }
  });

  it('retries on a 4xx refusal, as before, without marking the address', async () => {
    expect(await letterTo('later@office.example.org')).toMatchObject({
      status: 'retrying',
      last_reply: `450 ${ANSWERS['later@office.example.org'].message}`,
    });
    expect((await recipient('later@office.example.org')).bouncingAt).toBeNull();
  });
});
