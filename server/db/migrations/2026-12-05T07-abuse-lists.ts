import { type Kysely } from 'kysely';

// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.
// Screening signatures for abuse: proof-of-work solutions already used (so each is accepted once;
// kept until its challenge expires), and the block and allow lists admins keep. List values are not
// personal except whole addresses, which are stored only as a keyed hash.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('proof_of_work_solutions')
    .addColumn('challenge_id', 'text', (c) => c.primaryKey())
    .addColumn('expires_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('proof_of_work_solutions_expiry')
    .on('proof_of_work_solutions')
    .column('expires_at_ms')
    .execute();

  await db.schema
    .createTable('abuse_list_entries')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    // 'block' or 'allow'.
    .addColumn('list', 'text', (c) => c.notNull())
    // 'ip' (a CIDR range), 'ip-hash' (the keyed hash of one client address, from trending sources),
    // 'domain' (an e-mail domain and its subdomains) or 'address' (keyed hash of one e-mail address).
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('note', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('abuse_list_entries_unique')
    .on('abuse_list_entries')
    .columns(['list', 'kind', 'value'])
    .unique()
    .execute();
}

// No down(): to go back, restore a backup.
