import { describe, expect, it } from 'vitest';
import {
  BounceHandler,
  isPermanentFailure,
  parseDeliveryStatus,
  type BounceHandlerDeps,
} from '../../../server/deliveries/bounce-handler.js';
import {
  annexOf,
  countriesOf,
  defaultDeliveryMode,
  deliverySettingsOf,
  deliveryWarnings,
  dueRound,
  parseVerp,
  roundRefusal,
  verpAddress,
  versionDelivery,
  type DeliveryRound,
  type DeliveryState,
  type RoundGate,
  type RoundKind,
} from '../../../server/deliveries/delivery.js';
import {
  deliverySettingsValues,
  parseDeliverySettings,
  type DeliverySettingsValues,
} from '../../../server/deliveries/delivery-input.js';
import { publicName, type DisplayChoice } from '../../../server/signatures/signature.js';

const NOW = new Date('2026-11-23T10:00:00.000Z');
const HOUR = 3_600_000;
const before = (ms: number) => new Date(NOW.getTime() - ms);
const after = (ms: number) => new Date(NOW.getTime() + ms);

/** A published, tested letter with nothing due; override what the case is about. */
function state(overrides: Partial<DeliveryState> = {}): DeliveryState {
  return {
    status: 'open',
    mode: 'closing',
    goal: null,
    milestoneEvery: null,
    deliverAt: null,
    closesAt: after(24 * HOUR),
    signatureCount: 0,
    lastMilestone: 0,
    delivered: false,
    tested: true,
    ...overrides,
  };
}

describe('dueRound: when a letter goes by itself', () => {
  describe('at closing', () => {
    it('delivers a letter that has been closed', () => {
      expect(dueRound(state({ status: 'closed' }), NOW)).toEqual({ kind: 'delivery', trigger: 'closing' });
    });

    it('delivers an open letter once its closing date has passed, before the job that closes it runs', () => {
      expect(dueRound(state({ closesAt: before(1) }), NOW)).toEqual({ kind: 'delivery', trigger: 'closing' });
      expect(dueRound(state({ closesAt: NOW }), NOW)).toEqual({ kind: 'delivery', trigger: 'closing' });
    });

    it('waits while the letter is open and its closing date is ahead, or it has none', () => {
      expect(dueRound(state({ closesAt: after(1) }), NOW)).toBeNull();
      expect(dueRound(state({ closesAt: null }), NOW)).toBeNull();
    });

    it('delivers the version once', () => {
      expect(dueRound(state({ status: 'closed', delivered: true }), NOW)).toBeNull();
    });
  });

  describe('at the goal', () => {
    it('delivers when the count reaches the goal, and not one signature before', () => {
      expect(dueRound(state({ mode: 'goal', goal: 100, signatureCount: 99 }), NOW)).toBeNull();
      expect(dueRound(state({ mode: 'goal', goal: 100, signatureCount: 100 }), NOW)).toEqual({
        kind: 'delivery',
        trigger: 'goal',
      });
      expect(dueRound(state({ mode: 'goal', goal: 100, signatureCount: 250 }), NOW)).toEqual({
        kind: 'delivery',
        trigger: 'goal',
      });
    });

    it('never delivers a letter without a goal, and delivers a reached goal only once', () => {
      expect(dueRound(state({ mode: 'goal', goal: null, signatureCount: 5_000 }), NOW)).toBeNull();
      expect(
        dueRound(state({ mode: 'goal', goal: 100, signatureCount: 150, delivered: true }), NOW),
      ).toBeNull();
    });
  });

  describe('at a set time', () => {
    it('delivers once the time has come, and not before', () => {
      expect(dueRound(state({ mode: 'scheduled', deliverAt: after(60_000) }), NOW)).toBeNull();
      expect(dueRound(state({ mode: 'scheduled', deliverAt: NOW }), NOW)).toEqual({
        kind: 'delivery',
        trigger: 'scheduled',
      });
      expect(dueRound(state({ mode: 'scheduled', deliverAt: before(HOUR) }), NOW)).toEqual({
        kind: 'delivery',
        trigger: 'scheduled',
      });
    });

    it('does nothing without a time, and delivers at the time only once', () => {
      expect(dueRound(state({ mode: 'scheduled', deliverAt: null }), NOW)).toBeNull();
      expect(
        dueRound(state({ mode: 'scheduled', deliverAt: before(HOUR), delivered: true }), NOW),
      ).toBeNull();
    });
  });

  describe('at milestones', () => {
    const milestones = (signatureCount: number, lastMilestone: number, milestoneEvery: number | null = 50) =>
      dueRound(state({ mode: 'milestones', milestoneEvery, signatureCount, lastMilestone }), NOW);

    it('sends the first milestone when the count reaches N', () => {
      expect(milestones(49, 0)).toBeNull();
      expect(milestones(50, 0)).toEqual({ kind: 'milestone', milestone: 50 });
    });

    it('sends each further multiple of N once, after the last one sent', () => {
      expect(milestones(99, 50)).toBeNull();
      expect(milestones(100, 50)).toEqual({ kind: 'milestone', milestone: 100 });
      expect(milestones(100, 100)).toBeNull();
      expect(milestones(149, 100)).toBeNull();
    });

    it('sends one round with the newest multiple when the count jumped past several', () => {
      expect(milestones(260, 50)).toEqual({ kind: 'milestone', milestone: 250 });
    });

    it('sends nothing again after withdrawals take the count back below the last milestone', () => {
      expect(milestones(95, 100)).toBeNull();
    });

    it('sends nothing without a positive step', () => {
      expect(milestones(500, 0, null)).toBeNull();
      expect(milestones(500, 0, 0)).toBeNull();
      expect(milestones(500, 0, -10)).toBeNull();
    });
  });

  it('never sends by itself in manual mode, whatever the figures', () => {
    expect(
      dueRound(
        state({
          mode: 'manual',
          status: 'closed',
          goal: 10,
          signatureCount: 1_000,
          milestoneEvery: 10,
          deliverAt: before(HOUR),
          closesAt: before(HOUR),
        }),
        NOW,
      ),
    ).toBeNull();
  });

  it('sends nothing in any mode before the organizer has sent a test', () => {
    const due: Partial<DeliveryState>[] = [
      { mode: 'closing', status: 'closed' },
      { mode: 'goal', goal: 10, signatureCount: 10 },
      { mode: 'scheduled', deliverAt: before(HOUR) },
      { mode: 'milestones', milestoneEvery: 10, signatureCount: 20 },
    ];
    for (const overrides of due) {
      expect(dueRound(state(overrides), NOW), overrides.mode).not.toBeNull();
      expect(dueRound(state({ ...overrides, tested: false }), NOW), overrides.mode).toBeNull();
    }
  });

  it('sends nothing for a draft or a letter already delivered, in any mode', () => {
    const due: Partial<DeliveryState>[] = [
      { mode: 'closing', closesAt: before(HOUR) },
      { mode: 'goal', goal: 10, signatureCount: 10 },
      { mode: 'scheduled', deliverAt: before(HOUR) },
      { mode: 'milestones', milestoneEvery: 10, signatureCount: 20 },
    ];
    for (const overrides of due) {
      expect(dueRound(state(overrides), NOW), overrides.mode).not.toBeNull();
      expect(dueRound(state({ ...overrides, status: 'draft' }), NOW), `draft ${overrides.mode}`).toBeNull();
      expect(
        dueRound(state({ ...overrides, status: 'delivered' }), NOW),
        `delivered ${overrides.mode}`,
      ).toBeNull();
    }
  });
});

/** A confirmed signature's annex row as the compiler makes it: its public name as the supporter chose. */
function row(fullName: string, display: DisplayChoice, country: string, organisation = '', jobTitle = '') {
  return { name: publicName({ fullName, display }), country, organisation, jobTitle, display };
}

describe('annexOf: the signatories as each chose to appear', () => {
  it('names a full-name signatory with their title and organisation', () => {
    const annex = annexOf([row('Kim Ji-hoon', 'full', 'KR', 'NK Watch', 'Researcher')]);
    expect(annex).toEqual({
      entries: [{ name: 'Kim Ji-hoon', country: 'KR', affiliation: 'Researcher, NK Watch' }],
      unnamed: 0,
    });
  });

  it('lists an initials signatory by initials and country only, without their organisation', () => {
    const annex = annexOf([row('Olena Kovalenko', 'initials', 'UA', 'Kyiv Legal Aid', 'Lawyer')]);
    expect(annex.entries).toEqual([{ name: 'O. K.', country: 'UA', affiliation: '' }]);
    expect(JSON.stringify(annex)).not.toMatch(/Olena|Kovalenko|Kyiv Legal Aid|Lawyer/);
  });

  it('only counts a signatory who chose not to be named', () => {
    const annex = annexOf([
      row('Park Min-su', 'hidden', 'KR', 'Escapee group', 'Member'),
      row('Lee Seo-yeon', 'full', 'KR'),
    ]);
    expect(annex.unnamed).toBe(1);
    expect(annex.entries.map((e) => e.name)).toEqual(['Lee Seo-yeon']);
    expect(JSON.stringify(annex)).not.toMatch(/Park|Min-su|Escapee group/);
  });

  it('only counts a hidden signatory even when a name reaches it', () => {
    const annex = annexOf([
      { name: 'Park Min-su', country: 'KR', organisation: 'Escapee group', jobTitle: '', display: 'hidden' },
    ]);
    expect(annex).toEqual({ entries: [], unnamed: 1 });
  });

  it('leaves out empty parts of an affiliation and keeps the order of signing', () => {
    const annex = annexOf([
      row('A Person', 'full', 'DE', 'Amnesty', ''),
      row('B Person', 'full', 'FR', '', 'Professor'),
      row('C Person', 'full', 'US', '  ', ' '),
    ]);
    expect(annex.entries.map((e) => [e.name, e.affiliation])).toEqual([
      ['A Person', 'Amnesty'],
      ['B Person', 'Professor'],
      ['C Person', ''],
    ]);
  });

  it('keeps no e-mail address even when one was typed as a name part elsewhere', () => {
    const rows = [
      { ...row('Kim Ji-hoon', 'full', 'KR'), email: 'ji-hoon@example.org' },
      { ...row('Olena Kovalenko', 'initials', 'UA'), email: 'olena@example.org' },
    ];
    expect(JSON.stringify(annexOf(rows))).not.toContain('@');
  });
});

describe('countriesOf', () => {
  it('counts signatures per country, most first, ties by code', () => {
    expect(
      countriesOf([
        { country: 'UA', display: 'full' },
        { country: 'KR', display: 'initials' },
        { country: 'KR', display: 'full' },
        { country: 'DE', display: 'full' },
        { country: 'UA', display: 'initials' },
      ]),
    ).toEqual([
      { code: 'KR', count: 2 },
      { code: 'UA', count: 2 },
      { code: 'DE', count: 1 },
    ]);
  });

  it('places no signature counted without its name in a country: one hidden signer from KP would stand out', () => {
    expect(
      countriesOf([
        { country: 'KP', display: 'hidden' },
        { country: 'KR', display: 'hidden' },
        { country: 'KR', display: 'full' },
      ]),
    ).toEqual([{ code: 'KR', count: 1 }]);
  });
});

const BOUNCES = 'bounces@undersigned.example.org';
const SECRET = 'unit-secret-unit-secret-unit-secret-0123';

/** A bounce handler that only needs its secret and address (accepts() touches nothing else). */
function handler(secret = SECRET): BounceHandler {
  return new BounceHandler({ secret, bounceAddress: BOUNCES } as unknown as BounceHandlerDeps);
}

describe('VERP return paths', () => {
  it('names the message in the return path and reads it back', () => {
    const address = verpAddress(BOUNCES, 4217, 'Ab_9-xYz12Qr');
    expect(address).toBe('bounces+m4217-Ab_9-xYz12Qr@undersigned.example.org');
    expect(parseVerp(address, BOUNCES)).toEqual({ messageId: 4217, tag: 'Ab_9-xYz12Qr' });
  });

  it('reads a return path whose domain or local part a server wrote in capitals, or with spaces around', () => {
    expect(parseVerp(' BOUNCES+m7-Ab_9-xYz12Qr@Undersigned.Example.ORG ', BOUNCES)).toEqual({
      messageId: 7,
      tag: 'Ab_9-xYz12Qr',
    });
  });

  it('refuses addresses that are not our return paths', () => {
    for (const address of [
      'bounces@undersigned.example.org',
      'bounces+m12-Ab_9-xYz12Qr@other.example.org',
      'bounces+m12-Ab_9-xYz12Qr@undersigned.example.org.evil.example',
      'postmaster+m12-Ab_9-xYz12Qr@undersigned.example.org',
      'x.bounces+m12-Ab_9-xYz12Qr@undersigned.example.org',
      'bounces+m12@undersigned.example.org',
      'bounces+m12-abc@undersigned.example.org',
      'bounces+mx-Ab_9-xYz12Qr@undersigned.example.org',
      'bounces+m12-Ab_9 xYz12Qr@undersigned.example.org',
      '',
    ]) {
      expect(parseVerp(address, BOUNCES), address).toBeUndefined();
    }
  });

  it('accepts the return path it made for a message, and refuses a forged tag or another message id', () => {
    const bounces = handler();
    const returnPath = bounces.returnPath(31);
    expect(parseVerp(returnPath, BOUNCES)?.messageId).toBe(31);
    expect(bounces.accepts(returnPath)).toBe(true);

    const { tag } = parseVerp(returnPath, BOUNCES)!;
    expect(bounces.accepts(verpAddress(BOUNCES, 32, tag)), 'another message with this tag').toBe(false);
    expect(bounces.accepts(verpAddress(BOUNCES, 31, 'AAAAAAAAAAAA')), 'a made-up tag').toBe(false);
    expect(bounces.accepts(returnPath.replace('@undersigned.example.org', '@other.example.org'))).toBe(false);
    expect(handler('another-secret-another-secret-another-0123').accepts(returnPath), 'another key').toBe(
      false,
    );
  });
});

/** A Postfix-style report: per-message fields, then one block per recipient; a long line folded. */
const POSTFIX_FAILED = [
  'Reporting-MTA: dns; mx1.mail.example.net',
  'X-Postfix-Queue-ID: 4F2A81C0E5',
  'X-Postfix-Sender: rfc822; bounces+m12-Ab_9-xYz12Qr@undersigned.example.org',
  'Arrival-Date: Mon, 23 Nov 2026 10:00:01 +0000 (UTC)',
  '',
  'Final-Recipient: rfc822; embassy@example.org',
  'Original-Recipient: rfc822;embassy@example.org',
  'Action: failed',
  'Status: 5.1.1',
  'Remote-MTA: dns; mx.example.org',
  'Diagnostic-Code: smtp; 550 5.1.1 <embassy@example.org>: Recipient address',
  '    rejected: User unknown in virtual mailbox table',
  '',
].join('\r\n');

/** An Exim-style delay warning for two recipients: one delayed, one relayed on. */
const DELAYED = [
  'Reporting-MTA: dns; relay.example.net',
  '',
  'Action: delayed',
  'Final-Recipient: rfc822;office@example.org',
  'Status: 4.4.1',
  'Remote-MTA: dns; mx.example.org',
  'Diagnostic-Code: smtp; 451 4.4.1 Temporary lookup failure',
  'Will-Retry-Until: Sat, 28 Nov 2026 10:00:00 +0000',
  '',
  'Final-Recipient: rfc822;desk@example.org',
  'Action: relayed',
  'Status: 2.0.0',
  '',
].join('\n');

describe('parseDeliveryStatus and isPermanentFailure: reading delivery status notifications', () => {
  it('reads the recipient block of a failure, joining a folded diagnostic line', () => {
    const entries = parseDeliveryStatus(POSTFIX_FAILED);
    expect(entries).toEqual([
      {
        action: 'failed',
        status: '5.1.1',
        diagnostic:
          '550 5.1.1 <embassy@example.org>: Recipient address rejected: User unknown in virtual mailbox table',
      },
    ]);
    expect(isPermanentFailure(entries[0]!)).toBe(true);
  });

  it('reads one entry per recipient, and neither a delay nor a relay is a failure', () => {
    const entries = parseDeliveryStatus(DELAYED);
    expect(entries.map((e) => [e.action, e.status])).toEqual([
      ['delayed', '4.4.1'],
      ['relayed', '2.0.0'],
    ]);
    expect(entries[0]!.diagnostic).toBe('451 4.4.1 Temporary lookup failure');
    expect(entries.some(isPermanentFailure)).toBe(false);
  });

  it('finds the failed recipient among several', () => {
    const report = [
      'Reporting-MTA: dns; mx.example.net',
      '',
      'Final-Recipient: rfc822; ok@example.org',
      'Action: delivered',
      'Status: 2.0.0',
      '',
      'Final-Recipient: rfc822; gone@example.org',
      'ACTION: Failed',
      'status: 5.2.1',
      'diagnostic-code: smtp; 550 5.2.1 Mailbox disabled',
    ].join('\r\n');
    const entries = parseDeliveryStatus(report);
    expect(entries).toHaveLength(2);
    expect(entries.filter(isPermanentFailure)).toEqual([
      { action: 'failed', status: '5.2.1', diagnostic: '550 5.2.1 Mailbox disabled' },
    ]);
  });

  it.each([
    ['X-Postfix; unknown user: "embassy"', 'unknown user: "embassy"'],
    ['x-postfix;mail for example.org loops back to myself', 'mail for example.org loops back to myself'],
    ['smtp;550 5.1.1 User unknown', '550 5.1.1 User unknown'],
    ['X-Unix; host not found', 'host not found'],
    // No diagnostic type: nothing is taken off, not even after a later semicolon.
    [
      '550 5.1.1 User unknown; see https://example.org/help',
      '550 5.1.1 User unknown; see https://example.org/help',
    ],
  ])('keeps the server\'s words of "%s" without the relay\'s diagnostic type', (code, words) => {
    const report = [
      'Final-Recipient: rfc822; gone@example.org',
      'Action: failed',
      'Status: 5.1.1',
      `Diagnostic-Code: ${code}`,
    ];
    expect(parseDeliveryStatus(report.join('\r\n'))[0]!.diagnostic).toBe(words);
  });

  it('treats a 5.x.x status as permanent even where the action was left out', () => {
    expect(isPermanentFailure({ action: '', status: '5.7.1', diagnostic: '' })).toBe(true);
    expect(isPermanentFailure({ action: '', status: '4.7.1', diagnostic: '' })).toBe(false);
    expect(isPermanentFailure({ action: 'delivered', status: '2.0.0', diagnostic: '' })).toBe(false);
  });

  it('finds nothing in a text that is not a report', () => {
    expect(parseDeliveryStatus('Hello,\n\nyour message could not be delivered.\n')).toEqual([]);
    expect(parseDeliveryStatus('')).toEqual([]);
  });
});

/** The settings form as typed; override what the case is about. */
function form(overrides: Partial<DeliverySettingsValues> = {}): DeliverySettingsValues {
  return { mode: 'manual', milestoneEvery: '', deliverAt: '', replyTo: '', ...overrides };
}
const errorsOf = (values: DeliverySettingsValues) => {
  const parsed = parseDeliverySettings(values, NOW);
  return parsed.ok ? {} : parsed.errors;
};

describe('parseDeliverySettings', () => {
  it('accepts each mode with what it needs, in UTC, and a reply address in lower case', () => {
    expect(
      parseDeliverySettings(form({ mode: 'closing', replyTo: ' Office@NK-Watch.example.org ' }), NOW),
    ).toEqual({
      ok: true,
      settings: {
        mode: 'closing',
        milestoneEvery: null,
        deliverAt: null,
        replyTo: 'office@nk-watch.example.org',
      },
    });
    expect(parseDeliverySettings(form({ mode: 'milestones', milestoneEvery: '1,000' }), NOW)).toMatchObject({
      ok: true,
      settings: { mode: 'milestones', milestoneEvery: 1000 },
    });
    expect(
      parseDeliverySettings(form({ mode: 'scheduled', deliverAt: '2026-11-24T09:30' }), NOW),
    ).toMatchObject({
      ok: true,
      settings: { mode: 'scheduled', deliverAt: new Date('2026-11-24T09:30:00.000Z') },
    });
  });

  it('refuses an unknown or missing mode', () => {
    for (const mode of ['', 'weekly', 'Manual', 'closing ', '__proto__']) {
      expect(errorsOf(form({ mode })), mode).toEqual({ mode: 'deliveries.errors.mode' });
    }
  });

  it('asks for the step of milestones', () => {
    expect(errorsOf(form({ mode: 'milestones' }))).toEqual({
      milestone_every: 'deliveries.errors.milestoneNeeded',
    });
    expect(errorsOf(form({ mode: 'milestones', milestoneEvery: '   ' }))).toEqual({
      milestone_every: 'deliveries.errors.milestoneNeeded',
    });
  });

  it('refuses a milestone step that is not a whole number from 1 up', () => {
    for (const milestoneEvery of ['0', '-5', '2.5', 'ten', '1e3', '99999999999', '0x10']) {
      expect(errorsOf(form({ mode: 'milestones', milestoneEvery })), milestoneEvery).toEqual({
        milestone_every: 'deliveries.errors.milestoneEvery',
      });
    }
  });

  it("ignores a bad value in another mode's field, keeping a good one for when that mode comes back", () => {
    expect(
      parseDeliverySettings(
        form({ mode: 'scheduled', deliverAt: '2026-11-24T09:30', milestoneEvery: '-5' }),
        NOW,
      ),
    ).toEqual({
      ok: true,
      settings: {
        mode: 'scheduled',
        milestoneEvery: null,
        deliverAt: new Date('2026-11-24T09:30:00.000Z'),
        replyTo: '',
      },
    });
    expect(
      parseDeliverySettings(form({ mode: 'milestones', milestoneEvery: '500', deliverAt: 'soon' }), NOW),
    ).toMatchObject({
      ok: true,
      settings: { milestoneEvery: 500, deliverAt: null },
    });
    expect(
      parseDeliverySettings(form({ mode: 'closing', milestoneEvery: '500', deliverAt: 'abc' }), NOW),
    ).toMatchObject({
      ok: true,
      settings: { milestoneEvery: 500, deliverAt: null },
    });
  });

  it('refuses a set time that has passed, or none, for a scheduled delivery', () => {
    expect(errorsOf(form({ mode: 'scheduled', deliverAt: '2026-11-23T09:59' }))).toEqual({
      deliver_at: 'deliveries.errors.deliverAtPast',
    });
    expect(errorsOf(form({ mode: 'scheduled', deliverAt: '2026-11-23T10:00' }))).toEqual({
      deliver_at: 'deliveries.errors.deliverAtPast',
    });
    expect(errorsOf(form({ mode: 'scheduled' }))).toEqual({
      deliver_at: 'deliveries.errors.deliverAtNeeded',
    });
  });

  it('refuses a malformed or impossible time', () => {
    for (const deliverAt of [
      '2026-11-24',
      '2026-11-24 10:00',
      '24/11/2026 10:00',
      '2026-13-01T10:00',
      '2027-02-30T10:00',
      '2026-11-24T25:00',
      '2026-11-24T10:60',
      '2026-11-24T10:00:00Z',
      'tomorrow',
    ]) {
      expect(errorsOf(form({ mode: 'scheduled', deliverAt })), deliverAt).toEqual({
        deliver_at: 'deliveries.errors.deliverAt',
      });
    }
  });

  it('refuses a reply address that is not one', () => {
    for (const replyTo of [
      'office',
      'office@',
      '@example.org',
      'a b@example.org',
      'office@example.org, other@example.org',
      'Office <office@example.org>',
      `${'a'.repeat(250)}@example.org`,
    ]) {
      expect(errorsOf(form({ replyTo })), replyTo).toEqual({ reply_to: 'deliveries.errors.replyTo' });
    }
  });

  it('reports every bad field the chosen mode uses at once', () => {
    expect(errorsOf(form({ mode: 'milestones', milestoneEvery: '0', replyTo: 'nope' }))).toEqual({
      milestone_every: 'deliveries.errors.milestoneEvery',
      reply_to: 'deliveries.errors.replyTo',
    });
    expect(errorsOf(form({ mode: 'scheduled', deliverAt: 'soon', replyTo: 'nope' }))).toEqual({
      deliver_at: 'deliveries.errors.deliverAt',
      reply_to: 'deliveries.errors.replyTo',
    });
  });

  it('reads only text fields from the raw form body', () => {
    expect(
      deliverySettingsValues({
        mode: ['goal', 'manual'],
        milestone_every: { n: 1 },
        deliver_at: 5,
        reply_to: 'a@b.org',
      }),
    ).toEqual({ mode: '', milestoneEvery: '', deliverAt: '', replyTo: 'a@b.org' });
  });
});

describe('delivery settings of a letter whose organizer has not chosen any', () => {
  const letter = (
    overrides: Partial<{ closesAt: Date | null; closeOnGoal: boolean; goal: number | null }>,
  ) => ({
    closesAt: null,
    closeOnGoal: false,
    goal: null,
    ...overrides,
  });

  it('delivers at closing a letter that closes by itself, and by hand one that never closes by itself', () => {
    expect(defaultDeliveryMode(letter({ closesAt: NOW }))).toBe('closing');
    expect(defaultDeliveryMode(letter({ closeOnGoal: true, goal: 100 }))).toBe('closing');
    expect(defaultDeliveryMode(letter({}))).toBe('manual');
    // A goal that does not close the letter is no way to close it.
    expect(defaultDeliveryMode(letter({ goal: 100 }))).toBe('manual');
  });

  it('follows the letter until settings are saved, then keeps what was saved', () => {
    expect(deliverySettingsOf(undefined, letter({}))).toEqual({
      mode: 'manual',
      milestoneEvery: null,
      deliverAt: null,
      replyTo: '',
      lastMilestone: 0,
      chosen: false,
    });
    const saved = {
      mode: 'closing' as const,
      milestoneEvery: null,
      deliverAt: null,
      replyTo: '',
      lastMilestone: 0,
    };
    expect(deliverySettingsOf(saved, letter({}))).toEqual({ ...saved, chosen: true });
  });

  it('warns about a mode the letter cannot honour by itself, and only then', () => {
    expect(deliveryWarnings('closing', letter({}))).toEqual(['closingWithoutDate']);
    expect(deliveryWarnings('closing', letter({ closesAt: NOW }))).toEqual([]);
    expect(deliveryWarnings('closing', letter({ closeOnGoal: true, goal: 10 }))).toEqual([]);
    expect(deliveryWarnings('goal', letter({}))).toEqual(['goalWithoutGoal']);
    expect(deliveryWarnings('goal', letter({ goal: 10 }))).toEqual([]);
    for (const mode of ['manual', 'milestones', 'scheduled'] as const)
      expect(deliveryWarnings(mode, letter({})), mode).toEqual([]);
  });
});

describe('roundRefusal', () => {
  const gate = (overrides: Partial<RoundGate> = {}): RoundGate => ({
    status: 'open',
    tested: true,
    delivered: false,
    reached: false,
    recipients: 2,
    reachable: 2,
    ...overrides,
  });

  it('allows a delivery of a tested, published letter with recipients whose version was not delivered', () => {
    expect(roundRefusal('delivery', gate())).toBeNull();
    expect(roundRefusal('delivery', gate({ status: 'closed' }))).toBeNull();
  });

  it('says why a delivery may not start, in the order the organizer can fix it', () => {
    expect(roundRefusal('delivery', gate({ status: 'draft', tested: false }))).toBe('notPublished');
    expect(roundRefusal('delivery', gate({ status: 'delivered' }))).toBe('letterDelivered');
    expect(roundRefusal('delivery', gate({ tested: false }))).toBe('testFirst');
    expect(roundRefusal('delivery', gate({ recipients: 0, reachable: 0 }))).toBe('noRecipients');
    expect(roundRefusal('delivery', gate({ reachable: 0 }))).toBe('tiersEmpty');
    expect(roundRefusal('delivery', gate({ delivered: true, reached: true }))).toBe('alreadyDelivered');
  });

  it('allows an update only once the letter has reached its recipients, even once delivered', () => {
    expect(roundRefusal('update', gate())).toBe('notDeliveredYet');
    expect(roundRefusal('update', gate({ reached: true }))).toBeNull();
    expect(roundRefusal('update', gate({ status: 'delivered', delivered: true, reached: true }))).toBeNull();
    expect(roundRefusal('update', gate({ status: 'draft', reached: true }))).toBe('notPublished');
    // With a schedule whose reached tiers were emptied, an update would reach no one.
    expect(roundRefusal('update', gate({ reached: true, reachable: 0 }))).toBe('tiersEmpty');
  });
});

describe('versionDelivery: where the current version stands with its one delivery', () => {
  type Round = { id: number; kind: RoundKind; status: DeliveryRound['status']; letterVersionId: number };
  const round = (
    id: number,
    kind: RoundKind,
    letterVersionId: number,
    status: Round['status'] = 'queued',
  ) => ({
    round: { id, kind, status, letterVersionId },
    records: [] as { status: string }[],
  });
  const sent = <V extends { records: { status: string }[] }>(view: V, ...statuses: string[]) => ({
    ...view,
    records: statuses.map((status) => ({ status })),
  });

  it('is not delivered before any delivery, whatever tests and updates went', () => {
    expect(versionDelivery([round(1, 'test', 7)], 7)).toEqual({ state: 'notDelivered', earlier: undefined });
  });

  it('names the newest delivery of an earlier version for a version saved since, never as this one', () => {
    const rounds = [round(4, 'update', 7), sent(round(3, 'delivery', 6), 'sent'), round(2, 'delivery', 5)];
    const where = versionDelivery(rounds, 8);
    expect(where).toEqual({ state: 'notDelivered', earlier: rounds[1]!.round });
  });

  it('leaves out an earlier delivery that was stopped: it reached no one as a letter', () => {
    expect(versionDelivery([round(3, 'delivery', 6, 'cancelled')], 7)).toEqual({
      state: 'notDelivered',
      earlier: undefined,
    });
  });

  it("is delivered once this version's letters went (a failed one is on the record), even when later rounds followed", () => {
    const own = sent(round(3, 'delivery', 7), 'sent', 'failed');
    const where = versionDelivery([round(4, 'update', 7), own, round(2, 'delivery', 6)], 7);
    expect(where).toEqual({ state: 'delivered', round: own.round });
  });

  it('is in progress while the round compiles or a letter is still queued, being sent or to be retried', () => {
    expect(versionDelivery([round(3, 'delivery', 7, 'compiling')], 7).state).toBe('inProgress');
    expect(versionDelivery([sent(round(3, 'delivery', 7), 'sent', 'queued')], 7).state).toBe('inProgress');
    expect(versionDelivery([sent(round(3, 'delivery', 7), 'sending')], 7).state).toBe('inProgress');
    // A recipient's server refused for now: the letter has not reached them, so not "delivered".
    expect(versionDelivery([sent(round(3, 'delivery', 7), 'sent', 'retrying')], 7).state).toBe('inProgress');
  });

  it('is stopped when its round was cancelled: the version had its one delivery round', () => {
    const own = round(3, 'delivery', 7, 'cancelled');
    expect(versionDelivery([own, round(2, 'delivery', 6)], 7)).toEqual({
      state: 'stopped',
      round: own.round,
    });
  });

  it('gives one answer: an earlier delivery only when this version has none', () => {
    for (const rounds of [
      [round(3, 'delivery', 7), round(2, 'delivery', 6)],
      [round(2, 'delivery', 6)],
      [round(3, 'delivery', 7, 'compiling')],
    ]) {
      const where = versionDelivery(rounds, 7);
      if (where.state === 'notDelivered') expect(where.earlier?.letterVersionId).not.toBe(7);
      else expect(where.round.letterVersionId).toBe(7);
    }
  });
});
