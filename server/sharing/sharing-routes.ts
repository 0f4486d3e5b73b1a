import { Router, type Request, type Response } from 'express';
import { pathParam } from '../http/input.js';
import { requestedTextLanguage } from '../letters/text-language.js';
import { CARD_REDRAW_MS, type DrawnCard } from './card-renderer.js';
import type { SharingRequest, SharingService } from './sharing-service.js';

/**
 * What an SVG we serve may do when opened on its own: nothing but draw itself. No script, no style sheet,
 * no image or font from anywhere, no form, no plugin (`sandbox` as well, for browsers that run an SVG
 * document's script otherwise). Replaces the pages' policy on these answers.
 */
export const SVG_CSP = "default-src 'none'; sandbox";

/** A card is redrawn at most every CARD_REDRAW_MS: a browser or CDN may keep it that long. */
const CARD_CACHE_CONTROL = `public, max-age=${CARD_REDRAW_MS / 1000}, stale-while-revalidate=60`;
/** The site's card changes only with a new release's wording. */
const HOME_CARD_CACHE_CONTROL = 'public, max-age=3600, stale-while-revalidate=86400';
/** The badge's count moves: kept briefly, as the pages' count is. */
const BADGE_CACHE_CONTROL = 'public, max-age=5, stale-while-revalidate=30';
/** A QR code encodes a letter's address, which never changes once it is public. */
const QR_CACHE_CONTROL = 'public, max-age=86400';

function sharingRequest(req: Request, res: Response): SharingRequest {
  const { t, language } = res.locals;
  return { t, interfaceLanguage: language, textLanguage: requestedTextLanguage(req.query, language) };
}

/**
 * Images for other sites: the site's card (/card.png) that a link to the home page unfolds into; of
 * public letters, the share card (card.png) that links unfold into, the
 * count badge (badge.svg) and the QR code of the letter's link (qr.svg). All may be shown by any site
 * (Cross-Origin-Resource-Policy: cross-origin) and cached; `?lang=` and `?text=` choose their languages
 * as on the letter's page.
 */
export function sharingRoutes(deps: { sharing: SharingService }): Router {
  const router = Router();

  router.get('/card.png', async (_req, res) => {
    const { t, language } = res.locals;
    sendPng(res, await deps.sharing.homeCard({ t, interfaceLanguage: language }), HOME_CARD_CACHE_CONTROL);
  });

  router.get('/letters/:slug/card.png', async (req, res) => {
    const card = await deps.sharing.card(pathParam(req, 'slug'), sharingRequest(req, res));
    sendPng(res, card, CARD_CACHE_CONTROL);
  });

  router.get('/letters/:slug/badge.svg', async (req, res) => {
    const svg = await deps.sharing.badge(pathParam(req, 'slug'), sharingRequest(req, res));
    sendSvg(res, svg, BADGE_CACHE_CONTROL);
  });

  router.get('/letters/:slug/qr.svg', async (req, res) => {
    const svg = await deps.sharing.qr(pathParam(req, 'slug'), sharingRequest(req, res));
    sendSvg(res, svg, QR_CACHE_CONTROL);
  });

  return router;
}

function sendPng(res: Response, card: DrawnCard, cacheControl: string): void {
  res.set({
    'Content-Type': 'image/png',
    'Cache-Control': cacheControl,
    'Cross-Origin-Resource-Policy': 'cross-origin',
    ETag: card.etag,
  });
  // With the ETag set, Express answers a matching If-None-Match with 304.
  res.send(card.png);
}

function sendSvg(res: Response, svg: string, cacheControl: string): void {
  res.set({
    'Content-Type': 'image/svg+xml; charset=utf-8',
    'Cache-Control': cacheControl,
    'Content-Security-Policy': SVG_CSP,
    'Cross-Origin-Resource-Policy': 'cross-origin',
  });
  // Express answers If-None-Match with 304 from the ETag it makes of the body.
  res.send(svg);
}
