import { Router, type Request, type RequestHandler, type Response } from 'express';
import { currentUser } from '../http/auth.js';
import { formBody, formText, idParam, pathParam } from '../http/input.js';
import type { TFunction } from '../lib/i18n.js';
import { can } from '../policy/policy.js';
import type { Recipient } from '../recipients/recipient.js';
import { describeProblem } from './letter-text-check.js';
import { isLetterLanguage, LETTER_LANGUAGES } from '../lib/languages.js';
import { isComplete, type LetterStatus } from './letter.js';
import type { EditorState, LetterEditorService, PreviewOutcome } from './letter-editor-service.js';
import { editorValues, LIMITS, type EditorErrors, type EditorValues } from './letter-input.js';
import { MERGE_FIELD_DOCS } from './merge-fields.js';
import { signatureChartSvg } from './signature-chart.js';
import { languageName } from '../lib/languages.js';

export interface LetterAdminRoutesDeps {
  editor: LetterEditorService;
  csrf: { verify: RequestHandler };
}

/** Notices shown after a redirect, by a fixed name in the query string (never text from the URL). */
const NOTICES = [
  'saved',
  'created',
  'published',
  'reviewRequested',
  'returned',
  'closed',
  'reopened',
  'newVersion',
  'shared',
  'unshared',
  'changesWaiting',
  'changesApproved',
  'changesReturned',
] as const;

function notice(req: Request, t: TFunction): string | undefined {
  const name = req.query.done;
  return typeof name === 'string' && (NOTICES as readonly string[]).includes(name)
    ? t(`editor.notices.${name}`)
    : undefined;
}

/** Field errors translated, and the summary list that links to each field. */
function translateErrors(t: TFunction, errors: EditorErrors) {
  const messages: Record<string, string[]> = {};
  for (const [field, list] of Object.entries(errors)) {
    messages[field] = list.map((e) => (e.problem ? describeProblem(e.problem, t) : t(e.key, e.params ?? {})));
  }
  const summary = Object.entries(messages).flatMap(([field, list]) =>
    list.map((message) => ({ field, message })),
  );
  return { messages, summary };
}

interface EditorView {
  mode: 'new' | 'edit';
  values: EditorValues;
  directory: Recipient[];
  state?: EditorState;
  errors?: EditorErrors;
  preview?: PreviewOutcome;
  previewChoice?: {
    recipientId: number | undefined;
    language: string | undefined;
    signatories: 'sample' | 'real';
  };
  confirm?: { signatures: number; nextVersion: number };
}

/** Builds everything the editor template shows from the values being edited. */
function renderEditor(req: Request, res: Response, view: EditorView, status = 200) {
  const t = res.locals.t;
  const ui = res.locals.language;
  const { values, state } = view;
  const errors = translateErrors(t, view.errors ?? {});
  const chosen = new Set(values.recipientIds);
  const chosenRecipients = view.directory.filter((r) => chosen.has(r.id));
  const translations = values.languages.map((language) => {
    const text = values.texts[language] ?? { title: '', summary: '', body: '' };
    const missing = (['title', 'summary', 'body'] as const)
      .filter((f) => text[f].trim() === '')
      .map((f) => t(`editor.fields.${f}`));
    return {
      language,
      name: languageName(language, ui),
      primary: language === values.primaryLanguage,
      complete: isComplete({ language, ...text }),
      missing: missing.join(', '),
      text,
      errors: {
        title: errors.messages[`title_${language}`],
        summary: errors.messages[`summary_${language}`],
        body: errors.messages[`body_${language}`],
      },
    };
  });
  const completeLanguages = new Set(translations.filter((tr) => tr.complete).map((tr) => tr.language));
  // Recipients who read a language the letter has no complete translation in get the primary language.
  const fallbacks = chosenRecipients
    .filter((r) => !completeLanguages.has(r.language))
    .map((r) => ({
      name: r.name,
      wants: languageName(r.language, ui),
      gets: languageName(values.primaryLanguage, ui),
    }));
  const letterId = state?.letter.id;
  const preview = view.preview;
  res.status(status).render('admin/letter-edit', {
    titleText:
      view.mode === 'new'
        ? t('editor.newTitle')
        : t('editor.editTitle', { title: values.texts[values.primaryLanguage]?.title || values.slug }),
    mode: view.mode,
    action: letterId ? `/admin/letters/${letterId}` : '/admin/letters',
    previewUrl: letterId ? `/admin/letters/${letterId}/preview.json` : '/admin/letters/preview.json',
    letter: state?.letter,
    state,
    locked: state ? state.letter.status !== 'draft' : false,
    notice: notice(req, t),
    values,
    errors: errors.messages,
    errorList: errors.summary,
    languageOptions: LETTER_LANGUAGES.map((code) => ({
      code,
      name: languageName(code, ui),
      selected: code === values.primaryLanguage,
    })),
    addableLanguages: LETTER_LANGUAGES.filter((code) => !values.languages.includes(code)).map((code) => ({
      code,
      name: languageName(code, ui),
    })),
    directory: view.directory.map((r) => ({
      ...r,
      checked: chosen.has(r.id),
      languageLabel: languageName(r.language, ui),
    })),
    translations,
    fallbacks,
    limits: LIMITS,
    mergeFields: MERGE_FIELD_DOCS.map((f) => ({ snippet: f.snippet, description: t(f.descriptionKey) })),
    previewRecipients: chosenRecipients.map((r) => ({
      id: r.id,
      name: r.name,
      selected: r.id === (view.previewChoice?.recipientId ?? chosenRecipients[0]?.id),
    })),
    previewLanguages: values.languages.map((code) => ({
      code,
      name: languageName(code, ui),
      selected: code === (preview?.language ?? view.previewChoice?.language ?? values.primaryLanguage),
    })),
    previewReal: view.previewChoice?.signatories === 'real',
    preview: preview
      ? preview.kind === 'rendered'
        ? {
            html: preview.rendered.html,
            text: preview.rendered.text,
            recipient: preview.recipient?.name ?? '',
            language: languageName(preview.language, ui),
          }
        : {
            problems: preview.problems.map((p) => describeProblem(p, t)),
            language: languageName(preview.language, ui),
          }
      : undefined,
    confirm: view.confirm,
    statusLabel: state ? t(`editor.status.${state.letter.status}`) : t('editor.status.draft'),
    // Publishing asks an admin first when review is required and this account may not skip it.
    asksForReview: state ? state.requireReview && !state.canPublishUnreviewed : false,
    // Saving a published letter keeps the changes for review instead of publishing them.
    heldForReview: state
      ? state.requireReview && !state.canPublishUnreviewed && state.letter.status !== 'draft'
      : false,
    pending: state?.pending
      ? {
          at: state.pending.edit.at,
          author: state.pending.author,
          texts: state.pending.diff.map((d) => ({
            name: languageName(d.language, ui),
            change: t(`versions.change.${d.change}`),
          })),
          recipientsAdded: state.pending.recipientsAdded.map((r) => r.name),
          recipientsRemoved: state.pending.recipientsRemoved.map((r) => r.name),
          settings: state.pending.detailsChanged.map((field) => t(`policy.review.settings.${field}`)),
        }
      : undefined,
  });
}

function previewChoice(body: Record<string, unknown>) {
  const recipient = formText(body, 'preview_recipient');
  const language = formText(body, 'preview_language');
  return {
    recipientId: /^[1-9]\d{0,15}$/.test(recipient) ? Number(recipient) : undefined,
    language: isLetterLanguage(language) ? language : undefined,
    signatories: formText(body, 'preview_signatories') === 'real' ? ('real' as const) : ('sample' as const),
  };
}

/** Adds or removes a translation in the values being edited, without saving. */
function changeLanguages(values: EditorValues, action: string, body: Record<string, unknown>): EditorValues {
  if (action === 'add-language') {
    const language = formText(body, 'new_language');
    if (
      !isLetterLanguage(language) ||
      values.languages.includes(language) ||
      values.languages.length >= LIMITS.languages
    )
      return values;
    return {
      ...values,
      languages: [...values.languages, language],
      texts: { ...values.texts, [language]: { title: '', summary: '', body: '' } },
    };
  }
  const language = action.slice('remove-language:'.length);
  if (language === values.primaryLanguage) return values;
  const texts = { ...values.texts };
  delete texts[language];
  return { ...values, languages: values.languages.filter((l) => l !== language), texts };
}

/** The organizer's pages: dashboard, letters, editor, preview, versions and workflow. */
export function letterAdminRoutes(deps: LetterAdminRoutesDeps): Router {
  const router = Router();
  const { editor } = deps;

  router.get('/', async (req, res) => {
    const user = currentUser(res);
    const t = res.locals.t;
    const ui = res.locals.language;
    const { letters, awaitingReview } = await editor.dashboard(user);
    const number = new Intl.NumberFormat(ui);
    const dayFormat = new Intl.DateTimeFormat(ui, { month: 'short', day: 'numeric', timeZone: 'UTC' });
    res.render('admin/dashboard', {
      titleKey: 'dashboard.title',
      seesAllLetters: can(user, 'letter.list-all'),
      passwordChanged: req.query.passwordChanged === '1',
      awaitingReview,
      letters: letters.map((item) => {
        const total = item.days.reduce((sum, d) => sum + d.count, 0);
        const busiest = item.days.reduce((best, d) => (d.count > best.count ? d : best), item.days[0]!);
        return {
          ...item,
          statusLabel: t(`editor.status.${item.letter.status}`),
          chart: signatureChartSvg(item.days, {
            title: t('dashboard.chartTitle', { title: item.title }),
            description:
              total === 0
                ? t('dashboard.chartEmpty', { days: item.days.length })
                : t('dashboard.chartDescription', {
                    total: number.format(total),
                    days: item.days.length,
                    busiest: dayFormat.format(new Date(`${busiest.day}T00:00:00Z`)),
                    most: number.format(busiest.count),
                  }),
            formatDay: (day) => dayFormat.format(new Date(`${day}T00:00:00Z`)),
            formatCount: (n) => number.format(n),
          }),
        };
      }),
    });
  });

  router.get('/letters', async (_req, res) => {
    const user = currentUser(res);
    const t = res.locals.t;
    const letters = await editor.list(user);
    res.render('admin/letters', {
      titleKey: 'editor.listTitle',
      letters: letters.map((item) => ({ ...item, statusLabel: t(`editor.status.${item.letter.status}`) })),
    });
  });

  router.get('/letters/templates', (_req, res) => {
    const ui = res.locals.language;
    res.render('admin/templates', {
      titleKey: 'templates.title',
      templates: editor.templates().map((template) => ({
        slug: template.slug,
        title: template.translations[template.primaryLanguage]?.title ?? template.slug,
        summary: template.translations[template.primaryLanguage]?.summary ?? '',
        languages: Object.keys(template.translations)
          .map((l) => languageName(l, ui))
          .join(', '),
        recipients: template.recipients.map((r) => r.name).join('; '),
      })),
    });
  });

  router.post('/letters/templates/:slug', deps.csrf.verify, async (req, res) => {
    const letterId = await editor.createFromTemplate(currentUser(res), pathParam(req, 'slug'));
    res.redirect(303, `/admin/letters/${letterId}?done=created`);
  });

  router.get('/letters/new', async (req, res) => {
    const values = editorValues({ primary_language: 'en' });
    renderEditor(req, res, { mode: 'new', values, directory: await editor.directory() });
  });

  router.post('/letters', deps.csrf.verify, async (req, res) => {
    const user = currentUser(res);
    const body = formBody(req.body);
    let values = editorValues(body);
    const action = formText(body, 'action') || 'save';
    const directory = await editor.directory();
    if (action === 'add-language' || action.startsWith('remove-language:')) {
      values = changeLanguages(values, action, body);
      return renderEditor(req, res, { mode: 'new', values, directory });
    }
    if (action === 'preview') {
      const choice = previewChoice(body);
      const preview = await editor.preview(user, undefined, values, choice);
      return renderEditor(req, res, { mode: 'new', values, directory, preview, previewChoice: choice });
    }
    const outcome = await editor.create(user, values);
    if (outcome.kind === 'invalid')
      return renderEditor(req, res, { mode: 'new', values, directory, errors: outcome.errors }, 422);
    res.redirect(303, `/admin/letters/${outcome.letterId}?done=created`);
  });

  // The live preview (with JavaScript): the same rendering as the Preview button, answered as JSON.
  const previewJson: RequestHandler = async (req, res) => {
    const t = res.locals.t;
    const body = formBody(req.body);
    const letterId = req.params.id === undefined ? undefined : idParam(req, 'id');
    const preview = await editor.preview(currentUser(res), letterId, editorValues(body), previewChoice(body));
    if (preview.kind === 'problems')
      return res.json({ ok: false, problems: preview.problems.map((p) => describeProblem(p, t)) });
    res.json({ ok: true, html: preview.rendered.html, text: preview.rendered.text });
  };
  router.post('/letters/preview.json', deps.csrf.verify, previewJson);
  router.post('/letters/:id/preview.json', deps.csrf.verify, previewJson);

  router.get('/letters/:id', async (req, res) => {
    const state = await editor.editor(currentUser(res), idParam(req, 'id'));
    renderEditor(req, res, {
      mode: 'edit',
      values: editor.valuesOf(state),
      directory: state.directory,
      state,
    });
  });

  router.post('/letters/:id', deps.csrf.verify, async (req, res) => {
    const user = currentUser(res);
    const letterId = idParam(req, 'id');
    const body = formBody(req.body);
    let values = editorValues(body);
    const action = formText(body, 'action') || 'save';
    const state = await editor.editor(user, letterId);
    const view = { mode: 'edit' as const, directory: state.directory, state };
    if (action === 'add-language' || action.startsWith('remove-language:')) {
      values = changeLanguages(values, action, body);
      return renderEditor(req, res, { ...view, values });
    }
    if (action === 'preview') {
      const choice = previewChoice(body);
      const preview = await editor.preview(user, letterId, values, choice);
      return renderEditor(req, res, { ...view, values, preview, previewChoice: choice });
    }
    const outcome = await editor.save(
      user,
      letterId,
      values,
      formText(body, 'confirm_new_version') === 'yes',
    );
    if (outcome.kind === 'invalid')
      return renderEditor(req, res, { ...view, values, errors: outcome.errors }, 422);
    if (outcome.kind === 'confirm-new-version') {
      return renderEditor(
        req,
        res,
        { ...view, values, confirm: { signatures: outcome.signatures, nextVersion: outcome.nextVersion } },
        409,
      );
    }
    const done =
      outcome.kind === 'held-for-review' ? 'changesWaiting' : outcome.newVersion ? 'newVersion' : 'saved';
    res.redirect(303, `/admin/letters/${letterId}?done=${done}`);
  });

  router.post('/letters/:id/publish', deps.csrf.verify, async (req, res) => {
    const user = currentUser(res);
    const letterId = idParam(req, 'id');
    const outcome = await editor.publish(user, letterId);
    if (outcome.kind === 'not-ready') {
      const state = await editor.editor(user, letterId);
      const errors: EditorErrors = { publish: outcome.problems.map((key) => ({ key })) };
      return renderEditor(
        req,
        res,
        { mode: 'edit', values: editor.valuesOf(state), directory: state.directory, state, errors },
        422,
      );
    }
    res.redirect(
      303,
      `/admin/letters/${letterId}?done=${outcome.kind === 'published' ? 'published' : 'reviewRequested'}`,
    );
  });

  router.post('/letters/:id/return', deps.csrf.verify, async (req, res) => {
    const letterId = idParam(req, 'id');
    await editor.returnToDraft(currentUser(res), letterId);
    res.redirect(303, `/admin/letters/${letterId}?done=returned`);
  });

  router.post('/letters/:id/changes/approve', deps.csrf.verify, async (req, res) => {
    const letterId = idParam(req, 'id');
    // When the changes the admin looked at were saved: a newer edit is not approved unseen.
    const seenAt = new Date(formText(formBody(req.body), 'pending_at') || 'invalid');
    await editor.approveChanges(currentUser(res), letterId, seenAt);
    res.redirect(303, `/admin/letters/${letterId}?done=changesApproved`);
  });

  router.post('/letters/:id/changes/return', deps.csrf.verify, async (req, res) => {
    const letterId = idParam(req, 'id');
    await editor.returnChanges(currentUser(res), letterId);
    res.redirect(303, `/admin/letters/${letterId}?done=changesReturned`);
  });

  // Closing asks first: it stops the signing for everyone.
  router.get('/letters/:id/close', async (req, res) => {
    const { letter } = await editor.access(currentUser(res), idParam(req, 'id'));
    res.render('admin/letter-close', {
      titleKey: 'editor.close.title',
      letter,
      open: letter.status === ('open' satisfies LetterStatus),
    });
  });

  router.post('/letters/:id/close', deps.csrf.verify, async (req, res) => {
    const letterId = idParam(req, 'id');
    await editor.close(currentUser(res), letterId);
    res.redirect(303, `/admin/letters/${letterId}?done=closed`);
  });

  router.post('/letters/:id/reopen', deps.csrf.verify, async (req, res) => {
    const letterId = idParam(req, 'id');
    await editor.reopen(currentUser(res), letterId);
    res.redirect(303, `/admin/letters/${letterId}?done=reopened`);
  });

  router.get('/letters/:id/versions', async (req, res) => {
    const ui = res.locals.language;
    const t = res.locals.t;
    const history = await editor.history(currentUser(res), idParam(req, 'id'));
    res.render('admin/letter-versions', {
      titleKey: 'versions.title',
      letter: history.letter,
      versions: history.versions.map((v) => ({
        ...v,
        current: v.id === history.letter.currentVersionId,
        diff: v.diff.map((d) => ({
          ...d,
          name: languageName(d.language, ui),
          changeLabel: t(`versions.change.${d.change}`),
          fields: d.fields
            .filter((f) => f.changed)
            .map((f) => ({ ...f, label: t(`editor.fields.${f.field}`) })),
        })),
      })),
    });
  });

  router.post('/letters/:id/collaborators', deps.csrf.verify, async (req, res) => {
    const user = currentUser(res);
    const letterId = idParam(req, 'id');
    const outcome = await editor.addCollaborator(user, letterId, formText(formBody(req.body), 'email'));
    if (outcome.kind === 'unknown-account') {
      const state = await editor.editor(user, letterId);
      const errors: EditorErrors = { collaborator: [{ key: 'editor.errors.unknownAccount' }] };
      return renderEditor(
        req,
        res,
        { mode: 'edit', values: editor.valuesOf(state), directory: state.directory, state, errors },
        422,
      );
    }
    res.redirect(303, `/admin/letters/${letterId}?done=shared#collaborators`);
  });

  router.post('/letters/:id/collaborators/:userId/remove', deps.csrf.verify, async (req, res) => {
    const letterId = idParam(req, 'id');
    await editor.removeCollaborator(currentUser(res), letterId, idParam(req, 'userId'));
    res.redirect(303, `/admin/letters/${letterId}?done=unshared#collaborators`);
  });

  return router;
}
