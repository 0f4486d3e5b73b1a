import { sql, type Kysely } from 'kysely';

// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.
// Migration 09 gave every signature made before it its text's language as its interface language, and
// signing did the same for a caller that gave none. A text may be in a language the interface does not
// have (German, Japanese…): e-mails to such a supporter came with English words but that language's
// number and date formats, and links asking for it. The interface languages are en, ko and uk (as
// INTERFACE_LANGUAGES says today; copied, not imported); any other value becomes English, the default.
// A regional tag ("ko-KR") becomes its plain language when that is one of them.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    update signatures
    set interface_language = case
      when lower(substr(interface_language, 1, 2)) in ('en', 'ko', 'uk')
        and (length(interface_language) = 2 or substr(interface_language, 3, 1) in ('-', '_'))
        then lower(substr(interface_language, 1, 2))
      else 'en'
    end
    where interface_language not in ('en', 'ko', 'uk')`.execute(db);
}

// No down(): to go back, restore a backup.
