import { Router, type Request, type RequestHandler, type Response } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import { currentUser, requireUser } from '../http/auth.js';
import { formBody, pathParam } from '../http/input.js';
import { withLanguages } from '../http/language.js';
import { noticeFrom, redirectWithNotice } from '../http/notice.js';
import type { Clock } from '../lib/clock.js';
import { INTERFACE_LANGUAGE_NAMES, INTERFACE_LANGUAGES, type TFunction } from '../lib/i18n.js';
import { PASSWORD_MIN_LENGTH, safeNextPath } from './account.js';
import { parseEmailLanguage, parseLogin, parseNewPassword, parseResetRequest } from './account-input.js';
import type { AccountService } from './account-service.js';
import { RESET_MINUTES, type PasswordResetService } from './password-reset-service.js';
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
  /** Limits login attempts and password changes (each guesses a password). */
  loginLimit: RequestHandler;
  /**
   * Limits the forms behind an e-mailed link (accepting an invitation, a new password): their secret is
   * the link, not a password to guess, so failed logins from the same address must not lock a new
   * invitee out, and a password refused as too weak is not an attempt.
   */
  tokenFormLimit: RequestHandler;
  /** The platform's clock: waits are stored in its time, so they are measured against it too. */
  clock: Clock;
}

/** Field errors as i18n keys, keyed by field. */
type FieldErrors = Partial<Record<string, string>>;

/** Seconds under a minute and a half, minutes above: "wait 5 seconds" reads better than "wait 1 minute". */
function waitText(t: TFunction, until: Date, now: Date): string {
  const seconds = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
  return seconds < 90
    ? t('account.wait.seconds', { count: seconds })
    : t('account.wait.minutes', { count: Math.ceil(seconds / 60) });
}

/** A password form's errors translated (a password rule names the minimum length), beside each field and in the summary. */
function passwordErrors(t: TFunction, keys: FieldErrors) {
  const errors: Record<string, string> = {};
  for (const [field, key] of Object.entries(keys))
    if (key) errors[field] = t(key, { min: PASSWORD_MIN_LENGTH });
  return { errors, errorList: Object.entries(errors).map(([field, message]) => ({ field, message })) };
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

/** A new session for the account: a new id at login, so an id planted before it (session fixation) is worth nothing. */
async function startSession(req: Request, userId: number): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    req.session.regenerate((error) => (error ? reject(error) : resolve())),
  );
  req.session.userId = userId;
  await new Promise<void>((resolve, reject) =>
    req.session.save((error) => (error ? reject(error) : resolve())),
  );
}

/** Logging in and out, invitations, forgotten passwords, and changing one's password. */
export function accountRoutes(deps: AccountRoutesDeps): Router {
  const router = Router();

  router.get('/login', (req, res) => {
    if (res.locals.currentUser) return res.redirect(303, safeNextPath(req.query.next));
    const notice = noticeFrom(req, res.locals.t, 'account.notices', [
      'passwordReset',
      'loggedOut',
      'sessionEnded',
    ]);
    renderLogin(res, 200, { email: '', next: safeNextPath(req.query.next) }, undefined, notice);
  });

  router.post('/login', deps.loginLimit, deps.csrf.verify, async (req, res) => {
    const t = res.locals.t;
    const form = parseLogin(formBody(req.body));
    if (!form.ok) return renderLogin(res, 422, form.values, t(form.errorKey));
    const values = { email: form.email, next: form.next };
    // req.ip honours TRUST_PROXY: behind a proxy, the client's address, not the proxy's. An IPv6
    // client counts as its /56 network: one home or host has a whole range to rotate through.
    const outcome = await deps.accounts.login(form.email, form.password, ipKeyGenerator(req.ip ?? ''));
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
    await startSession(req, outcome.user.id);
    res.redirect(303, outcome.user.mustChangePassword ? '/account/password' : form.next);
  });

  const renderInvitation = (
    res: Response,
    status: number,
    token: string,
    email: string | null,
    errors: FieldErrors = {},
  ) =>
    res.status(status).render('accounts/invitation', {
      pageTitle: res.locals.t('account.invitation.title'),
      valid: email !== null,
      email,
      token,
      // The e-mail's language (?lang=) goes with the form: errors come back in it, whatever the cookie says.
      action: withLanguages(`/account/invite/${encodeURIComponent(token)}`, res.req, res),
      minLength: PASSWORD_MIN_LENGTH,
      ...passwordErrors(res.locals.t, errors),
    });

  router.get('/account/invite/:token', async (req, res) => {
    const token = pathParam(req, 'token');
    const user = await deps.invitations.invitation(token);
    renderInvitation(res, user ? 200 : 404, token, user?.email ?? null);
  });

  router.post('/account/invite/:token', deps.tokenFormLimit, deps.csrf.verify, async (req, res) => {
    const token = pathParam(req, 'token');
    const invited = await deps.invitations.invitation(token);
    if (!invited) return renderInvitation(res, 404, token, null);
    const form = parseNewPassword(formBody(req.body));
    if (!form.ok) return renderInvitation(res, 422, token, invited.email, form.errors);
    const outcome = await deps.invitations.acceptInvitation(token, form.password);
    if (outcome.kind === 'invalid') return renderInvitation(res, 404, token, null);
    if (outcome.kind === 'refused')
      return renderInvitation(res, 422, token, invited.email, { password: outcome.messageKey });
    await startSession(req, outcome.user.id);
    res.redirect(303, withLanguages('/admin', req, res));
  });

  router.get('/account/reset', (_req, res) => {
    res.render('accounts/reset-request', {
      pageTitle: res.locals.t('account.reset.request.title'),
      sent: false,
      values: { email: '' },
      errors: {},
      errorList: [],
    });
  });

  // The same answer whether or not an account has the address; the service takes the same time too.
  router.post('/account/reset', deps.resetLimit, deps.csrf.verify, async (req, res) => {
    const form = parseResetRequest(formBody(req.body));
    if (!form.ok)
      return res.status(422).render('accounts/reset-request', {
        pageTitle: res.locals.t('account.reset.request.title'),
        sent: false,
        values: form.values,
        ...passwordErrors(res.locals.t, form.errors),
      });
    await deps.passwordResets.request(form.email);
    res.render('accounts/reset-request', {
      pageTitle: res.locals.t('account.reset.request.title'),
      sent: true,
      minutes: RESET_MINUTES,
    });
  });

  const renderReset = async (res: Response, token: string, errors: FieldErrors = {}, status?: number) => {
    const link = await deps.passwordResets.link(token);
    const linkStatus = { valid: 200, used: 410, expired: 410, invalid: 404 }[link.kind];
    res.status(link.kind === 'valid' ? (status ?? 200) : linkStatus).render('accounts/reset', {
      pageTitle: res.locals.t('account.reset.title'),
      valid: link.kind === 'valid',
      email: link.kind === 'valid' ? link.user.email : null,
      problem:
        link.kind === 'valid' ? null : res.locals.t(`account.reset.${link.kind}`, { count: RESET_MINUTES }),
      token,
      action: withLanguages(`/account/reset/${encodeURIComponent(token)}`, res.req, res),
      minLength: PASSWORD_MIN_LENGTH,
      ...passwordErrors(res.locals.t, errors),
    });
  };

  router.get('/account/reset/:token', async (req, res) => {
    await renderReset(res, pathParam(req, 'token'));
  });

  router.post('/account/reset/:token', deps.tokenFormLimit, deps.csrf.verify, async (req, res) => {
    const token = pathParam(req, 'token');
    const form = parseNewPassword(formBody(req.body));
    if (!form.ok) return renderReset(res, token, form.errors, 422);
    const outcome = await deps.passwordResets.reset(token, form.password);
    if (outcome.kind === 'refused') return renderReset(res, token, { password: outcome.messageKey }, 422);
    if (outcome.kind !== 'reset') return renderReset(res, token);
    redirectWithNotice(res, withLanguages('/login', req, res), 'passwordReset');
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

  // The account page: the password form, and the language of the account's e-mails (each language
  // named in itself, as the switcher names it).
  const renderPassword = (res: Response, status: number, errors: FieldErrors = {}, notice?: string) => {
    const chosen = currentUser(res).language;
    res.status(status).render('accounts/password', {
      pageTitle: res.locals.t('account.password.title'),
      minLength: PASSWORD_MIN_LENGTH,
      notice: notice ?? null,
      emailLanguages: INTERFACE_LANGUAGES.map((code) => ({
        code,
        name: INTERFACE_LANGUAGE_NAMES[code],
        selected: code === chosen,
      })),
      ...passwordErrors(res.locals.t, errors),
    });
  };

  router.get('/account/password', requireUser, (req, res) =>
    renderPassword(res, 200, {}, noticeFrom(req, res.locals.t, 'account.notices', ['emailLanguageSaved'])),
  );

  router.post('/account/language', requireUser, deps.csrf.verify, async (req, res) => {
    const form = parseEmailLanguage(formBody(req.body));
    if (!form.ok) return renderPassword(res, 422, form.errors);
    await deps.accounts.chooseEmailLanguage(currentUser(res), form.language);
    redirectWithNotice(res, '/account/password', 'emailLanguageSaved');
  });

  // Checking the current password is a login too: a borrowed session must not guess it without limit.
  router.post('/account/password', requireUser, deps.loginLimit, deps.csrf.verify, async (req, res) => {
    const form = parseNewPassword(formBody(req.body));
    if (!form.ok) return renderPassword(res, 422, form.errors);
    const outcome = await deps.accounts.changePassword(
      currentUser(res),
      form.current,
      form.password,
      deps.store.keyOf(req.sessionID),
    );
    if (outcome.kind === 'wrong-current')
      return renderPassword(res, 422, { current: 'account.errors.wrongCurrentPassword' });
    if (outcome.kind === 'refused') return renderPassword(res, 422, { password: outcome.messageKey });
    redirectWithNotice(res, '/admin', 'passwordChanged');
  });

  return router;
}
