import { createLogger } from './lib/logger.js';
import { publicUrlWarning } from './config.js';
import { configOrExit, onShutdownSignal } from './main-support.js';
import { wire } from './wiring.js';

/** `npm run worker`: the mail worker alone, for running it apart from the web process. */
async function main(): Promise<void> {
  const config = configOrExit();
  const logger = createLogger(config.logLevel);
  const warning = publicUrlWarning(config, 'worker');
  if (warning) logger.warn(warning);
  const platform = await wire(config, logger, { withWorker: true });
  platform.worker!.start();
  platform.webhookWorker?.start();
  platform.scheduler.start();
  console.log('Undersigned mail worker is running. Ctrl+C stops it after the sends in flight.');
  onShutdownSignal(() => platform.shutdown(), logger);
}

main().catch((error: unknown) => {
  console.error('The mail worker could not start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
