import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Migrator, type Migration } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../server/db/database.js';
import { migrateToLatest } from '../../../server/db/migrate.js';
import * as initial from '../../../server/db/migrations/2026-11-23-initial.js';
import * as accounts from '../../../server/db/migrations/2026-11-23T14-accounts-and-letter-editing.js';
import * as deliveries from '../../../server/db/migrations/2026-11-23T16-deliveries.js';
import * as signerData from '../../../server/db/migrations/2026-11-23T18-signer-data.js';
import * as auditNoReplace from '../../../server/db/migrations/2026-11-23T20-audit-log-no-replace.js';
import * as outboxContents from '../../../server/db/migrations/2026-11-23T21-outbox-contents.js';
import * as outboxSentDigest from '../../../server/db/migrations/2026-12-05T02-outbox-sent-digest.js';
import * as pendingLetterChanges from '../../../server/db/migrations/2026-12-05T03-pending-letter-changes.js';
import * as loginThrottles from '../../../server/db/migrations/2026-12-05T04-login-throttles-per-client-and-password-reset.js';
import * as roundFailure from '../../../server/db/migrations/2026-12-05T05-delivery-round-failure.js';
import * as signingLimits from '../../../server/db/migrations/2026-12-05T06-signing-limits.js';
import * as abuseLists from '../../../server/db/migrations/2026-12-05T07-abuse-lists.js';
import * as deliverySettings from '../../../server/db/migrations/2026-12-05T08-delivery-settings.js';
import { RecipientRepository } from '../../../server/recipients/recipient-repository.js';

/** The schema as it was before salutations were kept per language (the migrations up to 08). */
const BEFORE: Record<string, Migration> = {
  '2026-11-23-initial': initial,
  '2026-11-23T14-accounts-and-letter-editing': accounts,
  '2026-11-23T16-deliveries': deliveries,
  '2026-11-23T18-signer-data': signerData,
  '2026-11-23T20-audit-log-no-replace': auditNoReplace,
  '2026-11-23T21-outbox-contents': outboxContents,
  '2026-12-05T02-outbox-sent-digest': outboxSentDigest,
  '2026-12-05T03-pending-letter-changes': pendingLetterChanges,
  '2026-12-05T04-login-throttles-per-client-and-password-reset': loginThrottles,
  '2026-12-05T05-delivery-round-failure': roundFailure,
  '2026-12-05T06-signing-limits': signingLimits,
  '2026-12-05T07-abuse-lists': abuseLists,
  '2026-12-05T08-delivery-settings': deliverySettings,
};

describe('keeping salutations per language (migration 11)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'undersigned-salutations-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("copies each recipient's salutation under their own language, and drops the old column", async () => {
    const { db, sqlite } = openDatabase(path.join(dir, 'undersigned.sqlite'));
    try {
      const { error } = await new Migrator({
        db,
        provider: { getMigrations: async () => BEFORE },
      }).migrateToLatest();
      expect(error).toBeUndefined();
      const insert = sqlite.prepare(
        `insert into recipients (name, title, organisation, country, email, language, salutation, notes, created_at)
         values (?, '', '', null, ?, ?, ?, '', '2026-11-20T10:00:00.000Z')`,
      );
      insert.run('Ministry of Unification', 'minister@unification.example.org', 'ko', '존경하는 장관님께');
      insert.run('UNHCR', 'unhcr@example.org', 'en', 'Dear High Commissioner');
      insert.run('MFA of Ukraine', 'mfa@example.org', 'uk', 'Шановний пане Міністре');

      const applied = await migrateToLatest(db);
      expect(applied).toContain('2026-12-05T11-recipient-salutations');

      expect(
        sqlite
          .prepare(
            `select r.email, s.language, s.salutation from recipient_salutations s
             join recipients r on r.id = s.recipient_id order by r.id, s.language`,
          )
          .all(),
      ).toEqual([
        { email: 'minister@unification.example.org', language: 'ko', salutation: '존경하는 장관님께' },
        { email: 'unhcr@example.org', language: 'en', salutation: 'Dear High Commissioner' },
        { email: 'mfa@example.org', language: 'uk', salutation: 'Шановний пане Міністре' },
      ]);
      const columns = sqlite.prepare("select name from pragma_table_info('recipients')").pluck().all();
      expect(columns).not.toContain('salutation');
      // The directory reads them back as before, in the recipient's own language.
      expect(await new RecipientRepository(db).findByEmail('minister@unification.example.org')).toMatchObject(
        {
          language: 'ko',
          salutation: '존경하는 장관님께',
          salutations: { ko: '존경하는 장관님께' },
        },
      );
    } finally {
      await db.destroy();
    }
  });

  it("forgets a recipient's salutations with the recipient, and keeps one per language", async () => {
    const { db, sqlite } = openDatabase(path.join(dir, 'undersigned.sqlite'));
    try {
      await migrateToLatest(db);
      const recipients = new RecipientRepository(db);
      const id = await db.transaction().execute((tx) =>
        recipients.with(tx).findOrCreate(
          {
            name: 'Embassy',
            title: '',
            organisation: '',
            country: null,
            email: 'embassy@example.org',
            language: 'en',
            salutation: 'Your Excellency',
            salutations: { ko: '존경하는 대사님께' },
          },
          new Date('2026-12-05T10:00:00.000Z'),
        ),
      );
      expect(() =>
        sqlite
          .prepare(
            "insert into recipient_salutations (recipient_id, language, salutation) values (?, 'ko', 'x')",
          )
          .run(id),
      ).toThrow(/UNIQUE|PRIMARY KEY/);
      expect(await recipients.deleteUnused(id)).toBe(true);
      expect(sqlite.prepare('select count(*) from recipient_salutations').pluck().get()).toBe(0);
    } finally {
      await db.destroy();
    }
  });
});
