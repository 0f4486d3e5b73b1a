import path from 'node:path';
import { z } from 'zod';

/** Every environment variable the platform reads, with its default. The only reader of process.env. */
const booleanFlag = z
  .enum(['1', '0', 'true', 'false', 'on', 'off', 'yes', 'no'])
  .transform((value) => ['1', 'true', 'on', 'yes'].includes(value));

const schema = z.object({
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
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional(),
  MAIL_FROM: z.string().min(3).default('Undersigned <letters@undersigned.example.org>'),
  ADMIN_EMAIL: z.email({ error: 'ADMIN_EMAIL must be an e-mail address' }).default('admin@example.org'),
  CHROMIUM_PATH: z.string().min(1).default('/usr/bin/chromium'),
  SECRET_KEY: z.string().min(32, 'SECRET_KEY must be at least 32 characters').optional(),
  RUN_MAIL_WORKER: booleanFlag.default(true),
  TRUST_PROXY: booleanFlag.default(false),
  SEED_DEMO: booleanFlag.default(true),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly databasePath: string;
  readonly mailboxDir: string;
  /** Base of every link in e-mails, without a trailing slash. */
  readonly publicUrl: string;
  /** Unset: mail goes to the embedded capture server and nowhere else. */
  readonly smtpUrl: string | undefined;
  readonly mailFrom: string;
  /** The login of the admin created on the first start, when the platform has none. */
  readonly adminEmail: string;
  readonly chromiumPath: string;
  /** Unset: a random key is generated once and kept in DATA_DIR/secret.key. */
  readonly secretKey: string | undefined;
  readonly runMailWorker: boolean;
  readonly trustProxy: boolean;
  readonly seedDemo: boolean;
  readonly logLevel: string;
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
  return Object.freeze({
    env: v.NODE_ENV,
    port: v.PORT,
    host: v.HOST,
    dataDir,
    databasePath: path.resolve(v.DATABASE_PATH ?? path.join(dataDir, 'undersigned.sqlite')),
    mailboxDir: path.join(dataDir, 'mailbox'),
    publicUrl: (v.PUBLIC_URL ?? `http://localhost:${v.PORT}`).replace(/\/+$/, ''),
    smtpUrl: v.SMTP_URL,
    mailFrom: v.MAIL_FROM,
    adminEmail: v.ADMIN_EMAIL.toLowerCase(),
    chromiumPath: v.CHROMIUM_PATH,
    secretKey: v.SECRET_KEY,
    runMailWorker: v.RUN_MAIL_WORKER,
    trustProxy: v.TRUST_PROXY,
    seedDemo: v.SEED_DEMO,
    logLevel: v.LOG_LEVEL,
  });
}
