import { Router, type RequestHandler } from 'express';
import { currentUser } from '../http/auth.js';
import { formBody, formText, idParam } from '../http/input.js';
import { redirectWithNotice } from '../http/notice.js';
import type { CollaboratorRefusal, LetterCollaboratorService } from './letter-collaborator-service.js';
import { renderEditor } from './letter-drafting-routes.js';
import { valuesOf } from './letter-editor-state.js';

export interface LetterCollaboratorRoutesDeps {
  collaborators: LetterCollaboratorService;
  csrf: { verify: RequestHandler };
}

/** What the field says when sharing refused the address typed into it. */
const REFUSAL_KEYS: Record<CollaboratorRefusal, string> = {
  missing: 'editor.errors.collaboratorMissing',
  'not-an-address': 'account.errors.emailInvalid',
  'unknown-account': 'editor.errors.unknownAccount',
  owner: 'editor.errors.collaboratorIsOwner',
  admin: 'editor.errors.collaboratorIsAdmin',
};

/**
 * Sharing a letter with other accounts, from the editor's collaborators panel. Stopping asks first, as
 * does a collaborator leaving: either takes the letter out of someone's lists.
 */
export function letterCollaboratorRoutes(deps: LetterCollaboratorRoutesDeps): Router {
  const router = Router();

  router.post('/letters/:id/collaborators', deps.csrf.verify, async (req, res) => {
    const letterId = idParam(req, 'id');
    const email = formText(formBody(req.body), 'email');
    const outcome = await deps.collaborators.add(currentUser(res), letterId, email);
    if (outcome.kind === 'refused') {
      const { state } = outcome;
      return renderEditor(
        res,
        {
          values: valuesOf(state),
          context: { directory: state.directory, state },
          errors: { collaborator: [{ key: REFUSAL_KEYS[outcome.refusal] }] },
          collaboratorEmail: email,
        },
        422,
      );
    }
    redirectWithNotice(
      res,
      `/admin/letters/${letterId}#collaborators`,
      outcome.kind === 'added' ? 'shared' : 'alreadyShared',
    );
  });

  router.get('/letters/:id/collaborators/:userId/remove', async (req, res) => {
    const { t, language } = res.locals;
    const removal = await deps.collaborators.removal(
      currentUser(res),
      idParam(req, 'id'),
      idParam(req, 'userId'),
      language,
    );
    res.render('admin/letter-unshare', { pageTitle: t('editor.collaborators.removeTitle'), ...removal });
  });

  router.post('/letters/:id/collaborators/:userId/remove', deps.csrf.verify, async (req, res) => {
    const letterId = idParam(req, 'id');
    const removed = await deps.collaborators.remove(currentUser(res), letterId, idParam(req, 'userId'));
    redirectWithNotice(res, `/admin/letters/${letterId}#collaborators`, removed ? 'unshared' : 'notShared');
  });

  router.get('/letters/:id/leave', async (req, res) => {
    const { t, language } = res.locals;
    const leaving = await deps.collaborators.leaving(currentUser(res), idParam(req, 'id'), language);
    res.render('admin/letter-leave', { pageTitle: t('editor.collaborators.leaveTitle'), ...leaving });
  });

  router.post('/letters/:id/leave', deps.csrf.verify, async (req, res) => {
    await deps.collaborators.leave(currentUser(res), idParam(req, 'id'));
    redirectWithNotice(res, '/admin/letters', 'left');
  });

  return router;
}
