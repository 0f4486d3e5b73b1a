import type { User } from '../accounts/account.js';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import multer from 'multer';
import { currentUser } from '../http/auth.js';
import { formBody, formText, idParam, pathParam, translatedErrors } from '../http/input.js';
import { noticeFrom, redirectWithNotice } from '../http/notice.js';
import { LETTER_LANGUAGES } from '../lib/languages.js';
import { countryOptions } from '../lib/countries.js';
import { AppError } from '../lib/errors.js';
import {
  RECIPIENT_CSV_ALIASES,
  RECIPIENT_CSV_COLUMNS,
  REQUIRED_RECIPIENT_CSV_COLUMNS,
} from './recipient-import.js';
import {
  importChoices,
  recipientFormValues,
  NAMED_FIELDS,
  namedField,
  salutationField,
  type RecipientFormValues,
} from './recipient-input.js';
import { INTERFACE_LANGUAGES, type TFunction } from '../lib/i18n.js';
import { importPreviewView } from './recipient-import-view.js';
import { MAX_IMPORT_ROWS } from './recipient-import.js';
import { MAX_IMPORT_BYTES, type RecipientService } from './recipient-service.js';
import { isLetterLanguage, languageName } from '../lib/languages.js';

export interface RecipientRoutesDeps {
  recipients: RecipientService;
  /** The letters the user can open, titled in `language` (letters/ answers it: this slice cannot import it). */
  letterChoices: (user: User, language: string) => Promise<{ id: number; title: string }[]>;
  csrf: { verify: RequestHandler };
}

const EMPTY: RecipientFormValues = {
  name: '',
  title: '',
  organisation: '',
  country: '',
  email: '',
  language: 'en',
  salutation: '',
  notes: '',
  salutations: {},
};

/**
 * The languages the form shows a salutation field for: every interface language, the recipient's own,
 * and any other one they already have (so saving never drops it), in the order of LETTER_LANGUAGES.
 */
function salutationLanguages(values: RecipientFormValues): string[] {
  const wanted = new Set<string>([
    ...INTERFACE_LANGUAGES,
    values.language,
    // The form posts every language's field, most of them empty: only the filled ones stay in view.
    ...Object.entries(values.salutations ?? {})
      .filter(([, salutation]) => salutation.trim() !== '')
      .map(([code]) => code),
  ]);
  return LETTER_LANGUAGES.filter((code) => wanted.has(code));
}

function renderForm(
  res: Response,
  view: {
    id?: number;
    values: RecipientFormValues;
    errors?: Partial<Record<string, string>>;
    /** Another organizer's letter addresses this recipient: only an admin may change it. */
    locked?: boolean;
    /** When mail to the address last bounced, and what the receiving server said. */
    bounce?: { at: Date; reply: string } | undefined;
  },
  status = 200,
) {
  const t = res.locals.t;
  const ui = res.locals.language;
  const errors = { ...view.errors };
  // A missing salutation is said beside the field of the recipient's own language, the one the form shows.
  if (errors.salutation && isLetterLanguage(view.values.language)) {
    errors[salutationField(view.values.language)] ??= errors.salutation;
    delete errors.salutation;
  }
  const translated = translatedErrors(t, errors);
  const offered = new Set(salutationLanguages(view.values));
  res.status(status).render('admin/recipient-edit', {
    pageTitle: t(view.id ? 'recipients.editTitle' : 'recipients.newTitle'),
    id: view.id,
    action: view.id ? `/admin/recipients/${view.id}` : '/admin/recipients',
    values: view.values,
    locked: view.locked ?? false,
    bounce: view.bounce,
    ...translated,
    // Refused for who is asking, not for what they typed: said first, above the field errors.
    errorList:
      status === 403
        ? [{ field: '', message: t('policy.recipients.changeForbidden') }, ...translated.errorList]
        : translated.errorList,
    countries: countryOptions(ui).map((c) => ({ ...c, selected: c.code === view.values.country })),
    // Every letter language's field, the ones beyond salutationLanguages hidden: the form's script shows
    // the one of a language chosen in the list (without script, the server asks for it after a submit).
    salutations: LETTER_LANGUAGES.map((code) => {
      const field = salutationField(code);
      const own = code === view.values.language;
      return {
        code,
        field,
        shown: offered.has(code),
        label: t('recipientSalutations.field', { language: languageName(code, ui) }),
        // The plain `salutation` (a form posted without the per-language fields) is the own language's.
        value: view.values.salutations?.[code] ?? (own ? view.values.salutation : ''),
        required: own,
        error: translated.errors[field] ?? null,
      };
    }),
    languages: LETTER_LANGUAGES.map((code) => ({
      code,
      name: languageName(code, ui),
      selected: code === view.values.language,
    })),
    ...otherNamesView(view.values, translated.errors, t, ui),
  });
}

/**
 * The names for the pages of each interface language, folded away unless one is filled or wrong.
 * Labels say the field in the admin's language; the legend names the language.
 */
function otherNamesView(
  values: RecipientFormValues,
  errors: Readonly<Record<string, string>>,
  t: TFunction,
  ui: string,
) {
  const otherNames = INTERFACE_LANGUAGES.map((code) => ({
    code,
    legend: t('recipientNames.in', { language: languageName(code, ui) }),
    fields: NAMED_FIELDS.map((f) => ({
      field: namedField(f, code),
      label: t(`recipients.fields.${f}`),
      value: values.names?.[code]?.[f] ?? '',
      error: errors[namedField(f, code)] ?? null,
    })),
  }));
  return {
    otherNames,
    otherNamesOpen: otherNames.some((language) => language.fields.some((f) => f.value !== '' || f.error)),
  };
}

/** Reads the uploaded file (multipart) into memory, refusing anything over the size limit with a 413. */
function uploadedFile(): RequestHandler {
  const upload = multer({
    storage: multer.memoryStorage(),
    // Browsers send a file's name in UTF-8 ("수신자 목록.csv"); busboy would read it as Latin-1.
    defParamCharset: 'utf8',
    // Pasted text arrives as a field: it gets the file's limit, not multer's default of 1 MB.
    limits: { fileSize: MAX_IMPORT_BYTES, fieldSize: MAX_IMPORT_BYTES, files: 1, fields: 10 },
  }).single('file');
  return (req, res, next) =>
    upload(req, res, (error: unknown) => {
      if (!error) return next();
      if (
        error instanceof multer.MulterError &&
        (error.code === 'LIMIT_FILE_SIZE' || error.code === 'LIMIT_FIELD_VALUE')
      )
        return next(new AppError(413, 'body_too_large', 'recipients.import.tooLarge'));
      next(new AppError(400, 'bad_request', 'errors.badRequest'));
    });
}

function renderUpload(req: Request, res: Response, status = 200, error?: string, pasted = '') {
  const t = res.locals.t;
  res.status(status).render('admin/recipients-import', {
    pageTitle: t('recipients.import.title'),
    // A whole-file problem: the summary says it, with no field to link to.
    errorList: error ? [{ field: '', message: error }] : [],
    pasted,
    columns: RECIPIENT_CSV_COLUMNS.map((column) => ({
      column,
      required: REQUIRED_RECIPIENT_CSV_COLUMNS.includes(column),
      aliases: RECIPIENT_CSV_ALIASES[column].join(', '),
    })),
    maxMegabytes: MAX_IMPORT_BYTES / 1024 / 1024,
    maxRows: MAX_IMPORT_ROWS,
    salutationColumns: LETTER_LANGUAGES.map(salutationField).join(', '),
    notice: noticeFrom(req, t, 'recipients.import', ['cancelled']),
  });
}

/** The recipients directory: list, add, edit, delete, and import from CSV with a preview. */
export function recipientRoutes(deps: RecipientRoutesDeps): Router {
  const router = Router();
  const { recipients } = deps;

  router.get('/recipients', async (req, res) => {
    const ui = res.locals.language;
    const t = res.locals.t;
    const query = typeof req.query.q === 'string' ? req.query.q.slice(0, 100) : '';
    const list = await recipients.list(query);
    res.render('admin/recipients', {
      pageTitle: t('recipients.title'),
      query,
      recipients: list.map((r) => ({
        ...r,
        languageLabel: languageName(r.language, ui),
        // Their own language's first, then the others in the order letters' languages are listed.
        salutationList: [r.language, ...LETTER_LANGUAGES.filter((code) => code !== r.language)]
          .filter((code) => r.salutations[code])
          .map((code) => ({ code, language: languageName(code, ui), salutation: r.salutations[code]! })),
      })),
      // An import's notice says its counts, which redirectWithNotice put in the address.
      notice: noticeFrom(req, t, 'recipients.notices', ['imported', 'saved', 'created', 'deleted']),
    });
  });

  router.get('/recipients/new', (_req, res) => renderForm(res, { values: EMPTY }));

  router.post('/recipients', deps.csrf.verify, async (req, res) => {
    const values = recipientFormValues(formBody(req.body));
    const outcome = await recipients.create(currentUser(res), values);
    if (outcome.kind === 'invalid') return renderForm(res, { values, errors: outcome.errors }, 422);
    redirectWithNotice(res, '/admin/recipients', 'created');
  });

  router.get('/recipients/import', (req, res) => renderUpload(req, res));

  router.post('/recipients/import', uploadedFile(), deps.csrf.verify, async (req, res) => {
    const t = res.locals.t;
    const body = formBody(req.body);
    const pasted = formText(body, 'pasted');
    const file = req.file;
    const source = file && file.size > 0 ? file.buffer.toString('utf8') : pasted;
    if (source.trim() === '') return renderUpload(req, res, 422, t('recipients.import.nothing'), pasted);
    const outcome = await recipients.stage(currentUser(res), file?.originalname ?? 'pasted.csv', source);
    if (outcome.kind === 'refused')
      return renderUpload(req, res, 422, t(outcome.messageKey, outcome.params ?? {}), file ? '' : pasted);
    res.redirect(303, `/admin/recipients/import/${outcome.id}`);
  });

  router.get('/recipients/import/:id', async (req, res) => {
    const preview = await recipients.preview(currentUser(res), pathParam(req, 'id'));
    res.render('admin/recipients-preview', importPreviewView(res.locals.t, res.locals.language, preview));
  });

  router.post('/recipients/import/:id/confirm', deps.csrf.verify, async (req, res) => {
    const result = await recipients.confirm(
      currentUser(res),
      pathParam(req, 'id'),
      importChoices(formBody(req.body)),
    );
    redirectWithNotice(res, '/admin/recipients', 'imported', result);
  });

  router.post('/recipients/import/:id/cancel', deps.csrf.verify, async (req, res) => {
    await recipients.cancel(currentUser(res), pathParam(req, 'id'));
    redirectWithNotice(res, '/admin/recipients/import', 'cancelled');
  });

  router.get('/recipients/:id', async (req, res) => {
    const { recipient, mayChange } = await recipients.editable(currentUser(res), idParam(req, 'id'));
    renderForm(res, {
      id: recipient.id,
      values: { ...recipient, country: recipient.country ?? '', salutation: '' },
      locked: !mayChange,
      bounce: recipient.bouncingAt
        ? { at: recipient.bouncingAt, reply: recipient.bounceReply ?? '' }
        : undefined,
    });
  });

  router.post('/recipients/:id', deps.csrf.verify, async (req, res) => {
    const id = idParam(req, 'id');
    const values = recipientFormValues(formBody(req.body));
    try {
      const outcome = await recipients.update(currentUser(res), id, values);
      if (outcome.kind === 'invalid') return renderForm(res, { id, values, errors: outcome.errors }, 422);
    } catch (error) {
      // The refusal keeps what was typed and offers to save it as a new recipient instead.
      if (error instanceof AppError && error.code === 'recipient_change_forbidden')
        return renderForm(res, { id, values, locked: true }, 403);
      throw error;
    }
    redirectWithNotice(res, '/admin/recipients', 'saved');
  });

  // Deleting asks first.
  router.get('/recipients/:id/delete', async (req, res) => {
    const user = currentUser(res);
    const { recipient, mayChange, letterIds } = await recipients.editable(user, idParam(req, 'id'));
    // A recipient a letter addresses cannot be deleted: the page says which letters, before anyone presses.
    const addressing = new Set(letterIds);
    const letters = (await deps.letterChoices(user, res.locals.language)).filter((l) => addressing.has(l.id));
    res.render('admin/recipient-delete', {
      pageTitle: res.locals.t('recipients.delete.title'),
      recipient,
      locked: !mayChange,
      inUse: letterIds.length > 0,
      letters,
      // Letters this user cannot open (another organizer's), counted only.
      otherLetters: letterIds.length - letters.length,
    });
  });

  router.post('/recipients/:id/delete', deps.csrf.verify, async (req, res) => {
    await recipients.delete(currentUser(res), idParam(req, 'id'));
    redirectWithNotice(res, '/admin/recipients', 'deleted');
  });

  return router;
}
