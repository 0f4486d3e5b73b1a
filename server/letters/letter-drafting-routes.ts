import { Router, type Request, type RequestHandler, type Response } from 'express';
import { currentUser } from '../http/auth.js';
import { redirectWithNotice } from '../http/notice.js';
import { formBody, formText, idParam, pathParam } from '../http/input.js';
import { languageName } from '../lib/languages.js';
import { templateGallery } from './letter-dashboard-view.js';
import type { LetterDraftingService } from './letter-drafting-service.js';
import { editorNotice, editorView, emailPreviewView, type EditorPage } from './letter-editor-view.js';
import { allowStyleAttributes } from '../http/security.js';
import {
  changeLanguages,
  editorValues,
  languageChange,
  languagesOnForm,
  previewChoice,
} from './letter-input.js';
import type { LetterPreviewService } from './letter-preview-service.js';
import { versionsView } from './letter-versions-view.js';
import { describeProblem } from './letter-text-check.js';

export interface LetterDraftingRoutesDeps {
  drafting: LetterDraftingService;
  preview: LetterPreviewService;
  csrf: { verify: RequestHandler };
}

/** Every render of the editor page, whichever route answers with it (sharing's refusal too). */
export function renderEditor(res: Response, page: EditorPage, status = 200) {
  // The preview shows the e-mail's HTML in a srcdoc frame, which takes this page's policy.
  allowStyleAttributes(res);
  res.status(status).render('admin/letter-edit', editorView(res.locals.t, res.locals.language, page));
}

/** The letter id of an editor route, or undefined on the new-letter form. */
function letterIdOf(req: Request): number | undefined {
  return req.params.id === undefined ? undefined : idParam(req, 'id');
}

/**
 * The editor form's submit buttons share one form (and one URL, so the page works without
 * JavaScript); each `action` has its own handler, and each handler makes one service call.
 */
function byAction(handlers: {
  save: RequestHandler;
  preview: RequestHandler;
  languages: RequestHandler;
}): RequestHandler {
  return (req, res, next) => {
    const body = formBody(req.body);
    const action = formText(body, 'action') || 'save';
    if (languageChange(action, body)) return handlers.languages(req, res, next);
    return (action === 'preview' ? handlers.preview : handlers.save)(req, res, next);
  };
}

/** The organizer's drafting pages: the gallery, the new-letter form, the editor, its preview and the versions. */
export function letterDraftingRoutes(deps: LetterDraftingRoutesDeps): Router {
  const router = Router();
  const { drafting } = deps;

  router.get('/letters/templates', (_req, res) => {
    res.render('admin/templates', {
      pageTitle: res.locals.t('templates.title'),
      templates: templateGallery(res.locals.language, drafting.templates()),
    });
  });

  router.post('/letters/templates/:slug', deps.csrf.verify, async (req, res) => {
    const letterId = await drafting.createFromTemplate(currentUser(res), pathParam(req, 'slug'));
    redirectWithNotice(res, `/admin/letters/${letterId}`, 'created');
  });

  // A new letter is written first in the organizer's own language (its section shown without a script);
  // a Korean organizer typed into the English fields and was told the Korean title was missing.
  router.get('/letters/new', async (_req, res) => {
    const values = editorValues({ primary_language: res.locals.language });
    renderEditor(res, { values, context: await drafting.context(currentUser(res), undefined) });
  });

  // Adding or removing a translation only changes the form: it is shown again, nothing is saved, and
  // the page says so (a removed translation looked gone for good; reloading brought it back).
  const changeLanguagesHandler: RequestHandler = async (req, res) => {
    const body = formBody(req.body);
    const values = changeLanguages(editorValues(body), languageChange(formText(body, 'action'), body)!);
    // Against the sections the page had: a main language chosen without one gets it too (editor.js).
    const onForm = languagesOnForm(body);
    const { t, language } = res.locals;
    const names = (codes: string[]) => codes.map((code) => languageName(code, language)).join(', ');
    const added = values.languages.filter((code) => !onForm.includes(code));
    const removed = onForm.filter((code) => !values.languages.includes(code));
    const notice = added.length
      ? t('editor.languageChange.added', { name: names(added) })
      : removed.length
        ? t('editor.languageChange.removed', { name: names(removed) })
        : null;
    renderEditor(res, { values, notice, context: await drafting.context(currentUser(res), letterIdOf(req)) });
  };

  // The Preview button (without JavaScript): the form again, with the letter rendered below it.
  const previewHandler: RequestHandler = async (req, res) => {
    const body = formBody(req.body);
    const values = editorValues(body);
    const choice = previewChoice(body);
    const { preview, context } = await deps.preview.inEditor(
      currentUser(res),
      letterIdOf(req),
      values,
      choice,
    );
    renderEditor(res, { values, context, preview, previewChoice: choice });
  };

  const createHandler: RequestHandler = async (req, res) => {
    const values = editorValues(formBody(req.body));
    const outcome = await drafting.create(currentUser(res), values);
    if (outcome.kind === 'invalid')
      return renderEditor(
        res,
        { values, context: { directory: outcome.directory, state: null }, errors: outcome.errors },
        422,
      );
    redirectWithNotice(res, `/admin/letters/${outcome.letterId}`, 'created');
  };

  const saveHandler: RequestHandler = async (req, res) => {
    const letterId = idParam(req, 'id');
    const body = formBody(req.body);
    const values = editorValues(body);
    const outcome = await drafting.save(
      currentUser(res),
      letterId,
      values,
      formText(body, 'confirm_new_version') === 'yes',
    );
    if (outcome.kind === 'invalid') {
      const context = { directory: outcome.state.directory, state: outcome.state };
      return renderEditor(res, { values, context, errors: outcome.errors }, 422);
    }
    if (outcome.kind === 'confirm-new-version') {
      const context = { directory: outcome.state.directory, state: outcome.state };
      const confirm = {
        signatures: outcome.signatures,
        nextVersion: outcome.nextVersion,
        waitsForReview: outcome.waitsForReview,
      };
      return renderEditor(res, { values, context, confirm }, 409);
    }
    const done =
      outcome.kind === 'held-for-review' ? 'changesWaiting' : outcome.newVersion ? 'newVersion' : 'saved';
    redirectWithNotice(res, `/admin/letters/${letterId}`, done);
  };

  router.post(
    '/letters',
    deps.csrf.verify,
    byAction({ save: createHandler, preview: previewHandler, languages: changeLanguagesHandler }),
  );

  // The live preview (with JavaScript): the same rendering as the Preview button, answered as JSON.
  const previewJson: RequestHandler = async (req, res) => {
    const t = res.locals.t;
    const body = formBody(req.body);
    const preview = await deps.preview.preview(
      currentUser(res),
      letterIdOf(req),
      editorValues(body),
      previewChoice(body),
    );
    if (preview.kind === 'problems')
      return res.json({
        ok: false,
        problems: preview.problems.map((p) => describeProblem(p, t, res.locals.language)),
      });
    res.json({
      ok: true,
      ...emailPreviewView(t, res.locals.language, preview.email),
      // The text's language, which the preview's list of languages then shows (it follows the recipient).
      language: preview.language,
    });
  };
  router.post('/letters/preview.json', deps.csrf.verify, previewJson);
  router.post('/letters/:id/preview.json', deps.csrf.verify, previewJson);

  router.get('/letters/:id', async (req, res) => {
    const state = await drafting.editor(currentUser(res), idParam(req, 'id'));
    renderEditor(res, {
      values: drafting.valuesOf(state),
      context: { directory: state.directory, state },
      notice: editorNotice(req, res.locals.t),
    });
  });

  router.post(
    '/letters/:id',
    deps.csrf.verify,
    byAction({ save: saveHandler, preview: previewHandler, languages: changeLanguagesHandler }),
  );

  router.get('/letters/:id/versions', async (req, res) => {
    const history = await drafting.history(currentUser(res), idParam(req, 'id'));
    res.render('admin/letter-versions', versionsView(res.locals.t, res.locals.language, history));
  });

  return router;
}
