import { Router, type RequestHandler, type Response } from 'express';
import { currentUser } from '../http/auth.js';
import { idParam, pathParam } from '../http/input.js';
import type { DeliveryDownloads, DeliveryPdf } from './delivery-downloads.js';

/** Sends a kept PDF as a download (attachment; an RFC 6266 file name, UTF-8 kept by filename*). */
function sendPdf(res: Response, pdf: DeliveryPdf): void {
  res.attachment(pdf.fileName);
  res.type('application/pdf');
  res.sendFile(pdf.file);
}

/** The delivered letter as a PDF from the public delivery record; each client address limited by `limit`. */
export function deliveryDownloadRoutes(deps: {
  downloads: DeliveryDownloads;
  limit: RequestHandler;
}): Router {
  const router = Router();
  router.get('/letters/:slug/deliveries/:round/:language.pdf', deps.limit, async (req, res) => {
    const pdf = await deps.downloads.publicPdf(
      pathParam(req, 'slug'),
      idParam(req, 'round'),
      pathParam(req, 'language'),
    );
    // Rendered again after a withdrawal or an erasure: browsers and proxies keep it only briefly.
    res.set('Cache-Control', 'public, max-age=60');
    sendPdf(res, pdf);
  });
  return router;
}

/** The same from the organizer's delivery page (mounted under /admin: logged in, no-store). */
export function deliveryDownloadAdminRoutes(deps: { downloads: DeliveryDownloads }): Router {
  const router = Router();
  router.get('/letters/:id/delivery/rounds/:round/:language.pdf', async (req, res) => {
    sendPdf(
      res,
      await deps.downloads.organizerPdf(
        currentUser(res),
        idParam(req, 'id'),
        idParam(req, 'round'),
        pathParam(req, 'language'),
      ),
    );
  });
  return router;
}
