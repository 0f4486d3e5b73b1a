import { Router, type RequestHandler, type Response } from 'express';
import { pathParam } from '../http/input.js';
import { withLanguages } from '../http/language.js';
import { notFound } from '../lib/errors.js';
import { addressText, letterPath } from '../letters/text-language.js';
import type { Receipt } from './merkle.js';
import type { ReceiptService } from './receipt-service.js';

export interface ReceiptRoutesDeps {
  receipts: ReceiptService;
  linkLimit: RequestHandler;
}

/**
 * A receipt is the supporter's own: never kept by a cache, never sent on as a referrer (the token is in
 * the address), never indexed.
 */
function privateAnswer(res: Response): void {
  res.set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer', 'X-Robots-Tag': 'noindex' });
}

/**
 * The /verify page's address (`page`: with the interface language the address chose, if any) carrying a
 * receipt in its fragment, which the browser never sends to a server.
 */
export function verifyHref(receipt: Receipt, page = '/verify'): string {
  return `${page}#receipt=${Buffer.from(JSON.stringify(receipt)).toString('base64url')}`;
}

/**
 * The page behind the receipts link in a supporter's e-mails: each delivered list their signature is
 * in, with its receipt to download and to check in the browser. Only reads; a bad link is a 404 page.
 */
export function receiptRoutes(deps: ReceiptRoutesDeps): Router {
  const router = Router();

  router.get('/signatures/receipts/:token', deps.linkLimit, async (req, res) => {
    privateAnswer(res);
    const token = pathParam(req, 'token');
    const found = await deps.receipts.receiptsFor(token);
    const base = `/signatures/receipts/${encodeURIComponent(token)}`;
    res.render('commitments/receipts', {
      pageTitle: res.locals.t('commitments.receipts.title'),
      erased: found.erased,
      leftTheLetter: found.leftTheLetter,
      entries: found.entries.map((entry) => ({
        ...entry,
        kindKey: ['delivery', 'update', 'milestone'].includes(entry.kind)
          ? `commitments.receipts.kind.${entry.kind}`
          : entry.kind === 'correction'
            ? 'errata.receiptKind'
            : 'commitments.receipts.kind.other',
        downloadHref: entry.receipt ? `${base}/${entry.round}.json` : '',
        // A Korean receipts page opens the Korean check, whatever the browser prefers.
        verifyHref: entry.receipt ? verifyHref(entry.receipt, withLanguages('/verify', req, res)) : '',
      })),
      letterHref: withLanguages(letterPath(found.letterSlug), req, res, addressText(req.query)),
    });
  });

  router.get('/signatures/receipts/:token/:file', deps.linkLimit, async (req, res) => {
    privateAnswer(res);
    const match = /^([1-9][0-9]{0,9})\.json$/.exec(pathParam(req, 'file'));
    if (!match || Number(match[1]) > 2_147_483_647)
      throw notFound('receipt_not_found', 'commitments.errors.noReceipt');
    const receipt = await deps.receipts.receipt(pathParam(req, 'token'), Number(match[1]));
    res.set({
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Disposition': `attachment; filename="receipt-${receipt.letter}-round-${receipt.round}.json"`,
    });
    res.send(`${JSON.stringify(receipt, null, 2)}\n`);
  });

  return router;
}
