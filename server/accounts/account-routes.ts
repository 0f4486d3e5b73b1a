import { Router, type RequestHandler, type Response } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import { currentUser, requireUser } from '../http/auth.js';
import { formBody, formText, pathParam } from '../http/input.js';
import { noticeFrom, redirectWithNotice } from '../http/notice.js';
import type { Clock } from '../lib/clock.js';
import type { TFunction } from '../lib/i18n.js';
import { PASSWORD_MIN_LENGTH, safeNextPath } from './account.js';
import type { AccountService } from './account-service.js';
import { RESET_MINUTES, type PasswordResetService } from './password-reset-service.js';
import { looksLikeEmailAddress } from '../lib/email-address.js';
import type { SqliteSessionStore } from './session-store.js';
import type { UserAdminService } from './user-admin-service.js';

export interface AccountRoutesDeps {
  accounts: AccountService;
  /** Invitations sent by admins: the link lets the invited person set their password. */
  invitations: UserAdminService;
  /** Forgotten passwords: the e-mailed link. */
  passwordResets: PasswordResetService;
  /** Limits asking for reset links (each may send an e-mail). */
  resetLimit: RequestHandler;
  store: SqliteSessionStore;
  csrf: { verify: RequestHandler };
  loginLimit: RequestHandler;
  /** The platform's clock: waits are stored in its time, so they are measured against it too. */
  clock: Clock;
}

/** Seconds under a minute and a half, minutes above: "wait 5 seconds" reads better than "wait 1 minute". */
function waitText(t: TFunction, until: Date, now: Date): string {
  const seconds = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
  return seconds < 90
    ? t('account.wait.seconds', { count: seconds })
    : t('account.wait.minutes', { count: Math.ceil(seconds / 60) });
}

/** The login form; a refusal is about the pair of fields, so its message in the summary links to neither. */
function renderLogin(
  res: Response,
  status: number,
  values: { email: string; next: string },
  error?: string,
  notice?: string,
) {
  res.status(status).render('accounts/login', {
    pageTitle: res.locals.t('account.login.title'),
    values,
    notice: notice ?? null,
    errorList: error ? [{ field: null, message: error }] : [],
  });
}

/** Logging in and out, and changing one's password. */
export function accountRoutes(deps: AccountRoutesDeps): Router {
  const router = Router();

  router.get('/login', (req, res) => {
    if (res.locals.currentUser) return res.redirect(303, safeNextPath(req.query.next));
    const notice = noticeFrom(req, res.locals.t, 'account.notices', ['passwordReset', 'loggedOut']);
    renderLogin(res, 200, { email: '', next: safeNextPath(req.query.next) }, undefined, notice);
  });

  router.post('/login', deps.loginLimit, deps.csrf.verify, async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const values = { email: formText(body, 'email').trim(), next: safeNextPath(body.next) };
    const password = formText(body, 'password');
    const t = res.locals.t;
    if (!values.email || !password)
      return renderLogin(res, 422, values, t('account.errors.missingCredentials'));
    // req.ip honours TRUST_PROXY: behind a proxy, the client's address, not the proxy's. An IPv6
    // client counts as its /56 network: one home or host has a whole range to rotate through.
    const outcome = await deps.accounts.login(values.email, password, ipKeyGenerator(req.ip ?? ''));
    if (outcome.kind === 'invalid')
      return renderLogin(res, 401, values, t('account.errors.invalidCredentials'));
    if (outcome.kind === 'wait') {
      const now = deps.clock.now();
      res.set(
        'Retry-After',
        String(Math.max(1, Math.ceil((outcome.until.getTime() - now.getTime()) / 1000))),
      );
      return renderLogin(
        res,
        429,
        values,
        t('account.errors.tooManyAttempts', { wait: waitText(t, outcome.until, now) }),
      );
    }
    // A new session id at login: an id planted before login (session fixation) is worth nothing after it.
    await new Promise<void>((resolve, reject) =>
      req.session.regenerate((error) => (error ? reject(error) : resolve())),
    );
    req.session.userId = outcome.user.id;
    await new Promise<void>((resolve, reject) =>
      req.session.save((error) => (error ? reject(error) : resolve())),
    );
    res.redirect(303, outcome.user.mustChangePassword ? '/account/password' : values.next);
  });

  router.get('/account/invite/:token', async (req, res) => {
    const user = await deps.invitations.invitation(pathParam(req, 'token'));
    res.status(user ? 200 : 404).render('accounts/invitation', {
      pageTitle: res.locals.t('account.invitation.title'),
      valid: Boolean(user),
      email: user?.email,
      token: pathParam(req, 'token'),
      minLength: PASSWORD_MIN_LENGTH,
      errors: {},
      errorList: [],
    });
  });

  router.post('/account/invite/:token', deps.loginLimit, deps.csrf.verify, async (req, res) => {
    const t = res.locals.t;
    const body = formBody(req.body);
    const token = pathParam(req, 'token');
    const password = formText(body, 'password');
    const render = (status: number, errors: Record<string, string>, email?: string) =>
      res.status(status).render('accounts/invitation', {
        pageTitle: res.locals.t('account.invitation.title'),
        valid: status !== 404,
        email,
        token,
        minLength: PASSWORD_MIN_LENGTH,
        errors,
        errorList: Object.entries(errors).map(([field, message]) => ({ field, message })),
      });
    const invited = await deps.invitations.invitation(token);
    if (!invited) return render(404, {});
    if (password !== formText(body, 'confirm'))
      return render(422, { confirm: t('account.errors.passwordsDiffer') }, invited.email);
    const outcome = await deps.invitations.acceptInvitation(token, password);
    if (outcome.kind === 'invalid') return render(404, {});
    if (outcome.kind === 'refused')
      return render(422, { password: t(outcome.messageKey, { min: PASSWORD_MIN_LENGTH }) }, invited.email);
    await new Promise<void>((resolve, reject) =>
      req.session.regenerate((error) => (error ? reject(error) : resolve())),
    );
    req.session.userId = outcome.user.id;
    await new Promise<void>((resolve, reject) =>
      req.session.save((error) => (error ? reject(error) : resolve())),
    );
    res.redirect(303, '/admin');
  });

  router.get('/account/reset', (_req, res) => {
    res.render('accounts/reset-request', {
      pageTitle: res.locals.t('account.reset.request.title'),
      values: { email: '' },
      errors: {},
      errorList: [],
    });
  });

  // The same answer whether or not an account has the address; the service takes the same time too.
  router.post('/account/reset', deps.resetLimit, deps.csrf.verify, async (req, res) => {
    const t = res.locals.t;
    const email = formText(formBody(req.body), 'email').trim();
    if (!looksLikeEmailAddress(email)) {
      const errors = { email: t('account.errors.emailInvalid') };
      return res.status(422).render('accounts/reset-request', {
        pageTitle: res.locals.t('account.reset.request.title'),
        values: { email },
        errors,
        errorList: Object.entries(errors).map(([field, message]) => ({ field, message })),
      });
    }
    await deps.passwordResets.request(email);
    res.render('accounts/reset-request', {
      pageTitle: res.locals.t('account.reset.request.title'),
      sent: true,
      minutes: RESET_MINUTES,
    });
  });

  const renderReset = async (
    res: Response,
    token: string,
    errors: Record<string, string> = {},
    status?: number,
  ) => {
    const t = res.locals.t;
    const link = await deps.passwordResets.link(token);
    const linkStatus = { valid: 200, used: 410, expired: 410, invalid: 404 }[link.kind];
    res.status(link.kind === 'valid' ? (status ?? 200) : linkStatus).render('accounts/reset', {
      pageTitle: res.locals.t('account.reset.title'),
      valid: link.kind === 'valid',
      email: link.kind === 'valid' ? link.user.email : undefined,
      problem:
        link.kind === 'valid' ? undefined : t(`account.reset.${link.kind}`, { minutes: RESET_MINUTES }),
      token,
      minLength: PASSWORD_MIN_LENGTH,
      errors,
      errorList: Object.entries(errors).map(([field, message]) => ({ field, message })),
    });
  };

  router.get('/account/reset/:token', async (req, res) => {
    await renderReset(res, pathParam(req, 'token'));
  });

  router.post('/account/reset/:token', deps.loginLimit, deps.csrf.verify, async (req, res) => {
    const t = res.locals.t;
    const body = formBody(req.body);
    const token = pathParam(req, 'token');
    const password = formText(body, 'password');
    if (password !== formText(body, 'confirm'))
      return renderReset(res, token, { confirm: t('account.errors.passwordsDiffer') }, 422);
    const outcome = await deps.passwordResets.reset(token, password);
    if (outcome.kind === 'refused')
      return renderReset(res, token, { password: t(outcome.messageKey, { min: PASSWORD_MIN_LENGTH }) }, 422);
    if (outcome.kind !== 'reset') return renderReset(res, token);
    redirectWithNotice(res, '/login', 'passwordReset');
  });

  router.post('/logout', deps.csrf.verify, async (req, res) => {
    if (req.session) await new Promise<void>((resolve) => req.session.destroy(() => resolve()));
    // The same attributes as the cookie itself: browsers ignore a __Host- cookie set without Secure.
    res.clearCookie(req.secure ? '__Host-us_session' : 'us_session', {
      path: '/',
      secure: req.secure,
      httpOnly: true,
      sameSite: 'lax',
    });
    redirectWithNotice(res, '/login', 'loggedOut');
  });

  router.get('/account/password', requireUser, (_req, res) => {
    res.render('accounts/password', {
      pageTitle: res.locals.t('account.password.title'),
      minLength: PASSWORD_MIN_LENGTH,
      errors: {},
      errorList: [],
    });
  });

  // Checking the current password is a login too: a borrowed session must not guess it without limit.
  router.post('/account/password', requireUser, deps.loginLimit, deps.csrf.verify, async (req, res) => {
    const user = currentUser(res);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const current = formText(body, 'current');
    const next = formText(body, 'password');
    const t = res.locals.t;
    const fail = (status: number, errors: Record<string, string>) =>
      res.status(status).render('accounts/password', {
        pageTitle: res.locals.t('account.password.title'),
        minLength: PASSWORD_MIN_LENGTH,
        errors,
        errorList: Object.entries(errors).map(([field, message]) => ({ field, message })),
      });
    if (next !== formText(body, 'confirm'))
      return fail(422, { confirm: t('account.errors.passwordsDiffer') });
    const outcome = await deps.accounts.changePassword(user, current, next, deps.store.keyOf(req.sessionID));
    if (outcome.kind === 'wrong-current')
      return fail(422, { current: t('account.errors.wrongCurrentPassword') });
    if (outcome.kind === 'refused')
      return fail(422, { password: t(outcome.messageKey, { min: PASSWORD_MIN_LENGTH }) });
    redirectWithNotice(res, '/admin', 'passwordChanged');
  });

  return router;
}
