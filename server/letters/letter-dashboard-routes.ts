import { Router } from 'express';
import { currentUser } from '../http/auth.js';
import { noticeFrom } from '../http/notice.js';
import type { LetterDashboardService } from './letter-dashboard-service.js';
import { dashboardLetters, letterList } from './letter-dashboard-view.js';

/** The organizer's overview pages: the dashboard and the list of letters. */
export function letterDashboardRoutes(deps: { dashboard: LetterDashboardService }): Router {
  const router = Router();

  router.get('/', async (req, res) => {
    const { letters, awaitingReview, seesAllLetters } = await deps.dashboard.dashboard(currentUser(res));
    res.render('admin/dashboard', {
      pageTitle: res.locals.t('dashboard.title'),
      seesAllLetters,
      notice: noticeFrom(req, res.locals.t, 'account.notices', ['passwordChanged']),
      awaitingReview,
      letters: dashboardLetters(res.locals.t, res.locals.language, letters),
    });
  });

  router.get('/letters', async (_req, res) => {
    const letters = await deps.dashboard.list(currentUser(res));
    res.render('admin/letters', {
      pageTitle: res.locals.t('editor.listTitle'),
      letters: letterList(res.locals.t, letters),
    });
  });

  return router;
}
