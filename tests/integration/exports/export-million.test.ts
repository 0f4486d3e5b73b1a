import http from 'node:http';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../../server/accounts/account.js';
import type { Db } from '../../../server/db/database.js';
import { createAccount, TEST_PASSWORD } from '../../support/accounts.js';
import { createLetter } from '../../support/factories.js';
import { freePort } from '../../support/free-port.js';
import { csrfTokenIn } from '../../support/http.js';
import { createTestPlatform, type TestPlatform } from '../../support/test-platform.js';

const ROWS = 1_000_000;
const MB = 1024 * 1024;
const COUNTRIES = ['KR', 'UA', 'US', 'GB', 'PL', 'DE', 'JP', 'FR'];

/**
 * Inserts `count` confirmed signatures on one letter in one statement that both databases run: the rows
 * are made by a recursive common table expression, in the database, not sent one by one.
 */
async function insertSignatures(db: Db, letterId: number, versionId: number, count: number): Promise<void> {
  const countries = sql.raw(
    `case n % ${COUNTRIES.length} ${COUNTRIES.map((c, i) => `when ${i} then '${c}'`).join(' ')} end`,
  );
  // One moment for every row: the export is ordered by id, and the dates are not what this test reads.
  // Literals, not parameters: PostgreSQL would take a parameter in the select list for text.
  const at = '2026-01-01T00:00:00.000Z';
  await sql`
    with recursive numbers(n) as (select 0 union all select n + 1 from numbers where n + 1 < ${sql.lit(count)})
    insert into signatures (letter_id, letter_version_id, ref, status, full_name, email, email_hash,
      country, city, organisation, job_title, display, language, consent_updates, ip_hash,
      confirmation_sends, created_at, confirmed_at, updated_at)
    select ${sql.lit(letterId)}, ${sql.lit(versionId)}, 'ref-' || n, 'confirmed',
      case n % 3 when 0 then '김지훈 ' || n when 1 then 'Олена Коваленко ' || n else 'Supporter ' || n end,
      'supporter-' || n || '@example.org', 'hash-' || n, ${countries}, '', '', '', 'full', 'en', n % 2, null,
      1, ${sql.lit(at)}, ${sql.lit(at)}, ${sql.lit(at)}
    from numbers`.execute(db);
}

/** A browser's cookies, enough for the login form and an export. */
class CookieJar {
  private cookies = new Map<string, string>();
  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const index = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, index), pair!.slice(index + 1));
    }
  }
  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/** Logs the admin in through the real server's form; returns the cookies and a token for the next form. */
async function login(base: string, user: User): Promise<{ jar: CookieJar; token: string }> {
  const jar = new CookieJar();
  const form = await fetch(`${base}/login`);
  jar.take(form);
  const loggedIn = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
    body: new URLSearchParams({
      email: user.email,
      password: TEST_PASSWORD,
      next: '/admin',
      _csrf: csrfTokenIn(await form.text()),
    }).toString(),
  });
  expect(loggedIn.status).toBe(303);
  jar.take(loggedIn);
  const page = await fetch(`${base}/admin/exports`, { headers: { cookie: jar.header() } });
  expect(page.status).toBe(200);
  jar.take(page);
  return { jar, token: csrfTokenIn(await page.text()) };
}

/** Posts the export form and reads the answer as it streams, counting lines and throwing the bytes away. */
function streamExport(
  port: number,
  cookie: string,
  body: string,
): Promise<{ status: number; contentType: string; lines: number; bytes: number; firstBytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/admin/exports',
        headers: {
          cookie,
          accept: 'text/html',
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
        },
      },
      (response) => {
        let lines = 0;
        let bytes = 0;
        let firstBytes = Buffer.alloc(0);
        response.on('data', (chunk: Buffer) => {
          if (firstBytes.length < 64) firstBytes = Buffer.concat([firstBytes, chunk]).subarray(0, 64);
          bytes += chunk.length;
          for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines += 1;
        });
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            contentType: String(response.headers['content-type']),
            lines,
            bytes,
            firstBytes,
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** How long one /healthz takes to answer, in milliseconds (a fresh connection each time). */
function timeHealth(port: number): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (response) => {
        response.resume();
        response.on('end', () =>
          response.statusCode === 200
            ? resolve(performance.now() - started)
            : reject(new Error(`/healthz answered ${response.statusCode}`)),
        );
      })
      .on('error', reject);
  });
}

describe('an export of a million signatures', () => {
  let t: TestPlatform;
  let admin: User;
  let server: http.Server;
  let port: number;
  let slug: string;

  beforeAll(async () => {
    t = await createTestPlatform();
    admin = await createAccount(t.platform, 'admin');
    const letter = await createLetter(t.platform.db, t.clock.now(), { slug: 'a-million-voices' });
    slug = letter.slug;
    const stored = await t.platform.repositories.letters.findById(letter.id);
    const started = performance.now();
    await insertSignatures(t.platform.db, letter.id, stored!.currentVersionId, ROWS);
    console.log(
      `inserted ${ROWS.toLocaleString('en')} signatures in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    port = await freePort();
    server = http.createServer(t.app);
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  }, 300_000);
  afterAll(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await t?.close();
  });

  it('streams every row through the real server with constant memory, while other requests are answered', async () => {
    const { jar, token } = await login(`http://127.0.0.1:${port}`, admin);
    const body = new URLSearchParams([
      ['letter', slug],
      ['status', 'confirmed'],
      ['columns', 'letter'],
      ['columns', 'status'],
      ['columns', 'name'],
      ['columns', 'country'],
      ['columns', 'consent_updates'],
      ['columns', 'confirmed_at'],
      ['format', 'csv'],
      ['_csrf', token],
    ]).toString();

    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const memory = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }, 50);

    const healthTimes: number[] = [];
    const pending: Promise<void>[] = [];
    const health = setInterval(() => {
      pending.push(timeHealth(port).then((ms) => void healthTimes.push(ms)));
    }, 100);

    const started = performance.now();
    let result: Awaited<ReturnType<typeof streamExport>>;
    try {
      result = await streamExport(port, jar.header(), body);
    } finally {
      clearInterval(health);
      clearInterval(memory);
    }
    const seconds = (performance.now() - started) / 1000;

    await Promise.all(pending);
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    const growthMb = (rssPeak - rssBefore) / MB;
    const slowest = Math.max(...healthTimes);
    const median = [...healthTimes].sort((a, b) => a - b)[Math.floor(healthTimes.length / 2)] ?? 0;
    console.log(
      [
        `exported ${ROWS.toLocaleString('en')} rows (${(result.bytes / MB).toFixed(1)} MB) in ${seconds.toFixed(1)} s`,
        `${Math.round(ROWS / seconds).toLocaleString('en')} rows/s`,
        `peak RSS growth ${growthMb.toFixed(1)} MB (from ${(rssBefore / MB).toFixed(0)} MB)`,
        `${healthTimes.length} /healthz answered meanwhile, slowest ${slowest.toFixed(0)} ms, median ${median.toFixed(0)} ms`,
      ].join('; '),
    );

    expect(result.status).toBe(200);
    expect(result.contentType).toBe('text/csv; charset=utf-8');
    expect(result.firstBytes.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(result.firstBytes.subarray(3).toString('utf8')).toMatch(
      // The first 64 bytes: the quoted header is longer.
      /^"letter","status","name","country","consent_updates","confirm/,
    );
    // The header row and one row per signature.
    expect(result.lines).toBe(ROWS + 1);
    expect(growthMb).toBeLessThan(100);
    // The export took seconds: other requests were asked for all along, and each was answered quickly.
    expect(healthTimes.length).toBeGreaterThanOrEqual(Math.floor(seconds * 10 * 0.5));
    expect(slowest).toBeLessThan(1_000);

    const entry = await t.platform.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'export')
      .executeTakeFirstOrThrow();
    expect(JSON.parse(entry.details)).toMatchObject({ letter: slug, rows: ROWS, completed: true });
  }, 300_000);

  it('stops reading when the download is cancelled half way, and records the export as unfinished', async () => {
    const { jar, token } = await login(`http://127.0.0.1:${port}`, admin);
    const before = await t.platform.db
      .selectFrom('audit_events')
      .select('id')
      .where('action', '=', 'export')
      .execute();
    const body = new URLSearchParams([
      ['letter', slug],
      ['status', 'confirmed'],
      ['columns', 'status'],
      ['columns', 'confirmed_at'],
      ['format', 'jsonl'],
      ['_csrf', token],
    ]).toString();
    const received = await new Promise<number>((resolve, reject) => {
      const request = http.request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/admin/exports',
          headers: {
            cookie: jar.header(),
            'content-type': 'application/x-www-form-urlencoded',
            'content-length': Buffer.byteLength(body),
          },
        },
        (response) => {
          let bytes = 0;
          response.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            if (bytes > 2 * MB) {
              request.destroy();
              resolve(bytes);
            }
          });
          response.on('end', () => reject(new Error('the whole export arrived before it was cancelled')));
        },
      );
      request.on('error', () => undefined);
      request.end(body);
    });
    expect(received).toBeGreaterThan(2 * MB);

    const deadline = Date.now() + 20_000;
    let entries = await t.platform.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'export')
      .execute();
    while (entries.length === before.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      entries = await t.platform.db
        .selectFrom('audit_events')
        .selectAll()
        .where('action', '=', 'export')
        .execute();
    }
    expect(entries).toHaveLength(before.length + 1);
    const details = JSON.parse(entries.at(-1)!.details) as {
      rows: number;
      completed: boolean;
      format: string;
    };
    expect(details).toMatchObject({ format: 'jsonl', completed: false });
    expect(details.rows).toBeGreaterThan(0);
    expect(details.rows).toBeLessThan(ROWS / 2);
    // The server is still there for everyone else.
    expect(await timeHealth(port)).toBeLessThan(1_000);
  }, 60_000);
});
