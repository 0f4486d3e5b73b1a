import { Router, type RequestHandler, type Response } from 'express';
import { currentUser, requireAdmin } from '../http/auth.js';
import { formBody, formText, idParam } from '../http/input.js';
import { noticeFrom, redirectWithNotice } from '../http/notice.js';
import { AppError } from '../lib/errors.js';
import type { UserAdminService } from './user-admin-service.js';
import { emptyInvite, usersPageView } from './user-admin-view.js';

/** The notices the users page shows after a step. */
const NOTICES = ['invited', 'invitedRole', 'role', 'roleUnchanged', 'disabled', 'enabled', 'unlocked'];

/** Accounts for admins: list, invite, change role, disable and enable, unlock logins. */
export function userAdminRoutes(deps: { users: UserAdminService; csrf: { verify: RequestHandler } }): Router {
  const router = Router();
  router.use('/users', requireAdmin);

  router.get('/users', async (req, res) => {
    const t = res.locals.t;
    const me = currentUser(res);
    res.render(
      'admin/users',
      usersPageView(
        t,
        me,
        await deps.users.list(me),
        emptyInvite(res.locals.language),
        noticeFrom(req, t, 'users.notices', NOTICES),
      ),
    );
  });

  router.post('/users/invite', deps.csrf.verify, async (req, res) => {
    const body = formBody(req.body);
    const values = {
      email: formText(body, 'email').trim(),
      role: formText(body, 'role'),
      // Sent without the field (a script, not the form, which always has it): the language the admin is using.
      language: formText(body, 'language') || res.locals.language,
    };
    const me = currentUser(res);
    const outcome = await deps.users.invite(me, values.email, values.role, values.language);
    if (outcome.kind === 'invalid') {
      // Shown again with what was typed, beside the list as it is.
      const users = await deps.users.list(me);
      return res
        .status(422)
        .render(
          'admin/users',
          usersPageView(res.locals.t, me, users, { values, errors: outcome.errors }, undefined),
        );
    }
    redirectWithNotice(res, '/admin/users', outcome.roleBefore ? 'invitedRole' : 'invited');
  });

  /**
   * A step on the list that the rules refuse (a 4xx: the last admin's role or account, one's own account)
   * is said on the list itself, which stays in front of the admin, not on an error page that leads away.
   */
  const onTheList = async <T>(
    res: Response,
    step: () => Promise<T>,
    notice: string | ((done: T) => string),
  ) => {
    const me = currentUser(res);
    let done: T;
    try {
      done = await step();
    } catch (error) {
      if (!(error instanceof AppError) || error.status >= 500 || error.status === 404) throw error;
      const users = await deps.users.list(me);
      return res
        .status(error.status)
        .render(
          'admin/users',
          usersPageView(res.locals.t, me, users, emptyInvite(res.locals.language), undefined, error),
        );
    }
    redirectWithNotice(res, '/admin/users', typeof notice === 'string' ? notice : notice(done));
  };

  router.post('/users/:id/role', deps.csrf.verify, async (req, res) => {
    const body = formBody(req.body);
    const role = formText(body, 'role');
    const id = idParam(req, 'id');
    // Making someone an admin asks first: it opens every supporter's address and every account to them.
    if (role === 'admin' && formText(body, 'confirmed') !== 'yes') {
      const user = await deps.users.find(currentUser(res), id);
      if (user.role !== 'admin')
        return res.render('admin/user-promote', { pageTitle: res.locals.t('users.promote.title'), user });
    }
    await onTheList(
      res,
      () => deps.users.changeRole(currentUser(res), id, role),
      (changed) => (changed ? 'role' : 'roleUnchanged'),
    );
  });

  // Disabling asks first: the person is logged out everywhere at once.
  router.get('/users/:id/disable', async (req, res) => {
    const user = await deps.users.find(currentUser(res), idParam(req, 'id'));
    res.render('admin/user-disable', {
      pageTitle: res.locals.t('users.disable.title'),
      user,
      // One's own account is refused (the service's rule): said here, not after a "Yes, disable".
      own: user.id === currentUser(res).id,
    });
  });

  router.post('/users/:id/disable', deps.csrf.verify, async (req, res) => {
    await onTheList(res, () => deps.users.disable(currentUser(res), idParam(req, 'id')), 'disabled');
  });

  // Unlocking asks first, and says until when the account is locked: the lock may be an attack in progress.
  router.get('/users/:id/unlock', async (req, res) => {
    res.render('admin/user-unlock', {
      pageTitle: res.locals.t('users.unlock.title'),
      user: await deps.users.findListed(currentUser(res), idParam(req, 'id')),
    });
  });

  router.post('/users/:id/unlock', deps.csrf.verify, async (req, res) => {
    await deps.users.unlock(currentUser(res), idParam(req, 'id'));
    redirectWithNotice(res, '/admin/users', 'unlocked');
  });

  router.post('/users/:id/enable', deps.csrf.verify, async (req, res) => {
    await deps.users.enable(currentUser(res), idParam(req, 'id'));
    redirectWithNotice(res, '/admin/users', 'enabled');
  });

  return router;
}
