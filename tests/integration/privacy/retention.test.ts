import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../../server/db/database.js';
import { migrateToLatest } from '../../../server/db/migrate.js';
import type { SignatureRow } from '../../../server/db/tables.js';
import { ManualClock } from '../../../server/lib/clock.js';
import { OutboxRepository } from '../../../server/outbox/outbox-repository.js';
import { createLetter } from '../../support/factories.js';
import { textsByClass } from '../../support/html.js';
import { Visitor } from '../../support/http.js';
import { signAndConfirm, signatureRows, shownCount, storedCount } from '../../support/signing.js';
import { outboxMessage, testMessageId } from '../../support/temp-database.js';
import { createTestPlatform, type TestPlatform } from '../../support/test-platform.js';

const DAY = 86_400_000;
const SIGNED_AT = new Date('2026-11-23T10:00:00.000Z');

/** The columns that hold a person; retention empties them all. */
const PERSONAL = ['full_name', 'email', 'city', 'organisation', 'job_title'] as const;
/** What retention keeps: what counts and where from. */
const KEPT = [
  'id',
  'letter_id',
  'letter_version_id',
  'ref',
  'status',
  'country',
  'language',
  'created_at',
  'confirmed_at',
  'withdrawn_at',
] as const;

function kept(row: SignatureRow) {
  return Object.fromEntries(KEPT.map((column) => [column, row[column]]));
}

/** Whether a row has lost its person entirely. */
function fullyAnonymised(row: SignatureRow): boolean {
  return (
    row.anonymised_at !== null &&
    PERSONAL.every((column) => row[column] === '') &&
    row.ip_hash === null &&
    row.display === 'hidden' &&
    row.consent_updates === 0 &&
    row.email_hash.startsWith('erased:')
  );
}

async function letterCounters(db: Db) {
  return {
    letters: await db.selectFrom('letters').select(['id', 'signature_count']).orderBy('id').execute(),
    countries: await db
      .selectFrom('letter_country_counts')
      .selectAll()
      .orderBy('letter_id')
      .orderBy('country')
      .execute(),
  };
}

/**
 * The counters as forgetting leaves them: every total as before, and each confirmed signature that was
 * shown and is now forgotten taken out of its country's figure (no longer shown: countedCountry).
 */
function withoutForgotten(
  before: Awaited<ReturnType<typeof letterCounters>>,
  rowsBefore: readonly { id: number; letter_id: number; country: string; status: string; display: string }[],
  rowsAfter: readonly { id: number; anonymised_at: string | null }[],
) {
  const forgotten = new Set(rowsAfter.filter((r) => r.anonymised_at !== null).map((r) => r.id));
  const left = rowsBefore.filter(
    (r) => forgotten.has(r.id) && r.status === 'confirmed' && r.display !== 'hidden',
  );
  expect(left.length, 'forgotten signatures that were in a country figure').toBeGreaterThan(0);
  return {
    ...before,
    countries: before.countries.map((c) => ({
      ...c,
      count: c.count - left.filter((r) => r.letter_id === c.letter_id && r.country === c.country).length,
    })),
  };
}

const retentionEntries = (db: Db) =>
  db.selectFrom('audit_events').selectAll().where('action', '=', 'retention').orderBy('id').execute();

describe('retention: forgetting the signers of letters closed long ago', () => {
  let t: TestPlatform;

  afterEach(async () => {
    await t?.close();
  });

  const SUPPORTERS = {
    long: { name: 'Kim Ji-hoon', email: 'ji-hoon.kim@example.org', country: 'KR' },
    longToo: { name: 'Olena Kovalenko', email: 'olena.kovalenko@example.org', country: 'UA' },
    recent: { name: 'Park Min-su', email: 'min-su.park@example.org', country: 'KR' },
    open: { name: 'John Smith', email: 'john.smith@example.org', country: 'GB' },
  };
  const details = { city: 'Seoul', organisation: 'NK Watch', title: 'Researcher', display: 'full' };

  /** Three letters signed through the site; then one closes tomorrow, one in two months, one stays open. */
  async function signedLetters() {
    t = await createTestPlatform({ env: { TRUST_PROXY: '1' } });
    const db = t.platform.db;
    const longClosed = await createLetter(db, t.clock.now(), { slug: 'closed-long-ago' });
    const recentlyClosed = await createLetter(db, t.clock.now(), { slug: 'closed-recently' });
    const open = await createLetter(db, t.clock.now(), { slug: 'still-open', closesAt: null });
    const visitor = new Visitor(t.app);
    await signAndConfirm(t, visitor, longClosed.slug, { ...SUPPORTERS.long, ...details });
    await signAndConfirm(t, visitor, longClosed.slug, { ...SUPPORTERS.longToo, ...details });
    await signAndConfirm(t, visitor, recentlyClosed.slug, { ...SUPPORTERS.recent, ...details });
    await signAndConfirm(t, visitor, open.slug, { ...SUPPORTERS.open, ...details });
    const close = (id: number, at: Date) =>
      db
        .updateTable('letters')
        .set({ status: 'closed', closed_at: at.toISOString(), closes_at: at.toISOString() })
        .where('id', '=', id)
        .execute();
    await close(longClosed.id, new Date(SIGNED_AT.getTime() + DAY));
    await close(recentlyClosed.id, new Date(SIGNED_AT.getTime() + 60 * DAY));
    return { longClosed, recentlyClosed, open };
  }

  it('anonymises the signatures of letters closed more than six months ago, keeping counts and statuses; they leave the figures by country', async () => {
    const { longClosed, recentlyClosed, open } = await signedLetters();
    const db = t.platform.db;
    const before = await signatureRows(db);
    const countersBefore = await letterCounters(db);
    const visitor = new Visitor(t.app);
    expect(await shownCount(visitor, longClosed.slug)).toBe(2);
    expect(
      textsByClass((await visitor.get(`/letters/${longClosed.slug}`)).text, 'signatory__name'),
    ).toContain(SUPPORTERS.long.name);

    // Seven months after signing: the first letter closed six months and 29 days ago, the second about five.
    t.clock.set(new Date('2027-06-23T10:00:00.000Z'));
    expect(await t.platform.privacy.applyRetention()).toBe(2);

    const after = await signatureRows(db);
    for (const row of after) {
      const was = before.find((r) => r.id === row.id)!;
      expect(kept(row)).toEqual(kept(was));
      if (row.letter_id === longClosed.id) {
        expect(fullyAnonymised(row), `signature ${row.id}`).toBe(true);
        expect(row.anonymised_at).toBe('2027-06-23T10:00:00.000Z');
      } else {
        // Letters closed less long ago, and open letters, are untouched.
        expect(row, `signature ${row.id}`).toEqual(was);
      }
    }
    expect(after.filter((r) => r.letter_id === recentlyClosed.id)).toHaveLength(1);
    expect(after.filter((r) => r.letter_id === open.id)).toHaveLength(1);
    expect(await letterCounters(db)).toEqual(withoutForgotten(countersBefore, before, after));
    expect(await storedCount(t, longClosed.slug)).toBe(2);
    expect(await shownCount(visitor, longClosed.slug)).toBe(2);
    const names = textsByClass((await visitor.get(`/letters/${longClosed.slug}`)).text, 'signatory__name');
    expect(names).not.toContain(SUPPORTERS.long.name);
    expect(names).not.toContain(SUPPORTERS.longToo.name);

    // The confirmation e-mails to those supporters keep no address or content either.
    const mails = await db
      .selectFrom('outbox_messages')
      .leftJoin('outbox_contents', 'outbox_contents.outbox_message_id', 'outbox_messages.id')
      .selectAll()
      .where('kind', '=', 'signature-confirmation')
      .execute();
    const anonymisedIds = new Set(after.filter((r) => r.letter_id === longClosed.id).map((r) => r.id));
    // One confirmation per supporter: two of them to the forgotten ones.
    expect(mails).toHaveLength(4);
    expect(mails.filter((mail) => anonymisedIds.has(mail.signature_id!))).toHaveLength(2);
    for (const mail of mails) {
      if (anonymisedIds.has(mail.signature_id!)) {
        // No content row is left at all (sent mail keeps none; scrubbed mail loses it).
        expect(mail).toMatchObject({ to_address: '', subject: null, text_body: null, html_body: null });
      } else {
        expect(mail.to_address).not.toBe('');
      }
    }

    const entries = await retentionEntries(db);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ actor_user_id: null, actor_email: 'platform' });
    expect(JSON.parse(entries[0]!.details)).toMatchObject({ signatures: 2 });

    // Running again finds nothing more to do, and records nothing.
    expect(await t.platform.privacy.applyRetention()).toBe(0);
    expect(await retentionEntries(db)).toHaveLength(1);
  });

  it('leaves a letter closed five months ago alone until its six months are up', async () => {
    const { recentlyClosed } = await signedLetters();
    const db = t.platform.db;
    t.clock.set(new Date('2027-06-23T10:00:00.000Z'));
    await t.platform.privacy.applyRetention();
    const untouched = (await signatureRows(db)).find((r) => r.letter_id === recentlyClosed.id)!;
    expect(untouched.anonymised_at).toBeNull();
    expect(untouched.full_name).toBe(SUPPORTERS.recent.name);

    // The letter closed on 2027-01-22: six months later, it goes too.
    t.clock.set(new Date('2027-07-22T10:00:01.000Z'));
    expect(await t.platform.privacy.applyRetention()).toBe(1);
    expect(fullyAnonymised((await signatureRows(db)).find((r) => r.id === untouched.id)!)).toBe(true);
  });

  it('follows RETENTION_MONTHS', async () => {
    await t?.close();
    t = await createTestPlatform({ env: { RETENTION_MONTHS: '12' } });
    const db = t.platform.db;
    const letter = await createLetter(db, t.clock.now());
    await signAndConfirm(t, new Visitor(t.app), letter.slug, SUPPORTERS.long);
    await db
      .updateTable('letters')
      .set({ status: 'closed', closed_at: '2026-11-24T10:00:00.000Z' })
      .where('id', '=', letter.id)
      .execute();
    t.clock.set(new Date('2027-06-23T10:00:00.000Z'));
    expect(await t.platform.privacy.applyRetention()).toBe(0);
    t.clock.set(new Date('2027-11-25T10:00:00.000Z'));
    expect(await t.platform.privacy.applyRetention()).toBe(1);
  });
});

describe('retention in a process of its own, killed half way and run again', () => {
  const DUE = 3_210;
  const NOW = '2027-07-01T00:00:00.000Z';
  const COUNTRIES = ['KR', 'UA', 'US', 'GB', 'DE', 'JP'];
  const STATUSES = ['confirmed', 'confirmed', 'confirmed', 'pending', 'withdrawn', 'invalidated'];
  let dir: string;
  let db: Db;

  afterEach(async () => {
    await db?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Inserts `n` signatures on a letter and moves its counters as confirming them would have. */
  async function fill(letterId: number, n: number, prefix: string) {
    const letter = await db
      .selectFrom('letters')
      .select('current_version_id')
      .where('id', '=', letterId)
      .executeTakeFirstOrThrow();
    const rows = Array.from({ length: n }, (_, i) => {
      const status = STATUSES[i % STATUSES.length]!;
      const at = new Date(SIGNED_AT.getTime() + i * 1_000).toISOString();
      return {
        letter_id: letterId,
        letter_version_id: letter.current_version_id!,
        ref: `${prefix}-ref-${i}`,
        status,
        full_name: `${prefix} Supporter ${i}`,
        email: `${prefix}-${i}@example.org`,
        email_hash: `${prefix}-hash-${i}`,
        country: COUNTRIES[i % COUNTRIES.length]!,
        city: 'Seoul',
        organisation: 'NK Watch',
        job_title: 'Researcher',
        display: i % 3 === 0 ? 'initials' : 'full',
        language: i % 2 === 0 ? 'en' : 'ko',
        consent_updates: i % 2,
        ip_hash: `${prefix}-ip-${i % 17}`,
        confirmation_sends: 1,
        created_at: at,
        confirmed_at: status === 'pending' ? null : at,
        withdrawn_at: status === 'withdrawn' ? at : null,
        updated_at: at,
        invalidated_at: status === 'invalidated' ? at : null,
        invalidated_reason: status === 'invalidated' ? 'bulk moderation' : null,
        status_before_invalidation: status === 'invalidated' ? 'confirmed' : null,
      };
    });
    for (let i = 0; i < rows.length; i += 200) {
      await db
        .insertInto('signatures')
        .values(rows.slice(i, i + 200))
        .execute();
    }
    const confirmed = rows.filter((r) => r.status === 'confirmed');
    await db
      .updateTable('letters')
      .set({ signature_count: confirmed.length })
      .where('id', '=', letterId)
      .execute();
    for (const country of COUNTRIES) {
      await db
        .insertInto('letter_country_counts')
        .values({
          letter_id: letterId,
          country,
          count: confirmed.filter((r) => r.country === country).length,
        })
        .execute();
    }
    // Every tenth supporter's confirmation e-mail is still in the queue.
    const ids = await db
      .selectFrom('signatures')
      .select(['id', 'email'])
      .where('letter_id', '=', letterId)
      .execute();
    const outbox = new OutboxRepository(db);
    for (const { id, email } of ids.filter((_, i) => i % 10 === 0)) {
      await outbox.enqueue(
        outboxMessage({ signatureId: id, toAddress: email, subject: `Please confirm, ${email}` }),
        testMessageId(),
        SIGNED_AT,
      );
    }
  }

  /** Runs the script; resolves with its output lines and exit once it ends (or is killed). */
  function runRetention(options: { killAfterFirstBatch?: boolean } = {}) {
    // Its own process group: npx starts tsx, which starts node, and the kill must reach all of them.
    const child = spawn('npx', ['tsx', path.join('tests', 'support', 'retention-run.ts')], {
      cwd: process.cwd(),
      env: { ...process.env, RETENTION_DATA_DIR: dir, RETENTION_NOW: NOW },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const lines: string[] = [];
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      if (options.killAfterFirstBatch && line.startsWith('batch ')) process.kill(-child.pid!, 'SIGKILL');
    });
    return new Promise<{ lines: string[]; code: number | null; signal: string | null; stderr: string }>(
      (resolve) =>
        child.on('exit', (code, signal) => {
          // Wait for the last output to be read.
          setTimeout(() => resolve({ lines, code, signal, stderr }), 50);
        }),
    );
  }

  it('anonymises every due signature exactly once, in whole batches, keeping every counter', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'undersigned-retention-'));
    ({ db } = openDatabase(path.join(dir, 'undersigned.sqlite')));
    await migrateToLatest(db);
    const clock = new ManualClock(SIGNED_AT);
    const due = await createLetter(db, clock.now(), { slug: 'closed-long-ago', status: 'closed' });
    const recent = await createLetter(db, clock.now(), { slug: 'closed-recently', status: 'closed' });
    const open = await createLetter(db, clock.now(), { slug: 'still-open', closesAt: null });
    await fill(due.id, DUE, 'due');
    await fill(recent.id, 120, 'recent');
    await fill(open.id, 80, 'open');
    await db
      .updateTable('letters')
      .set({ closed_at: '2026-12-01T00:00:00.000Z' })
      .where('id', '=', due.id)
      .execute();
    await db
      .updateTable('letters')
      .set({ closed_at: '2027-03-01T00:00:00.000Z' })
      .where('id', '=', recent.id)
      .execute();
    const before = await db.selectFrom('signatures').selectAll().orderBy('id').execute();
    const countersBefore = await letterCounters(db);
    const BATCHES = Math.ceil(DUE / 500);

    const killed = await runRetention({ killAfterFirstBatch: true });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    expect(killed.lines[0]).toBe('batch 500');
    expect(killed.lines.some((l) => l.startsWith('done'))).toBe(false);

    // Stopped half way: some batches committed, whole; the rest untouched; no row half done.
    const halfway = await db.selectFrom('signatures').selectAll().orderBy('id').execute();
    const anonymisedHalfway = halfway.filter((r) => r.anonymised_at !== null);
    expect(anonymisedHalfway.length).toBeGreaterThanOrEqual(500);
    expect(anonymisedHalfway.length).toBeLessThan(DUE);
    expect(anonymisedHalfway.length % 500).toBe(0);
    for (const row of halfway) {
      const was = before.find((r) => r.id === row.id)!;
      if (row.anonymised_at === null) expect(row).toEqual(was);
      else expect(fullyAnonymised(row), `signature ${row.id}`).toBe(true);
    }
    expect((await retentionEntries(db)).length).toBe(anonymisedHalfway.length / 500);

    const resumed = await runRetention();
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.lines.at(-1)).toBe(`done ${DUE - anonymisedHalfway.length}`);

    const after = await db.selectFrom('signatures').selectAll().orderBy('id').execute();
    expect(after).toHaveLength(before.length);
    for (const row of after) {
      const was = before.find((r) => r.id === row.id)!;
      expect(kept(row)).toEqual(kept(was));
      if (row.letter_id === due.id) expect(fullyAnonymised(row), `signature ${row.id}`).toBe(true);
      else expect(row, `signature ${row.id}`).toEqual(was);
    }
    expect(await letterCounters(db)).toEqual(withoutForgotten(countersBefore, before, after));

    // One audit entry per batch, together accounting for every signature.
    const entries = await retentionEntries(db);
    expect(entries).toHaveLength(BATCHES);
    const sizes = entries.map((e) => (JSON.parse(e.details) as { signatures: number }).signatures);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(DUE);
    expect(sizes.slice(0, -1).every((n) => n === 500)).toBe(true);

    // The queued e-mails to the forgotten supporters hold no address any more; the others still do.
    const mails = await db
      .selectFrom('outbox_messages')
      .leftJoin('outbox_contents', 'outbox_contents.outbox_message_id', 'outbox_messages.id')
      .selectAll()
      .orderBy('outbox_messages.id')
      .execute();
    const dueIds = new Set(after.filter((r) => r.letter_id === due.id).map((r) => r.id));
    // Every tenth signature of each letter has one queued.
    expect(mails).toHaveLength(Math.ceil(DUE / 10) + 120 / 10 + 80 / 10);
    expect(mails.filter((mail) => dueIds.has(mail.signature_id!))).toHaveLength(Math.ceil(DUE / 10));
    for (const mail of mails) {
      if (dueIds.has(mail.signature_id!))
        expect(mail).toMatchObject({ to_address: '', subject: null, status: 'cancelled' });
      else expect(mail.to_address).toMatch(/@example\.org$/);
    }
  }, 120_000);
});
