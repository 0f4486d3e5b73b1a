import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import { DeliveryReplyRepository } from '../../server/deliveries/delivery-reply-repository.js';
import { AuditRepository } from '../../server/audit/audit-repository.js';
import { DeliveryRepository } from '../../server/deliveries/delivery-repository.js';
import { EscalationRepository } from '../../server/deliveries/escalation-repository.js';
import { RoundStarter } from '../../server/deliveries/round-starter.js';
import { LetterRepository } from '../../server/letters/letter-repository.js';
import { countryName } from '../../server/lib/countries.js';
import { SignatureRepository } from '../../server/signatures/signature-repository.js';
import { createLogger } from '../../server/lib/logger.js';
import type { Platform } from '../../server/wiring.js';
import { loginAs, createAccount, signedIn } from '../support/accounts.js';
import { addRecipient, fieldErrors } from '../support/admin-forms.js';
import { createLetter } from '../support/factories.js';
import { byId, mainOf, startTags, textOf, textsByClass } from '../support/html.js';
import { Visitor } from '../support/http.js';
import { signAndConfirm } from '../support/signing.js';
import { createTestPlatform, platformBeside, type TestPlatform } from '../support/test-platform.js';
import { WebhookRepository } from '../../server/webhooks/webhook-repository.js';

const DAY = 86_400_000;
const key = () => randomBytes(12).toString('base64url');

/** A letter with an embassy (tier 1), a ministry (tier 2) and a head of state (tier 3), each its own address. */
interface TieredLetter {
  id: number;
  slug: string;
  embassy: { id: number; email: string };
  ministry: { id: number; email: string };
  head: { id: number; email: string };
}

describe('escalation on no reply', () => {
  let t: TestPlatform;
  let owner: User;
  let organizer: Visitor;
  let start: Date;
  // A: escalates; B: its embassy replies; C: its organizer cancels the step; D: two processes fire it.
  const letters: Record<'a' | 'b' | 'c' | 'd', TieredLetter> = {} as never;
  let other: { platform: Platform };

  async function tieredLetter(name: string): Promise<TieredLetter> {
    const now = t.clock.now();
    const { id, slug } = await createLetter(t.platform.db, now, { status: 'open' });
    await t.platform.db.updateTable('letters').set({ owner_id: owner.id }).where('id', '=', id).execute();
    const recipient = async (role: string, organisation: string) => {
      const email = `${role}-${name}@example.org`;
      return {
        id: await addRecipient(t.platform.db, now, {
          name: `${organisation} (${name})`,
          organisation,
          email,
        }),
        email,
      };
    };
    const embassy = await recipient('embassy', 'Embassy of Testland');
    const ministry = await recipient('ministry', 'Ministry of Foreign Affairs');
    const head = await recipient('head', 'Office of the President');
    await new LetterRepository(t.platform.db).setRecipients(id, [embassy.id, ministry.id, head.id]);
    return { id, slug, embassy, ministry, head };
  }

  /** The organizer's browser, logged in now: moving the clock by days ends earlier sessions. */
  const asOrganizer = () => loginAs(t.app, owner);

  /** Posts the escalation form of a letter's delivery page as the organizer fills it. */
  function saveEscalation(visitor: Visitor, letter: TieredLetter, fields: Record<string, string>) {
    const page = `/admin/letters/${letter.id}/delivery`;
    return visitor.submit(page, `${page}/escalation`, fields);
  }

  /** The escalation form with 14 days and these tiers for the embassy, the ministry and the head of state. */
  function fourteenDays(letter: TieredLetter, [embassy, ministry, head]: readonly [string, string, string]) {
    return {
      days: '14',
      [`tier_${letter.embassy.id}`]: embassy,
      [`tier_${letter.ministry.id}`]: ministry,
      [`tier_${letter.head.id}`]: head,
    };
  }

  /** Letters that reached an address (the sink's envelopes), compiled letters only. */
  function lettersTo(address: string): number {
    return t.sink.messages.filter(
      (m) => m.parsed.headers.has('x-undersigned-letter') && m.envelopeTo.includes(address),
    ).length;
  }

  async function sendOut(): Promise<void> {
    await t.compileDeliveries();
    await t.drainOutbox();
  }

  async function escalationRounds(letterId: number) {
    return t.platform.db
      .selectFrom('delivery_rounds')
      .select(['id', 'kind', 'trigger', 'tier_from', 'tier_to'])
      .where('letter_id', '=', letterId)
      .where('trigger', '=', 'escalation')
      .execute();
  }

  async function stepsOf(letterId: number) {
    return t.platform.db
      .selectFrom('escalation_steps')
      .selectAll()
      .where('letter_id', '=', letterId)
      .orderBy('id')
      .execute();
  }

  beforeAll(async () => {
    t = await createTestPlatform();
    ({ user: owner, visitor: organizer } = await signedIn(t.app, t.platform, 'organizer'));
    for (const name of ['a', 'b', 'c', 'd'] as const) letters[name] = await tieredLetter(name);
    for (const letter of Object.values(letters)) {
      const saved = await saveEscalation(organizer, letter, fourteenDays(letter, ['1', '2', '3']));
      expect(saved.status).toBe(303);
      await t.platform.deliveries.sendTest(owner, letter.id, key());
      await t.platform.deliveries.deliverNow(owner, letter.id, key());
    }
    start = t.clock.now();
    await sendOut();
    other = await platformBeside(t);
  });
  afterAll(async () => {
    await other?.platform.shutdown();
    await t?.close();
  });

  it('names the recipients of its tiers and of its delivery record in the page’s language, as its list does', async () => {
    const a = letters.a;
    await t.platform.db
      .insertInto('recipient_names')
      .values({
        recipient_id: a.embassy.id,
        language: 'ko',
        name: '테스트랜드 대사관 (a)',
        title: '',
        organisation: '테스트랜드 대사관',
      })
      .execute();
    try {
      const page = await (await asOrganizer()).get(`/admin/letters/${a.id}/delivery?lang=ko`);
      expect(page.status).toBe(200);
      const main = textOf(mainOf(page.text));
      // The embassy got the first round: its row in the record, its tier in the schedule, and the list.
      expect(main.split('테스트랜드 대사관 (a)').length - 1).toBeGreaterThanOrEqual(3);
      expect(main).not.toContain('Embassy of Testland');
    } finally {
      await t.platform.db.deleteFrom('recipient_names').where('recipient_id', '=', a.embassy.id).execute();
    }
  });

  it('delivers a letter with a schedule to its first tier only, and plans the step to the next', async () => {
    const a = letters.a;
    expect(lettersTo(a.embassy.email)).toBe(1);
    expect(lettersTo(a.ministry.email)).toBe(0);
    expect(lettersTo(a.head.email)).toBe(0);
    const [step] = await stepsOf(a.id);
    expect(step).toMatchObject({ from_tier: 1, to_tier: 2, status: 'pending', days_without_reply: 14 });
    expect(new Date(step!.due_at).getTime()).toBe(start.getTime() + 14 * DAY);
    // The organizer sees it with its due date and a way to cancel it.
    const page = mainOf((await organizer.get(`/admin/letters/${a.id}/delivery`)).text);
    expect(textOf(page)).toContain(
      'From the embassy to the ministry · due Dec 7, 2026, 10:00:00 AM UTC unless a recipient replies',
    );
    expect(page).toContain(`/admin/letters/${a.id}/delivery/escalation/steps/${step!.id}/cancel`);
  });

  it('cancels the step of a tier that replied, recorded as answered', async () => {
    const b = letters.b;
    t.clock.set(new Date(start.getTime() + 5 * DAY));
    const delivery = await t.platform.db
      .selectFrom('deliveries')
      .select(['id'])
      .where('recipient_id', '=', b.embassy.id)
      .executeTakeFirstOrThrow();
    await new DeliveryReplyRepository(t.platform.db).store({
      deliveryId: delivery.id,
      letterId: b.id,
      recipientId: b.embassy.id,
      fromAddress: b.embassy.email,
      fromName: 'Consul',
      subject: 'Re: your letter',
      bodyText: 'We have forwarded your letter.',
      automatic: false,
      messageId: `<reply-${key()}@example.org>`,
      receivedAt: t.clock.now(),
      senderDomain: null,
    });
    expect(await t.platform.escalations.runDue()).toBe(0);
    const [step] = await stepsOf(b.id);
    expect(step).toMatchObject({ status: 'cancelled', cancel_reason: 'replied', cancelled_by: null });
    // The other letters' steps wait on.
    expect((await stepsOf(letters.a.id))[0]!.status).toBe('pending');
  });

  it('never fires a step the organizer cancelled after the confirmation page', async () => {
    const c = letters.c;
    const organizer = await asOrganizer();
    const [step] = await stepsOf(c.id);
    const path = `/admin/letters/${c.id}/delivery/escalation/steps/${step!.id}/cancel`;
    const confirm = await organizer.get(path);
    expect(confirm.status).toBe(200);
    expect(textOf(mainOf(confirm.text))).toContain(
      'From the embassy to the ministry, due Dec 7, 2026, 10:00:00 AM UTC.',
    );
    const cancelled = await organizer.submit(path, path, {});
    expect(cancelled.status).toBe(303);
    expect((await stepsOf(c.id))[0]).toMatchObject({
      status: 'cancelled',
      cancel_reason: 'organizer',
      cancelled_by: owner.id,
    });
    // Cancelled once is cancelled: the page and the button say so rather than cancelling again.
    expect((await organizer.submit(`/admin/letters/${c.id}/delivery`, path, {})).status).toBe(409);
  });

  it('does nothing 13 days after the delivery', async () => {
    t.clock.set(new Date(start.getTime() + 13 * DAY));
    expect(await t.platform.escalations.runDue()).toBe(0);
    await sendOut();
    for (const letter of Object.values(letters)) expect(lettersTo(letter.ministry.email)).toBe(0);
  });

  it('fires a due step once when two processes run the job at the same moment', async () => {
    // The job without its lease, in both processes at once (a lease that ended mid-run): each step
    // fires in the one transaction whose compare-and-set moves it, and the other's round is undone.
    t.clock.set(new Date(start.getTime() + 15 * DAY));
    const fired = await Promise.all([t.platform.escalations.runDue(), other.platform.escalations.runDue()]);
    expect(fired[0] + fired[1]).toBe(2);
    for (const letter of [letters.a, letters.d]) expect(await escalationRounds(letter.id)).toHaveLength(1);
  });

  it('undoes the round of a step that was decided before its transaction', async () => {
    const db = t.platform.db;
    const starter = new RoundStarter({
      db,
      audit: new AuditRepository(db),
      letters: new LetterRepository(db),
      signatures: new SignatureRepository(db),
      deliveries: new DeliveryRepository(db),
      clock: t.clock,
      logger: createLogger('silent'),
      countryName,
      escalations: new EscalationRepository(db),
    });
    const a = letters.a;
    const [sent] = await stepsOf(a.id);
    const rounds = await db.selectFrom('delivery_rounds').select('id').execute();
    const letter = (await new LetterRepository(db).findById(a.id))!;
    await expect(
      starter.start(letter, 'update', 'escalation', {
        escalation: { stepId: sent!.id, fromTier: 1, toTier: 2, days: 14 },
      }),
    ).rejects.toMatchObject({ status: 409, code: 'escalation_decided' });
    expect(await db.selectFrom('delivery_rounds').select('id').execute()).toEqual(rounds);
  });

  it('has sent the letter to the ministry after 15 days without a reply, and to no one else', async () => {
    await sendOut();

    for (const letter of [letters.a, letters.d]) {
      const rounds = await escalationRounds(letter.id);
      expect(rounds).toEqual([
        { id: expect.any(Number), kind: 'update', trigger: 'escalation', tier_from: 2, tier_to: 2 },
      ]);
      expect(lettersTo(letter.ministry.email)).toBe(1);
      expect(lettersTo(letter.head.email)).toBe(0);
      // The embassy is not sent the letter again by the escalation.
      expect(lettersTo(letter.embassy.email)).toBe(1);
      const [first, next] = await stepsOf(letter.id);
      expect(first).toMatchObject({ status: 'sent', round_id: rounds[0]!.id });
      // The ministry now has its own 14 days before the head of state.
      expect(next).toMatchObject({ from_tier: 2, to_tier: 3, status: 'pending' });
    }
    for (const letter of [letters.b, letters.c]) {
      expect(await escalationRounds(letter.id)).toEqual([]);
      expect(lettersTo(letter.ministry.email)).toBe(0);
    }
    // The ministry's letter is the letter, not an "update" of one it never had.
    const ministryMail = t.sink.messages.find((m) => m.envelopeTo.includes(letters.a.ministry.email))!;
    expect(ministryMail.parsed.subject).not.toMatch(/^Update/);
    const audit = await t.platform.db
      .selectFrom('audit_events')
      .select(['action', 'details'])
      .where('action', '=', 'delivery-escalated')
      .execute();
    expect(audit).toHaveLength(2);
  });

  it('says on the public record why the ministry got the letter, and nothing of cancelled steps', async () => {
    const visitor = new Visitor(t.app);
    const page = mainOf((await visitor.get(`/letters/${letters.a.slug}`)).text);
    expect(textsByClass(page, 'sent-record__escalation')).toEqual([
      'No reply from the embassy within 14 days: sent to the ministry.',
    ]);
    expect(page).toContain('Ministry of Foreign Affairs (a)');
    const ko = mainOf((await visitor.get(`/letters/${letters.a.slug}?lang=ko`)).text);
    expect(textsByClass(ko, 'sent-record__escalation')).toEqual([
      '대사관이 14일 안에 회신하지 않아 부처로 발송했습니다.',
    ]);
    const uk = mainOf((await visitor.get(`/letters/${letters.a.slug}?lang=uk`)).text);
    expect(textsByClass(uk, 'sent-record__escalation')).toEqual([
      'Посольство не відповіло за 14 днів: лист надіслано до міністерства.',
    ]);
    const cancelled = mainOf((await visitor.get(`/letters/${letters.c.slug}`)).text);
    expect(textsByClass(cancelled, 'sent-record__escalation')).toEqual([]);
    // The record names institutions, never an address.
    expect(page).not.toContain('@example.org');
  });

  it('says the same in the public API: the round that sent the letter on, the tiers and the days', async () => {
    const [round] = await escalationRounds(letters.a.id);
    const api = await new Visitor(t.app).get(`/api/v1/letters/${letters.a.slug}`);
    expect(api.status).toBe(200);
    const body = api.body as { escalations: unknown[] };
    expect(body.escalations).toEqual([{ round: round!.id, fromTier: 1, toTier: 2, daysWithoutReply: 14 }]);
    const cancelled = await new Visitor(t.app).get(`/api/v1/letters/${letters.c.slug}`);
    expect((cancelled.body as { escalations: unknown[] }).escalations).toEqual([]);
    expect(JSON.stringify(api.body)).not.toContain('@example.org');
  });

  it('keeps what was typed and says what is wrong with invalid days or tiers', async () => {
    const a = letters.a;
    const organizer = await asOrganizer();
    for (const days of ['0', '91', 'abc', '1e1', '14.5', '-3', 'x'.repeat(5000)]) {
      const response = await saveEscalation(organizer, a, { days });
      expect(response.status, days).toBe(422);
      expect(fieldErrors(response.text, 'field-days')).toEqual([
        'Enter a whole number of days from 1 to 90, or leave it empty for no escalation.',
      ]);
      const input = startTags(response.text, 'input').find((i) => i.attrs.id === 'field-days')!;
      expect(input.attrs.value).toBe(days.slice(0, 20));
      expect(response.text).toContain('href="#field-days"');
      expect(input.attrs['aria-invalid']).toBe('true');
    }
    const badTier = await saveEscalation(organizer, a, { days: '10', [`tier_${a.ministry.id}`]: '7' });
    expect(badTier.status).toBe(422);
    expect(fieldErrors(badTier.text, `field-tier_${a.ministry.id}`)).toEqual([
      'Choose embassy, ministry or head of state.',
    ]);
    expect(byId(badTier.text, 'field-days')?.attrs.value).toBe('10');
    // Nothing was saved by the refused forms.
    expect(
      await t.platform.db
        .selectFrom('escalation_schedules')
        .select('days_without_reply')
        .where('letter_id', '=', a.id)
        .executeTakeFirst(),
    ).toEqual({ days_without_reply: 14 });
  });

  it("refuses another organizer the letter's escalation form and its steps", async () => {
    const stranger = await loginAs(t.app, await createAccount(t.platform, 'organizer'));
    const a = letters.a;
    const pending = (await stepsOf(a.id)).find((s) => s.status === 'pending')!;
    const cancelPath = `/admin/letters/${a.id}/delivery/escalation/steps/${pending.id}/cancel`;
    expect((await stranger.get(cancelPath)).status).toBe(403);
    expect((await stranger.submit('/admin', cancelPath, {})).status).toBe(403);
    expect(
      (await stranger.submit('/admin', `/admin/letters/${a.id}/delivery/escalation`, { days: '1' })).status,
    ).toBe(403);
    expect((await stepsOf(a.id)).find((s) => s.id === pending.id)!.status).toBe('pending');
  });

  it('removing the schedule cancels the pending step, and later rounds go to every recipient again', async () => {
    const d = letters.d;
    const organizer = await asOrganizer();
    expect((await saveEscalation(organizer, d, { days: '' })).status).toBe(303);
    const steps = await stepsOf(d.id);
    expect(steps.at(-1)).toMatchObject({ status: 'cancelled', cancel_reason: 'schedule-removed' });
    t.clock.advance(60 * DAY);
    expect(await t.platform.escalations.runDue()).toBeGreaterThanOrEqual(0);
    expect(lettersTo(d.head.email)).toBe(0);
    await t.platform.deliveries.sendUpdate(owner, d.id, key());
    await sendOut();
    expect(lettersTo(d.head.email)).toBe(1);
    expect(lettersTo(d.embassy.email)).toBe(2);
  });

  /** A new tiered letter with a 14-day schedule and these tiers (embassy, ministry, head), tested, not delivered. */
  async function testedWithTiers(name: string, tiers: readonly [string, string, string]) {
    const letter = await tieredLetter(name);
    const organizer = await asOrganizer();
    const saved = await saveEscalation(organizer, letter, fourteenDays(letter, tiers));
    expect(saved.status).toBe(303);
    await t.platform.deliveries.sendTest(owner, letter.id, key());
    return { letter, organizer };
  }

  // Last: their letters' steps must not fire in the tests above, which count what the job sends.
  it('asks before delivering with only the first tier listed and counted, and says who waits for a step', async () => {
    const { letter: e, organizer } = await testedWithTiers('e', ['1', '2', '3']);
    const delivery = textOf(mainOf((await organizer.get(`/admin/letters/${e.id}/delivery`)).text));
    expect(delivery).toContain('Then deliver the letter to its 1 recipient,');
    const confirm = mainOf((await organizer.get(`/admin/letters/${e.id}/delivery/deliver`)).text);
    expect(confirm).toContain('Embassy of Testland (e)');
    expect(confirm).not.toContain('Ministry of Foreign Affairs (e)');
    expect(confirm).not.toContain('Office of the President (e)');
    expect(textOf(confirm)).toContain('Yes, deliver to 1 recipient');
    expect(textOf(confirm)).toContain(
      'With the escalation schedule, 2 other recipients are not reached by this round: only an escalation step sends them the letter.',
    );
  });

  it('starts with the lowest tier that has recipients when nobody is in tier 1', async () => {
    const { letter: f, organizer } = await testedWithTiers('f', ['2', '2', '3']);
    const confirm = textOf(mainOf((await organizer.get(`/admin/letters/${f.id}/delivery/deliver`)).text));
    expect(confirm).toContain('Yes, deliver to 2 recipients');
    await t.platform.deliveries.deliverNow(owner, f.id, key());
    await sendOut();
    // Before, the first round went to tier 1 alone, so to nobody, and the step escalated to tier 2.
    expect(lettersTo(f.embassy.email)).toBe(1);
    expect(lettersTo(f.ministry.email)).toBe(1);
    expect(lettersTo(f.head.email)).toBe(0);
    const [step] = await stepsOf(f.id);
    expect(step).toMatchObject({ from_tier: 2, to_tier: 3, status: 'pending' });
  });

  it('refuses an update that would reach no one because the tiers reached were emptied, instead of skipping a step', async () => {
    const { letter: g, organizer } = await testedWithTiers('g', ['1', '2', '3']);
    await t.platform.deliveries.deliverNow(owner, g.id, key());
    await sendOut();
    // The embassy, the only recipient of the tier reached, is moved up: an update must not reach the
    // ministry by the back door, before (and besides) its step.
    const moved = await saveEscalation(organizer, g, fourteenDays(g, ['2', '2', '3']));
    expect(moved.status).toBe(303);
    const path = `/admin/letters/${g.id}/delivery/update`;
    const confirm = textOf(mainOf((await organizer.get(path)).text));
    expect(confirm).toContain('No recipient is left in the tiers this letter has reached');
    expect(confirm).not.toContain('Yes, send the update');
    expect((await organizer.submit(path, path, { request_key: key() })).status).toBe(409);
    await sendOut();
    expect(lettersTo(g.ministry.email)).toBe(0);
  });

  it('holds an automatic milestone round while the tiers reached are empty, and sends it once they are not', async () => {
    const { letter: i, organizer } = await testedWithTiers('i', ['1', '2', '3']);
    await t.platform.deliveries.deliverNow(owner, i.id, key());
    await sendOut();
    const page = `/admin/letters/${i.id}/delivery`;
    const milestones = { mode: 'milestones', milestone_every: '1', deliver_at: '', reply_to: '' };
    expect((await organizer.submit(page, `${page}/settings`, milestones)).status).toBe(303);
    expect((await saveEscalation(organizer, i, fourteenDays(i, ['2', '2', '3']))).status).toBe(303);
    await signAndConfirm(t, new Visitor(t.app), i.slug);
    const milestoneRounds = () =>
      t.platform.db
        .selectFrom('delivery_rounds')
        .select(['milestone', 'tier_from', 'tier_to'])
        .where('letter_id', '=', i.id)
        .where('kind', '=', 'milestone')
        .execute();
    // Due, but it would reach no one (before, it started and went to nobody, its milestone spent).
    await sendOut();
    expect(await milestoneRounds()).toEqual([]);
    expect(lettersTo(i.ministry.email)).toBe(0);
    // The embassy back in the first tier: the milestone goes to it, and still not to the ministry.
    expect((await saveEscalation(organizer, i, fourteenDays(i, ['1', '2', '3']))).status).toBe(303);
    await sendOut();
    expect(await milestoneRounds()).toEqual([{ milestone: 1, tier_from: 1, tier_to: 1 }]);
    expect(lettersTo(i.embassy.email)).toBe(2);
    expect(lettersTo(i.ministry.email)).toBe(0);
  });

  it('warns that a schedule does nothing while every recipient sits in one tier, as they start', async () => {
    const organizer = await asOrganizer();
    const letter = await tieredLetter('one-tier');
    const page = `/admin/letters/${letter.id}/delivery`;
    const warning = async () => byId((await organizer.get(page)).text, 'escalation-one-tier');
    // No schedule yet: nothing to warn about.
    expect(await warning()).toBeUndefined();

    expect((await saveEscalation(organizer, letter, fourteenDays(letter, ['1', '1', '1']))).status).toBe(303);
    expect(textsByClass((await organizer.get(page)).text, 'notice--warn')).toContainEqual(
      expect.stringMatching(
        /^Every recipient is in the same tier, so the schedule has nobody to escalate to/,
      ),
    );

    expect((await saveEscalation(organizer, letter, fourteenDays(letter, ['1', '2', '3']))).status).toBe(303);
    expect(await warning()).toBeUndefined();
  });

  it('names in the letter.delivered webhook only the institutions of the tier the round went to', async () => {
    const { letter: h } = await testedWithTiers('h', ['1', '2', '3']);
    await new WebhookRepository(t.platform.db).createEndpoint(
      {
        letterId: h.id,
        url: 'https://hooks.example.org/undersigned',
        events: ['letter.delivered'],
        secret: 'whsec_test',
        createdBy: owner.id,
      },
      t.clock.now(),
    );
    await t.platform.deliveries.deliverNow(owner, h.id, key());
    const [queued] = await t.platform.db
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
      .select('d.payload')
      .where('e.letter_id', '=', h.id)
      .execute();
    const payload = JSON.parse(queued!.payload) as { data: { delivery: { institutions: string[] } } };
    expect(payload.data.delivery.institutions).toEqual(['Embassy of Testland']);
  });
});
