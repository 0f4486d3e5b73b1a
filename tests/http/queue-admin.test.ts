import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signedIn } from '../support/accounts.js';
import { byClass, hrefsIn, innerHtml, mainOf, startTags, textOf } from '../support/html.js';
import type { Visitor } from '../support/http.js';
import { ERROR_TITLES, expectErrorPage } from '../support/signing.js';
import { outboxMessage, testMessageId } from '../support/temp-database.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { PRIORITY } from '../../server/outbox/outbox.js';

/** The supporters and officials the queue writes to in these tests. */
const ADDRESSES = {
  unknown: 'olena.k@supporters.example',
  busy: 'ji-hoon.park@greylist.example',
  registry: 'registry@mfa.example',
  confirm: 'sun-hee@example.org',
  waiting1: 'waiting.one@later.example',
  waiting2: 'waiting.two@later.example',
};

const FIVE_DAYS_MS = 5 * 86_400_000;

/** The counts the page shows, by label ("Queued" → 2). */
function countsOn(html: string): Record<string, string> {
  const list = byClass(html, 'queue-counts')[0];
  if (!list) throw new Error('the page has no counts');
  const markup = innerHtml(html, list);
  const counts: Record<string, string> = {};
  for (const [, label, value] of markup.matchAll(/<dt>([\s\S]*?)<\/dt>\s*<dd>([\s\S]*?)<\/dd>/g)) {
    counts[textOf(label!)] = textOf(value!);
  }
  return counts;
}

/** The rows of the table in the section headed by `headingId`, as the text of each cell. */
function tableRows(html: string, headingId: string): string[][] {
  const section = startTags(html, 'section').find((s) => s.attrs['aria-labelledby'] === headingId);
  if (!section) throw new Error(`no section ${headingId}`);
  const inner = innerHtml(html, section);
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(inner)?.[1] ?? '';
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map(([, row]) =>
    [...row!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map(([, cell]) => textOf(cell!)),
  );
}

/** The form on a page that posts to `action`. */
function formPostingTo(html: string, action: string) {
  return startTags(html, 'form').find((f) => f.attrs.action === action && f.attrs.method === 'post');
}

describe('the mail queue page for admins', () => {
  let t: TestPlatform;
  let admin: Visitor;

  beforeEach(async () => {
    t = await createTestPlatform();
    ({ visitor: admin } = await signedIn(t.app, t.platform, 'admin'));
  });
  afterEach(async () => {
    await t.close();
  });

  async function enqueue(toAddress: string, subject = `To ${toAddress}`): Promise<number> {
    return t.platform.repositories.outbox.enqueue(
      outboxMessage({ toAddress, subject, kind: 'signature-confirmation', priority: PRIORITY.confirmation }),
      testMessageId(),
      t.clock.now(),
    );
  }

  async function row(id: number) {
    return t.platform.db
      .selectFrom('outbox_messages')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
  }

  /** A message the receiving server refused for good, with a reply that names the address, as servers do. */
  async function failedMessage(toAddress = ADDRESSES.unknown): Promise<number> {
    const id = await enqueue(toAddress);
    t.sink.reply = () => ({
      code: 550,
      message: `5.1.1 <${toAddress}>: Recipient address rejected: User unknown`,
    });
    await t.drainOutbox();
    t.sink.reply = undefined;
    expect((await row(id)).status).toBe('failed');
    return id;
  }

  async function sentMessage(toAddress = ADDRESSES.registry): Promise<number> {
    const id = await enqueue(toAddress);
    await t.drainOutbox();
    expect((await row(id)).status).toBe('sent');
    return id;
  }

  // The form token comes from any page with a form: the queue page for admins, the letters for organizers.
  const retry = (as: Visitor, id: number | string, from = '/admin/queue') =>
    as.submit(from, `/admin/queue/${id}/retry`, {});
  const cancel = (as: Visitor, id: number | string, from = '/admin/queue') =>
    as.submit(from, `/admin/queue/${id}/cancel`, {});

  it('shows the counts by state, since when the oldest message waits, and each failure with its reply, naming domains but never addresses', async () => {
    const failed = await failedMessage();
    t.clock.advance(3_600_000);
    await sentMessage(ADDRESSES.registry);
    await sentMessage(ADDRESSES.confirm);
    t.clock.advance(3_600_000);
    const oldestWaiting = t.clock.now();
    const retrying = await enqueue(ADDRESSES.busy);
    t.sink.reply = () => ({
      code: 451,
      message: `4.7.1 <${ADDRESSES.busy}>: Recipient address rejected: Greylisted, try again in 300 seconds`,
    });
    await t.drainOutbox();
    t.sink.reply = undefined;
    t.clock.advance(60_000);
    await enqueue(ADDRESSES.waiting1);
    await enqueue(ADDRESSES.waiting2);

    const page = await admin.get('/admin/queue');
    expect(page.status).toBe(200);
    const main = mainOf(page.text);
    expect(countsOn(main)).toEqual({
      Queued: '2',
      Sending: '0',
      Retrying: '1',
      Sent: '2',
      Failed: '1',
      Cancelled: '0',
      'Oldest waiting since': new Intl.DateTimeFormat('en', {
        dateStyle: 'medium',
        timeStyle: 'long',
        timeZone: 'UTC',
      }).format(oldestWaiting),
    });

    const [failure, ...noOtherFailure] = tableRows(main, 'failed-heading');
    expect(noOtherFailure).toEqual([]);
    expect(failure!.slice(0, 4)).toEqual([
      String(failed),
      'signature confirmation',
      'supporters.example',
      '1',
    ]);
    expect(failure![4]).toMatch(/^550\b.*Recipient address rejected: User unknown/);
    expect(formPostingTo(main, `/admin/queue/${failed}/retry`)).toBeDefined();

    const [waiting, ...noOtherRetrying] = tableRows(main, 'retrying-heading');
    expect(noOtherRetrying).toEqual([]);
    expect(waiting!.slice(0, 4)).toEqual([
      String(retrying),
      'signature confirmation',
      'greylist.example',
      '1',
    ]);
    expect(waiting![4]).toMatch(/^451\b.*Greylisted/);

    // The replies named the addresses; the page shows only their domains.
    for (const address of Object.values(ADDRESSES)) {
      expect(page.text).not.toContain(address);
      expect(page.text).not.toContain(address.split('@')[0]!);
    }
  });

  it('says that nothing waits and nothing failed when the queue is empty', async () => {
    const page = await admin.get('/admin/queue');
    expect(page.status).toBe(200);
    const text = textOf(mainOf(page.text));
    expect(text).toContain('nothing is waiting');
    expect(text).toContain('No failed messages.');
    expect(text).toContain('No message is waiting to retry.');
  });

  it('puts a failed message back in the queue, due now, and the next drain sends it with its Message-ID', async () => {
    const id = await failedMessage();
    const before = await row(id);
    t.clock.advance(2 * 3_600_000);

    const response = await retry(admin, id);
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe('/admin/queue?done=retried');
    const after = await row(id);
    expect(after).toMatchObject({
      status: 'queued',
      attempts: 1,
      next_attempt_at: t.clock.now().toISOString(),
      give_up_at: new Date(t.clock.now().getTime() + FIVE_DAYS_MS).toISOString(),
    });
    const notice = await admin.get(response.headers.location!);
    expect(textOf(mainOf(notice.text))).toContain('The message is back in the queue.');
    expect(tableRows(mainOf(notice.text), 'failed-heading')).toEqual([]);

    expect(await t.drainOutbox()).toBe(1);
    expect(await row(id)).toMatchObject({ status: 'sent', attempts: 2 });
    expect(t.sink.to(ADDRESSES.unknown).map((m) => m.parsed.messageId)).toEqual([before.message_id]);
  });

  it('asks before cancelling, then cancels: the message is never sent', async () => {
    const id = await failedMessage();

    const ask = await admin.get(`/admin/queue/${id}/cancel`);
    expect(ask.status).toBe(200);
    const main = mainOf(ask.text);
    expect(textOf(main)).toContain('Cancel this message?');
    expect(textOf(main)).toContain(
      `Message #${id} (signature confirmation, to supporters.example) will never be sent.`,
    );
    expect(formPostingTo(main, `/admin/queue/${id}/cancel`)).toBeDefined();
    expect(ask.text).not.toContain(ADDRESSES.unknown);
    expect(ask.text).not.toContain('olena.k');
    // Opening the question changes nothing.
    expect((await row(id)).status).toBe('failed');

    const response = await cancel(admin, id);
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe('/admin/queue?done=cancelled');
    expect((await row(id)).status).toBe('cancelled');
    expect(textOf(mainOf((await admin.get(response.headers.location!)).text))).toContain(
      'The message was cancelled. It will not be sent.',
    );

    // A cancelled message cannot be retried.
    expectErrorPage(await retry(admin, id), 409, ERROR_TITLES[409]);
    // Its question opened again (a back button, an old tab) says so, and offers no step that would fail.
    const again = await admin.get(`/admin/queue/${id}/cancel`);
    expect(again.status).toBe(200);
    expect(textOf(mainOf(again.text))).toContain('This message can no longer be cancelled');
    expect(textOf(mainOf(again.text))).toContain(
      `Message #${id} (signature confirmation, to supporters.example) was cancelled already: it will not be sent.`,
    );
    expect(formPostingTo(mainOf(again.text), `/admin/queue/${id}/cancel`)).toBeUndefined();

    t.clock.advance(10 * 86_400_000);
    expect(await t.drainOutbox()).toBe(0);
    expect(t.sink.to(ADDRESSES.unknown)).toEqual([]);
    expect((await row(id)).status).toBe('cancelled');
  });

  it('lists a message returned after it was sent as returned, and dismisses it without saying it was never sent', async () => {
    const id = await sentMessage();
    // A plain-text bounce at the message's own return path, as some servers send them.
    const bounce = [
      'From: MAILER-DAEMON@mfa.example',
      `To: ${t.platform.bounces.returnPath(id)}`,
      'Subject: Undelivered Mail Returned to Sender',
      '',
      `<${ADDRESSES.registry}>: mailbox full for good`,
      '',
    ].join('\r\n');
    expect(await t.platform.bounces.handle([t.platform.bounces.returnPath(id)], bounce)).toEqual([id]);

    const page = await admin.get('/admin/queue');
    const [failed] = tableRows(page.text, 'failed-heading');
    expect(failed?.[0]).toBe(String(id));
    expect(failed?.[4]).toContain('Returned after it was sent');
    expect(failed?.[6]).toContain('Dismiss…');
    expect(failed?.[6]).not.toContain('Cancel');

    const asking = await admin.get(`/admin/queue/${id}/cancel`);
    expect(/<title>([^<]*)<\/title>/.exec(asking.text)?.[1]).toContain('Dismiss this returned message?');
    const ask = textOf(mainOf(asking.text));
    expect(ask).toContain('Dismiss this returned message?');
    expect(ask).toContain(
      `Message #${id} (signature confirmation, to mfa.example) was sent, and the receiving server returned it.`,
    );
    expect(ask).not.toContain('will never be sent');

    const response = await cancel(admin, id);
    expect(response.headers.location).toBe('/admin/queue?done=dismissed');
    const after = textOf(mainOf((await admin.get(response.headers.location!)).text));
    expect(after).toContain('The returned message is off the list. Nothing was sent.');
    expect(after).not.toContain('It will not be sent.');
    expect(tableRows((await admin.get('/admin/queue')).text, 'failed-heading')).toEqual([]);
    // Its question opened again says it was dismissed, not that it was cancelled and never sent.
    const reopened = textOf(mainOf((await admin.get(`/admin/queue/${id}/cancel`)).text));
    expect(reopened).toContain('returned by the receiving server, and dismissed already');
    expect(reopened).not.toContain('will not be sent');
    // The record keeps when it was returned, and the audit log says it was dismissed, not cancelled.
    expect((await row(id)).bounced_at).not.toBeNull();
    const audit = textOf(mainOf((await admin.get('/admin/audit')).text));
    expect(audit).toContain('Returned mail message dismissed');
  });

  it('cancels a message that is still waiting to be sent', async () => {
    const id = await enqueue(ADDRESSES.waiting1);
    expect((await cancel(admin, id)).status).toBe(303);
    expect(await t.drainOutbox()).toBe(0);
    expect(t.sink.messages).toEqual([]);
    expect((await row(id)).status).toBe('cancelled');
  });

  it('refuses with 409 and says why to retry or cancel a message that was sent', async () => {
    const id = await sentMessage();
    const retried = await retry(admin, id);
    expectErrorPage(retried, 409, ERROR_TITLES[409]);
    expect(textOf(mainOf(retried.text))).toContain('Only a failed message can be retried.');
    expect(textOf(mainOf((await admin.get(`/admin/queue/${id}/cancel`)).text))).toContain(
      `Message #${id} (signature confirmation, to mfa.example) was sent already.`,
    );
    // Sent (or cancelled from another tab) while the question was open: the page that says so, with the
    // way back to the queue, not a general error page.
    const cancelled = await cancel(admin, id);
    expect(cancelled.status).toBe(409);
    expect(textOf(mainOf(cancelled.text))).toContain('This message can no longer be cancelled');
    expect(textOf(mainOf(cancelled.text))).toContain(
      `Message #${id} (signature confirmation, to mfa.example) was sent already.`,
    );
    expect(hrefsIn(mainOf(cancelled.text))).toContain('/admin/queue');
    expect(await row(id)).toMatchObject({ status: 'sent', attempts: 1 });
    expect(await t.drainOutbox()).toBe(0);
    expect(t.sink.messages).toHaveLength(1);
  });

  it('refuses organizers with 403 and changes nothing', async () => {
    const id = await failedMessage();
    const { visitor: organizer } = await signedIn(t.app, t.platform, 'organizer');
    for (const response of [
      await organizer.get('/admin/queue'),
      await organizer.get(`/admin/queue/${id}/cancel`),
      await retry(organizer, id, '/admin/letters'),
      await cancel(organizer, id, '/admin/letters'),
    ]) {
      expectErrorPage(response, 403, ERROR_TITLES[403]);
      expect(response.text).not.toContain(ADDRESSES.unknown);
    }
    expect((await row(id)).status).toBe('failed');
  });

  it('answers 404 for a message that does not exist, and never 500 for odd ids', async () => {
    const id = await failedMessage();
    for (const missing of [String(id + 1000), '9007199254740993', '9999999999999999']) {
      expectErrorPage(await admin.get(`/admin/queue/${missing}/cancel`), 404, ERROR_TITLES[404]);
      expectErrorPage(await retry(admin, missing), 404, ERROR_TITLES[404]);
      expectErrorPage(await cancel(admin, missing), 404, ERROR_TITLES[404]);
    }
    for (const odd of ['0', '-1', '1.5', 'abc', '1e3', '99999999999999999999', '%00', '1%20OR%201=1']) {
      const responses = {
        'GET cancel': await admin.get(`/admin/queue/${odd}/cancel`),
        'POST retry': await retry(admin, odd),
        'POST cancel': await cancel(admin, odd),
      };
      for (const [request, response] of Object.entries(responses)) {
        expect(response.status, `${request} ${odd}`).toBeGreaterThanOrEqual(400);
        expect(response.status, `${request} ${odd}`).toBeLessThan(500);
      }
    }
    expect((await row(id)).status).toBe('failed');
  });

  it('ignores an unknown notice in the address', async () => {
    // A known one is shown: the page has a place for notices.
    const known = await admin.get('/admin/queue?done=retried');
    expect(byClass(mainOf(known.text), 'notice')).toHaveLength(1);
    const page = await admin.get('/admin/queue?done=%3Cscript%3Ealert(1)%3C%2Fscript%3E');
    expect(page.status).toBe(200);
    expect(page.text).not.toContain('alert(1)');
    expect(byClass(mainOf(page.text), 'notice')).toEqual([]);
    const repeated = await admin.get('/admin/queue?done=retried&done=cancelled');
    expect(repeated.status).toBe(200);
  });
});
