import type { Executor } from '../db/database.js';
import type { AbuseKind, AbuseList, AbuseListEntry } from './abuse-list.js';

type EntryRow = {
  id: number;
  list: string;
  kind: string;
  value: string;
  note: string;
  created_by: number | null;
  created_at: string;
};

function toEntry(row: EntryRow): AbuseListEntry {
  return {
    id: row.id,
    list: row.list as AbuseList,
    kind: row.kind as AbuseKind,
    value: row.value,
    note: row.note,
    createdBy: row.created_by,
    createdAt: new Date(row.created_at),
  };
}

/** SQL for the block and allow lists. */
export class AbuseListRepository {
  constructor(private readonly db: Executor) {}

  with(tx: Executor): AbuseListRepository {
    return new AbuseListRepository(tx);
  }

  /** Every entry of both lists, newest first. The lists are short (admins type them in one by one). */
  async all(): Promise<AbuseListEntry[]> {
    const rows = await this.db.selectFrom('abuse_list_entries').selectAll().orderBy('id', 'desc').execute();
    return rows.map(toEntry);
  }

  async findById(id: number): Promise<AbuseListEntry | undefined> {
    const row = await this.db
      .selectFrom('abuse_list_entries')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toEntry(row) : undefined;
  }

  /** Adds an entry; undefined when the same value is already on that list. */
  async add(
    entry: { list: AbuseList; kind: AbuseKind; value: string; note: string; createdBy: number | null },
    now: Date,
  ): Promise<AbuseListEntry | undefined> {
    const row = await this.db
      .insertInto('abuse_list_entries')
      .values({
        list: entry.list,
        kind: entry.kind,
        value: entry.value,
        note: entry.note,
        created_by: entry.createdBy,
        created_at: now.toISOString(),
      })
      .onConflict((oc) => oc.columns(['list', 'kind', 'value']).doNothing())
      .returningAll()
      .executeTakeFirst();
    return row ? toEntry(row) : undefined;
  }

  /** Removes an entry; whether it was there. */
  async remove(id: number): Promise<boolean> {
    const result = await this.db.deleteFrom('abuse_list_entries').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
