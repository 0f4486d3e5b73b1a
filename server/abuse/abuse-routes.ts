import { Router, type RequestHandler } from 'express';
import { currentUser, requireAdmin } from '../http/auth.js';
import { formBody, idParam } from '../http/input.js';
import { NO_ABUSE_ALERT } from '../http/locals.js';
import { noticeFrom, redirectWithNotice } from '../http/notice.js';
import { parseBlockForm, parseEntryForm } from './abuse-input.js';
import type { AbuseService } from './abuse-service.js';
import {
  blockPageView,
  EMPTY_ENTRY_INPUT,
  entryView,
  listsPageView,
  trendingPageView,
} from './abuse-view.js';

export interface AbuseRoutesDeps {
  abuse: AbuseService;
  csrf: { verify: RequestHandler };
}

/** The admins' abuse pages: block and allow lists, trending sources, and the dashboard's alert. */
export function abuseRoutes(deps: AbuseRoutesDeps): Router {
  const router = Router();
  const { abuse } = deps;

  // The dashboard's alert: set here, shown by the dashboard view that the letters routes render next.
  router.get('/', async (_req, res, next) => {
    res.locals.abuseAlert = (await abuse.alert(currentUser(res))) ?? NO_ABUSE_ALERT;
    next();
  });

  router.get('/abuse', requireAdmin, async (req, res) => {
    const t = res.locals.t;
    res.render(
      'admin/abuse',
      listsPageView(t, await abuse.entries(currentUser(res)), {
        input: EMPTY_ENTRY_INPUT,
        errors: {},
        notice: noticeFrom(req, t, 'abuse.done', ['added', 'removed']),
      }),
    );
  });

  router.post('/abuse/entries', requireAdmin, deps.csrf.verify, async (req, res) => {
    const t = res.locals.t;
    const input = parseEntryForm(formBody(req.body));
    const user = currentUser(res);
    const outcome = await abuse.addEntry(user, input, req.ip);
    if (outcome.kind === 'added') return redirectWithNotice(res, '/admin/abuse', 'added');
    // Refused or asked about: the form comes back as typed, beside the lists as they are.
    const entries = await abuse.entries(user);
    if (outcome.kind === 'confirm')
      return res.render(
        'admin/abuse',
        listsPageView(t, entries, {
          input,
          errors: {},
          notice: undefined,
          confirm: { ...outcome, language: res.locals.language },
        }),
      );
    if (outcome.kind === 'duplicate')
      return res
        .status(409)
        .render(
          'admin/abuse',
          listsPageView(t, entries, { input, errors: {}, notice: t('abuse.done.duplicate') }),
        );
    const errors = Object.fromEntries(
      Object.entries(outcome.errors).map(([field, code]) => [field, `abuse.errors.${code}`]),
    );
    res.status(422).render('admin/abuse', listsPageView(t, entries, { input, errors, notice: undefined }));
  });

  router.get('/abuse/entries/:id/remove', requireAdmin, async (req, res) => {
    const t = res.locals.t;
    const entry = await abuse.entry(currentUser(res), idParam(req, 'id'));
    res.render('admin/abuse-remove', { pageTitle: t('abuse.remove.title'), entry: entryView(t, entry) });
  });

  router.post('/abuse/entries/:id/remove', requireAdmin, deps.csrf.verify, async (req, res) => {
    await abuse.removeEntry(currentUser(res), idParam(req, 'id'));
    redirectWithNotice(res, '/admin/abuse', 'removed');
  });

  router.get('/abuse/trending', requireAdmin, async (req, res) => {
    const t = res.locals.t;
    const sources = await abuse.trending(currentUser(res));
    res.set('Cache-Control', 'no-store');
    res.render(
      'admin/abuse-trending',
      trendingPageView(t, sources, noticeFrom(req, t, 'abuse.trending', ['blocked'])),
    );
  });

  // Blocking from the trending view asks first: the confirmation page repeats what will be blocked.
  router.post('/abuse/trending/block', requireAdmin, deps.csrf.verify, async (req, res) => {
    const t = res.locals.t;
    const { source, confirmed } = parseBlockForm(formBody(req.body));
    if (!confirmed) return res.render('admin/abuse-block', blockPageView(t, source, false));
    const outcome = await abuse.blockSource(currentUser(res), source);
    if (outcome.kind === 'invalid')
      return res.status(422).render('admin/abuse-block', blockPageView(t, source, true));
    redirectWithNotice(res, '/admin/abuse/trending', 'blocked');
  });

  return router;
}
