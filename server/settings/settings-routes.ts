import { Router, type RequestHandler } from 'express';
import { currentUser, requireAdmin } from '../http/auth.js';
import { formBody, translatedErrors } from '../http/input.js';
import { noticeFrom, redirectWithNotice } from '../http/notice.js';
import type { TFunction } from '../lib/i18n.js';
import type { PlatformSettings } from './settings.js';
import { parseSettingsForm, type SettingsFormValues } from './settings-input.js';
import type { SettingsService } from './settings-service.js';

export interface SettingsRoutesDeps {
  settings: SettingsService;
  csrf: { verify: RequestHandler };
}

/** The settings page's context: the settings (or the form as typed), its errors, and the notice. */
function settingsView(
  t: TFunction,
  settings: PlatformSettings | SettingsFormValues,
  errors: Partial<Record<string, string>> = {},
  notice: string | undefined = undefined,
) {
  return { pageTitle: t('settings.title'), settings, notice, ...translatedErrors(t, errors) };
}

/** The platform settings page, for admins only. */
export function settingsRoutes(deps: SettingsRoutesDeps): Router {
  const router = Router();

  router.get('/settings', requireAdmin, async (req, res) => {
    const t = res.locals.t;
    res.render(
      'admin/settings',
      settingsView(
        t,
        await deps.settings.read(currentUser(res)),
        {},
        noticeFrom(req, t, 'settings', ['saved']),
      ),
    );
  });

  router.post('/settings', requireAdmin, deps.csrf.verify, async (req, res) => {
    const form = parseSettingsForm(formBody(req.body));
    // Shown again as typed, with the reason.
    if (!form.ok)
      return res.status(422).render('admin/settings', settingsView(res.locals.t, form.values, form.errors));
    await deps.settings.change(currentUser(res), form.change);
    redirectWithNotice(res, '/admin/settings', 'saved');
  });

  return router;
}
