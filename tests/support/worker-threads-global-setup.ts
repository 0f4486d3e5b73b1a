import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import type { TestProject } from 'vitest/node';
import { projectRoot } from '../../server/lib/paths.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A build of server/ the platforms' worker threads run from (see startWorkerFilesFrom). */
    workerFilesDir: string;
  }
}

/**
 * Shared by every project that lists it: one build for the run, kept on globalThis (which the projects'
 * setups share in vitest's own process), removed after the last project.
 */
interface SharedBuild {
  ready: Promise<string>;
  users: number;
}
const shared = globalThis as { undersignedWorkerBuild?: SharedBuild };

/**
 * Builds server/ once, with `npm run build`'s esbuild options, into a folder of its own under dist/ (inside
 * the checkout, so the built files find node_modules and the project root as dist/ does; a folder per run,
 * so two runs at once do not overwrite each other's files). The compile and checkpoint threads of every
 * test platform start from it instead of loading their .ts files through tsx in each thread.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const entry = (shared.undersignedWorkerBuild ??= { ready: buildServer(), users: 0 });
  entry.users += 1;
  const dir = await entry.ready;
  project.provide('workerFilesDir', dir);
  return async () => {
    entry.users -= 1;
    if (entry.users > 0) return;
    shared.undersignedWorkerBuild = undefined;
    rmSync(dir, { recursive: true, force: true });
  };
}

async function buildServer(): Promise<string> {
  const parent = path.join(projectRoot, 'dist', 'test-threads');
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(path.join(parent, 'run-'));
  try {
    await build({
      entryPoints: ['server/**/*.ts', 'seeds/**/*.ts'],
      absWorkingDir: projectRoot,
      outdir: dir,
      outbase: '.',
      platform: 'node',
      format: 'esm',
      target: 'node20',
      sourcemap: true,
      logLevel: 'warning',
    });
    return dir;
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
