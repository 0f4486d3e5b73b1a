import { ConfigError, loadConfig, type Config } from './config.js';

/** Loads the config or explains what is wrong with it and exits. */
export function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}

/** Runs `stop` once on SIGTERM or SIGINT, then exits; a second signal or 15 s forces the exit. */
export function onShutdownSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log(`\n${signal}: finishing requests and mail in flight, then stopping…`);
    setTimeout(() => process.exit(1), 15_000).unref();
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}

/**
 * What the console says about captured mail at start: where to read it, and that reading it needs an
 * admin's login (the first admin's one-time password is printed just below when it was made now).
 */
export function mailboxNotice(
  config: Pick<Config, 'publicUrl' | 'smtpUrl'>,
  firstAdminCreated: boolean,
): string[] {
  if (config.smtpUrl) return [];
  return [
    `Mail is captured, not sent: read it at ${config.publicUrl}/admin/mailbox`,
    firstAdminCreated
      ? '  First log in there as the admin below, with the one-time password printed for it.'
      : '  First log in there as an admin (npm run user:create -- --email <address> --role admin makes one).',
  ];
}
