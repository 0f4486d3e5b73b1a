import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../server/db/database.js';
import { migrateTo, migrateToLatest } from '../../../server/db/migrate.js';

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
      // The schema as it stood before, from the migrations up to 07.
      await migrateTo(db, '2026-12-05T07-abuse-lists');
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
