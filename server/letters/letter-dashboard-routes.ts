import { Router } from 'express';
import { currentUser } from '../http/auth.js';
import { noticeFrom } from '../http/notice.js';
import type { LetterDashboardService } from './letter-dashboard-service.js';
import { dashboardLetters, letterList } from './letter-dashboard-view.js';

/** The organizer's overview pages: the dashboard and the list of letters. */
export function letterDashboardRoutes(deps: { dashboard: LetterDashboardService }): Router {
  const router = Router();

  router.get('/', async (req, res) => {
    const { language, t } = res.locals;
    const { letters, awaitingReview, seesAllLetters, heldForModeration } = await deps.dashboard.dashboard(
      currentUser(res),
      language,
    );
    res.render('admin/dashboard', {
      pageTitle: t('dashboard.title'),
      seesAllLetters,
      notice: noticeFrom(req, t, 'account.notices', ['passwordChanged']),
      awaitingReview: letterList(t, language, awaitingReview),
      heldForModeration,
      letters: dashboardLetters(t, language, letters),
    });
  });

  router.get('/letters', async (req, res) => {
    const { language, t } = res.locals;
    const letters = await deps.dashboard.list(currentUser(res), language);
    res.render('admin/letters', {
      pageTitle: t('editor.listTitle'),
      // After leaving a letter shared with one, or deleting a draft: this list no longer shows it.
      notice: noticeFrom(req, t, 'editor.notices', ['left', 'deleted']),
      letters: letterList(t, language, letters),
    });
  });

  return router;
}
