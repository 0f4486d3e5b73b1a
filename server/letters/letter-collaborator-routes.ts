import { Router, type RequestHandler } from 'express';
import { currentUser } from '../http/auth.js';
import { formBody, formText, idParam } from '../http/input.js';
import { redirectWithNotice } from '../http/notice.js';
import type { LetterCollaboratorService } from './letter-collaborator-service.js';
import { editorView } from './letter-editor-view.js';
import { valuesOf } from './letter-editor-state.js';

export interface LetterCollaboratorRoutesDeps {
  collaborators: LetterCollaboratorService;
  csrf: { verify: RequestHandler };
}

/** Sharing a letter with other accounts, from the editor's collaborators panel. */
export function letterCollaboratorRoutes(deps: LetterCollaboratorRoutesDeps): Router {
  const router = Router();

  router.post('/letters/:id/collaborators', deps.csrf.verify, async (req, res) => {
    const letterId = idParam(req, 'id');
    const email = formText(formBody(req.body), 'email');
    const outcome = await deps.collaborators.add(currentUser(res), letterId, email);
    if (outcome.kind === 'unknown-account') {
      const { state } = outcome;
      return res.status(422).render(
        'admin/letter-edit',
        editorView(res.locals.t, res.locals.language, {
          values: valuesOf(state),
          context: { directory: state.directory, state },
          errors: { collaborator: [{ key: 'editor.errors.unknownAccount' }] },
          collaboratorEmail: email,
        }),
      );
    }
    redirectWithNotice(res, `/admin/letters/${letterId}#collaborators`, 'shared');
  });

  router.post('/letters/:id/collaborators/:userId/remove', deps.csrf.verify, async (req, res) => {
    const letterId = idParam(req, 'id');
    await deps.collaborators.remove(currentUser(res), letterId, idParam(req, 'userId'));
    redirectWithNotice(res, `/admin/letters/${letterId}#collaborators`, 'unshared');
  });

  return router;
}
