import { sql, type Kysely } from 'kysely';

// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.
// Shared by the SQLite and PostgreSQL chains: plain types and no dialect-specific SQL.
//
// A delivery round's audience, kept when it starts: the recipients its letter listed then (in the
// round's tiers), with the tier each was reached in. The round is compiled for those of them still
// on the list, never for one added after it started (who waits for the next round). A recipient deleted
// from the directory leaves every audience with it: there is no address left to send to.
// delivery_rounds.audience_kept: 1 for a round whose audience was kept; 0 for a test (it goes to the
// organizer) and a round still compiling when this ran, compiled from the list as before.
// Rounds compiled before this get the audience they reached: the recipients who have their letter
// (deliveries), so one reopened by an erasure is compiled again for them, not for whoever was added since.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('delivery_rounds')
    .addColumn('audience_kept', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createTable('round_audiences')
    .addColumn('round_id', 'integer', (c) => c.notNull().references('delivery_rounds.id').onDelete('cascade'))
    .addColumn('recipient_id', 'integer', (c) => c.notNull().references('recipients.id').onDelete('cascade'))
    .addColumn('tier', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('round_audiences_pk', ['round_id', 'recipient_id'])
    .execute();
  // A recipient's deletion finds its rows by this (the foreign key's cascade).
  await db.schema
    .createIndex('round_audiences_recipient')
    .on('round_audiences')
    .column('recipient_id')
    .execute();

  await keepAudiencesReached(db);
}

/** Rounds compiled before audiences were kept: the audience each reached (exported for its test). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function keepAudiencesReached(db: Kysely<any>): Promise<void> {
  await sql`
    insert into round_audiences (round_id, recipient_id, tier)
    select distinct d.delivery_round_id, d.recipient_id, coalesce(lr.tier, 1)
    from deliveries d
    join delivery_rounds r on r.id = d.delivery_round_id
    join recipients rc on rc.id = d.recipient_id
    left join letter_recipients lr on lr.letter_id = r.letter_id and lr.recipient_id = d.recipient_id
    where r.kind <> 'test' and r.status <> 'compiling'
  `.execute(db);
  await sql`update delivery_rounds set audience_kept = 1 where kind <> 'test' and status <> 'compiling'`.execute(
    db,
  );
}

// No down(): to go back, restore a backup.
