import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Transporter } from 'nodemailer';
import type { Config } from './config.js';
import { flushWriteAheadLog, openDatabase, type DatabaseHandle, type Db } from './db/database.js';
import { WalCheckpointer } from './db/checkpointer.js';
import { GroupCommit } from './db/group-commit.js';
import { JobLeaseRepository } from './db/job-lease-repository.js';
import { migrateToLatest } from './db/migrate.js';
import { LetterRepository } from './letters/letter-repository.js';
import { LetterService } from './letters/letter-service.js';
import { publicSignatories, publicSignatoryPages } from './signatures/public-signatories.js';
import { ApiCursor } from './api/api-cursor.js';
import { PublicApiService } from './api/public-api-service.js';
import { createSharing } from './sharing/sharing-service.js';
import { systemClock, type Clock } from './lib/clock.js';
import { createI18n, fixedT, type i18n } from './lib/i18n.js';
import type { Logger } from './lib/logger.js';
import { startCaptureServer, type CaptureServer } from './mail/capture-server.js';
import { EmailTemplates } from './mail/email-templates.js';
import { Mailbox } from './mail/mailbox.js';
import { MailboxReader } from './mail/mailbox-reader.js';
import { createCaptureTransport, createMailSender, createTransport, domainOf } from './mail/mail-sender.js';
import { OutboxRepository } from './outbox/outbox-repository.js';
import { OutboxWorker } from './outbox/outbox-worker.js';
import { DomainPacingRepository } from './outbox/domain-pacing-repository.js';
import { RecipientRepository } from './recipients/recipient-repository.js';
import { SignatureRepository } from './signatures/signature-repository.js';
import { SignatureService } from './signatures/signature-service.js';
import type { AppDeps } from './app.js';
import { AuditRepository } from './audit/audit-repository.js';
import { AuditService } from './audit/audit-service.js';
import { BounceHandler } from './deliveries/bounce-handler.js';
import { startBounceServer, type BounceServer } from './deliveries/bounce-server.js';
import { ReplyReceiver } from './deliveries/delivery-reply-receiver.js';
import { DeliveryReplyRepository } from './deliveries/delivery-reply-repository.js';
import { DeliveryReplyService } from './deliveries/delivery-reply-service.js';
import { forPublic } from './deliveries/delivery-reply.js';
import { inboundMail } from './deliveries/inbound-mail.js';
import { DeliveryRepository } from './deliveries/delivery-repository.js';
import { ErratumRepository } from './deliveries/erratum-repository.js';
import { ErratumService } from './deliveries/erratum-service.js';
import { deliveryNeeds, DeliveryService } from './deliveries/delivery-service.js';
import { recipientsOfLetter, recipientsOfRound } from './deliveries/delivery-recipients.js';
import { RoundCompileService } from './deliveries/round-compile-service.js';
import { CommitmentRepository } from './commitments/commitment-repository.js';
import { CommitmentService } from './commitments/commitment-service.js';
import { ReceiptService } from './commitments/receipt-service.js';
import { RoundStarter } from './deliveries/round-starter.js';
import { dkimSenderCheck, type DnsResolver } from './deliveries/reply-sender-check.js';
import { EscalationRepository } from './deliveries/escalation-repository.js';
import { EscalationService } from './deliveries/escalation-service.js';
import { SupporterNewsService } from './deliveries/supporter-news-service.js';
import { LetterCompiler } from './deliveries/letter-compiler.js';
import { LetterCompileWorker } from './deliveries/letter-compile-worker.js';
import { DeliveryEmailPreview } from './deliveries/delivery-email-preview.js';
import { chromiumAt, ChromiumPdfRenderer, noPdf, type PdfRenderer } from './deliveries/pdf-renderer.js';
import { DEFAULT_RETRY_POLICY } from './outbox/outbox.js';
import { ExportService } from './exports/export-service.js';
import { QueueService } from './outbox/queue-service.js';
import { UserAdminService } from './accounts/user-admin-service.js';
import { PasswordResetService } from './accounts/password-reset-service.js';
import { ModerationService } from './signatures/moderation-service.js';
import { PrivacyService } from './signatures/privacy-service.js';
import { ConfirmationEmail } from './signatures/confirmation-email.js';
import { MailLinks } from './mail/mail-links.js';
import { PlatformMail } from './mail/platform-mail.js';
import { ReviewNoticeMail } from './mail/review-notice-mail.js';
import { CapturedMailEraser } from './mail/captured-mail-eraser.js';
import { EventLoopLag, RequestsInFlight } from './http/overload.js';
import { Metrics } from './metrics/metrics.js';
import { readSeedLetters } from '../seeds/seed-loader.js';
import { AccountService } from './accounts/account-service.js';
import { LoginThrottleRepository } from './accounts/login-throttle-repository.js';
import { SessionRepository } from './accounts/session-repository.js';
import { SqliteSessionStore } from './accounts/session-store.js';
import { UserRepository } from './accounts/user-repository.js';
import { SESSION_TTL_MS } from './http/auth.js';
import { LetterAccess } from './letters/letter-access.js';
import { EmbedService } from './pages/embed-service.js';
import { DeliveryDownloads, pruneDownloads } from './deliveries/delivery-downloads.js';
import type { LetterAdmin } from './letters/letter-admin-routes.js';
import { LetterCollaboratorService } from './letters/letter-collaborator-service.js';
import { LetterDashboardService } from './letters/letter-dashboard-service.js';
import { LetterDraftingService } from './letters/letter-drafting-service.js';
import { EditorStates } from './letters/letter-editor-state.js';
import { LetterPreviewService } from './letters/letter-preview-service.js';
import { LetterWorkflowService } from './letters/letter-workflow-service.js';
import type { ReviewNotices } from './letters/review-notices.js';
import { countryName } from './lib/countries.js';
import { Scheduler } from './lib/scheduler.js';
import { PrivacyNoticeService } from './pages/privacy-notice-service.js';
import { RecipientImportRepository } from './recipients/recipient-import-repository.js';
import { RecipientService } from './recipients/recipient-service.js';
import { SettingsRepository } from './settings/settings-repository.js';
import { SettingsService } from './settings/settings-service.js';
import { AbuseListRepository } from './abuse/abuse-list-repository.js';
import { AbuseService } from './abuse/abuse-service.js';
import { DisposableDomains } from './abuse/disposable-domains.js';
import { ProofOfWork } from './abuse/proof-of-work.js';
import { ProofOfWorkRepository } from './abuse/proof-of-work-repository.js';
import { TrendingRepository } from './abuse/trending-repository.js';
import { ProofOfWorkScreen } from './abuse/proof-of-work-screen.js';
import { SourceListsScreen } from './abuse/source-lists-screen.js';
import { LimitRepository } from './limits/limit-repository.js';
import { pruneLimits, SigningLimitScreen } from './limits/signing-limit-screen.js';
import { PageCache } from './pages/page-cache.js';
import { ApiTokenRepository } from './api/token-repository.js';
import { ApiTokenService } from './api/token-service.js';
import { WebhookRepository } from './webhooks/webhook-repository.js';
import { WebhookEvents } from './webhooks/webhook-events.js';
import { WebhookService } from './webhooks/webhook-service.js';
import { createWebhookSender } from './webhooks/webhook-sender.js';
import { WebhookWorker } from './webhooks/webhook-worker.js';

/**
 * The platform secret: SECRET_KEY when set; otherwise a random key made once and kept beside the
 * database, so tokens in e-mails stay valid across restarts without any configuration.
 */
export function resolveSecret(config: Config): string {
  if (config.secretKey) return config.secretKey;
  const file = path.join(config.dataDir, 'secret.key');
  if (!existsSync(file)) {
    // Written whole to a private file, then linked into place: a web process and a worker starting
    // together on an empty DATA_DIR both end up reading the one key that won, never half a file.
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(draft, randomBytes(32).toString('base64url') + '\n', { mode: 0o600 });
    try {
      linkSync(draft, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      unlinkSync(draft);
    }
  }
  // A key file copied in or made by an older version may be readable by others: it is tightened at start.
  chmodSync(file, 0o600);
  const secret = readFileSync(file, 'utf8').trim();
  if (secret.length < 32) throw new Error(`${file} does not hold a usable key: delete it or set SECRET_KEY`);
  return secret;
}

export interface Platform {
  db: Db;
  /** The open database under `db`: its dialect, write mark, and SQLite's connection there. */
  database: DatabaseHandle;
  clock: Clock;
  i18n: i18n;
  repositories: {
    letters: LetterRepository;
    signatures: SignatureRepository;
    outbox: OutboxRepository;
    recipients: RecipientRepository;
    users: UserRepository;
  };
  accounts: AccountService;
  /** The letters' admin use cases (dashboard, drafting, preview, workflow, collaborators). */
  letterAdmin: LetterAdmin;
  /** The organizer's delivery page, and the rounds that start by themselves (the scheduler's trigger job). */
  deliveries: DeliveryService;
  /** Escalation on no reply: the delivery page's panel, and the job that fires due steps. */
  escalations: EscalationService;
  /** Starts delivery rounds, for the organizer's buttons, the automatic modes and escalation steps alike. */
  rounds: RoundStarter;
  /** Compiles the rounds that wait (the scheduler's compile job). */
  roundCompiling: RoundCompileService;
  /** Delivered lists' commitments (Merkle trees) and supporters' receipts. */
  commitments: CommitmentService;
  /** Supporters' news about a sent letter, and unsubscribing from it. */
  supporterNews: SupporterNewsService;
  /** The worker thread that renders delivery letters (started on the first one). */
  compileWorker: LetterCompileWorker;
  /** The thread that checkpoints SQLite's write-ahead log (none for `:memory:` or PostgreSQL). */
  checkpointer: WalCheckpointer | undefined;
  exports: ExportService;
  privacy: PrivacyService;
  bounces: BounceHandler;
  /** Officials' replies to deliveries' reply addresses; undefined when none can be received (REPLY_ADDRESS). */
  replies: ReplyReceiver | undefined;
  pdf: PdfRenderer;
  /** The embedded capture server's port when mail is captured (bounces can be sent back to it); else undefined. */
  capturePort: number | undefined;
  /** Housekeeping: closing letters past their date, forgetting expired sessions. Started by main; once per period across processes. */
  scheduler: Scheduler;
  appDeps: AppDeps;
  worker: OutboxWorker | undefined;
  /** Sends queued webhooks; runs wherever the mail worker runs (RUN_MAIL_WORKER, `npm run worker`). */
  webhookWorker: WebhookWorker | undefined;
  /** Closes everything long-lived, in order: worker, mail transport, capture server, database. */
  shutdown(): Promise<void>;
}

export interface WiringOptions {
  clock?: Clock;
  /** Run the mail worker in this process (default: config.runMailWorker). */
  withWorker?: boolean;
  /** A ready transport (tests pass one pointed at their SMTP sink). */
  transport?: Transporter;
  workerPollMs?: number;
  /** PDF rendering (tests may pass noPdf); by default Chromium at CHROMIUM_PATH when it is there. */
  pdf?: PdfRenderer;
  /** Hears every interface text a language lacks (tests prove pages have all of theirs). */
  onMissingKey?: (language: string, key: string) => void;
  /** Where replies' DKIM keys are looked up; by default the system's DNS (tests give their own). */
  dnsResolver?: DnsResolver;
}

/** Builds repositories, services, mail transport and worker from the config; nothing else creates them. */
export async function wire(config: Config, logger: Logger, options: WiringOptions = {}): Promise<Platform> {
  const clock = options.clock ?? systemClock;
  const secret = resolveSecret(config);
  const database = openDatabase(config.database);
  const { db } = database;
  try {
    await migrateToLatest(db);
  } catch (error) {
    // A refused start (a database that cannot be reached or migrated) leaves no pool or timer behind.
    await database.close();
    throw error;
  }
  // Every process wired here (web, `npm run worker`, export) checkpoints from a thread: one rule for all,
  // and a short-lived command's thread does no harm. `:memory:` has no log another connection could share,
  // and PostgreSQL checkpoints by itself.
  const checkpointer =
    database.sqlite === undefined || config.databasePath === ':memory:'
      ? undefined
      : new WalCheckpointer(
          logger.child({ component: 'checkpointer' }),
          database.sqlite,
          config.databasePath,
        );

  const i18n = createI18n(options.onMissingKey ? { onMissingKey: options.onMissingKey } : {});
  const letters = new LetterRepository(db);
  const signatures = new SignatureRepository(db);
  const outbox = new OutboxRepository(db);
  const recipients = new RecipientRepository(db);
  const users = new UserRepository(db);
  const sessions = new SessionRepository(db);
  const throttles = new LoginThrottleRepository(db);
  const settings = new SettingsRepository(db);
  const audit = new AuditRepository(db);
  const deliveryRepository = new DeliveryRepository(db);
  const limits = new LimitRepository(db);
  const domainPacing = new DomainPacingRepository(db);
  // One group commit per connection: request counters and signings share their commits.
  const writes = new GroupCommit(db);
  const bounces = new BounceHandler({
    outbox,
    deliveries: deliveryRepository,
    recipients,
    clock,
    secret,
    bounceAddress: config.bounceAddress,
    logger: logger.child({ component: 'bounces' }),
  });

  const transportOptions = {
    poolConnections: config.smtpPoolConnections,
    dkim: config.dkim
      ? {
          domainName: config.dkim.domainName,
          keySelector: config.dkim.keySelector,
          privateKey: dkimKey(config.dkim.privateKeyFile),
        }
      : undefined,
  };
  let capture: CaptureServer | undefined;
  // Made below, once the mail it forwards through exists; the capture server reads it only when mail comes.
  const inbound: { replies?: ReplyReceiver } = {};
  let bounceServer: BounceServer | undefined;
  const withWorker = options.withWorker ?? config.runMailWorker;
  // Only the worker sends: a web process without it (RUN_MAIL_WORKER=0) or a command such as
  // `npm run export` opens no SMTP connection and starts no capture server.
  let transport = options.transport;
  if (!transport && withWorker) {
    if (config.smtpUrl) {
      transport = createTransport(config.smtpUrl, transportOptions);
      // A relay that cannot be reached, or refuses the login, is said at start rather than first at a
      // failed send; nothing stops (the queue waits for it). The URL is not logged: it may hold a password.
      transport.verify().then(
        () => logger.info('the SMTP relay (SMTP_URL) answered and accepted the login'),
        (error: unknown) =>
          logger.warn(
            { error: error instanceof Error ? error.message : String(error) },
            'the SMTP relay (SMTP_URL) could not be reached or refused the login: mail waits in the queue until it can be sent',
          ),
      );
    } else {
      // Bounces to our own return paths and replies to deliveries' reply addresses that reach the
      // capture server are read like real ones.
      capture = await startCaptureServer(config.mailboxDir, logger, 0, async (envelopeTo, file) =>
        inboundMail(bounces, inbound.replies).handle(envelopeTo, await readFile(file)),
      );
      transport = createCaptureTransport(capture.port, transportOptions);
      logger.info(
        { mailbox: config.mailboxDir },
        'SMTP_URL is unset: mail is captured locally and never leaves this machine',
      );
    }
  }

  const worker =
    withWorker && transport
      ? new OutboxWorker({
          outbox,
          sender: createMailSender(transport, config.mailFrom, (id) => bounces.returnPath(id)),
          // Confirmations are rendered here, just before sending, not in the signing request.
          render: (message) => confirmationEmail.forMessage(message),
          // A relay that refuses an address at submission sends no report: the worker says so instead.
          onAddressRefused: (id, reply) => bounces.refusedAtSubmission(id, reply),
          clock,
          logger: logger.child({ component: 'mail-worker' }),
          workerId: `worker-${process.pid}-${randomBytes(3).toString('hex')}`,
          leaseMs: config.mailLeaseMs,
          policy: { ...DEFAULT_RETRY_POLICY, giveUpAfterMs: config.mailGiveUpMs },
          politeness: {
            connectionsPerDomain: config.mailDomainConnections,
            messagesPerSecond: config.mailDomainRate,
          },
          // The rate per domain holds for all the deployment's workers together, not for each.
          pacing: domainPacing,
          ...(options.workerPollMs ? { pollMs: options.workerPollMs } : {}),
        })
      : undefined;
  const webhookRepository = new WebhookRepository(db);
  const webhookWorker = withWorker
    ? new WebhookWorker({
        webhooks: webhookRepository,
        send: createWebhookSender({ allowPrivate: config.webhooksAllowPrivate }),
        clock,
        logger: logger.child({ component: 'webhook-worker' }),
        workerId: `webhooks-${process.pid}-${randomBytes(3).toString('hex')}`,
        ...(options.workerPollMs ? { pollMs: options.workerPollMs } : {}),
      })
    : undefined;
  // Confirmations, withdrawals, publications and delivery rounds queue webhooks in their transactions.
  const webhookEvents = new WebhookEvents({
    webhooks: webhookRepository,
    letters,
    signatures,
    secret,
    publicUrl: config.publicUrl,
    wake: webhookWorker ? () => webhookWorker.wake() : undefined,
  });
  const emails = new EmailTemplates(i18n);
  // The platform's own e-mails (confirmations, news, data access, accounts, review notices): one module
  // builds their links, renders, queues them in the caller's transaction and wakes the worker.
  const mail: PlatformMail = new PlatformMail({
    outbox,
    emails,
    links: new MailLinks(config.publicUrl, secret),
    messageIdDomain: domainOf(config.mailFrom),
    wakeWorker: worker ? () => worker.wake() : undefined,
  });
  const confirmationEmail: ConfirmationEmail = new ConfirmationEmail({ signatures, letters, mail });
  const deliveryReplies = new DeliveryReplyRepository(db);
  // Officials' replies to deliveries' own addresses, when something here can receive them (REPLY_ADDRESS).
  const repliesLogger = logger.child({ component: 'replies' });
  const replyReceiver = config.replyAddress
    ? new ReplyReceiver({
        db,
        replies: deliveryReplies,
        deliveries: deliveryRepository,
        letters,
        mail,
        clock,
        secret,
        replyAddress: config.replyAddress,
        bounceAddress: config.bounceAddress,
        senderCheck: dkimSenderCheck({ resolver: options.dnsResolver, clock, logger: repliesLogger }),
        logger: repliesLogger,
      })
    : undefined;
  if (replyReceiver) inbound.replies = replyReceiver;
  if (withWorker && config.bounceSmtpPort) {
    // One listener for bounces and replies: each tagged address is routed to its handler, the rest refused.
    bounceServer = await startBounceServer(
      inboundMail(bounces, replyReceiver),
      config.host,
      config.bounceSmtpPort,
      logger,
    );
  }
  const pdf =
    options.pdf ??
    (chromiumAt(config.chromiumPath) ? new ChromiumPdfRenderer(config.chromiumPath, logger) : noPdf);

  const abuseLists = new AbuseListRepository(db);
  // PROOF_OF_WORK=0 (benchmarks only): no widget, no challenge, no check.
  const proofOfWork = config.proofOfWork ? new ProofOfWork(secret, new ProofOfWorkRepository(db)) : undefined;
  const sourceLists = new SourceListsScreen({
    lists: abuseLists,
    disposable: new DisposableDomains(),
    secret,
    writeMark: database.writeMark,
  });
  const signatureService = new SignatureService({
    db,
    writes,
    letters,
    signatures,
    outbox,
    mail,
    clock,
    secret,
    events: webhookEvents,
    // Every signing attempt passes each screen; what they find is stored with the signature.
    screens: [
      // Allow-listed sources (an office network, a partner's domain) skip the signing limits.
      new SigningLimitScreen({
        limits,
        writes,
        secret,
        signingLimits: config.signingLimits,
        exempt: (attempt) => sourceLists.allows(attempt),
      }),
      new ProofOfWorkScreen(proofOfWork),
      sourceLists,
    ],
  });

  const accounts = new AccountService({ db, audit, users, throttles, sessions, clock, secret });
  let templates: ReturnType<typeof readSeedLetters> | undefined;
  // Review steps queue their e-mails (to admins; to the letter's organizers) through the mail module.
  const teamMail = new ReviewNoticeMail({ mail, accounts: users, letters, clock });
  const reviewNotices: ReviewNotices = teamMail;
  const letterAccess = new LetterAccess(letters);
  const editorStates = new EditorStates({
    letters,
    recipients,
    users,
    settings,
    signatures,
    // The editor says when a save takes away what the chosen delivery mode waits for.
    deliveryNeeds: deliveryNeeds(deliveryRepository),
  });
  const letterCompiler = new LetterCompiler(emails, i18n, countryName);
  const letterAdmin: LetterAdmin = {
    access: letterAccess,
    dashboard: new LetterDashboardService({ letters, signatures, clock }),
    drafting: new LetterDraftingService({
      db,
      audit,
      letters,
      signatures,
      recipients,
      users,
      settings,
      access: letterAccess,
      states: editorStates,
      reviewNotices,
      clock,
      // Read once: the gallery is the seed letters as shipped, and they do not change while running.
      templates: () => (templates ??= readSeedLetters()),
      countryName,
    }),
    preview: new LetterPreviewService({
      recipients,
      access: letterAccess,
      states: editorStates,
      // The e-mail as a delivery composes it (letters do not import deliveries).
      emails: new DeliveryEmailPreview({
        letters,
        signatures,
        deliveries: deliveryRepository,
        compiler: letterCompiler,
        pdf,
        links: mail.links,
        replyAddress: config.replyAddress,
        mailFrom: config.mailFrom,
        i18n,
        clock,
      }),
      countryName,
    }),
    workflow: new LetterWorkflowService({
      db,
      audit,
      letters,
      recipients,
      settings,
      access: letterAccess,
      reviewNotices,
      clock,
      events: webhookEvents,
    }),
    collaborators: new LetterCollaboratorService({
      db,
      audit,
      letters,
      users,
      access: letterAccess,
      states: editorStates,
      notices: teamMail,
      clock,
    }),
  };
  const recipientService = new RecipientService({
    db,
    recipients,
    imports: new RecipientImportRepository(db),
    audit,
    settings,
    clock,
  });
  // Deliveries render letters with every signatory: in a worker thread, off the web process's event loop.
  const compileWorker = new LetterCompileWorker(
    logger.child({ component: 'compile-worker' }),
    config.database,
    // The thread renders delivery PDFs with its own Chromium (none with noPdf); exports use `pdf` here.
    pdf instanceof ChromiumPdfRenderer && pdf.available ? pdf.executablePath : undefined,
    // Each letter's Reply-To is its delivery's own reply address, when replies can be received here.
    config.replyAddress ? { base: config.replyAddress, secret } : undefined,
  );
  const deliveriesLogger = logger.child({ component: 'deliveries' });
  const recipientsOf = recipientsOfLetter(letters, recipients);
  const commitmentRepository = new CommitmentRepository(db);
  const erratumRepository = new ErratumRepository(db);
  // Corrections of delivered lists (issue 15 §5): their trees are stored as every round's are.
  const errata = new ErratumService({
    db,
    audit,
    letters,
    deliveries: deliveryRepository,
    errata: erratumRepository,
    trees: commitmentRepository,
    mail,
    access: letterAccess,
    clock,
    logger: deliveriesLogger,
    translate: (language, key, params) => fixedT(i18n, language)(key, params),
  });
  const escalationRepository = new EscalationRepository(db);
  const rounds = new RoundStarter({
    db,
    audit,
    letters,
    signatures,
    deliveries: deliveryRepository,
    clock,
    logger: deliveriesLogger,
    countryName,
    events: webhookEvents,
    // A letter with an escalation schedule goes tier by tier (deliveries/escalation.ts).
    escalations: escalationRepository,
  });
  const escalations = new EscalationService({
    db,
    audit,
    letters,
    deliveries: deliveryRepository,
    escalations: escalationRepository,
    rounds,
    recipientsOf,
    replies: deliveryReplies,
    clock,
    logger: deliveriesLogger,
    access: (user, letterId) => letterAccess.forEdit(user, letterId),
    receivingReplies: config.replyAddress !== undefined,
  });
  const deliveries = new DeliveryService({
    db,
    audit,
    letters,
    deliveries: deliveryRepository,
    rounds,
    recipientsOf,
    pdf,
    clock,
    logger: deliveriesLogger,
    access: (user, letterId) => letterAccess.forEdit(user, letterId),
    lists: errata,
    held: signatures,
  });
  const commitments = new CommitmentService({
    db,
    commitments: commitmentRepository,
    signatures,
    clock,
  });
  const roundCompiling = new RoundCompileService({
    db,
    audit,
    letters,
    deliveries: deliveryRepository,
    compiler: compileWorker,
    pdf,
    recipientsOfRound: recipientsOfRound(deliveryRepository, recipientsOf),
    clock,
    mail,
    logger: deliveriesLogger,
    commitments,
    replyAddress: config.replyAddress,
  });
  const supporterNews = new SupporterNewsService({
    db,
    letters,
    signatures,
    deliveries: deliveryRepository,
    mail,
    clock,
  });
  const exportService = new ExportService({
    openReader: () => {
      // Its own connection: an export reads for seconds while the pool goes on serving requests.
      const reader = openDatabase(
        config.database.dialect === 'postgres' ? { ...config.database, poolSize: 1 } : config.database,
      );
      return { db: reader.db, close: () => reader.close() };
    },
    letters,
    access: letterAccess,
    audit,
    compiler: letterCompiler,
    pdf,
    clock,
  });
  // Captured mail exists whenever SMTP_URL is unset, in production too; only admins read it (MailboxReader).
  const mailbox = config.smtpUrl ? undefined : new Mailbox(config.mailboxDir);
  const privacy = new PrivacyService({
    db,
    flushLog: () => flushWriteAheadLog(db),
    signatures,
    letters,
    outbox,
    deliveries: deliveryRepository,
    audit,
    mail,
    // Erasure clears captured mail whenever mail is captured, production or not.
    mailbox: mailbox ? new CapturedMailEraser(config.mailboxDir) : undefined,
    clock,
    secret,
    retentionMonths: config.retentionMonths,
    salts: commitmentRepository,
    erasedListings: erratumRepository,
  });
  // Invitations and password resets: the same accounts, and the same way of sending account mail.
  const accountMail = { db, users, sessions, throttles, audit, mail, clock, secret };
  const userAdmin = new UserAdminService(accountMail);
  const passwordResets = new PasswordResetService(accountMail);
  // Rendered PDFs of delivered letters (deliveries/delivery-downloads.ts), pruned below.
  const downloadsDir = path.join(config.dataDir, 'downloads');
  const scheduler = new Scheduler(
    [
      { name: 'retention', everyMs: 60 * 60_000, run: () => privacy.applyRetention() },
      { name: 'trigger-deliveries', everyMs: 30_000, run: () => deliveries.triggerDue() },
      { name: 'compile-deliveries', everyMs: 5_000, run: () => roundCompiling.compilePending() },
      // Days-long waits: a minute late is nothing, and each run reads every pending step.
      { name: 'escalate-deliveries', everyMs: 60_000, run: () => escalations.runDue() },
      { name: 'notify-supporters', everyMs: 30_000, run: () => supporterNews.notifyPending() },
      { name: 'close-due-letters', everyMs: 60_000, run: () => letterAdmin.workflow.closeDue() },
      { name: 'prune-sessions', everyMs: 15 * 60_000, run: () => sessions.pruneExpired(clock.now()) },
      {
        name: 'prune-login-throttles',
        everyMs: 60 * 60_000,
        run: () => throttles.pruneOlderThan(new Date(clock.now().getTime() - 86_400_000)),
      },
      { name: 'prune-recipient-imports', everyMs: 60 * 60_000, run: () => recipientService.pruneStaged() },
      // Each machine's own folder (DATA_DIR is per machine): one lease per host.
      {
        name: `prune-downloads@${hostname()}`,
        everyMs: 10 * 60_000,
        run: () => pruneDownloads(downloadsDir, Date.now()),
      },
      { name: 'prune-proof-of-work', everyMs: 15 * 60_000, run: async () => proofOfWork?.pruneUsed() },
      // Real time, as the workers pace by: a domain quiet for an hour starts from nothing again.
      {
        name: 'prune-domain-pacing',
        everyMs: 60 * 60_000,
        run: () => domainPacing.forgetQuietSince(Date.now() - 60 * 60_000),
      },
      {
        name: 'prune-limits',
        everyMs: 5 * 60_000,
        run: () => pruneLimits(limits, config.signingLimits, clock),
      },
    ],
    logger.child({ component: 'scheduler' }),
    // Every process runs a scheduler; the leases in the database let one of them run each job per period.
    { leases: new JobLeaseRepository(db), owner: `process-${process.pid}-${randomBytes(3).toString('hex')}` },
  );

  // Load shedding's view of the event loop, and the requests it admitted; /metrics reads both.
  const lag = new EventLoopLag();
  const inFlight = new RequestsInFlight();
  const metrics = new Metrics({
    queue: async () => {
      const [counts, oldestWaitingSince] = await Promise.all([
        outbox.countsNotSent(),
        outbox.oldestWaitingSince(),
      ]);
      return { byStatus: counts.byStatus, oldestWaitingSince };
    },
    // From the database, not a counter in this process: the figures hold with several web processes.
    signatures: async () => ({
      received: await signatures.receivedTotal(),
      confirmed: await letters.confirmedTotal(),
    }),
    lagMs: () => lag.lagMs(),
    signingInFlight: () => inFlight.count('signing'),
    now: () => clock.now(),
  });

  // The replies organizers published, as the page and the API show them (no quoted lines, no addresses).
  const publishedReplies = {
    publishedOf: async (letterId: number) => (await deliveryReplies.publishedOf(letterId)).map(forPublic),
  };
  const publicLetters = new LetterService({
    letters,
    writeMark: database.writeMark,
    signatories: publicSignatories(signatures),
    sent: deliveryRepository,
    replies: publishedReplies,
    escalations: escalationRepository,
    clock,
  });
  // Each letter's privacy notice, from its settings and the platform's (the controller an admin names).
  const privacyNotices = new PrivacyNoticeService({
    letters: publicLetters,
    letterRows: letters,
    deliveries: deliveryRepository,
    sent: deliveryRepository,
    settings,
    // Only endpoints that are told of signatures receive anything about a supporter (a public name).
    signatureListeners: async (letterId) =>
      (await webhookRepository.endpointsOf(letterId))
        .filter((e) => e.enabled && e.events.some((event) => event.startsWith('signature.')))
        .map((e) => new URL(e.url).host),
    escalationDays: async (letterId) => (await escalationRepository.scheduleOf(letterId))?.days ?? null,
    writeMark: database.writeMark,
    clock,
    retentionMonths: config.retentionMonths,
    mailCaptured: config.smtpUrl === undefined,
  });
  const appDeps: AppDeps = {
    databaseAnswers: () => database.ping(),
    limits,
    load: { lag, inFlight },
    metrics,
    writes,
    config,
    logger,
    i18n,
    secret,
    clock,
    // The public pages read signatories and deliveries through ports of letters/, so letters import neither.
    letters: publicLetters,
    privacyNotices,
    // The public read API: the same letters and the same rule for names as the public pages.
    publicApi: new PublicApiService({
      letters,
      published: publicLetters,
      signatories: publicSignatoryPages(signatures),
      deliveries: deliveryRepository,
      commitments,
      replies: publishedReplies,
      escalations: escalationRepository,
      cursor: new ApiCursor(secret),
      clock,
    }),
    // Share cards, QR codes and count badges of public letters; cards kept in memory, nothing to close.
    sharing: createSharing({ letters: publicLetters, clock, publicUrl: config.publicUrl }),
    signatures: signatureService,
    accounts,
    sessionStore: new SqliteSessionStore(sessions, secret, clock, SESSION_TTL_MS),
    letterAdmin,
    errata,
    deliveries,
    escalations,
    supporterNews,
    exports: exportService,
    queue: new QueueService(
      outbox,
      clock,
      { ...DEFAULT_RETRY_POLICY, giveUpAfterMs: config.mailGiveUpMs },
      { db, audit },
    ),
    recipients: recipientService,
    settings,
    settingsService: new SettingsService({ db, settings, audit, clock }),
    auditLog: new AuditService(audit),
    moderation: new ModerationService({ db, signatures, letters, audit, clock }),
    abuse: new AbuseService({
      db,
      lists: abuseLists,
      trending: new TrendingRepository(db),
      audit,
      clock,
      secret,
      alertThreshold: async () => (await settings.read()).trendingAlertPerHour,
    }),
    proofOfWork,
    // Rendered anonymous pages, kept for a count epoch (pages/page-cache.ts); memory only, nothing to close.
    pageCache: new PageCache(),
    embed: new EmbedService({ db, access: letterAccess, letters, audit, clock }),
    downloads: new DeliveryDownloads({
      deliveries: deliveryRepository,
      letters,
      signatures,
      access: letterAccess,
      compiler: compileWorker,
      pdf,
      dir: downloadsDir,
      letterUrl: (slug, text) => mail.links.letterUrl(slug, { text }),
      commitments: commitmentRepository,
      verifyUrl: (slug, roundId) => mail.links.verifyUrl(slug, roundId),
    }),
    receipts: new ReceiptService({
      commitments: commitmentRepository,
      signatures,
      letters,
      links: mail.links,
    }),
    privacy,
    userAdmin,
    passwordResets,
    audit,
    ...(mailbox ? { mailbox: new MailboxReader(mailbox) } : {}),
    apiTokens: new ApiTokenService({ db, tokens: new ApiTokenRepository(db), users, audit, clock }),
    webhooks: new WebhookService({
      db,
      webhooks: webhookRepository,
      audit,
      clock,
      letterFor: (user, letterId) => letterAccess.forEdit(user, letterId),
      allowPrivate: config.webhooksAllowPrivate,
    }),
    replies: new DeliveryReplyService({
      db,
      replies: deliveryReplies,
      audit,
      clock,
      letterFor: (user, letterId) => letterAccess.forEdit(user, letterId),
      receiving: config.replyAddress !== undefined,
    }),
  };

  return {
    db,
    database,
    clock,
    i18n,
    repositories: { letters, signatures, outbox, recipients, users },
    accounts,
    letterAdmin,
    deliveries,
    escalations,
    rounds,
    roundCompiling,
    commitments,
    supporterNews,
    compileWorker,
    checkpointer,
    exports: exportService,
    privacy,
    bounces,
    replies: replyReceiver,
    pdf,
    capturePort: capture?.port,
    scheduler,
    appDeps,
    worker,
    webhookWorker,
    async shutdown() {
      lag.stop();
      // Side by side: a job in progress and the sends in flight each get the whole stop budget.
      await Promise.all([scheduler.stop(), worker?.stop(), webhookWorker?.stop()]);
      await compileWorker.close();
      transport?.close();
      await bounceServer?.close();
      await capture?.close();
      await pdf.close();
      await checkpointer?.close();
      await database.close();
      checkpointer?.releaseLogIndex();
    },
  };
}

/** The DKIM private key, or an error that names the setting (a bare ENOENT named no variable). */
function dkimKey(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code ?? String(error);
    throw new Error(`DKIM_PRIVATE_KEY_FILE: cannot read ${file} (${code})`);
  }
}
