import type { User } from '../accounts/account.js';
import type { AuditRepository } from '../audit/audit-repository.js';
import type { Db } from '../db/database.js';
import type { Clock } from '../lib/clock.js';
import { authorize, can } from '../policy/policy.js';
import { controllerIsSet, type PlatformSettings } from './settings.js';
import type { SettingsRepository } from './settings-repository.js';

export interface SettingsServiceDeps {
  db: Db;
  settings: SettingsRepository;
  audit: AuditRepository;
  clock: Clock;
}

/** The platform settings page: admins read and change them; each change is in the audit log. */
export class SettingsService {
  constructor(private readonly deps: SettingsServiceDeps) {}

  /** The settings, for the admin's form. */
  async read(user: User): Promise<PlatformSettings> {
    authorize(user, 'settings.change');
    return this.deps.settings.read();
  }

  /**
   * Whether to remind this account that the data controller is not named yet: only those who may name
   * it are reminded (false for everyone else, without a read).
   */
  async controllerTodo(user: User): Promise<boolean> {
    if (!can(user, 'settings.change')) return false;
    return !controllerIsSet(await this.deps.settings.read());
  }

  /**
   * Saves the settings given (the others stay as they are), with the ones that changed (from and to) in
   * the audit log, in one transaction.
   */
  async change(user: User, change: Partial<PlatformSettings>): Promise<void> {
    authorize(user, 'settings.change');
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (tx) => {
      const settings = this.deps.settings.with(tx);
      const before = await settings.read();
      const next: PlatformSettings = { ...before, ...change };
      await settings.write(next, now);
      const changed = (Object.keys(next) as (keyof PlatformSettings)[]).filter((k) => before[k] !== next[k]);
      if (changed.length === 0) return;
      await this.deps.audit.with(tx).record(
        {
          actor: { id: user.id, email: user.email },
          action: 'settings-changed',
          targetType: 'settings',
          details: Object.fromEntries(changed.map((k) => [k, `${String(before[k])} → ${String(next[k])}`])),
        },
        now,
      );
    });
  }
}
