import { Router, type RequestHandler, type Response } from 'express';
import { currentUser } from '../http/auth.js';
import { formBody, idParam, translatedErrors } from '../http/input.js';
import { noticeFrom, redirectWithNotice } from '../http/notice.js';
import { AppError } from '../lib/errors.js';
import { parseTokenForm, TOKEN_LIFETIMES } from './token.js';
import type { ApiTokenService, ListedToken } from './token-service.js';

export interface ApiTokenRoutesDeps {
  tokens: ApiTokenService;
  csrf: { verify: RequestHandler };
  /** The platform's address, for the example request the page shows. */
  publicUrl: string;
}

const tokenView = (t: Response['locals']['t'], token: ListedToken) => ({
  ...token,
  stateLabel: t(`webhooks.tokens.states.${token.state}`),
  active: token.state === 'active',
});

async function renderList(
  res: Response,
  deps: ApiTokenRoutesDeps,
  form: { name: string; lifetime: string },
  errors: Record<string, string> = {},
  extra: { notice?: string | undefined; created?: { token: string; name: string; example: string } } = {},
  status = 200,
  params: Partial<Record<string, Record<string, unknown>>> = {},
): Promise<void> {
  const t = res.locals.t;
  const user = currentUser(res);
  const [tokens, others] = await Promise.all([deps.tokens.list(user), deps.tokens.othersIfAllowed(user)]);
  res.status(status).render('admin/api-tokens', {
    pageTitle: t('webhooks.tokens.title'),
    tokens: tokens.map((token) => tokenView(t, token)),
    // Not an admin: no such section; an admin sees it, empty or not.
    showOthers: others !== undefined,
    others: (others ?? []).map((token) => tokenView(t, token)),
    form,
    lifetimes: TOKEN_LIFETIMES.map((days) => ({
      value: String(days),
      label: days === 0 ? t('webhooks.tokens.never') : t('webhooks.tokens.days', { count: days }),
      selected: String(days) === form.lifetime,
    })),
    ...translatedErrors(t, errors, params),
    ...extra,
  });
}

/** The account's API tokens: list, create (shown once), revoke after a confirmation. */
export function apiTokenRoutes(deps: ApiTokenRoutesDeps): Router {
  const router = Router();
  const empty = { name: '', lifetime: '90' };

  router.get('/api-tokens', async (req, res) =>
    renderList(
      res,
      deps,
      empty,
      {},
      { notice: noticeFrom(req, res.locals.t, 'webhooks.tokens.done', ['revoked']) },
    ),
  );

  router.post('/api-tokens', deps.csrf.verify, async (req, res) => {
    const parsed = parseTokenForm(formBody(req.body));
    if (!parsed.ok)
      return renderList(res, deps, { name: parsed.name, lifetime: parsed.lifetime }, parsed.errors, {}, 422);
    let token: string;
    try {
      ({ token } = await deps.tokens.create(currentUser(res), parsed));
    } catch (error) {
      // Most often the page reloaded after a token was shown: the form again, saying so beside the name.
      if (error instanceof AppError && error.code === 'token_name_taken')
        return renderList(
          res,
          deps,
          { name: parsed.name, lifetime: String(parsed.lifetime) },
          { name: error.messageKey },
          {},
          error.status,
          { name: error.params },
        );
      throw error;
    }
    // Answered here, not after a redirect: the token is shown this once and never again (no-store).
    res.set('Cache-Control', 'no-store');
    const example = `curl -H "Authorization: Bearer ${token}" ${deps.publicUrl}/api/v1/organizer/letters/{slug}/signatures`;
    return renderList(res, deps, empty, {}, { created: { token, name: parsed.name, example } }, 201);
  });

  router.get('/api-tokens/:id/revoke', async (req, res) => {
    const token = await deps.tokens.find(currentUser(res), idParam(req, 'id'));
    res.render('admin/api-tokens-revoke', {
      pageTitle: res.locals.t('webhooks.tokens.revoke.title'),
      token: tokenView(res.locals.t, token),
    });
  });

  router.post('/api-tokens/:id/revoke', deps.csrf.verify, async (req, res) => {
    await deps.tokens.revoke(currentUser(res), idParam(req, 'id'));
    redirectWithNotice(res, '/admin/api-tokens', 'revoked');
  });

  return router;
}
