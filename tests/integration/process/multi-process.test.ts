import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../server/config.js';
import { noPdf } from '../../../server/deliveries/pdf-renderer.js';
import { LetterRepository } from '../../../server/letters/letter-repository.js';
import { createLogger } from '../../../server/lib/logger.js';
import { RecipientRepository } from '../../../server/recipients/recipient-repository.js';
import { wire, type Platform } from '../../../server/wiring.js';
import { createAccount } from '../../support/accounts.js';
import { CountingSink } from '../../support/counting-sink.js';
import { createLetter, SIMPLE_LETTER_BODY } from '../../support/factories.js';
import { freePort } from '../../support/free-port.js';
import {
  exitWithin,
  killIfRunning,
  READY,
  spawnPlatformProcess,
  until,
  type PlatformEntry,
  type PlatformProcess,
} from '../../support/platform-process.js';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';

const SIGNATURES = 10_000;
const RECIPIENTS = 1_000;
const WEB_PROCESSES = 2;
const WORKERS = 3;
/** Signing requests in flight at once, over both web processes. */
const IN_FLIGHT = 32;
/**
 * Shorter than the default (30 s), so the killed worker's claims come back while the run goes on; long
 * enough that a live worker starved of CPU on a loaded machine still renews its claims (every third of
 * it) before another takes them over, which would send them twice without any kill.
 */
const LEASE_SECONDS = 15;

/** What every process of the deployment shares: one database, one secret, one public address. */
const PUBLIC_URL = 'http://localhost:3000';
const SECRET_KEY = 'multi-process-secret-multi-process-secret';
// Delivered letters go without their PDF: a thousand Chromium renders are not what this test is about.
const NO_CHROMIUM = '/nonexistent/chromium';

/** Client address number `n`, as the proxy in front of the web processes would pass it on. */
const clientAddress = (n: number) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
/** Supporter number `n`'s e-mail address, over a hundred receiving domains (the workers pace each). */
const supporterEmail = (n: number) => `supporter-${n}@d${n % 100}.example.org`;

/**
 * Signs once through the real form of a web process, as a browser behind the proxy would (same-origin
 * Fetch Metadata and Origin); resolves with the answer's status (0 if the connection failed).
 */
function postSigning(port: number, slug: string, n: number): Promise<number> {
  const body = new URLSearchParams({
    name: `Supporter ${n}`,
    email: supporterEmail(n),
    country: 'KR',
    display: n % 2 === 0 ? 'full' : 'initials',
    privacy: 'yes',
  }).toString();
  return new Promise((resolve) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        path: `/letters/${slug}/sign`,
        method: 'POST',
        // A connection per signing: a kept-alive one that the server closes as idle just as the next
        // request goes out fails that request without telling whether it arrived.
        agent: false,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          'sec-fetch-site': 'same-origin',
          'sec-fetch-mode': 'navigate',
          origin: PUBLIC_URL,
          'x-forwarded-for': clientAddress(n),
        },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', () => resolve(0));
    request.end(body);
  });
}

/**
 * Issue 13, item 5: a deployment of 2 web processes and 3 mail workers, each a real process of the
 * production entry points, on one PostgreSQL database. Supporters sign through both web processes while a
 * letter is delivered to a thousand recipients; one worker is killed with SIGKILL while it holds claims.
 * Afterwards every acknowledged signature is stored once, every message was accepted by the SMTP server,
 * and the only messages it got twice are ones the killed worker had claimed, each time with the same
 * Message-ID.
 */
describe('a deployment of several web processes and mail workers on one PostgreSQL', () => {
  let t: TestDatabase | undefined;
  let sink: CountingSink | undefined;
  let organizerSide: Platform | undefined;
  const processes: PlatformProcess[] = [];
  const dirs: string[] = [];

  afterEach(async () => {
    // Children first, even when the test failed halfway: nothing may outlive the test.
    await Promise.all(processes.splice(0).map((p) => killIfRunning(p)));
    await organizerSide?.shutdown();
    await sink?.stop();
    await t?.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    organizerSide = undefined;
    sink = undefined;
    t = undefined;
  });

  function dataDir(): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'undersigned-multi-'));
    dirs.push(dir);
    return dir;
  }

  /** The settings every process gets: the database (named, so its sessions can be told apart), secret, URL. */
  function shared(applicationName: string): Record<string, string> {
    // The test cluster's URL names no host (a unix socket in `?host=`): not one WHATWG URL parses.
    const url = t!.env.DATABASE_URL!;
    return {
      NODE_ENV: 'production',
      DATA_DIR: dataDir(),
      DATABASE_URL: `${url}${url.includes('?') ? '&' : '?'}application_name=${applicationName}`,
      DATABASE_POOL_SIZE: '4',
      PUBLIC_URL,
      SECRET_KEY,
      CHROMIUM_PATH: NO_CHROMIUM,
    };
  }

  /**
   * Starts an entry point and waits until it says it runs: five processes starting at once on a loaded
   * 2-core machine take longer than startPlatformProcess's 30 s.
   */
  async function start(entry: PlatformEntry, env: Record<string, string>): Promise<PlatformProcess> {
    const running = spawnPlatformProcess(entry, env);
    processes.push(running);
    const ready = entry === 'server/main.ts' ? READY.web : READY.worker;
    await until(running, () => running.output().includes(ready), 'it ran', 180_000);
    return running;
  }

  async function webProcess(index: number): Promise<{ running: PlatformProcess; port: number }> {
    const port = await freePort();
    const running = await start('server/main.ts', {
      ...shared(`multi-web-${index}`),
      PORT: String(port),
      RUN_MAIL_WORKER: '0',
      TRUST_PROXY: '1',
      PROOF_OF_WORK: '0',
      // A loaded test machine must not shed the test's signings: every one is to be answered.
      OVERLOAD_MAX_LAG_MS: '0',
    });
    return { running, port };
  }

  function worker(index: number): Promise<PlatformProcess> {
    return start('server/worker-main.ts', {
      ...shared(`multi-worker-${index}`),
      SMTP_URL: `smtp://127.0.0.1:${sink!.port}`,
      SMTP_POOL_CONNECTIONS: '8',
      // Pacing is not what this test is about: loose enough never to hold the workers back.
      MAIL_DOMAIN_CONNECTIONS: '8',
      MAIL_DOMAIN_RATE: '10000',
      MAIL_LEASE_SECONDS: String(LEASE_SECONDS),
    });
  }

  /** A published letter to RECIPIENTS recipients (example.org addresses over fifty domains), by id. */
  async function letterToManyRecipients(): Promise<number> {
    const now = new Date();
    return t!.db.transaction().execute(async (tx) => {
      const recipients = new RecipientRepository(tx);
      const recipientIds: number[] = [];
      for (let i = 0; i < RECIPIENTS; i++) {
        recipientIds.push(
          await recipients.findOrCreate(
            {
              name: `Office ${i}`,
              title: 'Minister',
              organisation: `Ministry ${i % 50}`,
              country: 'KR',
              email: `office-${i}@ministry-${i % 50}.example.org`,
              language: 'en',
              salutation: 'Dear Minister',
            },
            now,
          ),
        );
      }
      return new LetterRepository(tx).create(
        {
          slug: 'to-a-thousand-offices',
          status: 'open',
          primaryLanguage: 'en',
          sponsor: 'Test coalition',
          goal: null,
          opensAt: new Date(now.getTime() - 86_400_000),
          closesAt: null,
          texts: [
            {
              language: 'en',
              title: 'To a thousand offices',
              summary: 'A test letter.',
              body: SIMPLE_LETTER_BODY,
            },
          ],
          recipientIds,
        },
        now,
      );
    });
  }

  const countOutbox = async (where: 'all' | 'unsent') => {
    let query = t!.db.selectFrom('outbox_messages').select((eb) => eb.fn.countAll<number>().as('n'));
    if (where === 'unsent') query = query.where('status', '!=', 'sent');
    return Number((await query.executeTakeFirstOrThrow()).n);
  };

  /** The outbox messages a worker process holds claimed now (its worker id starts with its pid). */
  const claimsOf = async (running: PlatformProcess) =>
    (
      await t!.db
        .selectFrom('outbox_messages')
        .select('message_id')
        .where('status', '=', 'sending')
        .where('claimed_by', 'like', `worker-${running.child.pid}-%`)
        .execute()
    ).map((r) => r.message_id);

  /** Database sessions a process (by its application_name) still has open. */
  const sessionsOf = async (applicationName: string) =>
    Number(
      (
        await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
          where datname = current_database() and application_name = ${applicationName}`.execute(t!.db)
      ).rows[0]!.n,
    );

  it(
    'stores every acknowledged signature once and has every message accepted, re-sending only the killed worker’s claims with the same Message-ID',
    // 5 minutes on this 2-core machine at a load average of 10-14 (36 signings/s): the ceiling is for
    // a CI machine as loaded, with room.
    { timeout: 900_000 },
    async () => {
      const startedAt = Date.now();
      t = await createTestDatabase();
      sink = await new CountingSink().start();

      const { slug } = await createLetter(t.db, new Date(), { goal: null });
      const deliveryLetterId = await letterToManyRecipients();

      // The web processes start together, as a process manager starts them, then the workers.
      const webs = await Promise.all(Array.from({ length: WEB_PROCESSES }, (_, i) => webProcess(i)));
      const workers = await Promise.all(Array.from({ length: WORKERS }, (_, i) => worker(i)));
      const readyAt = Date.now();

      // The organizer delivers through the service their "Deliver now" button calls, from a process of
      // their own (not started: its scheduler and worker stay off); the deployment's schedulers compile it.
      const config = loadConfig({
        NODE_ENV: 'test',
        LOG_LEVEL: 'silent',
        DATA_DIR: dataDir(),
        DATABASE_URL: t.env.DATABASE_URL,
        DATABASE_POOL_SIZE: '2',
        PUBLIC_URL,
        SECRET_KEY,
      });
      organizerSide = await wire(config, createLogger('silent'), { withWorker: false, pdf: noPdf });
      const admin = await createAccount(organizerSide, 'admin');
      await organizerSide.deliveries.sendTest(admin, deliveryLetterId, randomBytes(12).toString('base64url'));
      await organizerSide.deliveries.deliverNow(
        admin,
        deliveryLetterId,
        randomBytes(12).toString('base64url'),
      );

      // The signings, alternating between the web processes, IN_FLIGHT at a time.
      const acknowledged: string[] = [];
      const refused = new Map<number, number>();
      let next = 0;
      const signing = Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          for (let n = next++; n < SIGNATURES; n = next++) {
            const web = n % WEB_PROCESSES;
            const status = await postSigning(webs[web]!.port, slug, n);
            if (status === 303) acknowledged.push(supporterEmail(n));
            else refused.set(status, (refused.get(status) ?? 0) + 1);
          }
        }),
      ).then(() => Date.now());

      // The kill: once the sink has some but far from all of the mail, and the victim holds claims.
      const victim = workers[0]!;
      const victimName = 'multi-worker-0';
      // A confirmation per signing, a letter per recipient, and the organizer's test letter.
      const expectedMail = SIGNATURES + RECIPIENTS + 1;
      let claimsBefore: string[] = [];
      await until(
        victim,
        async () => sink!.messages.length >= 1_000 && (claimsBefore = await claimsOf(victim)).length > 0,
        'the worker to be killed holds claims while mail flows',
        600_000,
      );
      const sinkAtKill = sink.messages.length;
      victim.child.kill('SIGKILL');
      expect(await victim.exited).toEqual({ code: null, signal: 'SIGKILL' });
      const killedAt = Date.now();
      // Once its sessions are gone nothing it sent can still commit; until its lease runs out no other
      // worker touches what it held: the rows it still claims are its claims in flight at the kill.
      await until(webs[0]!.running, async () => (await sessionsOf(victimName)) === 0, 'its sessions ended');
      const claimsAfter = await claimsOf(victim);
      const inFlightAtKill = new Set([...claimsBefore, ...claimsAfter]);

      const signedAt = await signing;

      // Every message sent: the surviving workers take the dead one's claims back after its lease.
      const survivor = workers[1]!;
      await until(
        survivor,
        async () =>
          (await countOutbox('all')) >= acknowledged.length + RECIPIENTS + 1 &&
          (await countOutbox('unsent')) === 0,
        'every message sent',
        600_000,
      );
      const drainedAt = Date.now();

      // 1. Every acknowledged signature is stored exactly once, and nothing that was not acknowledged.
      expect(Object.fromEntries(refused), 'signings not acknowledged').toEqual({});
      expect(acknowledged).toHaveLength(SIGNATURES);
      const stored = await t.db
        .selectFrom('signatures')
        .innerJoin('letters', 'letters.id', 'signatures.letter_id')
        .select('signatures.email')
        .where('letters.slug', '=', slug)
        .execute();
      expect(stored).toHaveLength(acknowledged.length);
      expect(new Set(stored.map((s) => s.email))).toEqual(new Set(acknowledged));

      // 2. Every outbox message ended sent: a confirmation per signature, the delivery, and its test.
      const outbox = await t.db
        .selectFrom('outbox_messages')
        .select(['message_id', 'kind', 'status', 'to_address', 'signature_id'])
        .execute();
      expect(outbox.filter((m) => m.status !== 'sent')).toEqual([]);
      const byKind = (kind: string) => outbox.filter((m) => m.kind === kind);
      expect(new Set(byKind('signature-confirmation').map((m) => m.signature_id)).size).toBe(SIGNATURES);
      expect(new Set(byKind('letter-delivery').map((m) => m.to_address)).size).toBe(RECIPIENTS + 1);
      expect(new Set(outbox.map((m) => m.message_id)).size).toBe(outbox.length);

      // 3. The sink accepted every one of them, each under its own Message-ID and to its own address.
      const accepted = sink.acceptedById();
      const toById = new Map(outbox.map((m) => [m.message_id, m.to_address]));
      expect(outbox.filter((m) => !accepted.has(m.message_id)).map((m) => m.message_id)).toEqual([]);
      expect(sink.messages.filter((m) => !toById.has(m.messageId))).toEqual([]);
      expect(sink.messages.filter((m) => m.envelopeTo.join() !== toById.get(m.messageId))).toEqual([]);

      // 4. What came twice had been claimed by the killed worker, and came again under the same Message-ID.
      const twice = [...accepted].filter(([, count]) => count > 1);
      expect(twice.filter(([id, count]) => count > 2 || !inFlightAtKill.has(id))).toEqual([]);

      // The kill happened mid-run: the worker held claims and the sink had far from everything.
      expect(claimsBefore.length).toBeGreaterThan(0);
      expect(sinkAtKill).toBeLessThan(expectedMail / 2);

      // The others ran through it all and stop cleanly.
      const others = processes.filter((p) => p !== victim);
      for (const p of others) p.child.kill('SIGTERM');
      for (const p of others)
        expect(await exitWithin(p, 15_000), p.output()).toEqual({ code: 0, signal: null });

      console.log(
        `multi-process: ${SIGNATURES} signings in ${((signedAt - readyAt) / 1000).toFixed(1)} s ` +
          `(${Math.round(SIGNATURES / ((signedAt - readyAt) / 1000))}/s over ${WEB_PROCESSES} web processes); ` +
          `worker killed with ${inFlightAtKill.size} claims after ${sinkAtKill} of ${expectedMail} messages ` +
          `(${((killedAt - readyAt) / 1000).toFixed(1)} s in); ${twice.length} accepted twice; ` +
          `all ${expectedMail} sent ${((drainedAt - readyAt) / 1000).toFixed(1)} s after start; ` +
          `whole test ${((Date.now() - startedAt) / 1000).toFixed(1)} s`,
      );
    },
  );
});
