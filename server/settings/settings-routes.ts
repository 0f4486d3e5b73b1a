import { Router, type RequestHandler } from 'express';
import { requireAdmin } from '../http/auth.js';
import { formBody, formText } from '../http/input.js';
import type { Clock } from '../lib/clock.js';
import type { SettingsRepository } from './settings-repository.js';

export interface SettingsRoutesDeps {
  settings: SettingsRepository;
  clock: Clock;
  csrf: { verify: RequestHandler };
}

/** The platform settings page, for admins only. */
export function settingsRoutes(deps: SettingsRoutesDeps): Router {
  const router = Router();

  router.get('/settings', requireAdmin, async (req, res) => {
    res.render('admin/settings', {
      titleKey: 'settings.title',
      settings: await deps.settings.read(),
      saved: req.query.done === 'saved',
    });
  });

  router.post('/settings', requireAdmin, deps.csrf.verify, async (req, res) => {
    const body = formBody(req.body);
    await deps.settings.write(
      { requireReview: formText(body, 'require_review') === 'yes' },
      deps.clock.now(),
    );
    res.redirect(303, '/admin/settings?done=saved');
  });

  return router;
}
