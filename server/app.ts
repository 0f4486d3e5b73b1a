import cookieParser from 'cookie-parser';
import express, { type Express } from 'express';
import type { AccountService } from './accounts/account-service.js';
import { accountRoutes } from './accounts/account-routes.js';
import type { SqliteSessionStore } from './accounts/session-store.js';
import type { Config } from './config.js';
import { loadCurrentUser, requireUser, sessions } from './http/auth.js';
import { PUBLIC_BODY_LIMIT_BYTES } from './http/body-limits.js';
import { localDefaults } from './http/locals.js';
import { requestLog } from './http/request-log.js';
import { interfaceLanguageMiddleware, languageRoutes, rememberAddressLanguage } from './http/language.js';
import { letterAdminRoutes, type LetterAdmin } from './letters/letter-admin-routes.js';
import type { RecipientService } from './recipients/recipient-service.js';
import { recipientRoutes } from './recipients/recipient-routes.js';
import type { SettingsRepository } from './settings/settings-repository.js';
import type { SettingsService } from './settings/settings-service.js';
import type { DeliveryService } from './deliveries/delivery-service.js';
import type { SupporterNewsService } from './deliveries/supporter-news-service.js';
import { deliveryRoutes, unsubscribeRoutes } from './deliveries/delivery-routes.js';
import type { ErratumService } from './deliveries/erratum-service.js';
import { erratumRoutes } from './deliveries/erratum-routes.js';
import type { EscalationService } from './deliveries/escalation-service.js';
import { escalationRoutes } from './deliveries/escalation-routes.js';
import type { QueueService } from './outbox/queue-service.js';
import type { ExportService } from './exports/export-service.js';
import type { UserAdminService } from './accounts/user-admin-service.js';
import type { PasswordResetService } from './accounts/password-reset-service.js';
import { userAdminRoutes } from './accounts/user-admin-routes.js';
import { AccessRefusals } from './audit/access-refusals.js';
import type { AuditRepository } from './audit/audit-repository.js';
import type { AuditService } from './audit/audit-service.js';
import { auditRoutes } from './audit/audit-routes.js';
import type { ModerationService } from './signatures/moderation-service.js';
import { moderationRoutes } from './signatures/moderation-routes.js';
import type { PrivacyService } from './signatures/privacy-service.js';
import { privacyRoutes } from './signatures/privacy-routes.js';
import { exportRoutes } from './exports/export-routes.js';
import { queueRoutes } from './outbox/queue-routes.js';
import { controllerTodoRoutes, settingsRoutes } from './settings/settings-routes.js';
import { errorHandler, notFoundHandler } from './http/errors.js';
import { crossOriginProtection, csrfProtection, requestLimits, securityHeaders } from './http/security.js';
import type { GroupCommit } from './db/group-commit.js';
import type { LimitRepository } from './limits/limit-repository.js';
import { DatabaseLimitStore } from './limits/limit-store.js';
import { createViewEngine } from './http/views.js';
import type { LetterService } from './letters/letter-service.js';
import { letterRoutes } from './letters/letter-routes.js';
import type { Clock } from './lib/clock.js';
import { DEFAULT_LANGUAGE, fixedT, type i18n } from './lib/i18n.js';
import type { Logger } from './lib/logger.js';
import { publicDir, viewsDir } from './lib/paths.js';
import type { MailboxReader } from './mail/mailbox-reader.js';
import { mailboxRoutes, oldMailboxRedirect } from './mail/mailbox-routes.js';
import { refuseMalformedForm } from './http/form-encoding.js';
import { can } from './policy/policy.js';
import { pageRoutes } from './pages/page-routes.js';
import type { PrivacyNoticeService } from './pages/privacy-notice-service.js';
import { privacyNoticeRoutes } from './pages/privacy-notice-routes.js';
import { longestWindowMs } from './limits/signing-limits.js';
import { verifyRoutes } from './pages/verify-routes.js';
import { letterPageRoutes, SIGNING_ROUTE, signingHandlers } from './pages/letter-page-routes.js';
import { cachedPages, type PageCache } from './pages/page-cache.js';
import { embedAdminRoutes, embedRoutes } from './pages/embed-routes.js';
import type { DeliveryDownloads } from './deliveries/delivery-downloads.js';
import {
  deliveryDownloadAdminRoutes,
  deliveryDownloadRoutes,
} from './deliveries/delivery-download-routes.js';
import type { EmbedService } from './pages/embed-service.js';
import type { SharingService } from './sharing/sharing-service.js';
import { sharingRoutes } from './sharing/sharing-routes.js';
import { sharingViews } from './sharing/sharing-views.js';
import type { AbuseService } from './abuse/abuse-service.js';
import { abuseRoutes } from './abuse/abuse-routes.js';
import type { ProofOfWork } from './abuse/proof-of-work.js';
import { proofOfWorkLocal, proofOfWorkRoutes } from './abuse/proof-of-work-routes.js';
import type { SignatureService } from './signatures/signature-service.js';
import { signatureRoutes } from './signatures/signature-routes.js';
import { receiptRoutes } from './commitments/receipt-routes.js';
import type { ReceiptService } from './commitments/receipt-service.js';
import { overloadGuard, shedLog, type LagSource, type RequestsInFlight } from './http/overload.js';
import type { Metrics } from './metrics/metrics.js';
import { keepRouteLabel, metricsRoutes, requestMetrics } from './metrics/metrics-routes.js';
import type { PublicApiService } from './api/public-api-service.js';
import { publicApiRoutes } from './api/public-api-routes.js';
import type { ApiTokenService } from './api/token-service.js';
import type { WebhookService } from './webhooks/webhook-service.js';
import { webhookRoutes } from './webhooks/webhook-routes.js';
import { deliveryReplyRoutes } from './deliveries/delivery-reply-routes.js';
import type { DeliveryReplyService } from './deliveries/delivery-reply-service.js';
import { apiTokenRoutes } from './api/token-routes.js';
import { organizerApiRoutes } from './api/organizer-api-routes.js';
import type { LetterChoices } from './letters/letter-choices.js';

export interface AppDeps {
  config: Config;
  /** Resolves when the database answers a trivial query (`/healthz`). */
  databaseAnswers: () => Promise<void>;
  logger: Logger;
  i18n: i18n;
  secret: string;
  clock: Clock;
  letters: LetterService;
  /** Each public letter's privacy notice. */
  privacyNotices: PrivacyNoticeService;
  signatures: SignatureService;
  accounts: AccountService;
  sessionStore: SqliteSessionStore;
  /** The letters' admin use cases: dashboard, drafting, preview, workflow, collaborators. */
  letterAdmin: LetterAdmin;
  recipients: RecipientService;
  settings: SettingsRepository;
  /** The settings page's use cases (admins only, audited). */
  settingsService: SettingsService;
  /** Reading the audit log (admins only). */
  auditLog: AuditService;
  deliveries: DeliveryService;
  /** Corrections of delivered lists (errata). */
  errata: ErratumService;
  /** Escalation on no reply: the delivery page's panel and its steps. */
  escalations: EscalationService;
  supporterNews: SupporterNewsService;
  queue: QueueService;
  exports: ExportService;
  moderation: ModerationService;
  privacy: PrivacyService;
  userAdmin: UserAdminService;
  passwordResets: PasswordResetService;
  audit: AuditRepository;
  /** Where request limits keep their counters (the database, so they hold across restarts and processes). */
  limits: LimitRepository;
  /** Shared commits for the small writes of many requests at once (request counters, signings). */
  writes: GroupCommit;
  /** Block and allow lists, trending sources. */
  abuse: AbuseService;
  /** The signing form's proof of work; undefined when switched off (PROOF_OF_WORK=0). */
  proofOfWork: ProofOfWork | undefined;
  /** The captured mail viewer, for admins; absent when mail is really sent (SMTP_URL set). */
  mailbox?: MailboxReader;
  /** What load shedding reads: the event loop's delay and the requests in flight (tests inject both). */
  load: { lag: LagSource; inFlight: RequestsInFlight };
  /** Prometheus metrics, served at /metrics when METRICS_TOKEN is set. */
  metrics: Metrics;
  /** Rendered anonymous public pages, served before the rest of the chain. */
  pageCache: PageCache;
  /** The public read API (/api/v1/…). */
  publicApi: PublicApiService;
  /** Organizers' API tokens: their page, and the bearer check of the organizer API. */
  apiTokens: ApiTokenService;
  /** The organizer's side of letters' embeds: the snippet and the sites allowed to frame them. */
  embed: EmbedService;
  /** Share cards, QR codes and count badges of public letters. */
  sharing: SharingService;
  /** Delivered letters as PDFs, from the public record and the organizer's delivery page. */
  downloads: DeliveryDownloads;
  /** Supporters' receipts for the delivered lists their signature is in. */
  receipts: ReceiptService;
  /** A letter's webhook endpoints and their delivery log. */
  webhooks: WebhookService;
  /** Officials' replies to a letter's deliveries: the organizer's page, publishing on the record. */
  replies: DeliveryReplyService;
}

/** Form bodies are small; anything larger is refused with 413 before it is parsed. */
const BODY_LIMIT = PUBLIC_BODY_LIMIT_BYTES;
/**
 * Organizers send whole letters in several languages (50,000 characters each, Korean at three bytes a
 * character, tripled by URL encoding), and recipient lists of hundreds of checkboxes. Parsed only
 * after the login check, so anonymous visitors can never make the server read a large body.
 */
const ADMIN_BODY_LIMIT = '4mb';
const ADMIN_PATHS = ['/admin', '/login', '/logout', '/account'];
/** The window of the per-client limit on signing requests (a keyed hash of the address counts them). */
const SIGNING_REQUEST_WINDOW_MS = 15 * 60_000;

/** How the app is built; the defaults are production's. */
export interface AppOptions {
  /**
   * The signing lane (below); false mounts the signing route in its place in the chain, which only the
   * test holding the two paths alike asks for.
   */
  signingLane?: boolean;
}

/** Builds the Express app. It never listens: main.ts does, and tests use it through supertest. */
export function createApp(deps: AppDeps, options: AppOptions = {}): Express {
  const { config } = deps;
  const limitPerIp = requestLimits({
    store: (name) => new DatabaseLimitStore(deps.limits, deps.clock, name, deps.writes),
    clock: deps.clock,
    secret: deps.secret,
  });
  const https = config.publicUrl.startsWith('https:');
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy ? 1 : false);
  app.engine('hbs', createViewEngine(viewsDir, config.env !== 'development'));
  app.set('view engine', 'hbs');
  app.set('views', viewsDir);

  // The middleware a signing POST meets, made once: the chain below and the signing lane share them.
  const cookies = cookieParser();
  const security = securityHeaders({ https });
  // ?lang=, the us_lang cookie, Accept-Language, the default: a fixed t per language, made here once.
  const language = interfaceLanguageMiddleware(deps.i18n);
  // Every form post, anonymous or not, from another site is refused before its body is read.
  const crossOrigin = crossOriginProtection({ publicUrl: config.publicUrl });
  // Parsed after the language is known, so a refused body (413, 415, 400) gets a translated error page.
  const smallBodies = express.urlencoded({
    extended: false,
    limit: BODY_LIMIT,
    parameterLimit: 50,
    verify: refuseMalformedForm,
  });
  const proofOfWork = proofOfWorkLocal(deps.proofOfWork);
  const sharing = sharingViews(config.publicUrl);
  const signing = signingHandlers({
    letters: deps.letters,
    signatures: deps.signatures,
    signLimit: limitPerIp(30, SIGNING_REQUEST_WINDOW_MS, { countRejected: false, name: 'signing-request' }),
    sharing,
  });
  const signingLane = options.signingLane ?? true;

  const logShed = shedLog((refused, sinceMs) =>
    deps.logger.warn(
      { refused, sinceMs: Math.round(sinceMs), lagMs: Math.round(deps.load.lag.lagMs()) },
      'overloaded: refusing new requests with 503',
    ),
  );
  // First of all: an overloaded process refuses new requests before it reads their body or logs them.
  app.use(
    overloadGuard({
      limits: config.overload,
      lag: deps.load.lag,
      inFlight: deps.load.inFlight,
      tFor: (language) => fixedT(deps.i18n, language),
      onShed: (kind) => {
        deps.metrics.countShed(kind);
        logShed(kind);
      },
    }),
  );
  app.use(requestMetrics(deps.metrics));
  // Before the request log: a scrape every few seconds is not worth a line each.
  if (config.metricsToken) app.use(metricsRoutes(deps.metrics, config.metricsToken));
  app.use(localDefaults({ t: fixedT(deps.i18n, DEFAULT_LANGUAGE), publicUrl: config.publicUrl }));
  app.use(requestLog(deps.logger, { ignore: (url) => url.startsWith('/assets/') }));
  // The signing lane: the signing form's POST, the one write of a surge, meets here the middleware of the
  // chain below that can apply to it (cookies, security headers, language, cross-origin check, body,
  // proof-of-work flag), in the same order, and none of the ~40 routers and layers that cannot (APIs,
  // page cache, assets, account paths, pages). Walking them was about a tenth of a signing's CPU (issue
  // 12). tests/http/signing-lane.test.ts holds its answers to those of the same route in its usual place.
  if (signingLane)
    app.post(SIGNING_ROUTE, cookies, security, language, crossOrigin, smallBodies, proofOfWork, ...signing);
  // The organizer API, before the public one (whose JSON 404 ends everything under /api): bearer tokens,
  // no session, cookie or CORS; each read is an export, limited per connection like the form's.
  app.use(
    organizerApiRoutes({
      tokens: deps.apiTokens,
      i18n: deps.i18n,
      exports: deps.exports,
      logger: deps.logger,
      limit: limitPerIp(120, 15 * 60_000, { name: 'organizer-api' }),
    }),
  );
  // The public read API: JSON, CORS open, no cookie read or set; before the page cache and every page.
  app.use(
    publicApiRoutes({
      api: deps.publicApi,
      i18n: deps.i18n,
      publicUrl: config.publicUrl,
      limit: limitPerIp(config.apiLimit.count, config.apiLimit.seconds * 1000, { name: 'public-api' }),
    }),
  );
  // A public page already rendered in this count epoch is answered here, with the headers (security
  // headers included) it was first answered with: helmet and the language middleware are skipped. Its
  // key holds the language, which the us_lang cookie may choose: it parses cookies when there are any.
  app.use(
    cachedPages({
      cache: deps.pageCache,
      letters: deps.letters,
      privacyNotices: deps.privacyNotices,
      clock: deps.clock,
    }),
  );
  app.use(cookies);
  app.use(security);
  app.use(
    '/assets',
    express.static(publicDir, { maxAge: config.env === 'production' ? '1d' : 0, index: false }),
  );

  app.use(language);
  app.use(languageRoutes({ https }));
  app.use(crossOrigin);
  app.use((req, res, next) =>
    req.path === '/admin' || req.path.startsWith('/admin/') ? next() : smallBodies(req, res, next),
  );

  // A staff page opened with ?lang= (an e-mail's link) by a browser with no language chosen keeps it.
  app.use(ADMIN_PATHS, rememberAddressLanguage({ https }));
  // Accounts exist only behind these paths; public pages never read or write a session.
  app.use(ADMIN_PATHS, sessions(deps.sessionStore, deps.secret, { https }), loadCurrentUser(deps.accounts));
  // Pages behind a login show personal data: no browser or proxy may keep a copy.
  app.use(ADMIN_PATHS, (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  app.use((_req, res, next) => {
    const user = res.locals.currentUser;
    res.locals.mailCaptured = Boolean(deps.mailbox);
    res.locals.showMailbox = Boolean(deps.mailbox && user && can(user, 'mailbox.read'));
    // The navigation shows what the policy allows; the pages assert it again in their services.
    if (user)
      res.locals.adminNav = {
        signatures: can(user, 'signature.moderate'),
        exports: can(user, 'signature.export'),
        queue: can(user, 'queue.manage'),
        users: can(user, 'user.manage'),
        audit: can(user, 'audit.read'),
        abuse: can(user, 'abuse.manage'),
        settings: can(user, 'settings.change'),
      };
    next();
  });

  const csrf = csrfProtection(deps.secret, { https });
  // Tokens only where accounts are: a public page sets no cookie and carries nothing per visitor.
  app.use(ADMIN_PATHS, csrf.issue);

  app.use(proofOfWork);
  app.use(pageRoutes({ retentionMonths: config.retentionMonths, databaseAnswers: deps.databaseAnswers }));
  // Receipts are checked in the browser: these pages only serve the check and its algorithm.
  app.use(verifyRoutes());
  app.use(
    proofOfWorkRoutes({
      proofOfWork: deps.proofOfWork,
      assetMaxAge: config.env === 'production' ? '1d' : 0,
    }),
  );
  app.use(letterRoutes({ letters: deps.letters, sharing }));
  app.use(letterPageRoutes({ letters: deps.letters, sharing }));
  if (!signingLane) app.post(SIGNING_ROUTE, ...signing);
  app.use(embedRoutes({ letters: deps.letters }));
  app.use(
    privacyNoticeRoutes({
      notices: deps.privacyNotices,
      // A signing's keyed hashes (per letter for the signing limits, per client for the request limit)
      // live for the longer window, until the next pruning (every 5 minutes).
      signingHitsMinutes:
        Math.ceil(Math.max(longestWindowMs(config.signingLimits), SIGNING_REQUEST_WINDOW_MS) / 60_000) + 5,
    }),
  );
  app.use(sharingRoutes({ sharing: deps.sharing }));
  // Each first download of a round renders a PDF in Chromium: a client address may ask for a few.
  app.use(deliveryDownloadRoutes({ downloads: deps.downloads, limit: limitPerIp(30, 15 * 60_000) }));
  app.use(
    privacyRoutes({
      privacy: deps.privacy,
      linkLimit: limitPerIp(120, 15 * 60_000),
      // A form sent back for a typo (422) sends nothing and does not count: five e-mails an hour do.
      accessLimit: limitPerIp(5, 60 * 60_000, { countRejected: false, name: 'data-access-request' }),
    }),
  );
  app.use(unsubscribeRoutes({ supporterNews: deps.supporterNews, linkLimit: limitPerIp(120, 15 * 60_000) }));
  app.use(
    signatureRoutes({
      signatures: deps.signatures,
      linkLimit: limitPerIp(120, 15 * 60_000),
      retentionMonths: config.retentionMonths,
    }),
  );
  app.use(receiptRoutes({ receipts: deps.receipts, linkLimit: limitPerIp(120, 15 * 60_000) }));
  app.use(
    accountRoutes({
      accounts: deps.accounts,
      invitations: deps.userAdmin,
      passwordResets: deps.passwordResets,
      resetLimit: limitPerIp(5, 15 * 60_000, { name: 'password-reset-request' }),
      store: deps.sessionStore,
      csrf,
      loginLimit: limitPerIp(20, 15 * 60_000),
      tokenFormLimit: limitPerIp(20, 15 * 60_000, { countRejected: false, name: 'account-link-form' }),
      clock: deps.clock,
    }),
  );
  const admin = express.Router();
  admin.use(
    requireUser,
    express.urlencoded({
      extended: false,
      limit: ADMIN_BODY_LIMIT,
      parameterLimit: 5_000,
      verify: refuseMalformedForm,
    }),
  );
  // Before the letters' routes: it adds the trending-sources alert to the dashboard they render.
  admin.use(abuseRoutes({ abuse: deps.abuse, csrf }));
  admin.use(controllerTodoRoutes({ settings: deps.settingsService }));
  admin.use(
    letterAdminRoutes({
      letters: deps.letterAdmin,
      // The close page says what closing sends by itself, which the deliveries know.
      closingRound: (user, letterId) => deps.deliveries.closingRound(user, letterId),
      csrf,
    }),
  );
  const letterChoices: LetterChoices = async (user, language) =>
    (await deps.letterAdmin.dashboard.list(user, language)).map((item) => ({
      id: item.letter.id,
      slug: item.letter.slug,
      title: item.title,
    }));
  admin.use(recipientRoutes({ recipients: deps.recipients, letterChoices, csrf }));
  admin.use(deliveryRoutes({ deliveries: deps.deliveries, escalations: deps.escalations, csrf }));
  admin.use(erratumRoutes({ errata: deps.errata, csrf }));
  admin.use(escalationRoutes({ escalations: deps.escalations, deliveries: deps.deliveries, csrf }));
  admin.use(embedAdminRoutes({ embed: deps.embed, csrf }));
  admin.use(deliveryDownloadAdminRoutes({ downloads: deps.downloads }));
  admin.use(queueRoutes({ queue: deps.queue, csrf }));
  admin.use(moderationRoutes({ moderation: deps.moderation, privacy: deps.privacy, letterChoices, csrf }));
  admin.use(userAdminRoutes({ users: deps.userAdmin, csrf }));
  admin.use(auditRoutes({ audit: deps.auditLog }));
  // Each export reads every matching signature: a connection may ask for a limited number of them.
  // Exports read for seconds; a form refused for a missing choice (400) read nothing and does not count.
  // A letter's supporters page downloads the same way, for whoever works on the letter: one limit for both.
  const exportLimit = limitPerIp(20, 15 * 60_000, { countRejected: false, name: 'export' });
  admin.post('/exports', exportLimit);
  admin.post('/letters/:id/supporters', exportLimit);
  admin.use(
    exportRoutes({
      exports: deps.exports,
      letterChoices,
      csrf,
    }),
  );
  admin.use(settingsRoutes({ settings: deps.settingsService, csrf }));
  admin.use(apiTokenRoutes({ tokens: deps.apiTokens, csrf, publicUrl: config.publicUrl }));
  admin.use(webhookRoutes({ webhooks: deps.webhooks, csrf }));
  admin.use(deliveryReplyRoutes({ replies: deps.replies, csrf }));
  if (deps.mailbox) admin.use(mailboxRoutes(deps.mailbox, { publicUrl: config.publicUrl }));
  admin.use(keepRouteLabel);
  app.use('/admin', admin);
  if (deps.mailbox) app.use(oldMailboxRedirect());

  app.use(notFoundHandler);
  // A signed-in account's policy refusal goes on the audit record, once per window (audit/access-refusals.ts).
  app.use(errorHandler(deps.logger, new AccessRefusals({ audit: deps.audit, clock: deps.clock })));
  return app;
}
