import { Router, type RequestHandler } from 'express';
import { currentUser, requireAdmin } from '../http/auth.js';
import { formBody, formText } from '../http/input.js';
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
    await deps.settings.change(currentUser(res), { requireReview: formText(body, 'require_review') === 'yes' });
    res.redirect(303, '/admin/settings?done=saved');
  });

  return router;
}
