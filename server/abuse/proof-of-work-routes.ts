import { createRequire } from 'node:module';
import path from 'node:path';
import { Router, type RequestHandler } from 'express';
import { INTERFACE_LANGUAGES } from '../lib/i18n.js';
import type { ProofOfWork } from './proof-of-work.js';

export interface ProofOfWorkRoutesDeps {
  /** Undefined when verification is switched off: the form then carries no widget and no challenge is made. */
  proofOfWork: ProofOfWork | undefined;
  /** How long browsers may keep the widget's files. */
  assetMaxAge: string | number;
}

/**
 * The ALTCHA widget's files, served from our own origin straight from the installed package (no copy
 * to keep in step, no third party): its build without inline styles or blob workers, its stylesheet,
 * and the PBKDF2 worker our challenges need. The CSP stays `script-src 'self'; style-src 'self'`.
 */
const widgetDir = path.dirname(createRequire(import.meta.url).resolve('altcha/altcha.css'));
const WIDGET_FILES: Record<string, string> = {
  'altcha.js': path.join(widgetDir, 'altcha.min.js'),
  'altcha.css': path.join(widgetDir, 'altcha.css'),
  'pbkdf2-worker.js': path.join(widgetDir, '..', 'workers', 'pbkdf2.js'),
  // Its words in each interface language ("I'm not a robot"), each a module that registers them.
  ...Object.fromEntries(
    INTERFACE_LANGUAGES.map((language) => [
      `i18n-${language}.js`,
      path.join(widgetDir, '..', 'i18n', `${language}.js`),
    ]),
  ),
};

/** Tells every page whether the signing form carries the widget (res.locals.proofOfWork). */
export function proofOfWorkLocal(proofOfWork: ProofOfWork | undefined): RequestHandler {
  return (_req, res, next) => {
    res.locals.proofOfWork = proofOfWork !== undefined;
    next();
  };
}

/** The challenge endpoint and the widget's files. Public: no session, no cookie. */
export function proofOfWorkRoutes(deps: ProofOfWorkRoutesDeps): Router {
  const router = Router();

  router.get('/altcha/challenge', async (_req, res) => {
    if (!deps.proofOfWork) return res.status(404).json({ error: 'proof of work is switched off' });
    // Each challenge is good for one solution: a cached one would be a replay waiting to happen.
    res.set('Cache-Control', 'no-store');
    res.json(await deps.proofOfWork.challenge());
  });

  router.get('/assets/altcha/:file', (req, res, next) => {
    const name = req.params.file;
    if (!Object.hasOwn(WIDGET_FILES, name)) return next();
    const file = WIDGET_FILES[name]!;
    res.sendFile(file, { maxAge: deps.assetMaxAge });
  });

  return router;
}
