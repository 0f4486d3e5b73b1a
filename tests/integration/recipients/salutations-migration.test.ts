import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../server/db/database.js';
import { migrateTo, migrateToLatest } from '../../../server/db/migrate.js';
import { RecipientRepository } from '../../../server/recipients/recipient-repository.js';

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
      // The schema as it stood before, from the migrations up to 08.
      await migrateTo(db, '2026-12-05T08-delivery-settings');
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
