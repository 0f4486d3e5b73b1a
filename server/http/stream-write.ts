import { once } from 'node:events';
import type { Response } from 'express';

/**
 * Writes a chunk of a streamed answer, waiting for a slow reader but not for one that left: throws
 * `gone` when the response is closed, before or after the write. Asked first too: a reader that left
 * while the rows were read (on PostgreSQL the read waits on the network) has closed already, and a wait
 * for its 'close' would never end.
 */
export async function writeOrWait(res: Response, chunk: string | Buffer, gone: string): Promise<void> {
  if (res.destroyed) throw new Error(gone);
  if (!res.write(chunk) && !res.destroyed) {
    // Whichever comes first, the other's listeners go: a long stream waits thousands of times.
    const waiting = new AbortController();
    try {
      await Promise.race([
        once(res, 'drain', { signal: waiting.signal }),
        once(res, 'close', { signal: waiting.signal }),
      ]);
    } finally {
      waiting.abort();
    }
  }
  if (res.destroyed) throw new Error(gone);
}
