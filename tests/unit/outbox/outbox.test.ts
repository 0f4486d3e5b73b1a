import { describe, expect, it } from 'vitest';
import {
  classifySendError,
  DEFAULT_RETRY_POLICY,
  nextAttemptAt,
  shouldGiveUp,
  askedWaitMs,
  refusesAddress,
  relayUnreachable,
  retryAt,
  type RetryPolicy,
} from '../../../server/outbox/outbox.js';

const NOW = new Date('2026-11-23T10:00:00.000Z');
const policy: RetryPolicy = { baseDelayMs: 1_000, maxDelayMs: 60_000, giveUpAfterMs: 86_400_000 };
/** Milliseconds from NOW until the next attempt. */
const delay = (attempts: number, random: number, p: RetryPolicy = policy) =>
  nextAttemptAt(attempts, NOW, p, random).getTime() - NOW.getTime();

/** An error shaped like the one nodemailer throws when the server answers a command with an error. */
function smtpError(responseCode: number, response: string) {
  return Object.assign(new Error(`Message failed: ${response}`), {
    code: 'EMESSAGE',
    command: 'DATA',
    responseCode,
    response,
  });
}

describe('nextAttemptAt', () => {
  it('waits the base delay after the first failure, then doubles it with each further failure', () => {
    expect([1, 2, 3, 4, 5].map((attempts) => delay(attempts, 0.5))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000,
    ]);
  });

  it('treats zero attempts like one', () => {
    expect(delay(0, 0.5)).toBe(1_000);
  });

  it('never waits longer than the maximum delay', () => {
    expect(delay(7, 0.5)).toBe(60_000);
    expect(delay(50, 0.5)).toBe(60_000);
    expect(delay(5_000, 0.5)).toBe(60_000);
  });

  it('spreads retries by ±20 %: 0.8× the delay with random 0, just under 1.2× with random close to 1', () => {
    expect(delay(3, 0)).toBe(3_200);
    const high = delay(3, 0.999_999);
    expect(high).toBeLessThanOrEqual(4_800);
    expect(high).toBeGreaterThan(4_790);
  });

  it('applies the jitter to the capped delay too', () => {
    expect(delay(100, 0)).toBe(48_000);
    expect(delay(100, 0.999_999)).toBeLessThanOrEqual(72_000);
    expect(delay(100, 0.999_999)).toBeGreaterThan(71_900);
  });

  it('always lies in the future with the default policy', () => {
    for (const attempts of [1, 2, 10, 1_000]) {
      for (const random of [0, 0.5, 0.999])
        expect(delay(attempts, random, DEFAULT_RETRY_POLICY)).toBeGreaterThan(0);
    }
  });
});

describe('refusesAddress: a permanent refusal of the address itself at submission', () => {
  /** What nodemailer throws when the server refused the one recipient at RCPT TO. */
  const atRcpt = (responseCode: number, response: string) =>
    Object.assign(smtpError(responseCode, response), { code: 'EENVELOPE', command: 'RCPT TO' });

  it.each([
    '550 5.1.1 <consul@embassy.example.org>: Recipient address rejected: User unknown in local recipient table',
    '550 5.1.2 Host unknown',
    '553 5.1.3 Bad recipient address syntax',
    '550 5.1.6 Mailbox has moved',
    '550 5.1.10 Recipient address has null MX',
    '550-5.1.1 The email account that you tried to reach does not exist.\r\n550 5.1.1 Please check the address',
  ])('is "%s" at RCPT TO', (reply) => {
    expect(refusesAddress(atRcpt(Number(reply.slice(0, 3)), reply))).toBe(true);
  });

  it.each([
    // The message or the sender, not the address: the next letter may get through.
    '550 5.7.1 Message refused by policy',
    '552 5.3.4 Message size exceeds fixed limit',
    '554 Transaction failed',
    // 5.1.7 and 5.1.8 are about the sender's address.
    '553 5.1.8 Sender address rejected: Domain not found',
    '553 5.1.7 Bad sender address syntax',
    // Postfix (smtpd_delay_reject=yes) reports a refused sender at RCPT: our address, not the recipient's.
    '550 5.1.0 <bounces+m12-abc@bounce.example.org>: Sender address rejected: User unknown in virtual mailbox table',
    '550 5.1.1 <bounces+m12-abc@bounce.example.org>: Sender address rejected: User unknown in local recipient table',
    '550 5.1.1 <bounces+m12-abc@bounce.example.org>: SENDER ADDRESS REJECTED: unknown',
    '550-5.1.1 Please check the address\r\n550 5.1.1 Sender address rejected',
    // Statuses of 5.1.x that do not say the recipient's address is wrong.
    '550 5.1.0 Address rejected',
    '550 5.1.4 Destination mailbox address ambiguous',
    '550 5.1.5 Destination address valid',
    '550 5.1.9 Message relayed to non-compliant mailer',
    // Temporary: retried as before.
    '450 4.1.1 Recipient address rejected: unverified address',
  ])('is not "%s" at RCPT TO', (reply) => {
    expect(refusesAddress(atRcpt(Number(reply.slice(0, 3)), reply))).toBe(false);
  });

  it('is not a reply that names the envelope sender the message went out with', () => {
    const returnPath = 'bounces+m12-abc@bounce.example.org';
    const naming = atRcpt(
      550,
      '550 5.1.1 <Bounces+M12-abc@bounce.example.org>: User unknown in local recipient table',
    );
    expect(refusesAddress(naming, returnPath)).toBe(false);
    // The same status about the recipient still marks it; so does any reply when the sender is not known.
    const recipient = atRcpt(
      550,
      '550 5.1.1 <consul@embassy.example.org>: User unknown in local recipient table',
    );
    expect(refusesAddress(recipient, returnPath)).toBe(true);
    expect(refusesAddress(naming)).toBe(true);
  });

  it('is not a 5.1.1 to another command, nor a broken connection or an odd value', () => {
    const atMailFrom = Object.assign(smtpError(550, '550 5.1.1 Sender unknown'), { command: 'MAIL FROM' });
    expect(refusesAddress(atMailFrom)).toBe(false);
    const atData = Object.assign(smtpError(550, '550 5.1.1 User unknown'), { command: 'DATA' });
    expect(refusesAddress(atData)).toBe(false);
    for (const odd of [
      null,
      undefined,
      'boom',
      {},
      { command: 'RCPT TO', responseCode: '550', response: 42 },
    ])
      expect(refusesAddress(odd)).toBe(false);
  });
});

describe('classifySendError', () => {
  it('treats a 5xx reply as permanent and keeps the reply', () => {
    expect(
      classifySendError(smtpError(550, '550 5.1.1 <nobody@example.org>: Recipient address rejected')),
    ).toEqual({
      kind: 'permanent',
      reply: '550 5.1.1 <nobody@example.org>: Recipient address rejected',
    });
    expect(classifySendError(smtpError(554, '554 5.7.1 Message rejected')).kind).toBe('permanent');
  });

  it('treats a 4xx reply as temporary and keeps the reply', () => {
    expect(classifySendError(smtpError(451, '451 4.3.0 Try again later'))).toEqual({
      kind: 'temporary',
      reply: '451 4.3.0 Try again later',
    });
    expect(classifySendError(smtpError(421, '421 4.7.0 Too many connections'))).toEqual({
      kind: 'temporary',
      reply: '421 4.7.0 Too many connections',
    });
  });

  it('treats a broken connection or a timeout without a reply code as temporary, naming the error', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:2525'), { code: 'ESOCKET' });
    expect(classifySendError(refused)).toEqual({
      kind: 'temporary',
      reply: 'ESOCKET: connect ECONNREFUSED 127.0.0.1:2525',
    });
    const lost = Object.assign(new Error('Connection closed unexpectedly'), { code: 'ECONNECTION' });
    expect(classifySendError(lost)).toEqual({
      kind: 'temporary',
      reply: 'ECONNECTION: Connection closed unexpectedly',
    });
    const timeout = Object.assign(new Error('Greeting never received'), { code: 'ETIMEDOUT' });
    expect(classifySendError(timeout)).toEqual({
      kind: 'temporary',
      reply: 'ETIMEDOUT: Greeting never received',
    });
  });

  it('falls back to the error message when the reply is empty', () => {
    const error = Object.assign(new Error('Message failed'), { responseCode: 550, response: '' });
    expect(classifySendError(error)).toEqual({ kind: 'permanent', reply: 'Message failed' });
  });

  it('treats odd values as temporary with a readable reply, without throwing', () => {
    for (const odd of [null, undefined, 'boom', 42, {}, [], { responseCode: '550', response: 42 }]) {
      const outcome = classifySendError(odd);
      expect(outcome.kind, JSON.stringify(odd)).toBe('temporary');
      expect(outcome.reply, JSON.stringify(odd)).toBe('unknown error');
    }
  });

  it('does not treat a reply code outside 500–599 as permanent', () => {
    expect(classifySendError({ responseCode: 600, response: '600 odd' }).kind).toBe('temporary');
    expect(classifySendError({ responseCode: 499, response: '499 odd' }).kind).toBe('temporary');
    expect(classifySendError({ responseCode: 500, response: '500 syntax error' }).kind).toBe('permanent');
  });
});

describe('shouldGiveUp', () => {
  const createdAt = new Date('2026-11-20T10:00:00.000Z');
  const created = { createdAt, giveUpAt: null };

  it('keeps trying before the give-up time', () => {
    expect(shouldGiveUp(created, new Date(createdAt.getTime() + policy.giveUpAfterMs - 1), policy)).toBe(
      false,
    );
  });

  it('gives up from the give-up time on', () => {
    expect(shouldGiveUp(created, new Date(createdAt.getTime() + policy.giveUpAfterMs), policy)).toBe(true);
    expect(shouldGiveUp(created, new Date(createdAt.getTime() + 10 * policy.giveUpAfterMs), policy)).toBe(
      true,
    );
  });

  it('gives up after five days by default', () => {
    expect(
      shouldGiveUp(created, new Date(createdAt.getTime() + 5 * 86_400_000 - 1), DEFAULT_RETRY_POLICY),
    ).toBe(false);
    expect(shouldGiveUp(created, new Date(createdAt.getTime() + 5 * 86_400_000), DEFAULT_RETRY_POLICY)).toBe(
      true,
    );
  });

  it("gives up at the message's own give-up time when it has one (reset when an admin retries)", () => {
    const giveUpAt = new Date(createdAt.getTime() + 10 * 86_400_000);
    expect(
      shouldGiveUp({ createdAt, giveUpAt }, new Date(giveUpAt.getTime() - 1), DEFAULT_RETRY_POLICY),
    ).toBe(false);
    expect(shouldGiveUp({ createdAt, giveUpAt }, giveUpAt, DEFAULT_RETRY_POLICY)).toBe(true);
  });
});

describe('askedWaitMs and retryAt', () => {
  it.each([
    ['451 4.7.1 Greylisted, try again in 300 seconds', 300_000],
    ['421 Too many connections, please retry after 5 minutes', 300_000],
    ['450 try again later in 60s', 60_000],
    ['451 Try again in 2 hours', 7_200_000],
  ])('reads the wait a server asks for in %j', (reply, ms) => {
    expect(askedWaitMs(reply)).toBe(ms);
  });

  it.each([
    '451 Temporary local problem',
    '421 Service not available',
    '451 try again in 0 seconds',
    '451 try again in 99 hours',
  ])('finds no usable wait in %j', (reply) => {
    expect(askedWaitMs(reply)).toBeUndefined();
  });

  it('waits as long as the server asked when that is longer than the backoff', () => {
    const now = new Date('2026-11-23T10:00:00.000Z');
    expect(retryAt(1, now, policy, 0.5, '451 try again in 600 seconds').getTime()).toBe(
      now.getTime() + 600_000,
    );
  });

  it('keeps the backoff when the server asked for a shorter wait', () => {
    const now = new Date('2026-11-23T10:00:00.000Z');
    const backoff = nextAttemptAt(8, now, policy, 0.5);
    // The backoff is the longer of the two, so taking the server's second would show.
    expect(backoff.getTime() - now.getTime()).toBeGreaterThan(1_000);
    expect(retryAt(8, now, policy, 0.5, '451 try again in 1 second')).toEqual(backoff);
  });
});

describe('relayUnreachable: a send that failed on the way to the relay itself', () => {
  it('is a connection, TLS or login failure, which every message meets until an operator acts', () => {
    for (const code of ['ECONNECTION', 'ESOCKET', 'ETIMEDOUT', 'ETLS', 'EAUTH', 'EDNS'])
      expect(relayUnreachable(Object.assign(new Error('x'), { code }))).toBe(true);
  });

  it('is not a recipient server’s answer, nor anything without a code', () => {
    const greylisted = Object.assign(new Error('451'), { code: 'EENVELOPE', responseCode: 451 });
    expect(relayUnreachable(greylisted)).toBe(false);
    expect(relayUnreachable(new Error('boom'))).toBe(false);
    expect(relayUnreachable(undefined)).toBe(false);
  });
});
