import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.
// Shared by the SQLite and PostgreSQL chains; ids branch on the adapter (identity on PostgreSQL,
// autoincrement on SQLite), as the earlier shared migrations do.
//
// Escalation on no reply (issue 15 §4):
// letter_recipients.tier: 1 embassy, 2 ministry, 3 head of state; every recipient starts at 1.
// delivery_rounds.tier_from/tier_to: the tiers of recipients a round goes to; both null (every round before
// this, and every round of a letter without a schedule): all of the letter's recipients.
// escalation_schedules: a letter's "no reply within N days" (one row per letter; no row, no escalation).
// escalation_steps: each planned step from one tier to the next, planned when a round first reaches the
// lower tier (tier_reached_at), due N days later; pending until it fires (sent, with its round) or is
// cancelled (by the organizer, by a reply, by the schedule's removal). One step per letter and tier.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const id = (c: any) =>
    postgres ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement();

  await db.schema
    .alterTable('letter_recipients')
    .addColumn('tier', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(1)
        .check(sql`tier between 1 and 3`),
    )
    .execute();
  await db.schema.alterTable('delivery_rounds').addColumn('tier_from', 'integer').execute();
  await db.schema.alterTable('delivery_rounds').addColumn('tier_to', 'integer').execute();

  await db.schema
    .createTable('escalation_schedules')
    .addColumn('letter_id', 'integer', (c) => c.primaryKey().references('letters.id').onDelete('cascade'))
    .addColumn('days_without_reply', 'integer', (c) =>
      c.notNull().check(sql`days_without_reply between 1 and 90`),
    )
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .execute();

  await db.schema
    .createTable('escalation_steps')
    .addColumn('id', 'integer', id)
    .addColumn('letter_id', 'integer', (c) => c.notNull().references('letters.id').onDelete('cascade'))
    .addColumn('from_tier', 'integer', (c) => c.notNull().check(sql`from_tier between 1 and 3`))
    .addColumn('to_tier', 'integer', (c) => c.notNull().check(sql`to_tier between 1 and 3`))
    // The round that first reached from_tier, and when: replies are counted from then.
    .addColumn('basis_round_id', 'integer', (c) => c.references('delivery_rounds.id').onDelete('set null'))
    .addColumn('tier_reached_at', 'text', (c) => c.notNull())
    .addColumn('days_without_reply', 'integer', (c) => c.notNull())
    .addColumn('due_at', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending','sent','cancelled')`))
    // The round that sent the letter to to_tier, once sent.
    .addColumn('round_id', 'integer', (c) => c.references('delivery_rounds.id').onDelete('set null'))
    // Why a step was cancelled: 'organizer', 'replied', 'schedule-removed', 'no-recipients'.
    .addColumn('cancel_reason', 'text')
    .addColumn('cancelled_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('decided_at', 'text')
    .execute();
  await db.schema
    .createIndex('escalation_steps_letter_tier')
    .on('escalation_steps')
    .columns(['letter_id', 'from_tier'])
    .unique()
    .execute();
  await db.schema
    .createIndex('escalation_steps_status_due')
    .on('escalation_steps')
    .columns(['status', 'due_at'])
    .execute();
  await db.schema.createIndex('escalation_steps_round').on('escalation_steps').column('round_id').execute();
}

// No down(): to go back, restore a backup.
