import type { Executor } from '../db/database.js';
import { settingsFrom, type PlatformSettings } from './settings.js';

/** SQL for platform settings. */
export class SettingsRepository {
  constructor(private readonly db: Executor) {}

  /** The same repository bound to a transaction. */
  with(tx: Executor): SettingsRepository {
    return new SettingsRepository(tx);
  }

  async read(): Promise<PlatformSettings> {
    const rows = await this.db.selectFrom('settings').select(['key', 'value']).execute();
    return settingsFrom(new Map(rows.map((r) => [r.key, r.value])));
  }

  async write(settings: PlatformSettings, now: Date): Promise<void> {
    for (const [key, value] of Object.entries(settings)) {
      const stored = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
      await this.db
        .insertInto('settings')
        .values({ key, value: stored, updated_at: now.toISOString() })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value: stored, updated_at: now.toISOString() }))
        .execute();
    }
  }
}
