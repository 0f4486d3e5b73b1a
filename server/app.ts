import cookieParser from 'cookie-parser';
import express, { type Express } from 'express';
import { handle as i18nHandle } from 'i18next-http-middleware';
import { pinoHttp } from 'pino-http';
import type { Config } from './config.js';
import { errorHandler, notFoundHandler } from './http/errors.js';
import { csrfProtection, limitPerIp, securityHeaders } from './http/security.js';
import { createViewEngine } from './http/views.js';
import type { LetterService } from './letters/letter-service.js';
import { letterRoutes } from './letters/letter-routes.js';
import type { i18n } from './lib/i18n.js';
import type { Logger } from './lib/logger.js';
import { publicDir, viewsDir } from './lib/paths.js';
import type { Mailbox } from './mail/mailbox.js';
import { mailboxRoutes } from './mail/mailbox-routes.js';
import { pageRoutes } from './pages/page-routes.js';
import type { SignatureService } from './signatures/signature-service.js';
import { signatureRoutes } from './signatures/signature-routes.js';

export interface AppDeps {
  config: Config;
  logger: Logger;
  i18n: i18n;
  secret: string;
  letters: LetterService;
  signatures: SignatureService;
  /** The captured mail viewer; absent in production. */
  mailbox?: Mailbox;
}

/** Form bodies are small; anything larger is refused with 413 before it is parsed. */
const BODY_LIMIT = '16kb';

/** Signature tokens in paths are secrets: logs show the route, never the token. */
function redactUrl(url: string): string {
  return url.replace(/(\/signatures\/(?:confirm|withdraw)\/)[^/?#]+/, '$1[token]');
}

/** Builds the Express app. It never listens: main.ts does, and tests use it through supertest. */
export function createApp(deps: AppDeps): Express {
  const { config } = deps;
  const https = config.publicUrl.startsWith('https:');
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy ? 1 : false);
  app.engine('hbs', createViewEngine(viewsDir, config.env !== 'development'));
  app.set('view engine', 'hbs');
  app.set('views', viewsDir);

  app.use(
    pinoHttp({
      logger: deps.logger,
      serializers: {
        req: (req: { method: string; url: string }) => ({ method: req.method, url: redactUrl(req.url) }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      autoLogging: { ignore: (req) => req.url?.startsWith('/assets/') ?? false },
    }),
  );
  app.use(securityHeaders({ https }));
  app.use('/assets', express.static(publicDir, { maxAge: config.env === 'production' ? '1d' : 0, index: false }));
  app.use(cookieParser());

  app.use(i18nHandle(deps.i18n));
  app.use((req, res, next) => {
    res.locals.t = req.t;
    res.locals.language = req.language ?? 'en';
    res.locals.publicUrl = config.publicUrl;
    res.locals.showMailbox = Boolean(deps.mailbox);
    next();
  });
  // Parsed after the language is known, so a refused body (413, 415, 400) gets a translated error page.
  app.use(express.urlencoded({ extended: false, limit: BODY_LIMIT, parameterLimit: 50 }));

  const csrf = csrfProtection(deps.secret, { https });
  app.use(csrf.issue);

  app.use(pageRoutes());
  app.use(
    letterRoutes({
      letters: deps.letters,
      signatures: deps.signatures,
      csrf,
      signLimit: limitPerIp(30, 15 * 60_000, { countRejected: false }),
    }),
  );
  app.use(signatureRoutes({ signatures: deps.signatures, csrf, linkLimit: limitPerIp(120, 15 * 60_000) }));
  if (deps.mailbox) app.use(mailboxRoutes(deps.mailbox));

  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}
