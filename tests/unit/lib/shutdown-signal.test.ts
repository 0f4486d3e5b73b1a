import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { onShutdownSignal } from '../../../server/main-support.js';

describe('the stop signal', () => {
  const before = { SIGTERM: process.listeners('SIGTERM'), SIGINT: process.listeners('SIGINT') };
  let exits: number[];

  beforeEach(() => {
    // The forced exit after SHUTDOWN_LIMIT_MS is a timer: faked, so it never fires in the test runner.
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    exits = [];
    vi.spyOn(process, 'exit').mockImplementation(((code?: number) => {
      exits.push(code ?? 0);
    }) as typeof process.exit);
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const)
      for (const listener of process.listeners(signal))
        if (!before[signal].includes(listener)) process.removeListener(signal, listener);
    vi.restoreAllMocks();
    vi.useRealTimers();
  });

  /** A logger whose asynchronous destination finishes its writes only when the test says so. */
  function slowLogger() {
    const pending: (() => void)[] = [];
    return { logger: { flush: (done: () => void) => void pending.push(done) }, pending };
  }
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it('exits with 0 only once the log lines written before it have reached their destination', async () => {
    const { logger, pending } = slowLogger();
    onShutdownSignal(async () => undefined, logger);

    process.emit('SIGTERM');
    await settle();
    expect(pending).toHaveLength(1);
    expect(exits).toEqual([]);

    pending[0]!();
    await settle();
    expect(exits).toEqual([0]);
  });

  it('flushes the log lines too when stopping fails, then exits with 1', async () => {
    const { logger, pending } = slowLogger();
    onShutdownSignal(() => Promise.reject(new Error('database busy')), logger);

    process.emit('SIGINT');
    await settle();
    expect(exits).toEqual([]);

    pending[0]!();
    await settle();
    expect(exits).toEqual([1]);
  });
});
