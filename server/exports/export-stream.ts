import type { Response } from 'express';
import type { User } from '../accounts/account.js';
import { writeOrWait } from '../http/stream-write.js';
import type { ExportRequest } from './export.js';
import type { ExportService } from './export-service.js';

/**
 * Streams an export as the answer, for every way one is read (the admin's form, a letter's supporters
 * page, the organizer API). The status and headers go out with the first byte, so anything refused or
 * failed before it throws here and is still answered as an error; a failure after it cuts the
 * connection, so the reader sees a failed transfer rather than a short list that looks whole.
 */
export async function streamExport(
  res: Response,
  exports: ExportService,
  request: ExportRequest,
  actor: User,
  how: {
    /** A file to save (Content-Disposition: attachment), not a body a program reads. */
    attachment: boolean;
    /** Recorded with the export's audit entry (how it was asked for). */
    context?: Record<string, unknown>;
  },
): Promise<void> {
  let started = false;
  const start = () => {
    started = true;
    res.status(200).set({ 'Content-Type': exports.contentType(request), 'Cache-Control': 'no-store' });
    if (how.attachment) res.set('Content-Disposition', `attachment; filename="${exports.fileName(request)}"`);
  };
  try {
    await exports.run(
      request,
      actor,
      {
        async write(chunk) {
          if (!started) start();
          // Waits for a slow reader; a reader that left ends the export (logged as unfinished).
          await writeOrWait(res, chunk, 'the reader left');
        },
      },
      how.context,
    );
  } catch (error) {
    if (!started) throw error;
    res.destroy(error instanceof Error ? error : undefined);
    return;
  }
  if (!started) start();
  res.end();
}
