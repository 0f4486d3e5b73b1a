import { sql, type Kysely } from 'kysely';

// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.
// Deliveries own their settings: how and when a letter goes, where replies go, and the last milestone
// reached move from `letters` to `delivery_settings`, one row per letter whose organizer chose them.
// A letter without a row delivers as the deliveries' default says (at closing when it has a way to
// close, else by hand). Every existing letter keeps the values it had, so none changes how it goes.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('delivery_settings')
    .addColumn('letter_id', 'integer', (c) => c.primaryKey().references('letters.id').onDelete('cascade'))
    .addColumn('mode', 'text', (c) =>
      c.notNull().check(sql`mode in ('closing','goal','milestones','scheduled','manual')`),
    )
    .addColumn('milestone_every', 'integer')
    .addColumn('deliver_at', 'text')
    .addColumn('reply_to', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('last_milestone', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await sql`insert into delivery_settings (letter_id, mode, milestone_every, deliver_at, reply_to, last_milestone, updated_at)
    select id, delivery_mode, milestone_every, deliver_at, reply_to, last_milestone, updated_at from letters`.execute(
    db,
  );
  // SQLite ≥ 3.35 and PostgreSQL both drop a column (with its own CHECK) in place.
  for (const column of ['delivery_mode', 'milestone_every', 'deliver_at', 'reply_to', 'last_milestone'])
    await db.schema.alterTable('letters').dropColumn(column).execute();
}

// No down(): to go back, restore a backup.
