import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../server/db/database.js';
import { migrateTo, migrateToLatest } from '../../../server/db/migrate.js';

describe('database setup', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'undersigned-migrate-'));
    file = path.join(dir, 'nested', 'undersigned.sqlite');
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates every table on an empty file, creating the folder if needed', async () => {
    const { db, sqlite } = openDatabase(file);
    try {
      expect(await migrateToLatest(db)).toEqual([
        '2026-11-23-initial',
        '2026-11-23T14-accounts-and-letter-editing',
        '2026-11-23T16-deliveries',
        '2026-11-23T18-signer-data',
        '2026-11-23T20-audit-log-no-replace',
        '2026-11-23T21-outbox-contents',
        '2026-12-05T02-outbox-sent-digest',
        '2026-12-05T03-pending-letter-changes',
        '2026-12-05T04-login-throttles-per-client-and-password-reset',
        '2026-12-05T05-delivery-round-failure',
        '2026-12-05T06-signing-limits',
        '2026-12-05T07-abuse-lists',
        '2026-12-05T08-delivery-settings',
        '2026-12-05T09-signature-interface-language',
        '2026-12-05T10-account-language',
        '2026-12-05T11-recipient-salutations',
        '2026-12-05T12-supporter-interface-language',
        '2026-12-05T14-signatures-by-letter',
        '2026-12-05T17-scheduled-job-leases',
        '2026-12-05T18-domain-pacing',
        '2026-12-05T19-embed-origins',
        '2026-12-05T20-api-tokens-and-webhooks',
        '2026-12-06T01-commitments',
        '2026-12-06T02-delivery-replies',
        '2026-12-06T02-delivery-replies-indexes',
        '2026-12-06T03-escalation',
        '2026-12-06T04-errata',
        '2026-12-06T05-signing-indexes',
        '2026-12-06T06-reply-sender-domain',
        '2026-12-06T07-round-audiences',
        '2026-12-07T01-review-returns',
        '2026-12-07T02-invitation-messages',
        '2026-12-07T03-hidden-countries',
        '2026-12-07T04-recipient-names',
        '2026-12-07T05-letter-sender-names',
      ]);
      const tables = sqlite
        .prepare(
          "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like 'kysely_%' order by name",
        )
        .pluck()
        .all();
      expect(tables).toEqual([
        'abuse_list_entries',
        'api_tokens',
        'audit_events',
        'deliveries',
        'delivery_replies',
        'delivery_rounds',
        'delivery_settings',
        'domain_pacing',
        'escalation_schedules',
        'escalation_steps',
        'letter_collaborators',
        'letter_country_counts',
        'letter_recipients',
        'letter_texts',
        'letter_versions',
        'letters',
        'limit_counters',
        'login_throttles',
        'outbox_attachments',
        'outbox_contents',
        'outbox_messages',
        'proof_of_work_solutions',
        'recipient_imports',
        'recipient_names',
        'recipient_salutations',
        'recipients',
        'round_audiences',
        'round_commitments',
        'round_leaves',
        'scheduled_job_leases',
        'sessions',
        'settings',
        'signature_salts',
        'signatures',
        'signing_hits',
        'users',
        'webhook_attempts',
        'webhook_deliveries',
        'webhook_endpoints',
      ]);
    } finally {
      await db.destroy();
    }
  });

  it('is idempotent: migrating again, in the same or a new connection, changes nothing', async () => {
    const first = openDatabase(file);
    await migrateToLatest(first.db);
    const schema = () =>
      first.sqlite.prepare('select type, name, sql from sqlite_master order by name').all();
    const before = schema();
    expect(await migrateToLatest(first.db)).toEqual([]);
    const second = openDatabase(file);
    try {
      expect(await migrateToLatest(second.db)).toEqual([]);
      expect(schema()).toEqual(before);
    } finally {
      await second.db.destroy();
      await first.db.destroy();
    }
  });

  it('gives a signature made before migration 09 its text language as its interface language, and an account English', async () => {
    const { db, sqlite } = openDatabase(file);
    try {
      // The database as it stood before: every migration up to 08.
      await migrateTo(db, '2026-12-05T08-delivery-settings');
      sqlite.pragma('foreign_keys = OFF');
      sqlite
        .prepare(
          `insert into signatures (letter_id, letter_version_id, ref, status, full_name, email, email_hash, country, display, language, created_at, updated_at)
           values (1, 1, 'r', 'confirmed', 'Olena', 'olena@example.org', 'h', 'UA', 'full', 'uk', 'x', 'x')`,
        )
        .run();
      sqlite
        .prepare(
          `insert into users (email, role, password_hash, must_change_password, created_at, updated_at)
           values ('admin@example.org', 'admin', 'h', 0, 'x', 'x')`,
        )
        .run();
      sqlite.pragma('foreign_keys = ON');

      await migrateToLatest(db);
      expect(sqlite.prepare('select language, interface_language from signatures').get()).toEqual({
        language: 'uk',
        interface_language: 'uk',
      });
      expect(sqlite.prepare('select language from users').pluck().get()).toBe('en');
    } finally {
      await db.destroy();
    }
  });

  it('gives a signature whose interface language is not one of en, ko and uk English (or its plain language), touching no other', async () => {
    const { db, sqlite } = openDatabase(file);
    try {
      // The database as it stood before: every migration up to 11.
      await migrateTo(db, '2026-12-05T11-recipient-salutations');
      sqlite.pragma('foreign_keys = OFF');
      const stored = ['de', 'ja', 'ko', 'uk', 'en', 'ko-KR', 'kok', 'UK'];
      for (const [n, language] of stored.entries())
        sqlite
          .prepare(
            `insert into signatures (letter_id, letter_version_id, ref, status, full_name, email, email_hash, country, display, language, interface_language, created_at, updated_at)
             values (1, 1, ?, 'confirmed', 'Someone', ?, ?, 'KR', 'full', ?, ?, 'x', 'x')`,
          )
          .run(`r${n}`, `s${n}@example.org`, `h${n}`, language, language);
      sqlite.pragma('foreign_keys = ON');

      await migrateToLatest(db);
      expect(sqlite.prepare('select language, interface_language from signatures order by id').all()).toEqual(
        stored.map((language, n) => ({
          language,
          interface_language: ['en', 'en', 'ko', 'uk', 'en', 'ko', 'en', 'uk'][n],
        })),
      );
    } finally {
      await db.destroy();
    }
  });

  it('turns on foreign keys and WAL, and waits for a lock instead of failing', async () => {
    const { db, sqlite } = openDatabase(file);
    try {
      expect(sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(sqlite.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
      expect(sqlite.pragma('busy_timeout', { simple: true })).toBeGreaterThan(0);
    } finally {
      await db.destroy();
    }
  });

  it('enforces foreign keys: a signature for a letter that does not exist is refused', async () => {
    const { db } = openDatabase(file);
    try {
      await migrateToLatest(db);
      const at = new Date().toISOString();
      await expect(
        db
          .insertInto('signatures')
          .values({
            letter_id: 999,
            letter_version_id: 999,
            ref: 'r'.repeat(22),
            status: 'pending',
            full_name: 'Kim Ji-hoon',
            email: 'ji-hoon@example.org',
            email_hash: 'h',
            country: 'KR',
            display: 'full',
            language: 'en',
            city: '',
            organisation: '',
            job_title: '',
            consent_updates: 0,
            ip_hash: null,
            confirmation_sends: 0,
            created_at: at,
            updated_at: at,
          })
          .execute(),
      ).rejects.toThrow(/FOREIGN KEY/);
    } finally {
      await db.destroy();
    }
  });

  it('refuses a status outside the allowed list', async () => {
    const { db } = openDatabase(file);
    try {
      await migrateToLatest(db);
      const at = new Date().toISOString();
      await expect(
        db
          .insertInto('letters')
          .values({
            slug: 'x',
            status: 'published',
            primary_language: 'en',
            sponsor: '',
            goal: null,
            opens_at: null,
            closes_at: null,
            current_version_id: null,
            created_at: at,
            updated_at: at,
          })
          .execute(),
      ).rejects.toThrow(/CHECK/);
    } finally {
      await db.destroy();
    }
  });
});
