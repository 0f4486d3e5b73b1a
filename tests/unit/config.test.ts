import path from 'node:path';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, loadConfig, publicUrlWarning } from '../../server/config.js';

/** The ConfigError that loading `env` throws. */
function configErrorFor(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

describe('loadConfig', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it.each(['0x50', '1e3', ' ', '80.5', '-1', '70000'])(
    'refuses PORT=%j rather than guessing a port from it',
    (port) => {
      expect(() => loadConfig({ PORT: port })).toThrow(ConfigError);
      expect(() => loadConfig({ PORT: port })).toThrow(/PORT/);
    },
  );

  it('works with nothing set, with the documented defaults', () => {
    const config = loadConfig({});
    const dataDir = path.resolve('./data');
    expect(config).toMatchObject({
      env: 'development',
      port: 3000,
      host: '127.0.0.1',
      dataDir,
      databasePath: path.join(dataDir, 'undersigned.sqlite'),
      mailboxDir: path.join(dataDir, 'mailbox'),
      publicUrl: 'http://localhost:3000',
      smtpUrl: undefined,
      mailFrom: 'Undersigned <letters@undersigned.example.org>',
      chromiumPath: '/usr/bin/chromium',
      secretKey: undefined,
      runMailWorker: true,
      trustProxy: false,
      seedDemo: true,
      logLevel: 'info',
    });
    expect(path.isAbsolute(config.dataDir)).toBe(true);
  });

  it('puts the database and the mailbox under DATA_DIR unless DATABASE_PATH says otherwise', () => {
    const config = loadConfig({ DATA_DIR: '/srv/undersigned' });
    expect(config.dataDir).toBe('/srv/undersigned');
    expect(config.databasePath).toBe('/srv/undersigned/undersigned.sqlite');
    expect(config.mailboxDir).toBe('/srv/undersigned/mailbox');
    expect(loadConfig({ DATA_DIR: '/srv/undersigned', DATABASE_PATH: '/var/db/u.sqlite' }).databasePath).toBe(
      '/var/db/u.sqlite',
    );
  });

  it('opens SQLite at DATABASE_PATH unless DATABASE_URL names a PostgreSQL database', () => {
    expect(loadConfig({ DATABASE_PATH: '/var/db/u.sqlite' }).database).toEqual({
      dialect: 'sqlite',
      path: '/var/db/u.sqlite',
    });
    for (const url of [
      'postgres://u:p@db.example.org:5432/undersigned',
      'postgresql://u@localhost/undersigned',
    ]) {
      expect(loadConfig({ DATABASE_URL: url }).database).toEqual({ dialect: 'postgres', url, poolSize: 10 });
    }
    expect(loadConfig({ DATABASE_URL: 'postgres://h/d', DATABASE_POOL_SIZE: '4' }).database).toMatchObject({
      poolSize: 4,
    });
  });

  it.each(['mysql://u:p@h/d', 'sqlite:///var/db.sqlite', 'http://example.org/', 'undersigned.sqlite'])(
    'refuses DATABASE_URL=%j, saying what it takes',
    (url) => {
      expect(configErrorFor({ DATABASE_URL: url }).message).toMatch(/DATABASE_URL must be a PostgreSQL URL/);
    },
  );

  it('never repeats the database password when it refuses the configuration', () => {
    const error = configErrorFor({ DATABASE_URL: 'mysql://admin:s3cret-pass@db.example.org/u', PORT: 'x' });
    expect(error.message).toMatch(/DATABASE_URL/);
    expect(error.message).not.toContain('s3cret-pass');
  });

  it.each(['0', '101', '2.5', 'ten'])('refuses DATABASE_POOL_SIZE=%j', (size) => {
    expect(configErrorFor({ DATABASE_POOL_SIZE: size }).message).toMatch(/DATABASE_POOL_SIZE/);
  });

  it('resolves relative paths to absolute ones', () => {
    const config = loadConfig({ DATA_DIR: 'var/data', DATABASE_PATH: 'var/db.sqlite' });
    expect(config.dataDir).toBe(path.resolve('var/data'));
    expect(config.databasePath).toBe(path.resolve('var/db.sqlite'));
  });

  it('derives the public URL from PORT when PUBLIC_URL is unset', () => {
    const config = loadConfig({ PORT: '8080' });
    expect(config.port).toBe(8080);
    expect(config.publicUrl).toBe('http://localhost:8080');
  });

  it('drops trailing slashes from PUBLIC_URL, so links never have a double slash', () => {
    expect(loadConfig({ PUBLIC_URL: 'https://letters.example.org/' }).publicUrl).toBe(
      'https://letters.example.org',
    );
    expect(loadConfig({ PUBLIC_URL: 'https://letters.example.org/base//' }).publicUrl).toBe(
      'https://letters.example.org/base',
    );
  });

  it('treats empty strings as unset', () => {
    const config = loadConfig({
      PORT: '',
      HOST: '',
      DATA_DIR: '',
      DATABASE_PATH: '',
      PUBLIC_URL: '',
      SMTP_URL: '',
      MAIL_FROM: '',
      CHROMIUM_PATH: '',
      SECRET_KEY: '',
      RUN_MAIL_WORKER: '',
      LOG_LEVEL: '',
    });
    expect(config).toEqual(loadConfig({}));
  });

  it('accepts smtp:// and smtps:// relay URLs', () => {
    expect(loadConfig({ SMTP_URL: 'smtp://user:pass@relay.example.org:587' }).smtpUrl).toBe(
      'smtp://user:pass@relay.example.org:587',
    );
    expect(loadConfig({ SMTP_URL: 'smtps://relay.example.org' }).smtpUrl).toBe('smtps://relay.example.org');
  });

  it('reads the yes/no switches in their usual spellings', () => {
    for (const off of ['0', 'false', 'off', 'no'])
      expect(loadConfig({ RUN_MAIL_WORKER: off }).runMailWorker, off).toBe(false);
    for (const on of ['1', 'true', 'on', 'yes'])
      expect(loadConfig({ TRUST_PROXY: on }).trustProxy, on).toBe(true);
  });

  it('refuses an invalid PORT, naming the variable', () => {
    for (const port of ['abc', '70000', '-1', '80.5']) {
      expect(configErrorFor({ PORT: port }).message, port).toMatch(/^\s*PORT: /m);
    }
  });

  it('refuses an SMTP_URL that is not an smtp:// or smtps:// URL, naming the variable', () => {
    for (const url of ['http://relay.example.org', 'relay.example.org:25', 'not a url']) {
      expect(configErrorFor({ SMTP_URL: url }).message, url).toMatch(/^\s*SMTP_URL: /m);
    }
  });

  it('refuses a PUBLIC_URL that is not an http(s) URL, naming the variable', () => {
    for (const url of ['ftp://letters.example.org', 'letters.example.org', 'javascript:alert(1)']) {
      expect(configErrorFor({ PUBLIC_URL: url }).message, url).toMatch(/^\s*PUBLIC_URL: /m);
    }
  });

  it('lists every invalid variable at once', () => {
    const message = configErrorFor({
      PORT: 'abc',
      SMTP_URL: 'http://x.example',
      PUBLIC_URL: 'nope',
      LOG_LEVEL: 'loud',
      SEED_DEMO: 'maybe',
    }).message;
    for (const name of ['PORT', 'SMTP_URL', 'PUBLIC_URL', 'LOG_LEVEL', 'SEED_DEMO'])
      expect(message).toMatch(new RegExp(`^\\s*${name}: `, 'm'));
  });

  it('refuses a short SECRET_KEY without repeating it in the message', () => {
    const message = configErrorFor({ SECRET_KEY: 'hunter2-short' }).message;
    expect(message).toMatch(/SECRET_KEY/);
    expect(message).not.toContain('hunter2');
  });

  it('does not repeat a password from an invalid SMTP_URL in the message', () => {
    expect(configErrorFor({ SMTP_URL: 'http://user:hunter2@relay.example.org' }).message).not.toContain(
      'hunter2',
    );
  });

  describe('DKIM alignment with MAIL_FROM', () => {
    const dkim = (domain: string, from: string) => ({
      DKIM_DOMAIN: domain,
      DKIM_SELECTOR: 's1',
      DKIM_PRIVATE_KEY_FILE: '/etc/undersigned/dkim.pem',
      MAIL_FROM: from,
    });

    it.each([
      ['example.org', 'Undersigned <letters@example.org>', 'example.org'],
      ['example.org', 'letters@mail.example.org', 'example.org'],
      ['Example.ORG', 'Undersigned <letters@MAIL.example.org>', 'example.org'],
      ['example.org.', 'letters@example.org', 'example.org'],
      [' example.org ', 'letters@example.org.', 'example.org'],
      // A subdomain of From's domain shares its organisational domain: DMARC's relaxed mode accepts it.
      ['mail.example.org', 'letters@example.org', 'mail.example.org'],
      // The comment form and a quoted display name, read as nodemailer reads them when it sends.
      ['example.org', 'letters@example.org (Undersigned)', 'example.org'],
      ['example.org', '"Undersigned, Seoul" <letters@example.org>', 'example.org'],
      // Internationalised names compare in their ASCII (xn--) form, either way round.
      ['xn--e1afmkfd.org', 'letters@пример.org', 'xn--e1afmkfd.org'],
      ['пример.org', 'letters@xn--e1afmkfd.org', 'xn--e1afmkfd.org'],
      ['ПРИМЕР.org', 'Undersigned <letters@mail.пример.org>', 'xn--e1afmkfd.org'],
    ])('starts when DKIM_DOMAIN=%s signs for MAIL_FROM=%s, and signs as d=%s', (d, from, stored) => {
      expect(loadConfig(dkim(d, from)).dkim?.domainName).toBe(stored);
    });

    it.each([
      ['mail-provider.example.net', 'Undersigned <letters@example.org>'],
      ['ample.org', 'letters@example.org'],
      ['org', 'letters@example.org'],
      ['example.org.evil.example', 'letters@example.org'],
      ['xn--e1afmkfd.net', 'letters@пример.org'],
    ])('refuses DKIM_DOMAIN=%s with MAIL_FROM=%s, saying why and what to set', (d, from) => {
      const message = configErrorFor(dkim(d, from)).message;
      expect(message).toMatch(/^\s*DKIM_DOMAIN: /m);
      expect(message).toContain('DMARC fails');
      expect(message).toMatch(/DKIM_DOMAIN=(example\.org|xn--e1afmkfd\.org) /);
    });

    it('refuses a DKIM_DOMAIN that is not a domain name', () => {
      const message = configErrorFor(dkim('exa mple.org', 'letters@example.org')).message;
      expect(message).toMatch(/^\s*DKIM_DOMAIN: exa mple\.org is not a domain name/m);
      expect(message).toContain('DKIM_DOMAIN=example.org');
    });

    it.each(['letters', 'Undersigned <letters>', 'Undersigned'])(
      'says MAIL_FROM is the problem when MAIL_FROM=%s has no domain',
      (from) => {
        const message = configErrorFor(dkim('example.org', from)).message;
        expect(message).toMatch(/^\s*MAIL_FROM: /m);
        expect(message).toContain('no e-mail address with a domain');
        expect(message).not.toMatch(/^\s*DKIM_DOMAIN: /m);
        // Without DKIM too: the bounce address and every relay need the domain.
        expect(configErrorFor({ MAIL_FROM: from }).message).toMatch(/^\s*MAIL_FROM: /m);
      },
    );

    it('checks nothing when DKIM is off', () => {
      expect(loadConfig({ MAIL_FROM: 'letters@example.org' }).dkim).toBeUndefined();
    });

    it('derives the bounce address from the comment form of MAIL_FROM too', () => {
      expect(loadConfig({ MAIL_FROM: 'letters@Example.org (Undersigned)' }).bounceAddress).toBe(
        'bounces@example.org',
      );
    });
  });

  it('returns a frozen config', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(config.port).toBe(3000);
  });

  it('reads only the environment it is given when one is passed', () => {
    vi.stubEnv('PORT', '4567');
    expect(loadConfig({}).port).toBe(3000);
    expect(loadConfig().port).toBe(4567);
  });
});

describe('publicUrlWarning: links that would point at localhost', () => {
  const base = { SECRET_KEY: 'a-secret-of-at-least-thirty-two-characters!' };

  it('warns a separate mail worker without PUBLIC_URL, which has no port of its own to guess the site from', () => {
    const config = loadConfig({ ...base, PORT: '3414' });
    expect(publicUrlWarning(config, 'worker')).toMatch(/PUBLIC_URL is not set: .*http:\/\/localhost:3414/);
    expect(
      publicUrlWarning(loadConfig({ ...base, PUBLIC_URL: 'https://letters.example.org' }), 'worker'),
    ).toBeUndefined();
  });

  it('warns a production web process without PUBLIC_URL, and no development one', () => {
    expect(publicUrlWarning(loadConfig({ ...base, NODE_ENV: 'production' }), 'web')).toMatch(/share links/);
    expect(publicUrlWarning(loadConfig({ ...base, NODE_ENV: 'development' }), 'web')).toBeUndefined();
    const set = loadConfig({ ...base, NODE_ENV: 'production', PUBLIC_URL: 'https://letters.example.org' });
    expect(publicUrlWarning(set, 'web')).toBeUndefined();
  });
});

describe('.env.example', () => {
  // An operator copies it into an env file: each value it gives must be the default the README states
  // (it once said SIGNING_LIMIT_BURST=1/60 where the default is 3/60, stricter by three).
  it('gives each setting its default value', () => {
    const lines = readFileSync(path.join(import.meta.dirname, '../../.env.example'), 'utf8').split('\n');
    const given = lines.flatMap((line) => {
      const match = /^([A-Z][A-Z0-9_]*)=(.+)$/.exec(line.trim());
      return match ? [[match[1]!, match[2]!] as const] : [];
    });
    expect(given.length).toBeGreaterThan(10);
    // Whether PUBLIC_URL was given is noted (publicUrlWarning), not a setting.
    const settings = (env: Record<string, string>) => ({ ...loadConfig(env), publicUrlDefaulted: undefined });
    const defaults = settings({});
    for (const [name, value] of given) expect(settings({ [name]: value }), name).toEqual(defaults);
  });
});
