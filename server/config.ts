import path from 'node:path';
import { z } from 'zod';
import { normaliseDomain, senderDomain } from './mail/sender-address.js';
import { DEFAULT_SIGNING_LIMITS } from './limits/signing-limits.js';

/** Every environment variable the platform reads, with its default. The only reader of process.env. */
const booleanFlag = z
  .enum(['1', '0', 'true', 'false', 'on', 'off', 'yes', 'no'])
  .transform((value) => ['1', 'true', 'on', 'yes'].includes(value));

const wholeNumber = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, `${name} must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, `${name} must be a whole number from ${min} to ${max}`)
        .max(max, `${name} must be a whole number from ${min} to ${max}`),
    );

/** A limit written as count/seconds, e.g. 5/300: at most 5 in any 300 seconds. */
const countPerSeconds = (name: string) =>
  z
    .string()
    .regex(/^\d{1,6}\/\d{1,7}$/, `${name} must be count/seconds, e.g. 5/300`)
    .transform((value) => {
      const [count, seconds] = value.split('/').map(Number) as [number, number];
      return { count, seconds };
    })
    .refine((v) => v.count >= 1 && v.seconds >= 1, `${name} needs a count and seconds of at least 1`);

const schema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    PORT: z
      .string()
      .regex(/^\d{1,5}$/, 'PORT must be a whole number from 0 to 65535')
      .transform(Number)
      .pipe(z.number().max(65535, 'PORT must be a whole number from 0 to 65535'))
      .default(3000),
    HOST: z.string().min(1).default('127.0.0.1'),
    DATA_DIR: z.string().min(1).default('./data'),
    DATABASE_PATH: z.string().min(1).optional(),
    DATABASE_URL: z
      .string()
      .regex(
        /^postgres(ql)?:\/\/\S+$/,
        'DATABASE_URL must be a PostgreSQL URL, postgres://user:password@host:5432/name (or postgresql://); ' +
          'leave it unset for SQLite at DATABASE_PATH',
      )
      .optional(),
    DATABASE_POOL_SIZE: wholeNumber('DATABASE_POOL_SIZE', 1, 100).default(10),
    PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
    SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional(),
    MAIL_FROM: z.string().min(3).default('Undersigned <letters@undersigned.example.org>'),
    ADMIN_EMAIL: z.email({ error: 'ADMIN_EMAIL must be an e-mail address' }).default('admin@example.org'),
    CHROMIUM_PATH: z.string().min(1).default('/usr/bin/chromium'),
    SMTP_POOL_CONNECTIONS: wholeNumber('SMTP_POOL_CONNECTIONS', 1, 50).default(2),
    MAIL_DOMAIN_CONNECTIONS: wholeNumber('MAIL_DOMAIN_CONNECTIONS', 1, 50).default(2),
    MAIL_DOMAIN_RATE: z
      .string()
      .regex(/^\d+(\.\d+)?$/, 'MAIL_DOMAIN_RATE must be a number of messages per second, e.g. 1 or 0.5')
      .transform(Number)
      .pipe(z.number().positive('MAIL_DOMAIN_RATE must be more than 0'))
      .default(1),
    RETENTION_MONTHS: wholeNumber('RETENTION_MONTHS', 1, 120).default(6),
    MAIL_GIVE_UP_HOURS: wholeNumber('MAIL_GIVE_UP_HOURS', 1, 24 * 30).default(120),
    MAIL_LEASE_SECONDS: wholeNumber('MAIL_LEASE_SECONDS', 3, 600).default(30),
    BOUNCE_ADDRESS: z.email({ error: 'BOUNCE_ADDRESS must be an e-mail address' }).optional(),
    BOUNCE_SMTP_PORT: wholeNumber('BOUNCE_SMTP_PORT', 1, 65535).optional(),
    REPLY_ADDRESS: z.email({ error: 'REPLY_ADDRESS must be an e-mail address' }).optional(),
    DKIM_DOMAIN: z.string().min(3).optional(),
    DKIM_SELECTOR: z.string().min(1).optional(),
    DKIM_PRIVATE_KEY_FILE: z.string().min(1).optional(),
    SECRET_KEY: z.string().min(32, 'SECRET_KEY must be at least 32 characters').optional(),
    RUN_MAIL_WORKER: booleanFlag.default(true),
    TRUST_PROXY: booleanFlag.default(false),
    SEED_DEMO: booleanFlag.default(true),
    PROOF_OF_WORK: booleanFlag.default(true),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    SIGNING_LIMIT_BURST: countPerSeconds('SIGNING_LIMIT_BURST').default(DEFAULT_SIGNING_LIMITS.burst),
    SIGNING_LIMIT_SUSTAINED: countPerSeconds('SIGNING_LIMIT_SUSTAINED').default(
      DEFAULT_SIGNING_LIMITS.sustained,
    ),
    OVERLOAD_MAX_LAG_MS: wholeNumber('OVERLOAD_MAX_LAG_MS', 0, 60_000).default(40),
    // 32, not 128 (2026-12-06): at twice the sustainable rate arriving evenly, 128 admitted signings queued
    // seconds of work and the refusals waited behind them; with 32, once the clients' connections were
    // open, 503 p99 42-49 ms (docs/performance.md, "Session 26").
    OVERLOAD_MAX_IN_FLIGHT: wholeNumber('OVERLOAD_MAX_IN_FLIGHT', 0, 100_000).default(32),
    WEBHOOKS_ALLOW_PRIVATE: booleanFlag.default(false),
    METRICS_TOKEN: z.string().min(16, 'METRICS_TOKEN must be at least 16 characters').optional(),
    API_LIMIT: countPerSeconds('API_LIMIT').default({ count: 600, seconds: 60 }),
  })
  .refine(
    (v) =>
      [v.DKIM_DOMAIN, v.DKIM_SELECTOR, v.DKIM_PRIVATE_KEY_FILE].every((x) => x === undefined) ||
      [v.DKIM_DOMAIN, v.DKIM_SELECTOR, v.DKIM_PRIVATE_KEY_FILE].every((x) => x !== undefined),
    {
      message: 'DKIM needs all three of DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY_FILE, or none',
      path: ['DKIM_DOMAIN'],
    },
  )
  .superRefine((v, ctx) => {
    // Read as the mail is sent (nodemailer's parser): the default bounce address and DKIM's alignment
    // both need the domain, and a From without one would be refused by every relay anyway.
    const from = senderDomain(v.MAIL_FROM);
    if (from === '') {
      ctx.addIssue({
        code: 'custom',
        path: ['MAIL_FROM'],
        message:
          `MAIL_FROM (${v.MAIL_FROM}) has no e-mail address with a domain; ` +
          'set it to e.g. "Undersigned <letters@example.org>" or "letters@example.org"',
      });
      return;
    }
    if (v.DKIM_DOMAIN === undefined) return;
    if (normaliseDomain(v.DKIM_DOMAIN) === '') {
      ctx.addIssue({
        code: 'custom',
        path: ['DKIM_DOMAIN'],
        message: `${v.DKIM_DOMAIN} is not a domain name; set DKIM_DOMAIN=${from} with the key published there`,
      });
      return;
    }
    // DMARC passes on DKIM only when the signing domain aligns with From: receivers that enforce it
    // would refuse or file as spam every e-mail signed for an unrelated domain, so such a start is refused.
    if (dkimAligns(v.DKIM_DOMAIN, from)) return;
    ctx.addIssue({
      code: 'custom',
      path: ['DKIM_DOMAIN'],
      message:
        `${v.DKIM_DOMAIN} is neither the domain of MAIL_FROM (${from}) nor a parent or a subdomain of it, ` +
        `so DMARC fails at receivers that enforce it (the DKIM signature does not align with From). ` +
        `Set DKIM_DOMAIN=${from} (or a parent domain of it) with the key published there, or MAIL_FROM ` +
        `to an address at ${v.DKIM_DOMAIN}`,
    });
  });

/**
 * Where the platform's data lives: an SQLite file (the default), or a PostgreSQL database (DATABASE_URL)
 * reached through a pool of `poolSize` connections.
 */
export type DatabaseLocation =
  | { readonly dialect: 'sqlite'; readonly path: string }
  | { readonly dialect: 'postgres'; readonly url: string; readonly poolSize: number };

export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  /** The SQLite file; unused when `database` is PostgreSQL. */
  readonly databasePath: string;
  readonly database: DatabaseLocation;
  readonly mailboxDir: string;
  /** Base of every link in e-mails, without a trailing slash. */
  readonly publicUrl: string;
  /** PUBLIC_URL was not set: `publicUrl` is this process's own localhost address (publicUrlWarning). */
  readonly publicUrlDefaulted: boolean;
  /** Unset: mail goes to the embedded capture server and nowhere else. */
  readonly smtpUrl: string | undefined;
  readonly mailFrom: string;
  /** The login of the admin created on the first start, when the platform has none. */
  readonly adminEmail: string;
  readonly chromiumPath: string;
  /** Connections the SMTP pool keeps to the relay. */
  readonly smtpPoolConnections: number;
  /** Politeness per receiving domain. */
  readonly mailDomainConnections: number;
  readonly mailDomainRate: number;
  /** Signatures on a letter closed this many months ago lose their personal data. */
  readonly retentionMonths: number;
  /** A temporary failure becomes final after this long. */
  readonly mailGiveUpMs: number;
  /** How long a worker's claim holds unless its heartbeat renews it: a dead worker's mail waits about this long. */
  readonly mailLeaseMs: number;
  /** Base of the per-message return paths (VERP): bounces come back to bounces+m<id>-<tag>@domain. */
  readonly bounceAddress: string;
  /** When set, an SMTP listener on this port takes bounces (and replies) routed from a real mail server. */
  readonly bounceSmtpPort: number | undefined;
  /**
   * Base of the per-delivery reply addresses: officials' replies come back to replies+d<id>-<tag>@domain.
   * Undefined when nothing here can receive them (SMTP_URL set without BOUNCE_SMTP_PORT): letters then
   * carry the organisation's own address for replies, as before.
   */
  readonly replyAddress: string | undefined;
  readonly dkim: { domainName: string; keySelector: string; privateKeyFile: string } | undefined;
  /** Unset: a random key is generated once and kept in DATA_DIR/secret.key. */
  readonly secretKey: string | undefined;
  readonly runMailWorker: boolean;
  readonly trustProxy: boolean;
  readonly seedDemo: boolean;
  /** Check the signing form's proof of work (ALTCHA). Off only for benchmarks (PROOF_OF_WORK=0). */
  readonly proofOfWork: boolean;
  readonly logLevel: string;
  /** Signings per client address and letter past which a signature is silently marked suspect. */
  readonly signingLimits: {
    readonly burst: { readonly count: number; readonly seconds: number };
    readonly sustained: { readonly count: number; readonly seconds: number };
  };
  /** Load shedding: past either limit new requests get a 503 with Retry-After (0 switches that limit off). */
  readonly overload: { readonly maxLagMs: number; readonly maxInFlight: number };
  /** The bearer token that opens /metrics; unset: /metrics does not exist (404). */
  readonly metricsToken: string | undefined;
  /** Requests to the public API (/api) per client address, as count per seconds; past it, 429. */
  readonly apiLimit: { readonly count: number; readonly seconds: number };
  /** Webhooks may go to private, loopback and link-local addresses, over http too: local development and tests only. */
  readonly webhooksAllowPrivate: boolean;
}

/**
 * Whether a DKIM signing domain aligns with a From domain in DMARC's relaxed mode (RFC 7489 §3.1.1:
 * the same organisational domain), as far as it can be told without the public suffix list: the same
 * domain, a parent of it (d=example.org signs for mail.example.org) or a subdomain of it (a subdomain
 * always shares From's organisational domain). A name of one label (a top-level domain) is never an
 * organisational domain. Both are compared normalised (normaliseDomain: case, trailing dot, IDN).
 */
export function dkimAligns(dkimDomain: string, fromDomain: string): boolean {
  const d = normaliseDomain(dkimDomain);
  const from = normaliseDomain(fromDomain);
  if (d === '' || from === '' || !d.includes('.')) return false;
  return from === d || from.endsWith(`.${d}`) || d.endsWith(`.${from}`);
}

/** Thrown when the environment does not describe a valid configuration; main prints it and exits. */
export class ConfigError extends Error {}

/** Parses the environment (process.env by default) into a frozen Config, or throws ConfigError listing every problem. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings count as unset, so `PUBLIC_URL=` in a .env file means "use the default".
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const v = parsed.data;
  const dataDir = path.resolve(v.DATA_DIR);
  const databasePath = path.resolve(v.DATABASE_PATH ?? path.join(dataDir, 'undersigned.sqlite'));
  return Object.freeze({
    env: v.NODE_ENV,
    port: v.PORT,
    host: v.HOST,
    dataDir,
    databasePath,
    database: Object.freeze(
      v.DATABASE_URL === undefined
        ? { dialect: 'sqlite' as const, path: databasePath }
        : { dialect: 'postgres' as const, url: v.DATABASE_URL, poolSize: v.DATABASE_POOL_SIZE },
    ),
    mailboxDir: path.join(dataDir, 'mailbox'),
    publicUrl: (v.PUBLIC_URL ?? `http://localhost:${v.PORT}`).replace(/\/+$/, ''),
    publicUrlDefaulted: v.PUBLIC_URL === undefined,
    smtpUrl: v.SMTP_URL,
    mailFrom: v.MAIL_FROM,
    adminEmail: v.ADMIN_EMAIL.toLowerCase(),
    chromiumPath: v.CHROMIUM_PATH,
    smtpPoolConnections: v.SMTP_POOL_CONNECTIONS,
    mailDomainConnections: v.MAIL_DOMAIN_CONNECTIONS,
    mailDomainRate: v.MAIL_DOMAIN_RATE,
    mailGiveUpMs: v.MAIL_GIVE_UP_HOURS * 3_600_000,
    mailLeaseMs: v.MAIL_LEASE_SECONDS * 1_000,
    retentionMonths: v.RETENTION_MONTHS,
    bounceAddress: (v.BOUNCE_ADDRESS ?? `bounces@${senderDomain(v.MAIL_FROM)}`).toLowerCase(),
    bounceSmtpPort: v.BOUNCE_SMTP_PORT,
    // The listener on BOUNCE_SMTP_PORT, or the capture server when mail stays on this machine, takes them.
    replyAddress:
      v.BOUNCE_SMTP_PORT !== undefined || v.SMTP_URL === undefined
        ? (v.REPLY_ADDRESS ?? `replies@${senderDomain(v.MAIL_FROM)}`).toLowerCase()
        : undefined,
    dkim:
      v.DKIM_DOMAIN && v.DKIM_SELECTOR && v.DKIM_PRIVATE_KEY_FILE
        ? {
            // As DNS knows it: nodemailer writes it into d= as given, and "d=example.org." fails verification.
            domainName: normaliseDomain(v.DKIM_DOMAIN),
            keySelector: v.DKIM_SELECTOR,
            privateKeyFile: v.DKIM_PRIVATE_KEY_FILE,
          }
        : undefined,
    secretKey: v.SECRET_KEY,
    runMailWorker: v.RUN_MAIL_WORKER,
    trustProxy: v.TRUST_PROXY,
    seedDemo: v.SEED_DEMO,
    proofOfWork: v.PROOF_OF_WORK,
    logLevel: v.LOG_LEVEL,
    signingLimits: { burst: v.SIGNING_LIMIT_BURST, sustained: v.SIGNING_LIMIT_SUSTAINED },
    overload: { maxLagMs: v.OVERLOAD_MAX_LAG_MS, maxInFlight: v.OVERLOAD_MAX_IN_FLIGHT },
    metricsToken: v.METRICS_TOKEN,
    apiLimit: v.API_LIMIT,
    webhooksAllowPrivate: v.WEBHOOKS_ALLOW_PRIVATE,
  });
}

/**
 * What to tell an operator whose links would point at localhost: a separate mail worker (which has no
 * port of its own to guess from: its e-mails linked to http://localhost:3000 while the site ran on
 * another port), or a production process without PUBLIC_URL (e-mails, share links, link previews and QR
 * codes all point at localhost). Undefined when the links are fine.
 */
export function publicUrlWarning(config: Config, process: 'web' | 'worker'): string | undefined {
  if (!config.publicUrlDefaulted) return undefined;
  if (process === 'worker')
    return `PUBLIC_URL is not set: the links in this worker's e-mails point at ${config.publicUrl}. Set the same PUBLIC_URL as the web process.`;
  if (config.env === 'production')
    return `PUBLIC_URL is not set: e-mails, share links, link previews and QR codes point at ${config.publicUrl}. Set it to the site's public address.`;
  return undefined;
}
