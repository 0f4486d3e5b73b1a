/**
 * A signature's status and the counters that follow it change in one place (signature-moves.ts):
 * a new call site that moved a status by hand would let the counters drift from the rows.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SERVER = join(import.meta.dirname, '../../../server');

/** Every TypeScript file of the server, relative to it. */
function serverFiles(): string[] {
  return readdirSync(SERVER, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => relative(SERVER, join(SERVER, f)));
}

/** The files that call `name(` (its definition aside). */
function callersOf(name: string): string[] {
  return serverFiles().filter((file) => {
    const source = readFileSync(join(SERVER, file), 'utf8');
    return new RegExp(`\\.${name}\\(`).test(source);
  });
}

describe('one way to move a signature', () => {
  it('has no code but signature-moves.ts change a signature’s status or the counters that follow it', () => {
    expect(serverFiles().length).toBeGreaterThan(50);
    expect(callersOf('compareAndSetStatus')).toEqual(['signatures/signature-moves.ts']);
    expect(callersOf('addToSignatureCount')).toEqual(['signatures/signature-moves.ts']);
  });

  it('has no code outside the signature repository write a status into the signatures table', () => {
    const writers = serverFiles().filter((file) =>
      /updateTable\('signatures'\)[^;]*\bstatus:/s.test(readFileSync(join(SERVER, file), 'utf8')),
    );
    expect(writers).toEqual(['signatures/signature-repository.ts']);
  });
});
