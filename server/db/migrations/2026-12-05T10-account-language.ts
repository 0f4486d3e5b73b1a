// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.
// An account's language: the platform's e-mails to it (invitation, password reset, review notices) are
// written in it. Every account made before is in English, as its e-mails were.

import type { Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('language', 'text', (c) => c.notNull().defaultTo('en'))
    .execute();
}

// No down(): to go back, restore a backup.
