import { parseArgs } from 'node:util';
import { AccountService } from '../accounts/account-service.js';
import { AuditRepository } from '../audit/audit-repository.js';
import { ROLES, type Role } from '../accounts/account.js';
import { LoginThrottleRepository } from '../accounts/login-throttle-repository.js';
import { SessionRepository } from '../accounts/session-repository.js';
import { UserRepository } from '../accounts/user-repository.js';
import { openDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { systemClock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import { configOrExit } from '../main-support.js';
import { resolveSecret } from '../wiring.js';

const USAGE = 'Usage: npm run user:create -- --email <address> --role <admin|organizer>';

/** `npm run user:create`: creates an account and prints its one-time password. */
async function main(): Promise<number> {
  let values: { email?: string | undefined; role?: string | undefined };
  try {
    ({ values } = parseArgs({
      options: { email: { type: 'string' }, role: { type: 'string' } },
      strict: true,
    }));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  if (!values.email || !values.role || !(ROLES as readonly string[]).includes(values.role)) {
    console.error(USAGE);
    return 2;
  }
  const config = configOrExit();
  const database = openDatabase(config.database);
  const { db } = database;
  try {
    await migrateToLatest(db);
    const accounts = new AccountService({
      db,
      audit: new AuditRepository(db),
      users: new UserRepository(db),
      throttles: new LoginThrottleRepository(db),
      sessions: new SessionRepository(db),
      clock: systemClock,
      secret: resolveSecret(config),
    });
    const { user, oneTimePassword } = await accounts.createUser(values.email, values.role as Role);
    console.log(`Created ${user.role} ${user.email}.`);
    console.log(`One-time password: ${oneTimePassword}`);
    console.log(`Log in at ${config.publicUrl}/login; a new password is chosen at the first login.`);
    return 0;
  } catch (error) {
    if (error instanceof AppError) {
      console.error(
        error.code === 'account_exists'
          ? `An account with the address ${values.email} already exists.`
          : `The address ${values.email} is not valid.`,
      );
      return 1;
    }
    throw error;
  } finally {
    await database.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('Could not create the account:', error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
