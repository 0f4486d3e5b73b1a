import type { Request, RequestHandler } from 'express';
import session from 'express-session';
import { safeNextPath, type User } from '../accounts/account.js';
import type { AccountService } from '../accounts/account-service.js';
import type { SqliteSessionStore } from '../accounts/session-store.js';
import { AppError } from '../lib/errors.js';
import { authorize } from '../policy/policy.js';
import { withoutNotice } from './notice.js';

/** An account's session lives this long after its last request. */
export const SESSION_TTL_MS = 8 * 3_600_000;

/**
 * Server-side sessions for admins and organizers only: nothing is stored and no cookie is set until
 * someone logs in (saveUninitialized: false), so supporters never get a session.
 */
export function sessions(
  store: SqliteSessionStore,
  secret: string,
  options: { https: boolean },
): RequestHandler {
  return session({
    store,
    secret,
    name: options.https ? '__Host-us_session' : 'us_session',
    resave: false,
    saveUninitialized: false,
    rolling: true,
    unset: 'destroy',
    cookie: { httpOnly: true, sameSite: 'lax', secure: options.https, path: '/', maxAge: SESSION_TTL_MS },
  });
}

/** Puts the logged-in account, if any, in res.locals.currentUser; a disabled account's session ends. */
export function loadCurrentUser(accounts: AccountService): RequestHandler {
  return async (req, res, next) => {
    const userId = req.session?.userId;
    if (userId === undefined) return next();
    const user = await accounts.findUser(userId);
    if (!user || user.disabled) {
      await new Promise<void>((resolve) => req.session.destroy(() => resolve()));
      return next();
    }
    res.locals.currentUser = user;
    next();
  };
}

/**
 * Refuses anonymous visitors: pages send them to the login form and back afterwards. An account with
 * a one-time password goes to the password form first.
 */
export const requireUser: RequestHandler = (req, res, next) => {
  const user = res.locals.currentUser;
  if (!user) {
    // A page's script (the editor's live preview) cannot follow a redirect to the login form: it gets a
    // 401 it can show, and the page with what was typed stays open.
    if (req.accepts(['html', 'json']) === 'json')
      return next(new AppError(401, 'session_ended', 'account.errors.sessionEndedScript'));
    if (req.method === 'GET') return res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
    // A form sent after the session ended (8 hours without a request): nothing was done. Say so, and
    // come back to the page it was sent from, where the editor offers back what was typed.
    const back = withoutNotice(refererOnThisSite(req, '/admin'));
    return res.redirect(303, `/login?next=${encodeURIComponent(back)}&done=sessionEnded`);
  }
  if (user.mustChangePassword && req.baseUrl + req.path !== '/account/password')
    return res.redirect(303, '/account/password');
  next();
};

/**
 * The page a request came from on this site, as a path safe to link or redirect to (safeNextPath), or
 * `fallback` when its Referer names another site, or none.
 */
export function refererOnThisSite(req: Request, fallback: string): string {
  return safeNextPath(refererPath(req.get('referer'), req.get('host')), fallback);
}

/** The path of a Referer from this host, or undefined (another site's, or none). */
function refererPath(referer: string | undefined, host: string | undefined): string | undefined {
  if (!referer || !host) return undefined;
  try {
    const url = new URL(referer);
    return url.host === host ? `${url.pathname}${url.search}` : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Admin-only pages: organizers get a 403 that says so. Asked of the policy, so the refusal is a policy
 * refusal like any other and goes on the audit record (errors.ts).
 */
export const requireAdmin: RequestHandler = (_req, res, next) => {
  const user = res.locals.currentUser;
  if (!user) return next(new AppError(403, 'admin_only', 'errors.adminOnly'));
  try {
    authorize(user, 'admin.page');
  } catch (refusal) {
    return next(refusal);
  }
  next();
};

/** The logged-in account; only for routes behind requireUser. */
export function currentUser(res: { locals: { currentUser?: User } }): User {
  const user = res.locals.currentUser;
  if (!user) throw new AppError(401, 'login_required', 'errors.loginRequired');
  return user;
}
