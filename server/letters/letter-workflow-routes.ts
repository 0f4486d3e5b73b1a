import { Router, type RequestHandler } from 'express';
import type { User } from '../accounts/account.js';
import type { ClosingRound } from './letter.js';
import { currentUser } from '../http/auth.js';
import { formBody, formText, idParam } from '../http/input.js';
import { redirectWithNotice } from '../http/notice.js';
import { parseReturnNote } from './letter-input.js';
import type { LetterWorkflowService } from './letter-workflow-service.js';
import { publishView, returnView } from './letter-workflow-view.js';

export interface LetterWorkflowRoutesDeps {
  workflow: LetterWorkflowService;
  /** What closing the letter now would send by itself, or null (a port the deliveries satisfy, app.ts). */
  closingRound: (user: User, letterId: number) => Promise<ClosingRound | null>;
  csrf: { verify: RequestHandler };
}

/** Publishing (or asking for review, or withdrawing that request), review decisions, closing and reopening a letter. */
export function letterWorkflowRoutes(deps: LetterWorkflowRoutesDeps): Router {
  const router = Router();
  const { workflow } = deps;

  // Publishing asks first, like closing and delivering: it makes the letter public for good.
  router.get('/letters/:id/publish', async (req, res) => {
    const check = await workflow.publishCheck(currentUser(res), idParam(req, 'id'), res.locals.language);
    res.render('admin/letter-publish', publishView(res.locals.t, res.locals.language, check));
  });

  router.post('/letters/:id/publish', deps.csrf.verify, async (req, res) => {
    const letterId = idParam(req, 'id');
    const outcome = await workflow.publish(
      currentUser(res),
      letterId,
      formText(formBody(req.body), 'review_seen'),
    );
    if (outcome.kind === 'not-ready')
      return res
        .status(422)
        .render('admin/letter-publish', publishView(res.locals.t, res.locals.language, outcome.check));
    redirectWithNotice(
      res,
      `/admin/letters/${letterId}`,
      outcome.kind === 'published' ? 'published' : 'reviewRequested',
    );
  });

  // Sending back asks for a note first: the organizers are told why, in the e-mail and in the editor.
  for (const [kind, path] of [
    ['letter', '/letters/:id/return'],
    ['changes', '/letters/:id/changes/return'],
  ] as const) {
    router.get(path, async (req, res) => {
      const letter = await workflow.returnCheck(currentUser(res), idParam(req, 'id'), kind);
      res.render(
        'admin/letter-return',
        returnView(res.locals.t, res.locals.language, letter, kind, { value: '' }),
      );
    });

    router.post(path, deps.csrf.verify, async (req, res) => {
      const letterId = idParam(req, 'id');
      const input = parseReturnNote(formBody(req.body));
      if (!input.ok) {
        const letter = await workflow.returnCheck(currentUser(res), letterId, kind);
        return res.status(422).render(
          'admin/letter-return',
          returnView(res.locals.t, res.locals.language, letter, kind, {
            value: input.value,
            errorKey: input.errorKey,
          }),
        );
      }
      if (kind === 'letter') await workflow.returnToDraft(currentUser(res), letterId, input.note);
      else await workflow.returnChanges(currentUser(res), letterId, input.note);
      redirectWithNotice(
        res,
        `/admin/letters/${letterId}`,
        kind === 'letter' ? 'returned' : 'changesReturned',
      );
    });
  }

  // Withdrawing asks first, like closing: the admins are told the letter no longer waits for them.
  router.get('/letters/:id/withdraw-review', async (req, res) => {
    const { letter, waiting } = await workflow.withdrawReviewCheck(currentUser(res), idParam(req, 'id'));
    res.render('admin/letter-withdraw-review', {
      pageTitle: res.locals.t('editor.withdrawReview.title'),
      letter,
      waiting,
    });
  });

  router.post('/letters/:id/withdraw-review', deps.csrf.verify, async (req, res) => {
    const letterId = idParam(req, 'id');
    await workflow.withdrawReviewRequest(currentUser(res), letterId);
    redirectWithNotice(res, `/admin/letters/${letterId}`, 'reviewWithdrawn');
  });

  router.post('/letters/:id/changes/approve', deps.csrf.verify, async (req, res) => {
    const letterId = idParam(req, 'id');
    // When the changes the admin looked at were saved: a newer edit is not approved unseen.
    const seenAt = new Date(formText(formBody(req.body), 'pending_at') || 'invalid');
    await workflow.approveChanges(currentUser(res), letterId, seenAt);
    redirectWithNotice(res, `/admin/letters/${letterId}`, 'changesApproved');
  });

  // Closing asks first: it stops the signing for everyone.
  router.get('/letters/:id/close', async (req, res) => {
    const letter = await workflow.closeCheck(currentUser(res), idParam(req, 'id'));
    // Null for a letter that is not open: the deliveries' rule decides, not a second check here.
    const closingRound = await deps.closingRound(currentUser(res), letter.id);
    res.render('admin/letter-close', {
      pageTitle: res.locals.t('editor.close.title'),
      letter,
      open: letter.status === 'open',
      closingRound,
    });
  });

  router.post('/letters/:id/close', deps.csrf.verify, async (req, res) => {
    const letterId = idParam(req, 'id');
    await workflow.close(currentUser(res), letterId);
    redirectWithNotice(res, `/admin/letters/${letterId}`, 'closed');
  });

  // Deleting a draft asks first, naming it: nothing brings it back.
  router.get('/letters/:id/delete', async (req, res) => {
    const { t, language } = res.locals;
    const draft = await workflow.deleteCheck(currentUser(res), idParam(req, 'id'), language);
    res.render('admin/letter-delete', { pageTitle: t('editor.delete.title'), ...draft });
  });

  router.post('/letters/:id/delete', deps.csrf.verify, async (req, res) => {
    await workflow.deleteDraft(currentUser(res), idParam(req, 'id'));
    redirectWithNotice(res, '/admin/letters', 'deleted');
  });

  router.post('/letters/:id/reopen', deps.csrf.verify, async (req, res) => {
    const letterId = idParam(req, 'id');
    await workflow.reopen(currentUser(res), letterId);
    redirectWithNotice(res, `/admin/letters/${letterId}`, 'reopened');
  });

  return router;
}
