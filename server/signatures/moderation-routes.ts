import { Router, type Request, type RequestHandler, type Response } from 'express';
import { safeNextPath } from '../accounts/account.js';
import { currentUser, requireAdmin } from '../http/auth.js';
import { formBody, formText, idParam, queryText, translatedErrors } from '../http/input.js';
import { countryOptions, isCountryCode } from '../lib/countries.js';
import { DAY_MS, parseUtcDay, parseUtcMinute } from '../lib/dates.js';
import { looksLikeEmailAddress } from '../lib/email-address.js';
import type { ModerationService } from './moderation-service.js';
import type { PrivacyService } from './privacy-service.js';
import { SIGNATURE_STATUSES, type SignatureStatus } from './signature.js';
import type { BulkCriteria, ModerationFilters } from './signature-repository.js';

export interface ModerationRoutesDeps {
  moderation: ModerationService;
  privacy: PrivacyService;
  csrf: { verify: RequestHandler };
}

const query = queryText;

/** A day (start of it, UTC) or a date and time (UTC) from a form; undefined when empty; null when malformed. */
function moment(value: string, endOfDay = false): Date | undefined | null {
  if (value.trim() === '') return undefined;
  const day = parseUtcDay(value);
  if (day) return endOfDay ? new Date(day.getTime() + DAY_MS) : day;
  return parseUtcMinute(value) ?? null;
}

/** Reads the search filters; a malformed one is reported rather than ignored. */
function filtersOf(req: Request): { filters: ModerationFilters; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const status = query(req, 'status');
  if (status && !(SIGNATURE_STATUSES as readonly string[]).includes(status))
    errors.status = 'moderation.errors.status';
  const country = query(req, 'country').toUpperCase();
  if (country && !isCountryCode(country)) errors.country = 'moderation.errors.country';
  const from = moment(query(req, 'from'));
  const to = moment(query(req, 'to'), true);
  if (from === null) errors.from = 'moderation.errors.date';
  if (to === null) errors.to = 'moderation.errors.date';
  const letter = query(req, 'letter').trim();
  if (letter && !/^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(letter)) errors.letter = 'moderation.errors.letter';
  const flag = query(req, 'flag');
  if (flag && !(FLAGS as readonly string[]).includes(flag)) errors.flag = 'moderation.screening.errors.flag';
  return {
    errors,
    filters: {
      letter: letter || undefined,
      status: (status || undefined) as SignatureStatus | undefined,
      name: query(req, 'name').trim() || undefined,
      email: query(req, 'email').trim() || undefined,
      country: country || undefined,
      ipHash: query(req, 'ip').trim() || undefined,
      flag: (flag || undefined) as ModerationFilters['flag'],
      from: from ?? undefined,
      to: to ?? undefined,
    },
  };
}

/** The screening filters: signatures silenced (suspect) or flagged for review. */
const FLAGS = ['suspect', 'review'] as const;

/** The search fields, in the order the form and the "more" link carry them. */
const SEARCH_FIELDS = ['letter', 'status', 'flag', 'name', 'email', 'country', 'ip', 'from', 'to'] as const;

function criteriaOf(source: (name: string) => string): {
  criteria: BulkCriteria;
  errors: Record<string, string>;
} {
  const errors: Record<string, string> = {};
  const from = moment(source('from'));
  const to = moment(source('to'), true);
  if (from === null) errors.from = 'moderation.errors.date';
  if (to === null) errors.to = 'moderation.errors.date';
  const criteria: BulkCriteria = {
    letter: source('letter').trim() || undefined,
    ipHash: source('ip').trim() || undefined,
    emailDomain: source('domain').trim().toLowerCase().replace(/^@/, '') || undefined,
    from: from ?? undefined,
    to: to ?? undefined,
  };
  if (criteria.emailDomain && !/^[a-z0-9.-]+\.[a-z]{2,}$/.test(criteria.emailDomain))
    errors.domain = 'moderation.errors.domain';
  // A bulk action needs something that narrows it: an IP hash, a domain, or a time window.
  if (!criteria.ipHash && !criteria.emailDomain && !(criteria.from && criteria.to))
    errors.criteria = 'moderation.errors.criteria';
  return { criteria, errors };
}

function translate(res: Response, errors: Record<string, string>) {
  const { errors: messages, errorList: list } = translatedErrors(res.locals.t, errors);
  return { messages, list };
}

/** Moderation and erasure for admins: search, invalidate, restore, bulk invalidate, erase a person. */
export function moderationRoutes(deps: ModerationRoutesDeps): Router {
  const router = Router();
  router.use(['/signatures', '/erasure'], requireAdmin);

  router.get('/signatures', async (req, res) => {
    const { filters, errors } = filtersOf(req);
    const page = Math.max(0, Math.min(10_000, Number.parseInt(query(req, 'page') || '0', 10) || 0));
    const t = res.locals.t;
    const shown = translate(res, errors);
    const result =
      Object.keys(errors).length === 0
        ? await deps.moderation.search(currentUser(res), filters, page)
        : { rows: [], hasMore: false };
    const here = req.originalUrl;
    res.status(Object.keys(errors).length > 0 ? 400 : 200).render('admin/signatures', {
      titleKey: 'moderation.title',
      values: {
        ...Object.fromEntries(SEARCH_FIELDS.map((k) => [k, query(req, k)])),
      },
      errors: shown.messages,
      errorList: shown.list,
      statuses: SIGNATURE_STATUSES.map((s) => ({
        status: s,
        selected: s === query(req, 'status'),
        label: t(`exports.statuses.${s}`),
      })),
      flags: FLAGS.map((f) => ({
        flag: f,
        selected: f === query(req, 'flag'),
        label: t(`moderation.screening.${f}`),
      })),
      countries: countryOptions(res.locals.language).map((c) => ({
        ...c,
        selected: c.code === query(req, 'country').toUpperCase(),
      })),
      rows: result.rows.map((r) => ({
        ...r,
        ipShort: r.ipHash ? `${r.ipHash.slice(0, 10)}…` : '',
        statusLabel: t(`exports.statuses.${r.status}`),
        suspectLabels: r.suspectReasons.map((code) => t(`limitsSigning.reasons.${code}`)),
        reviewLabels: r.reviewReasons.map((code) => t(`limitsSigning.reasons.${code}`)),
        suspect: r.suspectReasons.length > 0,
      })),
      page,
      // From the mount point (req.baseUrl), not the router's own path: "/signatures" alone is a 404.
      nextPage: result.hasMore
        ? `${req.baseUrl}${req.path}?${new URLSearchParams([
            ...SEARCH_FIELDS.map((k): [string, string] => [k, query(req, k)]).filter(([, v]) => v !== ''),
            ['page', String(page + 1)],
          ]).toString()}`
        : undefined,
      returnTo: here,
      notice:
        typeof req.query.done === 'string' && ['invalidated', 'restored', 'bulk'].includes(req.query.done)
          ? t(`moderation.notices.${req.query.done}`, { count: Number(query(req, 'count')) || 0 })
          : req.query.done === 'cleared' || req.query.done === 'clearedConfirmed'
            ? t(`moderation.screening.${req.query.done}`)
            : undefined,
    });
  });

  router.post('/signatures/:id/invalidate', deps.csrf.verify, async (req, res) => {
    const body = formBody(req.body);
    await deps.moderation.invalidate(
      currentUser(res),
      idParam(req, 'id'),
      formText(body, 'reason').trim().slice(0, 500) || 'moderation',
    );
    res.redirect(303, withNotice(safeNextPath(body.return_to, '/admin/signatures'), 'invalidated'));
  });

  router.post('/signatures/:id/clear', deps.csrf.verify, async (req, res) => {
    const { confirmed } = await deps.moderation.clearSuspect(currentUser(res), idParam(req, 'id'));
    res.redirect(
      303,
      withNotice(
        safeNextPath(formBody(req.body).return_to, '/admin/signatures'),
        confirmed ? 'clearedConfirmed' : 'cleared',
      ),
    );
  });

  router.post('/signatures/:id/restore', deps.csrf.verify, async (req, res) => {
    await deps.moderation.restore(currentUser(res), idParam(req, 'id'));
    res.redirect(
      303,
      withNotice(safeNextPath(formBody(req.body).return_to, '/admin/signatures'), 'restored'),
    );
  });

  // Bulk invalidation: a preview of how many will change, then a confirmation that names that number.
  router.get('/signatures/bulk', async (req, res) => {
    // The first visit shows the empty form; errors only once something was asked.
    const asked = ['letter', 'ip', 'domain', 'from', 'to'].some((name) => query(req, name) !== '');
    const { criteria, errors } = asked
      ? criteriaOf((name) => query(req, name))
      : { criteria: {}, errors: {} as Record<string, string> };
    const shown = translate(res, errors);
    const preview =
      asked && Object.keys(errors).length === 0
        ? await deps.moderation.previewBulk(currentUser(res), criteria)
        : undefined;
    res.status(Object.keys(errors).length > 0 ? 400 : 200).render('admin/signatures-bulk', {
      titleKey: 'moderation.bulk.title',
      values: Object.fromEntries(['letter', 'ip', 'domain', 'from', 'to'].map((k) => [k, query(req, k)])),
      errors: shown.messages,
      errorList: shown.list,
      preview,
    });
  });

  router.post('/signatures/bulk', deps.csrf.verify, async (req, res) => {
    const body = formBody(req.body);
    const { criteria, errors } = criteriaOf((name) => formText(body, name));
    const values = Object.fromEntries(
      ['letter', 'ip', 'domain', 'from', 'to'].map((k) => [k, formText(body, k)]),
    );
    if (Object.keys(errors).length > 0) {
      const shown = translate(res, errors);
      return res.status(400).render('admin/signatures-bulk', {
        titleKey: 'moderation.bulk.title',
        values,
        errors: shown.messages,
        errorList: shown.list,
      });
    }
    const expected = Number.parseInt(formText(body, 'expected'), 10);
    const outcome = await deps.moderation.invalidateBulk(
      currentUser(res),
      criteria,
      formText(body, 'reason').trim().slice(0, 500) || 'bulk moderation',
      Number.isFinite(expected) ? expected : -1,
    );
    if (outcome.kind === 'changed') {
      const t = res.locals.t;
      return res.status(409).render('admin/signatures-bulk', {
        titleKey: 'moderation.bulk.title',
        values,
        errors: {},
        errorList: [{ field: 'criteria', message: t('moderation.bulk.changed') }],
        preview: outcome.preview,
      });
    }
    res.redirect(303, `/admin/signatures?done=bulk&count=${outcome.count}`);
  });

  router.get('/erasure', (_req, res) =>
    res.render('admin/erasure', { titleKey: 'erasure.title', values: { email: '' } }),
  );

  router.post('/erasure', deps.csrf.verify, async (req, res) => {
    const body = formBody(req.body);
    const email = formText(body, 'email').trim();
    const t = res.locals.t;
    if (!looksLikeEmailAddress(email)) {
      return res.status(400).render('admin/erasure', {
        titleKey: 'erasure.title',
        values: { email },
        errors: { email: t('erasure.errors.email') },
        errorList: [{ field: 'email', message: t('erasure.errors.email') }],
      });
    }
    // Erasure cannot be undone: the form asks to confirm with a tick box, and nothing happens without it.
    if (formText(body, 'confirm') !== 'yes') {
      return res.status(422).render('admin/erasure', {
        titleKey: 'erasure.title',
        values: { email },
        errors: { confirm: t('erasure.errors.confirm') },
        errorList: [{ field: 'confirm', message: t('erasure.errors.confirm') }],
      });
    }
    const result = await deps.privacy.erase(email, currentUser(res));
    res.render('admin/erasure', { titleKey: 'erasure.title', values: { email: '' }, result });
  });

  return router;
}

function withNotice(path: string, done: string): string {
  const url = new URL(path, 'http://local');
  url.searchParams.set('done', done);
  return `${url.pathname}${url.search}`;
}
