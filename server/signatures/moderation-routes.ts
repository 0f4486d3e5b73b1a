import { Router, type Request, type RequestHandler, type Response } from 'express';
import { safeNextPath } from '../accounts/account.js';
import { currentUser, requireAdmin } from '../http/auth.js';
import { formBody, idParam } from '../http/input.js';
import { noticeCounts, noticeFrom, redirectWithNotice } from '../http/notice.js';
import {
  bulkAsked,
  parseBulkCriteria,
  parseBulkClearing,
  parseBulkInvalidation,
  parseErasure,
  parseInvalidation,
  parseBulkRestore,
  parseModerationSearch,
  parseRestoreCriteria,
  RESTORE_FIELDS,
} from './moderation-input.js';
import type { BulkPreview, ModerationService } from './moderation-service.js';
import {
  bulkView,
  erasureView,
  invalidationView,
  moderationListView,
  pageUrl,
  restoreView,
} from './moderation-view.js';
import type { ErasureResult, PrivacyService } from './privacy-service.js';
import { letterOptions, type LetterChoices } from '../letters/letter-choices.js';

export interface ModerationRoutesDeps {
  moderation: ModerationService;
  privacy: PrivacyService;
  /** The letters the search and the bulk criteria offer to narrow by. */
  letterChoices: LetterChoices;
  csrf: { verify: RequestHandler };
}

/** The notices the moderation list shows after a step (moderation.notices.*). */
const NOTICES = [
  'invalidated',
  'restored',
  'bulk',
  'bulkCleared',
  'bulkRestored',
  'cleared',
  'clearedConfirmed',
  'clearedTooLate',
];
const CLEARED_NOTICE = {
  confirmed: 'clearedConfirmed',
  waiting: 'cleared',
  'too-late': 'clearedTooLate',
} as const;

const LIST = '/admin/signatures';

/** Where a step on a signature comes back to: the list it was taken from, or the list. */
const returnTo = (value: unknown) => safeNextPath(value, LIST);

/** Moderation and erasure for admins: search, invalidate, restore, bulk invalidate and restore, erase a person. */
export function moderationRoutes(deps: ModerationRoutesDeps): Router {
  const router = Router();
  router.use(['/signatures', '/erasure'], requireAdmin);

  /** A page's view with the letters to choose from, the one in its letter field selected. */
  const withLetters = async <V extends { values: { letter: string } }>(res: Response, view: V) => ({
    ...view,
    letters: letterOptions(
      await deps.letterChoices(currentUser(res), res.locals.language),
      view.values.letter,
    ),
  });

  router.get('/signatures', async (req, res) => {
    const { t, language } = res.locals;
    const search = parseModerationSearch(req.query);
    // From the mount point (req.baseUrl), not the router's own path: "/signatures" alone is a 404.
    const here = `${req.baseUrl}${req.path}`;
    const result = search.ok
      ? await deps.moderation.search(currentUser(res), search.filters, search.page)
      : { rows: [], hasMore: false };
    res.status(search.ok ? 200 : 400).render(
      'admin/signatures',
      await withLetters(
        res,
        moderationListView(t, language, {
          values: search.values,
          errors: search.ok ? {} : search.errors,
          rows: result.rows,
          nextPage: result.hasMore ? pageUrl(here, search.values, search.page + 1) : null,
          // A way back, and where one is: "More" alone led on and never back.
          previousPage: search.page > 0 ? pageUrl(here, search.values, search.page - 1) : null,
          pageNumber: search.page + 1,
          returnTo: req.originalUrl,
          notice: noticeFrom(req, t, 'moderation.notices', NOTICES),
          invalidatedBatch: invalidatedBatch(req),
        }),
      ),
    );
  });

  // Invalidating one signature: a page that shows it and asks why, then the step itself.
  router.get('/signatures/:id/invalidate', async (req, res) => {
    const row = await deps.moderation.toInvalidate(currentUser(res), idParam(req, 'id'));
    res.render(
      'admin/signature-invalidate',
      invalidationView(res.locals.t, {
        row,
        reason: '',
        errors: {},
        returnTo: returnTo(req.query.return_to),
      }),
    );
  });

  router.post('/signatures/:id/invalidate', deps.csrf.verify, async (req, res) => {
    const body = formBody(req.body);
    const id = idParam(req, 'id');
    const input = parseInvalidation(body);
    if (!input.ok) {
      // Shown again with the reason as typed and what is wrong with it.
      const row = await deps.moderation.toInvalidate(currentUser(res), id);
      return res.status(400).render(
        'admin/signature-invalidate',
        invalidationView(res.locals.t, {
          row,
          reason: input.values.reason,
          errors: input.errors,
          returnTo: returnTo(body.return_to),
        }),
      );
    }
    await deps.moderation.invalidate(currentUser(res), id, input.reason);
    redirectWithNotice(res, returnTo(body.return_to), 'invalidated');
  });

  // Clearing the held ones among a bulk preview's signatures (a household or an event on one connection);
  // before /signatures/:id/clear, which would take "bulk" for an id.
  router.post('/signatures/bulk/clear', deps.csrf.verify, async (req, res) => {
    const { criteria, expected } = parseBulkClearing(formBody(req.body));
    const view = (preview: BulkPreview | undefined, changed = false) =>
      withLetters(
        res,
        bulkView(res.locals.t, {
          values: criteria.values,
          reason: '',
          errors: criteria.ok ? {} : criteria.errors,
          preview,
          changed,
        }),
      );
    if (!criteria.ok) return res.status(400).render('admin/signatures-bulk', await view(undefined));
    const outcome = await deps.moderation.clearBulk(currentUser(res), criteria.criteria, expected);
    if (outcome.kind === 'changed')
      return res.status(409).render('admin/signatures-bulk', await view(outcome.preview, true));
    redirectWithNotice(res, LIST, 'bulkCleared', { count: outcome.count, confirmed: outcome.confirmed });
  });

  // Restoring in bulk what was invalidated: the same criteria, or the reason or bulk invalidation they
  // were invalidated by; a preview, then a confirmation that names the number. Before
  // /signatures/:id/restore, which would take "bulk" for an id.
  router.get('/signatures/bulk/restore', async (req, res) => {
    const input = parseRestoreCriteria(req.query);
    const asked = bulkAsked(req.query, RESTORE_FIELDS);
    const preview =
      asked && input.ok ? await deps.moderation.previewRestore(currentUser(res), input.criteria) : undefined;
    res.status(asked && !input.ok ? 400 : 200).render(
      'admin/signatures-bulk-restore',
      await withLetters(
        res,
        restoreView(res.locals.t, {
          values: input.values,
          errors: asked && !input.ok ? input.errors : {},
          preview,
        }),
      ),
    );
  });

  router.post('/signatures/bulk/restore', deps.csrf.verify, async (req, res) => {
    const { criteria, expected } = parseBulkRestore(formBody(req.body));
    const view = (preview: BulkPreview | undefined, changed = false) =>
      withLetters(
        res,
        restoreView(res.locals.t, {
          values: criteria.values,
          errors: criteria.ok ? {} : criteria.errors,
          preview,
          changed,
        }),
      );
    if (!criteria.ok) return res.status(400).render('admin/signatures-bulk-restore', await view(undefined));
    const outcome = await deps.moderation.restoreBulk(currentUser(res), criteria.criteria, expected);
    if (outcome.kind === 'changed')
      return res.status(409).render('admin/signatures-bulk-restore', await view(outcome.preview, true));
    redirectWithNotice(res, LIST, 'bulkRestored', { count: outcome.count });
  });

  router.post('/signatures/:id/clear', deps.csrf.verify, async (req, res) => {
    const { outcome } = await deps.moderation.clearSuspect(currentUser(res), idParam(req, 'id'));
    redirectWithNotice(res, returnTo(formBody(req.body).return_to), CLEARED_NOTICE[outcome]);
  });

  router.post('/signatures/:id/restore', deps.csrf.verify, async (req, res) => {
    await deps.moderation.restore(currentUser(res), idParam(req, 'id'));
    redirectWithNotice(res, returnTo(formBody(req.body).return_to), 'restored');
  });

  // Bulk invalidation: a preview of what will change (how many, and the first of them), then a
  // confirmation that names that number and gives the reason.
  router.get('/signatures/bulk', async (req, res) => {
    // The first visit shows the empty form; errors only once something was asked.
    const input = parseBulkCriteria(req.query);
    const asked = bulkAsked(req.query);
    const preview =
      asked && input.ok ? await deps.moderation.previewBulk(currentUser(res), input.criteria) : undefined;
    res.status(asked && !input.ok ? 400 : 200).render(
      'admin/signatures-bulk',
      await withLetters(
        res,
        bulkView(res.locals.t, {
          values: input.values,
          reason: '',
          errors: asked && !input.ok ? input.errors : {},
          preview,
        }),
      ),
    );
  });

  router.post('/signatures/bulk', deps.csrf.verify, async (req, res) => {
    const { t } = res.locals;
    const input = parseBulkInvalidation(formBody(req.body));
    const { criteria, reason } = input;
    if (!criteria.ok) {
      return res.status(400).render(
        'admin/signatures-bulk',
        await withLetters(
          res,
          bulkView(t, {
            values: criteria.values,
            reason: input.values.reason,
            errors: criteria.errors,
            preview: undefined,
          }),
        ),
      );
    }
    if (!reason.ok) {
      // The preview again, with the reason as typed and what is wrong with it.
      const preview = await deps.moderation.previewBulk(currentUser(res), criteria.criteria);
      return res.status(400).render(
        'admin/signatures-bulk',
        await withLetters(
          res,
          bulkView(t, {
            values: criteria.values,
            reason: input.values.reason,
            errors: reason.errors,
            preview,
          }),
        ),
      );
    }
    const outcome = await deps.moderation.invalidateBulk(
      currentUser(res),
      criteria.criteria,
      reason.reason,
      input.expected,
    );
    if (outcome.kind === 'changed') {
      return res.status(409).render(
        'admin/signatures-bulk',
        await withLetters(
          res,
          bulkView(t, {
            values: criteria.values,
            reason: reason.reason,
            errors: {},
            preview: outcome.preview,
            changed: true,
          }),
        ),
      );
    }
    redirectWithNotice(res, LIST, 'bulk', { count: outcome.count, batch: outcome.batch });
  });

  router.get('/erasure', (req, res) =>
    res.render(
      'admin/erasure',
      erasureView(res.locals.t, { email: '', errors: {}, result: erasureDone(req) }),
    ),
  );

  router.post('/erasure', deps.csrf.verify, async (req, res) => {
    const input = parseErasure(formBody(req.body));
    if (!input.ok) {
      return res
        .status(input.status)
        .render(
          'admin/erasure',
          erasureView(res.locals.t, { email: input.values.email, errors: input.errors, result: null }),
        );
    }
    const result = await deps.privacy.erase(input.email, currentUser(res));
    // Redirected, so reloading the result does not post the erasure again; the counts are all it shows.
    redirectWithNotice(res, '/admin/erasure', 'erased', {
      signatures: result.signatures,
      messages: result.messages,
      letters: result.letters,
      files: result.mailboxFiles,
    });
  });

  return router;
}

/** The bulk invalidation the list was redirected to after (its audit entry and count), or null. */
function invalidatedBatch(req: Request): { batch: number; count: number } | null {
  const done = noticeCounts(req, 'bulk');
  return done?.batch && done.count ? { batch: done.batch, count: done.count } : null;
}

/** The counts an erasure redirected with, or null when the page is not its result. */
function erasureDone(req: Request): ErasureResult | null {
  const counts = noticeCounts(req, 'erased');
  if (!counts) return null;
  return {
    signatures: counts.signatures ?? 0,
    messages: counts.messages ?? 0,
    letters: counts.letters ?? 0,
    mailboxFiles: counts.files ?? 0,
  };
}
