import { Router, type RequestHandler, type Response } from 'express';
import { currentUser, requireAdmin } from '../http/auth.js';
import { formBody, translatedErrors } from '../http/input.js';
import { writeOrWait } from '../http/stream-write.js';
import { countryOptions } from '../lib/countries.js';
import { AppError } from '../lib/errors.js';
import { SIGNATURE_STATUSES } from '../signatures/signature.js';
import {
  DEFAULT_EXPORT_COLUMNS,
  EXPORT_COLUMNS,
  EXPORT_FORMATS,
  formChoicesMissing,
  parseExportRequest,
  type ExportValues,
} from './export.js';
import type { ExportService } from './export-service.js';
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
    statuses: SIGNATURE_STATUSES.map((status) => ({
      status,
      checked: values.statuses.includes(status),
      label: t(`exports.statuses.${status}`),
    })),
    countries: countryOptions(res.locals.language).map((c) => ({
      ...c,
      selected: c.code === values.country,
    })),
    columns: EXPORT_COLUMNS.map((column) => ({
      column,
      checked: values.columns.includes(column),
      description: t(`exports.columns.${column}`),
    })),
    formats: EXPORT_FORMATS.map((format) => ({
      format,
      checked: values.format === format,
      label: t(`exports.formats.${format}`),
    })),
    consent: ['any', 'yes', 'no'].map((value) => ({
      value,
      selected: values.consent === value,
      label: t(`exports.consent.${value}`),
    })),
  });
}

/** Refusals of a PDF export that another format, or narrower filters, would avoid. */
const PDF_REFUSALS = new Set(['pdf_off', 'pdf_too_large']);

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
    const user = currentUser(res);
    try {
      await deps.exports.check(user, request);
    } catch (error) {
      // An unknown letter is a bad filter like the others: the form comes back with it marked.
      if (error instanceof AppError && error.code === 'letter_not_found')
        return renderForm(res, deps, values, { letter: 'exports.errors.letter' }, 400);
      if (error instanceof AppError && PDF_REFUSALS.has(error.code))
        return renderForm(res, deps, values, { format: error.messageKey }, error.status);
      throw error;
    }
    let started = false;
    try {
      // Headers go with the first bytes, so an error before them (too large a PDF) is still a page.
      await deps.exports.run(request, user, {
        async write(chunk) {
          if (!started) {
            started = true;
            res.status(200);
            res.set('Content-Type', deps.exports.contentType(request));
            res.set('Content-Disposition', `attachment; filename="${deps.exports.fileName(request)}"`);
            res.set('Cache-Control', 'no-store');
          }
          // Waits for a slow reader; a reader that left ends the export (logged as unfinished).
          await writeOrWait(res, chunk, 'the download was cancelled');
        },
      });
    } catch (error) {
      // A PDF this server cannot make (no Chromium, too many rows): the form again, as chosen, saying why.
      if (!started && error instanceof AppError && PDF_REFUSALS.has(error.code))
        return renderForm(res, deps, values, { format: error.messageKey }, error.status, {
          format: error.params,
        });
      if (!started) throw error;
      // Half a file already went out: cut the connection so the download is seen to have failed.
      res.destroy(error instanceof Error ? error : undefined);
      return;
    }
    if (!started) {
      res.status(200).set('Content-Type', deps.exports.contentType(request));
      res.set('Content-Disposition', `attachment; filename="${deps.exports.fileName(request)}"`);
    }
    res.end();
  });

  return router;
}
