import { type Kysely } from 'kysely';

// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.
// Shared by the SQLite and PostgreSQL chains: plain types and no dialect-specific SQL.
//
// Errata (issue 15 §5): when a listed signature's person is erased on request, each leaf that listed it
// records when (round_leaves.erased_at), in the erasing transaction, before the leaf is unlinked. A leaf
// that is unlinked without it (a signature already anonymised when its round was listed, or anonymised
// by the retention job) still counts: the platform keeps counting those signatures without their person.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('round_leaves').addColumn('erased_at', 'text').execute();
}

// No down(): to go back, restore a backup.
