import { sql, type Kysely } from 'kysely';

// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.
// Shared by the SQLite and PostgreSQL chains: plain types and SQL both accept.
//
// A signature whose supporter chose not to be shown (or who was erased) no longer adds to its letter's
// public figures by country: one hidden signer from a country nobody named comes from stood out there
// ("North Korea: 1"). The counters are recounted from the rows by the new rule: confirmed signatures
// shown with their country. The letters' totals do not change.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await sql`delete from letter_country_counts`.execute(db);
  await sql`
    insert into letter_country_counts (letter_id, country, count)
    select letter_id, country, count(*) from signatures
    where status = 'confirmed' and display <> 'hidden' and letter_id in (select id from letters)
    group by letter_id, country
  `.execute(db);
}

// No down(): to go back, restore a backup.
