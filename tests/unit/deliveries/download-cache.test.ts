import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DOWNLOAD_CACHE_MS, pruneDownloads } from '../../../server/deliveries/delivery-downloads.js';

describe('the cache of rendered PDFs of delivered letters', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a rendering no longer than an hour: a name withdrawn or erased since leaves the disk with it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'undersigned-downloads-'));
    dirs.push(dir);
    const now = Date.now();
    const written = (name: string, ageMs: number) => {
      const file = path.join(dir, name);
      writeFileSync(file, '%PDF-1.4');
      const at = (now - ageMs) / 1000;
      utimesSync(file, at, at);
    };
    written('round-3-ko-0123456789abcdef.pdf', DOWNLOAD_CACHE_MS + 1_000);
    written('round-3-uk-fedcba9876543210.pdf', 60_000);
    // Half-written by a process that died.
    written('round-4-en-0000000000000000.pdf.4242.part', DOWNLOAD_CACHE_MS * 3);
    expect(await pruneDownloads(dir, now)).toBe(2);
    expect(readdirSync(dir)).toEqual(['round-3-uk-fedcba9876543210.pdf']);
    // Nothing rendered yet on this machine: nothing to do.
    expect(await pruneDownloads(path.join(dir, 'absent'), now)).toBe(0);
  });
});
