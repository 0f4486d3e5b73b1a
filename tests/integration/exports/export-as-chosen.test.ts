/**
 * What an export says of a supporter who chose initials or no name at all, and of a signature that
 * screening holds. Found by an admin walkthrough (2026-12-07): the default export, the one meant to be
 * handed over, put "박." beside the organisation typed with the full name, a hidden signer's country
 * beside an empty name, and called held signatures (confirmed by their supporters) "pending", which the
 * PDF annex explains as "never confirmed".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_EXPORT_COLUMNS,
  EXPORT_COLUMNS,
  type ExportColumn,
  type ExportRequest,
} from '../../../server/exports/export.js';
import { OPERATOR } from '../../../server/exports/export-service.js';
import { LetterCompiler } from '../../../server/deliveries/letter-compiler.js';
import { countryName } from '../../../server/lib/countries.js';
import { createI18n } from '../../../server/lib/i18n.js';
import { EmailTemplates } from '../../../server/mail/email-templates.js';
import type { SignatureStatus } from '../../../server/signatures/signature.js';
import { createLetter } from '../../support/factories.js';
import { storeSignature } from '../../support/stored-signatures.js';
import { createTestPlatform, type TestPlatform } from '../../support/test-platform.js';

const SECRET = 'test-secret-test-secret-test-secret-0123';

const PEOPLE = [
  { name: 'Kim Ji-hoon', display: 'full', organisation: 'Seoul Bar Association', title: 'Lawyer' },
  { name: '박서연', display: 'initials', organisation: 'Ministry of Unification', title: 'Deputy director' },
  { name: 'Choi Min-jun', display: 'hidden', organisation: 'Hanawon', title: 'Counsellor' },
] as const;

describe('an export shows each supporter as they chose, unless it names them', () => {
  let t: TestPlatform;
  let slug: string;

  beforeAll(async () => {
    t = await createTestPlatform();
    const letter = await createLetter(t.platform.db, t.clock.now());
    slug = letter.slug;
    for (const [i, person] of PEOPLE.entries()) {
      const id = await storeSignature(t.platform.db, SECRET, letter.id, {
        name: person.name,
        email: `person-${i}@example.org`,
        status: 'confirmed',
        country: 'KR',
        createdAt: '2026-11-20T10:00:00.000Z',
        display: person.display,
        consent: i === 1,
      });
      await t.platform.db
        .updateTable('signatures')
        .set({ organisation: person.organisation, job_title: person.title, city: 'Seoul' })
        .where('id', '=', id)
        .execute();
    }
    // Held: over a signing limit, and its supporter pressed the link; and one held that never was.
    for (const [i, pressed] of [true, false].entries()) {
      const id = await storeSignature(t.platform.db, SECRET, letter.id, {
        name: `Held ${i}`,
        email: `held-${i}@example.org`,
        status: 'pending',
        country: 'UA',
        createdAt: '2026-11-21T10:00:00.000Z',
      });
      await t.platform.db
        .updateTable('signatures')
        .set({
          suspect_reasons: 'rate-burst',
          confirm_requested_at: pressed ? '2026-11-21T10:05:00.000Z' : null,
        })
        .where('id', '=', id)
        .execute();
    }
    // And one plainly pending: never confirmed.
    await storeSignature(t.platform.db, SECRET, letter.id, {
      name: 'Not yet',
      email: 'not-yet@example.org',
      status: 'pending',
      country: 'PL',
      createdAt: '2026-11-22T10:00:00.000Z',
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  async function exported(
    columns: readonly ExportColumn[],
    options: { statuses?: SignatureStatus[]; addresses?: 'consented' } = {},
  ): Promise<Record<string, unknown>[]> {
    const request: ExportRequest = {
      filters: {
        letter: slug,
        statuses: options.statuses ?? ['confirmed'],
        country: undefined,
        from: undefined,
        to: undefined,
        consent: undefined,
      },
      columns: EXPORT_COLUMNS.filter((c) => columns.includes(c)),
      format: 'jsonl',
      ...(options.addresses ? { addresses: options.addresses } : {}),
    };
    const chunks: string[] = [];
    await t.platform.appDeps.exports.run(request, OPERATOR, {
      write: async (chunk) => void chunks.push(String(chunk)),
    });
    return chunks
      .join('')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  it('the default columns: organisation and title beside a full name only, no country for a hidden name', async () => {
    const rows = await exported([...DEFAULT_EXPORT_COLUMNS, 'city']);
    expect(rows.map((r) => [r.public_name, r.country, r.organisation, r.title, r.city])).toEqual([
      ['Kim Ji-hoon', 'KR', 'Seoul Bar Association', 'Lawyer', ''],
      ['박.', 'KR', '', '', ''],
      ['', '', '', '', ''],
    ]);
    expect(JSON.stringify(rows)).not.toMatch(/Ministry of Unification|Hanawon|Deputy|Counsellor|Seoul"/);
  });

  it('with the name column, everything the admin asked for: the row already says who signed', async () => {
    const rows = await exported(['name', 'country', 'city', 'organisation', 'title']);
    expect(rows.map((r) => [r.name, r.country, r.organisation, r.title, r.city])).toEqual(
      PEOPLE.map((p) => [p.name, 'KR', p.organisation, p.title, 'Seoul']),
    );
  });

  it("through an organizer's read, every row as the letter page shows it: an address to write to names no more", async () => {
    // The initials supporter asked for news: their address, but not the ministry and title they chose
    // not to show (a walkthrough found them beside the initials, since the address "named them anyway").
    const rows = await exported(['email', 'public_name', 'country', 'organisation', 'title'], {
      addresses: 'consented',
    });
    expect(rows.map((r) => [r.email, r.public_name, r.organisation, r.title])).toEqual([
      [null, 'Kim Ji-hoon', 'Seoul Bar Association', 'Lawyer'],
      ['person-1@example.org', '박.', '', ''],
      [null, '', '', ''],
    ]);
    expect(JSON.stringify(rows)).not.toMatch(/Ministry of Unification|Deputy/);
  });

  it('states a signature that screening holds as held, apart from pending ones never confirmed', async () => {
    const rows = await exported(['public_name', 'status'], { statuses: ['pending'] });
    expect(rows.map((r) => [r.public_name, r.status])).toEqual([
      ['Held 0', 'held'],
      ['Held 1', 'held'],
      ['Not yet', 'pending'],
    ]);
  });

  it('says in a PDF annex how many are held, never that they were not confirmed', async () => {
    const i18n = createI18n();
    const html = new LetterCompiler(new EmailTemplates(i18n), i18n, countryName).annexDocument({
      language: 'en',
      letterTitle: 'A letter',
      signatureCount: 3,
      countries: [],
      annex: { entries: [], unnamed: 0 },
      organisations: [],
      contents: {
        statuses: ['pending'],
        counts: { pending: 1, held: 2 },
        country: undefined,
        from: undefined,
        to: undefined,
        consent: undefined,
        at: t.clock.now(),
      },
    });
    expect(html).toContain('1 pending (never confirmed from the signatory');
    expect(html).toContain('2 held by screening (not counted until an admin clears them)');
  });
});
