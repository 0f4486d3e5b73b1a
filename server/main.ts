import type { Server } from 'node:http';
import { loadSeedLetters } from '../seeds/seed-loader.js';
import { createApp } from './app.js';
import { createLogger } from './lib/logger.js';
import { configOrExit, onShutdownSignal } from './main-support.js';
import { wire } from './wiring.js';

async function main(): Promise<void> {
  const config = configOrExit();
  const logger = createLogger(config.logLevel);
  const platform = await wire(config, logger);

  if (config.seedDemo && (await platform.repositories.letters.count()) === 0) {
    const created = await loadSeedLetters(platform.db, platform.clock.now());
    logger.info({ letters: created.length }, 'loaded the demo letters from seeds/');
  }

  const app = createApp(platform.appDeps);
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(config.port, config.host, (error?: Error) => (error ? reject(error) : resolve(s)));
  });
  platform.worker?.start();

  console.log(`\nUndersigned is running at ${config.publicUrl}`);
  if (!config.smtpUrl) console.log(`Mail is captured, not sent: read it at ${config.publicUrl}/dev/mailbox`);
  if (!platform.worker) console.log('The mail worker is off here (RUN_MAIL_WORKER=false): run `npm run worker` beside it.');

  onShutdownSignal(async () => {
    // Stop accepting connections; in-flight requests finish; idle keep-alive sockets are closed now.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await closed;
    await platform.shutdown();
  });
}

main().catch((error: unknown) => {
  console.error('Undersigned could not start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
