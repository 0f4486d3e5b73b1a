import { type Kysely } from 'kysely';

// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.
// Shared by the SQLite and PostgreSQL chains: plain types and no dialect-specific SQL.
// One row per periodic job (retention, compiling rounds, pruning...): several processes on one database
// (web processes, `npm run worker`) each run a scheduler, and the row decides which of them runs the job
// this period. A process takes the lease by compare-and-set, renews it while the run goes on and gives it
// back at the end with the time the job is next due; a process that dies mid-run leaves a lease that ends.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('scheduled_job_leases')
    .addColumn('name', 'text', (c) => c.primaryKey())
    // The process running the job now (null between runs), and until when its lease holds unless renewed.
    .addColumn('leased_by', 'text')
    .addColumn('leased_until', 'text')
    // No process starts the job again before this (set when a run ends: one run per period).
    .addColumn('next_run_at', 'text')
    .addColumn('last_finished_at', 'text')
    .execute();
}

// No down(): to go back, restore a backup.
