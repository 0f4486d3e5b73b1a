import type { Executor } from '../db/database.js';

/** A CSV file between its preview and its confirmation. */
export interface StagedImport {
  id: string;
  userId: number;
  fileName: string;
  source: string;
  createdAt: Date;
}

/** SQL for staged recipient imports. */
export class RecipientImportRepository {
  constructor(private readonly db: Executor) {}

  with(tx: Executor): RecipientImportRepository {
    return new RecipientImportRepository(tx);
  }

  async stage(entry: StagedImport): Promise<void> {
    await this.db
      .insertInto('recipient_imports')
      .values({
        id: entry.id,
        user_id: entry.userId,
        file_name: entry.fileName,
        source: entry.source,
        created_at: entry.createdAt.toISOString(),
      })
      .execute();
  }

  async find(id: string): Promise<StagedImport | undefined> {
    const row = await this.db
      .selectFrom('recipient_imports')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row
      ? {
          id: row.id,
          userId: row.user_id,
          fileName: row.file_name,
          source: row.source,
          createdAt: new Date(row.created_at),
        }
      : undefined;
  }

  /** Removes a staged import; returns whether it was still there (a second confirmation finds nothing). */
  async remove(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('recipient_imports').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  async pruneOlderThan(before: Date): Promise<number> {
    const result = await this.db
      .deleteFrom('recipient_imports')
      .where('created_at', '<', before.toISOString())
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
