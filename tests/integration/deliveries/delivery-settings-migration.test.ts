import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Migrator, sql, type Migration } from 'kysely';
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

/** The schema as it was before deliveries owned their settings (the migrations up to 07). */
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
};

describe('moving delivery settings out of letters (migration 08)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'undersigned-delivery-settings-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps every existing letter's settings as they were, and drops the columns from letters", async () => {
    const { db, sqlite } = openDatabase(path.join(dir, 'undersigned.sqlite'));
    try {
      const { error } = await new Migrator({
        db,
        provider: { getMigrations: async () => BEFORE },
      }).migrateToLatest();
      expect(error).toBeUndefined();
      const at = '2026-11-20T10:00:00.000Z';
      const insert = sqlite.prepare(
        `insert into letters (slug, status, primary_language, sponsor, goal, opens_at, closes_at, current_version_id, created_at, updated_at, delivery_mode, milestone_every, deliver_at, reply_to, last_milestone)
         values (?, 'open', 'en', '', null, null, null, null, ?, ?, ?, ?, ?, ?, ?)`,
      );
      insert.run('by-default', at, at, 'closing', null, null, '', 0);
      insert.run('milestones', at, at, 'milestones', 50, null, 'office@ngo.example.org', 150);
      insert.run('scheduled', at, at, 'scheduled', null, '2026-12-24T09:00:00.000Z', '', 0);

      // 08 runs first; later migrations follow it.
      expect((await migrateToLatest(db))[0]).toBe('2026-12-05T08-delivery-settings');

      const rows = await sql<
        Record<string, unknown>
      >`select l.slug, s.mode, s.milestone_every, s.deliver_at, s.reply_to, s.last_milestone
        from delivery_settings s join letters l on l.id = s.letter_id order by l.id`.execute(db);
      expect(rows.rows).toEqual([
        // A letter that had the old default keeps it: nothing changes how an existing letter goes.
        {
          slug: 'by-default',
          mode: 'closing',
          milestone_every: null,
          deliver_at: null,
          reply_to: '',
          last_milestone: 0,
        },
        {
          slug: 'milestones',
          mode: 'milestones',
          milestone_every: 50,
          deliver_at: null,
          reply_to: 'office@ngo.example.org',
          last_milestone: 150,
        },
        {
          slug: 'scheduled',
          mode: 'scheduled',
          milestone_every: null,
          deliver_at: '2026-12-24T09:00:00.000Z',
          reply_to: '',
          last_milestone: 0,
        },
      ]);
      const columns = sqlite.prepare("select name from pragma_table_info('letters')").pluck().all();
      for (const gone of ['delivery_mode', 'milestone_every', 'deliver_at', 'reply_to', 'last_milestone'])
        expect(columns).not.toContain(gone);
      // Deleting a letter deletes its settings.
      sqlite.prepare("delete from letters where slug = 'scheduled'").run();
      expect(sqlite.prepare('select count(*) from delivery_settings').pluck().get()).toBe(2);
    } finally {
      await db.destroy();
    }
  });
});
