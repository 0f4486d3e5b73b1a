import { Router, type RequestHandler } from 'express';
import { currentUser, requireAdmin } from '../http/auth.js';
import { formBody, formText, translatedErrors } from '../http/input.js';
import { parseTrendingAlert } from './settings.js';
import type { SettingsService } from './settings-service.js';

export interface SettingsRoutesDeps {
  settings: SettingsService;
  csrf: { verify: RequestHandler };
}

/** The platform settings page, for admins only. */
export function settingsRoutes(deps: SettingsRoutesDeps): Router {
  const router = Router();

  router.get('/settings', requireAdmin, async (req, res) => {
    res.render('admin/settings', {
      titleKey: 'settings.title',
      settings: await deps.settings.read(currentUser(res)),
      saved: req.query.done === 'saved',
    });
  });

  router.post('/settings', requireAdmin, deps.csrf.verify, async (req, res) => {
    const body = formBody(req.body);
    const requireReview = formText(body, 'require_review') === 'yes';
    const alertText = formText(body, 'trending_alert_per_hour').slice(0, 20);
    // A form without the field (an older page, a script) leaves the threshold as it is.
    const trendingAlertPerHour =
      body.trending_alert_per_hour === undefined
        ? (await deps.settings.read(currentUser(res))).trendingAlertPerHour
        : parseTrendingAlert(alertText);
    if (trendingAlertPerHour === undefined) {
      // Shown again as typed, with the reason.
      return res.status(422).render('admin/settings', {
        titleKey: 'settings.title',
        settings: { requireReview, trendingAlertPerHour: alertText },
        ...translatedErrors(res.locals.t, { trendingAlert: 'abuse.settings.alertInvalid' }),
      });
    }
    await deps.settings.change(currentUser(res), {
      requireReview,
      trendingAlertPerHour,
    });
    res.redirect(303, '/admin/settings?done=saved');
  });

  return router;
}
