import { Router, type RequestHandler, type Response } from 'express';
import { currentUser, requireAdmin } from '../http/auth.js';
import { formBody, idParam, translatedErrors } from '../http/input.js';
import { countryOptions } from '../lib/countries.js';
import { AppError } from '../lib/errors.js';
import { SIGNATURE_STATUSES } from '../signatures/signature.js';
import {
  DEFAULT_EXPORT_COLUMNS,
  EXPORT_COLUMNS,
  EXPORT_FORMATS,
  formChoicesMissing,
  ORGANIZER_COLUMNS,
  ORGANIZER_FORMATS,
  parseExportRequest,
  type ExportFormat,
  type ExportRequest,
  type ExportValues,
} from './export.js';
import type { ExportService } from './export-service.js';
import { streamExport } from './export-stream.js';
import type { NamedLetter } from '../letters/letter-access.js';
import { letterOptions, type LetterChoices } from '../letters/letter-choices.js';

export interface ExportRoutesDeps {
  exports: ExportService;
  /** The letters an admin can export, for the form's list. */
  letterChoices: LetterChoices;
  csrf: { verify: RequestHandler };
}

function list(body: Record<string, unknown>, name: string): string[] {
  const value = body[name];
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function text(body: Record<string, unknown>, name: string): string {
  return typeof body[name] === 'string' ? (body[name] as string) : '';
}

function exportValues(body: Record<string, unknown>): ExportValues {
  return {
    letter: text(body, 'letter'),
    statuses: list(body, 'status'),
    country: text(body, 'country'),
    from: text(body, 'from'),
    to: text(body, 'to'),
    consent: text(body, 'consent'),
    columns: list(body, 'columns'),
    format: text(body, 'format'),
  };
}

const EMPTY: ExportValues = {
  letter: '',
  statuses: ['confirmed'],
  country: '',
  from: '',
  to: '',
  consent: 'any',
  columns: [...DEFAULT_EXPORT_COLUMNS],
  format: 'csv',
};

/** The choices both export forms offer, as chosen in `values`. */
function formChoices(res: Response, values: ExportValues, formats: readonly ExportFormat[]) {
  const t = res.locals.t;
  return {
    statuses: SIGNATURE_STATUSES.map((status) => ({
      status,
      checked: values.statuses.includes(status),
      label: t(`exports.statuses.${status}`),
    })),
    countries: countryOptions(res.locals.language).map((c) => ({
      ...c,
      selected: c.code === values.country,
    })),
    formats: formats.map((format) => ({
      format,
      checked: values.format === format,
      label: t(`exports.formats.${format}`),
    })),
    consent: ['any', 'yes', 'no'].map((value) => ({
      value,
      selected: values.consent === value,
      label: t(`exports.consent.${value}`),
    })),
  };
}

async function renderForm(
  res: Response,
  deps: ExportRoutesDeps,
  values: ExportValues,
  errors: Record<string, string> = {},
  status = 200,
  params: Partial<Record<string, Record<string, unknown>>> = {},
) {
  const t = res.locals.t;
  res.status(status).render('admin/exports', {
    pageTitle: t('exports.title'),
    values,
    ...translatedErrors(t, errors, params),
    letters: letterOptions(await deps.letterChoices(currentUser(res), res.locals.language), values.letter),
    ...formChoices(res, values, EXPORT_FORMATS),
    columns: EXPORT_COLUMNS.map((column) => ({
      column,
      checked: values.columns.includes(column),
      description: t(`exports.columns.${column}`),
    })),
  });
}

/** Refusals of a PDF export that another format, or narrower filters, would avoid. */
const PDF_REFUSALS = new Set(['pdf_off', 'pdf_too_large']);

/**
 * Sends the export as a download. A refusal before the first byte that `shownOnForm` accepts is returned,
 * for the form to show again as chosen; any other is thrown (an error page). Headers go with the first
 * bytes, so an error before them (too large a PDF) is still a page; after them, the connection is cut, so
 * half a file is seen to have failed.
 */
async function download(
  res: Response,
  exports: ExportService,
  request: ExportRequest,
  shownOnForm: (error: AppError) => boolean = () => false,
): Promise<AppError | undefined> {
  const user = currentUser(res);
  const refusal = (error: unknown) => (error instanceof AppError && shownOnForm(error) ? error : undefined);
  try {
    // The export's own check runs first, before anything is read or recorded.
    await streamExport(res, exports, request, user, { attachment: true });
  } catch (error) {
    const refused = refusal(error);
    if (refused) return refused;
    throw error;
  }
  return undefined;
}

/** The admin's signature exports: a form, and the download it answers with. */
export function exportRoutes(deps: ExportRoutesDeps): Router {
  const router = Router();
  router.use('/exports', requireAdmin);

  router.get('/exports', async (_req, res) => renderForm(res, deps, EMPTY));

  router.post('/exports', deps.csrf.verify, async (req, res) => {
    const values = exportValues(formBody(req.body));
    const parsed = parseExportRequest(values);
    const missing = formChoicesMissing(values);
    if (!parsed.ok || Object.keys(missing).length > 0)
      return renderForm(res, deps, values, { ...(parsed.ok ? {} : parsed.errors), ...missing }, 400);
    // A PDF annex reads in the admin's language where the letter has a text in it.
    const request = { ...parsed.request, language: res.locals.language };
    const refused = await download(
      res,
      deps.exports,
      request,
      (error) => error.code === 'letter_not_found' || PDF_REFUSALS.has(error.code),
    );
    // An unknown letter is a bad filter like the others: the form comes back with it marked. A PDF
    // this server cannot make (no Chromium, too many rows): the form again, as chosen, saying why.
    if (refused?.code === 'letter_not_found')
      return renderForm(res, deps, values, { letter: 'exports.errors.letter' }, 400);
    if (refused)
      return renderForm(res, deps, values, { format: refused.messageKey }, refused.status, {
        format: refused.params,
      });
  });

  router.get('/letters/:id/supporters', async (req, res) =>
    renderSupporters(res, await supportersLetter(res, deps, idParam(req, 'id')), SUPPORTERS_EMPTY),
  );

  router.post('/letters/:id/supporters', deps.csrf.verify, async (req, res) => {
    // Whoever may read the letter's supporters, asked before the form is read: a refusal is the same
    // 403 or 404 whatever was typed.
    const named = await supportersLetter(res, deps, idParam(req, 'id'));
    const { letter } = named;
    const body = formBody(req.body);
    const values: ExportValues = {
      ...exportValues(body),
      letter: letter.slug,
      columns: [...ORGANIZER_COLUMNS],
    };
    const parsed = parseExportRequest(values);
    const errors = {
      ...(parsed.ok ? {} : parsed.errors),
      ...formChoicesMissing(values),
      // Lists only: the letter as sent, with its annex, is on the delivery page.
      ...((ORGANIZER_FORMATS as readonly string[]).includes(values.format)
        ? {}
        : { format: 'exports.errors.organizerFormat' }),
    };
    if (!parsed.ok || Object.keys(errors).length > 0)
      return renderSupporters(res, named, values, errors, 400);
    await download(res, deps.exports, { ...parsed.request, addresses: 'consented' });
  });

  return router;
}

/** The letter of a supporters page, if the account may read its supporters, titled in the page's language. */
const supportersLetter = (res: Response, deps: ExportRoutesDeps, letterId: number) =>
  deps.exports.letterForSupporters(currentUser(res), letterId, res.locals.language);

/** The supporters form of one letter, before anything is chosen: confirmed signatures, as CSV. */
const SUPPORTERS_EMPTY: ExportValues = { ...EMPTY, columns: [...ORGANIZER_COLUMNS] };

/**
 * One letter's supporters page, for whoever may work on the letter: a download of its signatures with
 * names as each supporter chose to show them and addresses only of those who asked for news.
 */
function renderSupporters(
  res: Response,
  named: NamedLetter,
  values: ExportValues,
  errors: Record<string, string> = {},
  status = 200,
) {
  const t = res.locals.t;
  res.status(status).render('admin/letter-supporters', {
    pageTitle: t('exports.supporters.title'),
    ...named,
    values,
    ...translatedErrors(t, errors),
    ...formChoices(res, values, ORGANIZER_FORMATS),
    columns: ORGANIZER_COLUMNS.map((column) => ({
      column,
      description: t(column === 'email' ? 'exports.supporters.emailColumn' : `exports.columns.${column}`),
    })),
  });
}
