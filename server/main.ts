import type { Server } from 'node:http';
import { loadSeedLetters, loadSeedRecipients } from '../seeds/seed-loader.js';
import { createApp } from './app.js';
import { publicUrlWarning } from './config.js';
import { createLogger } from './lib/logger.js';
import { closeServer, configOrExit, mailboxNotice, onShutdownSignal } from './main-support.js';
import { wire } from './wiring.js';

/**
 * Connections the kernel may hold for the web process before it accepts them. Node's default, 511,
 * overflowed under a surge of new visitors while a turn of the event loop ran (1,338 times in one overload
 * benchmark, none with 4,096): the kernel drops such a handshake's last packet, and its client waits out
 * TCP's retransmission (a second or more) before its request is even read (issue 12). Linux caps it at
 * net.core.somaxconn (4096 on current kernels).
 */
const LISTEN_BACKLOG = 4096;

async function main(): Promise<void> {
  const config = configOrExit();
  const logger = createLogger(config.logLevel);
  const warning = publicUrlWarning(config, 'web');
  if (warning) logger.warn(warning);
  const platform = await wire(config, logger);

  if (config.seedDemo && (await platform.repositories.letters.count()) === 0) {
    const created = await loadSeedLetters(platform.db, platform.clock.now());
    await loadSeedRecipients(platform.db, platform.clock.now());
    logger.info({ letters: created.length }, 'loaded the demo letters from seeds/');
  }

  const firstAdmin = await platform.accounts.ensureFirstAdmin(config.adminEmail);
  platform.scheduler.start();

  const app = createApp(platform.appDeps);
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(config.port, config.host, LISTEN_BACKLOG, (error?: Error) =>
      error ? reject(error) : resolve(s),
    );
  });
  platform.worker?.start();
  platform.webhookWorker?.start();

  console.log(`\nUndersigned is running at ${config.publicUrl}`);
  for (const line of mailboxNotice(config, firstAdmin.kind === 'created')) console.log(line);
  if (firstAdmin.kind === 'taken') {
    console.log(
      `\nThere is no active admin, and ${config.adminEmail} (ADMIN_EMAIL) belongs to an account that is not one.`,
    );
    console.log('  Create an admin with: npm run user:create -- --email <address> --role admin\n');
  }
  if (firstAdmin.kind === 'created') {
    // Printed once, to the console only (never to the logs): it is a password.
    console.log(`\nAn admin account was created for the first start.`);
    console.log(`  Log in at ${config.publicUrl}/login`);
    console.log(`  e-mail:            ${firstAdmin.user.email}`);
    console.log(`  one-time password: ${firstAdmin.oneTimePassword}`);
    console.log(
      '  You will choose your own password at the first login. This is the only time it is shown.\n',
    );
  }
  if (!platform.worker)
    console.log('The mail worker is off here (RUN_MAIL_WORKER=false): run `npm run worker` beside it.');

  onShutdownSignal(async () => {
    // The web, the mail worker and the scheduler's jobs wind down side by side, each within its own
    // grace, so together they still end inside the stop limit; then everything else closes, the database last.
    await Promise.all([
      closeServer(server),
      platform.worker?.stop(),
      platform.webhookWorker?.stop(),
      platform.scheduler.stop(),
    ]);
    await platform.shutdown();
  }, logger);
}

main().catch((error: unknown) => {
  console.error('Undersigned could not start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
