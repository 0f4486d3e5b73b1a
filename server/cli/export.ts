import { once } from 'node:events';
import { fstatSync, ftruncateSync, readFileSync, writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createLogger } from '../lib/logger.js';
import { configOrExit } from '../main-support.js';
import { parseExportRequest } from '../exports/export.js';
import { OPERATOR } from '../exports/export-service.js';
import { AppError } from '../lib/errors.js';
import { wire } from '../wiring.js';

const USAGE = `Usage: npm run --silent export -- --letter <slug> --format csv|jsonl|pdf [--status confirmed,pending,...]
       [--country KR] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--consent yes|no] [--columns letter,status,...] > file`;

/**
 * Where the export goes. `npm run` prints its banner ("> undersigned@… export") on standard output
 * before this program starts, so `npm run export -- … > file` would begin with two lines that are not
 * CSV. When standard output is a file opened for writing (not appending) and something is already in
 * it, that something is npm's banner: the file is emptied and the export written from its start.
 * Through a pipe nothing can be taken back: use `npm run --silent export -- … | …` there.
 */
function standardOutput(): { write(chunk: string | Buffer): Promise<void> } {
  try {
    const info = readFileSync('/proc/self/fdinfo/1', 'utf8');
    const flags = parseInt(/flags:\s*(\d+)/.exec(info)?.[1] ?? '0', 8);
    const offset = Number(/pos:\s*(\d+)/.exec(info)?.[1] ?? '0');
    const O_APPEND = 0o2000;
    if (fstatSync(1).isFile() && !(flags & O_APPEND) && offset > 0) {
      ftruncateSync(1);
      let position = 0;
      return {
        async write(chunk) {
          const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
          // Positioned writes: the descriptor's own offset still points past the banner.
          for (let done = 0; done < buffer.length;) {
            const written = writeSync(1, buffer, done, buffer.length - done, position);
            done += written;
            position += written;
          }
        },
      };
    }
  } catch {
    // Not Linux, or no /proc: write as usual.
  }
  return {
    async write(chunk) {
      if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
    },
  };
}

/** `npm run export`: writes a signature export to standard output; the export is in the audit log. */
async function main(): Promise<number> {
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        letter: { type: 'string' },
        format: { type: 'string' },
        status: { type: 'string' },
        country: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        consent: { type: 'string' },
        columns: { type: 'string' },
      },
      strict: true,
    }));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  const split = (v: string | undefined) =>
    v
      ? v
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean)
      : [];
  const parsed = parseExportRequest({
    letter: values.letter ?? '',
    statuses: split(values.status),
    country: values.country ?? '',
    from: values.from ?? '',
    to: values.to ?? '',
    consent: values.consent ?? '',
    columns: split(values.columns),
    format: values.format ?? 'csv',
  });
  if (!parsed.ok) {
    console.error(
      `Cannot export: ${Object.entries(parsed.errors)
        .map(([field, key]) => `${field} (${key.split('.').pop()})`)
        .join(', ')}\n${USAGE}`,
    );
    return 2;
  }
  const config = configOrExit();
  // The export needs no mail: no worker, and nothing is sent.
  const platform = await wire(config, createLogger('silent'), { withWorker: false });
  try {
    const rows = await platform.exports.run(parsed.request, OPERATOR, standardOutput(), {
      via: 'command line',
    });
    console.error(`Exported ${rows} signatures.`);
    return 0;
  } catch (error) {
    if (error instanceof AppError) {
      // A sentence for the person at the terminal, and the stable code for scripts.
      console.error(`Cannot export (${error.code}): ${platform.i18n.t(error.messageKey, error.params)}`);
      return 1;
    }
    throw error;
  } finally {
    await platform.shutdown();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('The export failed:', error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
