import { describe, expect, it } from 'vitest';
import { describeDetails } from '../../../server/audit/audit-details.js';
import type { AuditAction } from '../../../server/audit/audit.js';
import { formatsFor } from '../../../server/lib/format.js';
import { createI18n, fixedT } from '../../../server/lib/i18n.js';

const missing: string[] = [];
const i18n = createI18n({ onMissingKey: (language, key) => missing.push(`${language}: ${key}`) });

const said = (language: string, action: AuditAction, details: Record<string, unknown>) =>
  describeDetails(fixedT(i18n, language), formatsFor(language), language, action, details)
    .map((d) => `${d.label}: ${d.value}`)
    .join(' · ');

/**
 * One entry of every action that keeps details, with the details the services record (their keys and
 * kinds of value, as the test suite's audit entries had them on 2026-12-06).
 */
const ENTRIES: [AuditAction, Record<string, unknown>][] = [
  ['abuse-list-added', { list: 'block', kind: 'domain', value: 'spam.example', note: 'a bot run' }],
  ['api-token-created', { tokenId: 3, name: 'CRM', prefix: 'ust_Ka1Y33', lifetimeDays: 90 }],
  ['delivery', { round: 12, kind: 'milestone', trigger: 'goal', signatures: 12500, tiers: '1-2' }],
  [
    'delivery',
    { round: 3, kind: 'delivery', failed: 'message_too_large', size: '31.2', max: '25', pdf: '30.1' },
  ],
  ['delivery-escalated', { letterId: 1, step: 4, round: 9, fromTier: 1, toTier: 2, days: 14 }],
  ['delivery-settings-changed', { letterId: 1, mode: 'milestones', milestoneEvery: 1000, deliverAt: null }],
  ['email-language-changed', { from: 'en', to: 'ko' }],
  ['erasure', { letters: 2, mailboxFiles: 3, messages: 4, signatures: 2 }],
  [
    'erratum-sent',
    {
      letterId: 1,
      slug: 'a',
      round: 4,
      corrects: 3,
      before: 4,
      after: 2,
      erased: 0,
      invalidated: 1,
      withdrawn: 1,
      recipients: 2,
      root: 'ab',
    },
  ],
  ['escalation-cancelled', { letterId: 2, step: 3, fromTier: 1, toTier: 2, reason: 'replied' }],
  ['escalation-changed', { letterId: 1, days: 14, tiers: { 10: 1, 11: 2 } }],
  [
    'export',
    {
      format: 'csv',
      letter: 'all',
      country: 'any',
      consent: true,
      statuses: ['confirmed', 'pending'],
      columns: ['name'],
      from: '2026-11-01',
      to: null,
      rows: 1200,
      completed: true,
      addresses: 'consented',
      via: 'api-token',
    },
  ],
  [
    'letter-changes-submitted',
    { letterId: 1, slug: 'a', texts: true, recipients: false, settings: ['opensAt'] },
  ],
  ['letter-created', { letterId: 1, slug: 'a', template: 'freedom-to-choose-asylum' }],
  ['letter-embed-changed', { letterId: 1, slug: 'a', origins: [] }],
  ['letter-published', { letterId: 1, slug: 'a', reviewed: false }],
  ['letter-saved', { letterId: 1, slug: 'a', version: 2, changesWithdrawn: true }],
  ['letter-changes-approved', { letterId: 1, slug: 'a', version: 2, bySaving: true }],
  ['letter-collaborator-added', { letterId: 1, slug: 'a', userId: 3 }],
  ['login-failed', { known: true }],
  [
    'recipient-changed',
    { name: 'Embassy', fields: ['email'], emailFrom: 'a@example.org', emailTo: 'b@example.org' },
  ],
  ['recipients-imported', { file: 'list.csv', created: 2, updated: 1, skipped: 0 }],
  ['reply-published', { letterId: 1, slug: 'a', round: 2, replyId: 1, recipient: 'Embassy' }],
  ['retention', { signatures: 4, closedBefore: '2026-05-23T10:00:00.000Z' }],
  ['role-changed', { email: 'a@example.org', from: 'organizer', to: 'admin' }],
  [
    'settings-changed',
    {
      requireReview: 'false → true',
      trendingAlertPerHour: '50 → 1002',
      controllerName: ' → Undersigned Foundation',
      controllerAddress: ' → 1 Street',
      controllerEmail: ' → a@example.org',
      controllerDpo: 'Min-ji → ',
      controllerAuthority: ' → PIPC',
    },
  ],
  ['signature-cleared', { letter: 1, reasons: ['rate-burst'], confirmed: true }],
  ['signature-invalidated', { letter: 1, reason: 'a duplicate' }],
  ['signature-restored', { letter: 1, to: 'confirmed' }],
  [
    'signatures-bulk-invalidated',
    {
      count: 5,
      letter: 'all',
      ipHash: null,
      emailDomain: 'bots.example',
      from: '2026-11-23T10:30:00.000Z',
      to: null,
      reason: 'a bot run',
    },
  ],
  [
    'signatures-bulk-restored',
    {
      count: 5,
      letter: 'all',
      ipHash: null,
      emailDomain: 'bots.example',
      from: '2026-11-23T10:30:00.000Z',
      to: null,
      reason: 'a bot run',
      batch: 12,
    },
  ],
  [
    'user-invited',
    { email: 'a@example.org', role: 'organizer', language: 'uk', again: true, languageBefore: 'ko' },
  ],
  ['webhook-changed', { endpointId: 1, host: 'example.org', change: 'secret-rotated' }],
  [
    'webhook-created',
    { endpointId: 1, host: 'example.org', events: ['signature.confirmed'], letterId: 1, slug: 'a' },
  ],
];

describe("the audit page's details, in the reader's language", () => {
  it('has words for every key and code the services record, in Korean and Ukrainian too', () => {
    missing.length = 0;
    for (const language of ['en', 'ko', 'uk'])
      for (const [action, details] of ENTRIES) {
        const text = said(language, action, details);
        // No key shown as stored: every label is a word of the reader's language.
        for (const key of Object.keys(details))
          if (!(action === 'delivery' && ['size', 'max', 'pdf'].includes(key)))
            expect(text, `${language} ${action}`).not.toMatch(new RegExp(`(^|· )${key}:`));
      }
    expect(missing).toEqual([]);
  });

  it('says codes in words, counts with digit grouping, times in the reader’s formats, ids as they are', () => {
    expect(said('en', 'delivery', ENTRIES[2]![1])).toBe(
      'Round: 12 · Kind: Milestone update · Occasion: sent when the goal was reached · Signatures: 12,500 · Tiers: 1-2',
    );
    expect(said('en', 'role-changed', { email: 'a@example.org', from: 'organizer', to: 'admin' })).toBe(
      'E-mail address: a@example.org · Before: Organizer · After: Admin',
    );
    expect(said('ko', 'email-language-changed', { from: 'en', to: 'ko' })).toBe(
      '변경 전: 영어 · 변경 후: 한국어',
    );
    expect(said('uk', 'retention', { signatures: 4, closedBefore: '2026-05-23T10:00:00.000Z' })).toBe(
      `Підписів: 4 · Листи, закриті до: ${formatsFor('uk').dateTime(new Date('2026-05-23T10:00:00.000Z'))}`,
    );
    expect(
      said('en', 'settings-changed', { requireReview: 'false → true', trendingAlertPerHour: '50 → 1002' }),
    ).toBe('Review before publishing: no → yes · Trending alert (signatures an hour): 50 → 1,002');
    expect(said('en', 'export', { letter: 'all', statuses: [], to: null })).toBe(
      'Letter: all · Statuses: — · Signed until: —',
    );
  });

  it('says a save that made no new version in words, not with a dash', () => {
    expect(said('en', 'letter-saved', { letterId: 1, slug: 'a', version: null })).toBe(
      'Letter: 1 · Web address: a · New version: none',
    );
    expect(said('en', 'letter-saved', { letterId: 1, slug: 'a', version: 3 })).toBe(
      'Letter: 1 · Web address: a · New version: 3',
    );
    expect(said('ko', 'letter-changes-approved', { version: null, bySaving: true })).toMatch(
      /^새 버전: 없음 · /,
    );
    expect(said('uk', 'letter-saved', { version: null })).toBe('Нова версія: немає');
  });

  it('says a failed compile by its sentence, with the numbers it names', () => {
    expect(said('en', 'delivery', ENTRIES[3]![1])).toBe(
      "Round: 3 · Kind: Delivery · Failed: Nothing more was sent: the compiled e-mail would be 31.2 MB (the PDF annex 30.1 MB), over the 25 MB that officials' mail servers accept. Shorten the letter text or remove the list of signatories from it, then deliver the new version.",
    );
  });

  it('shows what someone typed as typed, even when it begins like a date or a number', () => {
    // A reason that starts like a timestamp once made the page fail (an invalid date formatted).
    for (const language of ['en', 'ko', 'uk']) {
      expect(
        said(language, 'signature-invalidated', { reason: '2026-12-06T10:00 duplicate per CERT' }),
      ).toMatch(/: 2026-12-06T10:00 duplicate per CERT$/);
      expect(said(language, 'abuse-list-added', { note: '2026-02-30' })).toMatch(/: 2026-02-30$/);
    }
    expect(said('en', 'export', { from: '2026-02-30' })).toBe('Signed from: 2026-02-30');
    expect(said('en', 'settings-changed', { controllerDpo: '0212345678 → true' })).toBe(
      'Controller: data protection officer: 0212345678 → true',
    );
  });

  it('shows a code it has no words for as it is stored, never an error', () => {
    expect(said('en', 'delivery', { kind: 'a-new-kind', extra: 7 })).toBe('Kind: a-new-kind · extra: 7');
  });
});
