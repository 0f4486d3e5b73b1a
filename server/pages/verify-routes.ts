import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Router } from 'express';
import { withLanguages } from '../http/language.js';
import { notFound } from '../lib/errors.js';
import { docsDir } from '../lib/paths.js';
import { HOW_CODE, verifyScriptTexts } from './verify-view.js';

/** The algorithm's full text changes only with a release: browsers and caches may keep it a while. */
const DOCUMENT_CACHE_CONTROL = 'public, max-age=300';

/**
 * /verify: a receipt checked in the browser (public/verify.js), never sent here; /verify/how: the
 * algorithm in the reader's language; /verify/verification.md: docs/verification.md, the algorithm in
 * full with its worked example, as plain text. None reads the database or anything of the visitor: the
 * page cache (pages/page-cache.ts) keeps the first two like the privacy notice.
 */
export function verifyRoutes(): Router {
  const router = Router();

  router.get('/verify', (req, res) =>
    res.render('pages/verify', {
      pageTitle: res.locals.t('verify.title'),
      texts: verifyScriptTexts(res.locals.t),
      howHref: withLanguages('/verify/how', req, res),
    }),
  );

  router.get('/verify/how', (req, res) =>
    res.render('pages/verify-how', {
      pageTitle: res.locals.t('verify.how.title'),
      code: HOW_CODE,
      verifyHref: withLanguages('/verify', req, res),
    }),
  );

  let document: Promise<string> | undefined;
  router.get('/verify/verification.md', async (_req, res) => {
    document ??= readFile(path.join(docsDir, 'verification.md'), 'utf8');
    let text: string;
    try {
      text = await document;
    } catch {
      // An installation without docs/: a plain 404, and the file is looked for again next time.
      document = undefined;
      throw notFound();
    }
    res.set({ 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': DOCUMENT_CACHE_CONTROL });
    res.send(text);
  });

  return router;
}
