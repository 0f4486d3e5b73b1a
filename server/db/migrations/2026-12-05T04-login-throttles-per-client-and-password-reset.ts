import { sql, type Kysely } from 'kysely';

// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.
// Login throttles were keyed by the address tried alone, so anyone could lock any account out. They
// are now kept per (account, client address) pair, per account and per client address, each as a keyed
// hash; `account_hash` ties the pair and account rows to the address, so an admin can unlock it.
// Password reset links: a keyed hash of the one link an account has, when it expires and when it was
// used (so a used link can say so).

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('login_throttles').addColumn('account_hash', 'text').execute();
  await db.schema
    .createIndex('login_throttles_account')
    .on('login_throttles')
    .column('account_hash')
    .execute();
  // Rows keyed the old way can never be found again; they would only wait a day to be pruned.
  await sql`delete from login_throttles`.execute(db);

  await db.schema.alterTable('users').addColumn('reset_token_hash', 'text').execute();
  await db.schema.alterTable('users').addColumn('reset_expires_at', 'text').execute();
  await db.schema.alterTable('users').addColumn('reset_used_at', 'text').execute();
  await db.schema.createIndex('users_reset_token').on('users').column('reset_token_hash').unique().execute();
}

// No down(): the old throttle keys cannot be rebuilt from the new ones.
