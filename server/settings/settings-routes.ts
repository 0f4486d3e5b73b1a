import { Router, type RequestHandler } from 'express';
import { currentUser, requireAdmin } from '../http/auth.js';
import { formBody, translatedErrors } from '../http/input.js';
import { noticeFrom, redirectWithNotice } from '../http/notice.js';
import type { TFunction } from '../lib/i18n.js';
import {
  CONTROLLER_LIMITS,
  controllerIsSet,
  type DataController,
  type PlatformSettings,
} from './settings.js';
import {
  parseControllerForm,
  parseSettingsForm,
  type ControllerFormValues,
  type SettingsFormValues,
} from './settings-input.js';
import type { SettingsService } from './settings-service.js';

export interface SettingsRoutesDeps {
  settings: SettingsService;
  csrf: { verify: RequestHandler };
}

/**
 * The settings page's context: the platform settings (or their form as typed), the data controller's
 * form (stored or as typed), the errors of whichever form was sent, the to-do while the controller is not
 * named, and the notice.
 */
function settingsView(
  t: TFunction,
  stored: PlatformSettings,
  shown: {
    settings?: SettingsFormValues;
    controller?: ControllerFormValues;
    errors?: Partial<Record<string, string>>;
    notice?: string;
  } = {},
) {
  const controller: DataController = shown.controller ?? stored;
  return {
    pageTitle: t('settings.title'),
    settings: shown.settings ?? stored,
    controller,
    controllerLimits: CONTROLLER_LIMITS,
    controllerTodo: !controllerIsSet(stored),
    notice: shown.notice,
    ...translatedErrors(t, shown.errors ?? {}),
  };
}

/**
 * Before the dashboard renders (mounted ahead of the letters' routes): tells an admin that the data
 * controller is not named yet, which every letter's privacy notice says plainly until it is.
 */
export function controllerTodoRoutes(deps: Pick<SettingsRoutesDeps, 'settings'>): Router {
  const router = Router();
  router.get('/', async (_req, res, next) => {
    res.locals.controllerTodo = await deps.settings.controllerTodo(currentUser(res));
    next();
  });
  return router;
}

/** The platform settings page, for admins only. */
export function settingsRoutes(deps: SettingsRoutesDeps): Router {
  const router = Router();

  router.get('/settings', requireAdmin, async (req, res) => {
    const t = res.locals.t;
    const stored = await deps.settings.read(currentUser(res));
    res.render(
      'admin/settings',
      settingsView(t, stored, { notice: noticeFrom(req, t, 'settings', ['saved']) }),
    );
  });

  router.post('/settings', requireAdmin, deps.csrf.verify, async (req, res) => {
    const form = parseSettingsForm(formBody(req.body));
    // Shown again as typed, with the reason.
    if (!form.ok) {
      const stored = await deps.settings.read(currentUser(res));
      return res
        .status(422)
        .render(
          'admin/settings',
          settingsView(res.locals.t, stored, { settings: form.values, errors: form.errors }),
        );
    }
    await deps.settings.change(currentUser(res), form.change);
    redirectWithNotice(res, '/admin/settings', 'saved');
  });

  // The data controller has a form of its own: the other form's checkbox, absent here, would read as "off".
  router.post('/settings/data-controller', requireAdmin, deps.csrf.verify, async (req, res) => {
    const user = currentUser(res);
    const form = parseControllerForm(formBody(req.body));
    if (!form.ok) {
      const stored = await deps.settings.read(user);
      return res
        .status(400)
        .render(
          'admin/settings',
          settingsView(res.locals.t, stored, { controller: form.values, errors: form.errors }),
        );
    }
    await deps.settings.change(user, form.change);
    redirectWithNotice(res, '/admin/settings', 'saved');
  });

  return router;
}
