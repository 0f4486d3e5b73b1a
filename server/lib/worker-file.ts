import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { projectRoot } from './paths.js';

/** A build of server/ (as `npm run build` makes dist/) whose threads the `.ts` sources start instead; see below. */
let builtServer: string | undefined;

/**
 * Tests only (tests/support/worker-threads-setup.ts): threads started from the `.ts` sources run their
 * files from `dir`, a build of the same sources made once for the whole test run with `npm run build`'s
 * esbuild options, as production runs dist/. Through tsx (below) a thread took ~2 s of CPU to load the
 * compile worker, against ~0.6 s from JavaScript, once per test platform that compiles a letter.
 * `undefined` goes back to tsx.
 */
export function startWorkerFilesFrom(dir: string | undefined): void {
  builtServer = dir;
}

/**
 * Starts a worker thread from a file next to the caller (`from`: its import.meta.url; `name`: the file
 * without extension): `name.js` in the esbuild output, run as plain JavaScript; `name.ts` under tsx and
 * vitest, loaded through tsx's loader, which the thread registers first (on Node 20 `--import tsx` in a
 * worker's execArgv is not applied).
 */
export function startWorkerFile(from: string, name: string, threadName: string, workerData: unknown): Worker {
  const caller = fileURLToPath(from);
  if (!caller.endsWith('.ts'))
    return new Worker(new URL(`./${name}.js`, from), { name: threadName, workerData });
  if (builtServer) {
    const built = path.join(builtServer, path.relative(projectRoot, path.dirname(caller)), `${name}.js`);
    return new Worker(built, { name: threadName, workerData });
  }
  const file = JSON.stringify(new URL(`./${name}.ts`, from).href);
  return new Worker(
    `import('tsx/esm/api').then(({ register }) => { register(); return import(${file}); });`,
    { eval: true, name: threadName, workerData },
  );
}
