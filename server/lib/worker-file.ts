import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread from a file next to the caller (`from`: its import.meta.url; `name`: the file
 * without extension): `name.js` in the esbuild output, run as plain JavaScript; `name.ts` under tsx and
 * vitest, loaded through tsx's loader, which the thread registers first (on Node 20 `--import tsx` in a
 * worker's execArgv is not applied).
 */
export function startWorkerFile(from: string, name: string, threadName: string, workerData: unknown): Worker {
  if (!fileURLToPath(from).endsWith('.ts'))
    return new Worker(new URL(`./${name}.js`, from), { name: threadName, workerData });
  const file = JSON.stringify(new URL(`./${name}.ts`, from).href);
  return new Worker(
    `import('tsx/esm/api').then(({ register }) => { register(); return import(${file}); });`,
    { eval: true, name: threadName, workerData },
  );
}
