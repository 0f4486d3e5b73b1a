import { Router, type RequestHandler, type Response } from 'express';
import { currentUser, requireAdmin } from '../http/auth.js';
import { formBody, formText, idParam, translatedErrors } from '../http/input.js';
import { ROLES } from './account.js';
import type { UserAdminService } from './user-admin-service.js';

async function renderList(
  res: Response,
  users: UserAdminService,
  form: { values: { email: string; role: string }; errors: Record<string, string> },
  status = 200,
  notice?: string,
) {
  const t = res.locals.t;
  const me = currentUser(res);
  res.status(status).render('admin/users', {
    titleKey: 'users.title',
    users: (await users.list(me)).map((u) => ({
      ...u,
      me: u.id === me.id,
      roles: ROLES.map((r) => ({ role: r, selected: r === u.role, label: t(`users.roles.${r}`) })),
    })),
    roles: ROLES.map((r) => ({ role: r, selected: r === form.values.role, label: t(`users.roles.${r}`) })),
    values: form.values,
    ...translatedErrors(t, form.errors),
    notice,
  });
}

/** Accounts for admins: list, invite, change role, disable and enable, unlock logins. */
export function userAdminRoutes(deps: { users: UserAdminService; csrf: { verify: RequestHandler } }): Router {
  const router = Router();
  router.use('/users', requireAdmin);

  router.get('/users', async (req, res) => {
    const t = res.locals.t;
    const done = req.query.done;
    const notice =
      typeof done === 'string' && ['invited', 'role', 'disabled', 'enabled', 'unlocked'].includes(done)
        ? t(`users.notices.${done}`)
        : undefined;
    await renderList(res, deps.users, { values: { email: '', role: 'organizer' }, errors: {} }, 200, notice);
  });

  router.post('/users/invite', deps.csrf.verify, async (req, res) => {
    const body = formBody(req.body);
    const values = { email: formText(body, 'email').trim(), role: formText(body, 'role') };
    const outcome = await deps.users.invite(currentUser(res), values.email, values.role);
    if (outcome.kind === 'invalid')
      return renderList(res, deps.users, { values, errors: outcome.errors }, 422);
    res.redirect(303, '/admin/users?done=invited');
  });

  router.post('/users/:id/role', deps.csrf.verify, async (req, res) => {
    await deps.users.changeRole(currentUser(res), idParam(req, 'id'), formText(formBody(req.body), 'role'));
    res.redirect(303, '/admin/users?done=role');
  });

  // Disabling asks first: the person is logged out everywhere at once.
  router.get('/users/:id/disable', async (req, res) => {
    res.render('admin/user-disable', {
      titleKey: 'users.disable.title',
      user: await deps.users.find(currentUser(res), idParam(req, 'id')),
    });
  });

  router.post('/users/:id/disable', deps.csrf.verify, async (req, res) => {
    await deps.users.disable(currentUser(res), idParam(req, 'id'));
    res.redirect(303, '/admin/users?done=disabled');
  });

  // Unlocking asks first, and says until when the account is locked: the lock may be an attack in progress.
  router.get('/users/:id/unlock', async (req, res) => {
    res.render('admin/user-unlock', {
      titleKey: 'users.unlock.title',
      user: await deps.users.findListed(currentUser(res), idParam(req, 'id')),
    });
  });

  router.post('/users/:id/unlock', deps.csrf.verify, async (req, res) => {
    await deps.users.unlock(currentUser(res), idParam(req, 'id'));
    res.redirect(303, '/admin/users?done=unlocked');
  });

  router.post('/users/:id/enable', deps.csrf.verify, async (req, res) => {
    await deps.users.enable(currentUser(res), idParam(req, 'id'));
    res.redirect(303, '/admin/users?done=enabled');
  });

  return router;
}
