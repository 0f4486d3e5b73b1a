import { exec } from 'node:child_process';
import os from 'node:os';
import { projectRoot } from '../../server/lib/paths.js';

/** How a command line ended: its exit code (null when killed) and what it printed. */
export interface CommandRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command line in a shell in the project, as a person would type it, with only PATH, HOME and the
 * environment given (nothing of the test process's own leaks in).
 */
export function inProject(command: string, env: Record<string, string>): Promise<CommandRun> {
  return new Promise((resolve) => {
    exec(
      command,
      {
        cwd: projectRoot,
        shell: '/bin/sh',
        timeout: 120_000,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.tmpdir(), ...env },
      },
      (error, stdout, stderr) => resolve({ code: error ? (error.code ?? null) : 0, stdout, stderr }),
    );
  });
}
