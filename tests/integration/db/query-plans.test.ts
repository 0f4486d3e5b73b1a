import { solveChallenge, type Challenge } from 'altcha-lib';
import { DEFAULT_EXPORT_COLUMNS } from '../../../server/exports/export.js';
import { deriveKey } from 'altcha-lib/algorithms/pbkdf2';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, type CompiledQuery } from 'kysely';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../../server/db/tables.js';
import { LetterRepository } from '../../../server/letters/letter-repository.js';
import { OutboxRepository } from '../../../server/outbox/outbox-repository.js';
import { WebhookRepository } from '../../../server/webhooks/webhook-repository.js';
import { SignatureRepository } from '../../../server/signatures/signature-repository.js';
import { SessionRepository } from '../../../server/accounts/session-repository.js';
import { createAccount, loginAs } from '../../support/accounts.js';
import { createLetter } from '../../support/factories.js';
import { csrfTokenIn, Visitor } from '../../support/http.js';
import { sign, signAndConfirm } from '../../support/signing.js';
import { captureStatements, type CapturedStatement } from '../../support/statement-capture.js';
import { createTestPlatform, type TestPlatform } from '../../support/test-platform.js';
import {
  createTempDatabase,
  outboxMessage,
  testMessageId,
  type TempDatabase,
} from '../../support/temp-database.js';

const NOW = new Date('2026-11-23T10:00:00.000Z');

interface PlanRow {
  id: number;
  parent: number;
  detail: string;
}

/**
 * The hot queries, as the repositories really run them: each is captured through Kysely's query log
 * while the repository method runs, then explained with the same parameters.
 */
describe('query plans of the hot queries', () => {
  let t: TempDatabase;
  let captured: CompiledQuery[];
  let logging: Kysely<Database>;

  beforeEach(async () => {
    t = await createTempDatabase();
    // Some rows, so the plans are not those of empty tables.
    const { id } = await createLetter(t.db, NOW, { slug: 'hot-letter' });
    const outbox = new OutboxRepository(t.db);
    for (let i = 0; i < 20; i++)
      await outbox.enqueue(outboxMessage({ priority: i % 2 === 0 ? 0 : 10 }), testMessageId(), NOW);
    await new LetterRepository(t.db).addToSignatureCount(id, 0);
    captured = [];
    logging = new Kysely<Database>({
      dialect: new SqliteDialect({ database: t.sqlite }),
      log: (event) => void captured.push(event.query),
    });
  });
  afterEach(async () => {
    await t.close();
  });

  /** Runs `action` against repositories on the logging connection and returns the one statement matching `pattern`. */
  async function statementOf(action: () => Promise<unknown>, pattern: RegExp): Promise<CompiledQuery> {
    captured.length = 0;
    await action();
    const matching = captured.filter((q) => pattern.test(q.sql));
    expect(
      matching,
      `one statement matching ${pattern} in ${captured.map((q) => q.sql).join(' | ')}`,
    ).toHaveLength(1);
    return matching[0]!;
  }

  function planOf(query: CompiledQuery): PlanRow[] {
    return t.sqlite
      .prepare(`EXPLAIN QUERY PLAN ${query.sql}`)
      .all(...(query.parameters as unknown[])) as PlanRow[];
  }

  /** Plan lines that read a whole table row by row (SQLite writes `SCAN t`, older versions `SCAN TABLE t`). */
  function fullScans(plan: PlanRow[], tables: string[]): string[] {
    return plan
      .map((row) => row.detail)
      .filter((detail) => {
        const scan = /^SCAN (?:TABLE )?(\w+)/.exec(detail);
        return scan !== null && tables.includes(scan[1]!) && !/USING (?:COVERING )?INDEX/.test(detail);
      });
  }

  function describePlan(plan: PlanRow[]): string {
    return plan.map((row) => row.detail).join('\n');
  }

  it('notices a full scan when there is one (the check itself works)', () => {
    const plan = planOf({
      sql: 'select * from "signatures" where "full_name" = ?',
      parameters: ['x'],
    } as unknown as CompiledQuery);
    expect(fullScans(plan, ['signatures'])).toEqual([expect.stringMatching(/^SCAN (TABLE )?signatures/)]);
  });

  it('finds a letter by slug through an index', async () => {
    const query = await statementOf(
      () => new LetterRepository(logging).findBySlug('hot-letter'),
      /from "letters"/,
    );
    const plan = planOf(query);
    expect(fullScans(plan, ['letters']), describePlan(plan)).toEqual([]);
    expect(describePlan(plan)).toMatch(/SEARCH letters USING INDEX/);
  });

  it('finds a signature by letter and e-mail hash through an index', async () => {
    const query = await statementOf(
      () => new SignatureRepository(logging).findByLetterAndEmailHash(1, 'hash'),
      /from "signatures"/,
    );
    const plan = planOf(query);
    expect(fullScans(plan, ['signatures']), describePlan(plan)).toEqual([]);
    expect(describePlan(plan)).toMatch(/SEARCH signatures USING INDEX .*\(letter_id=\? AND email_hash=\?\)/);
  });

  it('finds everything held for an address through the letter and e-mail hash key, one look-up per letter', async () => {
    const query = await statementOf(
      () => new SignatureRepository(logging).heldFor('hash'),
      /from "signatures"/,
    );
    const plan = planOf(query);
    expect(fullScans(plan, ['signatures']), describePlan(plan)).toEqual([]);
    expect(describePlan(plan)).toMatch(/SEARCH s USING INDEX .*\(letter_id=\? AND email_hash=\?\)/);
  });

  it('keeps no index that only a signing writes and nothing reads (migration 2026-12-06T05)', () => {
    const names = (
      t.sqlite.prepare("select name from sqlite_master where type = 'index'").all() as { name: string }[]
    ).map((row) => row.name);
    expect(names).toContain('sqlite_autoindex_signatures_2');
    expect(names).not.toContain('signatures_email_hash');
    expect(names).not.toContain('outbox_messages_to_address');
  });

  it('finds a signature by ref through an index', async () => {
    const query = await statementOf(
      () => new SignatureRepository(logging).findByRef('some-ref-some-ref-22'),
      /from "signatures"/,
    );
    const plan = planOf(query);
    expect(fullScans(plan, ['signatures']), describePlan(plan)).toEqual([]);
    expect(describePlan(plan)).toMatch(/SEARCH signatures USING INDEX .*\(ref=\?\)/);
  });

  it('lists recent public signatures through the letter/status index, already in order', async () => {
    const query = await statementOf(
      () => new SignatureRepository(logging).recentPublic(1, 20),
      /from "signatures"/,
    );
    const plan = planOf(query);
    expect(fullScans(plan, ['signatures']), describePlan(plan)).toEqual([]);
    expect(describePlan(plan)).toMatch(
      /SEARCH signatures USING INDEX signatures_letter_status_confirmed \(letter_id=\? AND status=\?\)/,
    );
    // The index also gives the order: no sorting of every confirmed signature on each page view.
    expect(describePlan(plan)).not.toMatch(/TEMP B-TREE/);
  });

  it('reads the texts of a letter version through its primary key', async () => {
    const query = await statementOf(
      () => new LetterRepository(logging).textsOfVersion(1),
      /from "letter_texts"/,
    );
    const plan = planOf(query);
    expect(fullScans(plan, ['letter_texts']), describePlan(plan)).toEqual([]);
  });

  it('claims due outbox messages without scanning the queue, counting the messages being sent per domain', async () => {
    // As the worker claims: with its domains' connections, so the messages being sent are counted too.
    const query = await statementOf(
      () =>
        new OutboxRepository(logging).claimDue('worker', NOW, 60_000, 10, {
          perDomain: 2,
          excludeDomains: ['busy.example.org'],
        }),
      /^\s*update "?outbox_messages"?\s+(not indexed\s+)?set status = .sending./,
    );
    const plan = planOf(query);
    expect(fullScans(plan, ['outbox_messages']), describePlan(plan)).toEqual([]);
    expect(describePlan(plan)).toMatch(/outbox_messages USING (COVERING )?INDEX outbox_messages_claim/);
    // The update reaches the chosen rows by their ids: through the status index it walked every
    // waiting message on each claim, a claim as slow as the queue is long.
    expect(plan[0]!.detail, describePlan(plan)).toMatch(/^SEARCH outbox_messages USING INTEGER PRIMARY KEY/);
  });

  it('claims due webhook deliveries by their ids, never walking every waiting one', async () => {
    const query = await statementOf(
      () => new WebhookRepository(logging).claimDue('worker', NOW, 60_000, 10),
      /^\s*update "?webhook_deliveries"?/,
    );
    const plan = planOf(query);
    expect(fullScans(plan, ['webhook_deliveries']), describePlan(plan)).toEqual([]);
    expect(plan[0]!.detail, describePlan(plan)).toMatch(
      /^SEARCH webhook_deliveries USING INTEGER PRIMARY KEY/,
    );
  });

  it('finds when the next message is due without scanning the queue', async () => {
    const query = await statementOf(
      () => new OutboxRepository(logging).nextDueAt(),
      /from "outbox_messages"/,
    );
    const plan = planOf(query);
    expect(fullScans(plan, ['outbox_messages']), describePlan(plan)).toEqual([]);
  });

  it('moves a letter counter by its primary key', async () => {
    const query = await statementOf(
      () => new LetterRepository(logging).addToSignatureCount(1, 1),
      /^update "letters"/,
    );
    const plan = planOf(query);
    expect(fullScans(plan, ['letters']), describePlan(plan)).toEqual([]);
  });

  it('moves a country counter by its primary key, beside the letter counter moved by its own', async () => {
    const upsert = await statementOf(
      () => new LetterRepository(logging).addToSignatureCount(1, 1, 'KR'),
      /^insert into "letter_country_counts"/,
    );
    // SQLite explains no plan for an upsert (the list is empty, so a scan could not show in it): what
    // makes it a keyed write is that it resolves its conflict on the table's primary key.
    expect(upsert.sql).toMatch(/on conflict \("letter_id", "country"\) do update/);
    const primaryKey = t.sqlite
      .prepare(`select name from pragma_table_info('letter_country_counts') where pk > 0 order by pk`)
      .pluck()
      .all();
    expect(primaryKey).toEqual(['letter_id', 'country']);
    const counter = captured.find((q) => /^update "letters" set "signature_count"/.test(q.sql));
    expect(counter, 'the letter counter moves in the same call').toBeDefined();
    const plan = planOf(counter!);
    expect(fullScans(plan, ['letters']), describePlan(plan)).toEqual([]);
    expect(describePlan(plan)).toMatch(/SEARCH letters USING INTEGER PRIMARY KEY/);
  });

  it('reads the country breakdown of a letter without scanning signatures', async () => {
    const query = await statementOf(
      () => new LetterRepository(logging).countryCounts(1),
      /from "letter_country_counts"/,
    );
    const plan = planOf(query);
    expect(fullScans(plan, ['letter_country_counts', 'signatures']), describePlan(plan)).toEqual([]);
  });

  it('finds open letters past their closing date through the status index', async () => {
    const query = await statementOf(() => new LetterRepository(logging).closeDue(NOW), /^update "letters"/);
    const plan = planOf(query);
    expect(fullScans(plan, ['letters']), describePlan(plan)).toEqual([]);
    expect(describePlan(plan)).toMatch(/letters_status_closes/);
  });

  it('counts confirmed signatures per day for the dashboard through the letter/status index', async () => {
    const query = await statementOf(
      () => new SignatureRepository(logging).confirmedPerDay([1], NOW),
      /from "signatures"/,
    );
    const plan = planOf(query);
    expect(fullScans(plan, ['signatures']), describePlan(plan)).toEqual([]);
  });

  it('opens a session by the hash of its id', async () => {
    const query = await statementOf(
      () => new SessionRepository(logging).find('hash', NOW),
      /from "sessions"/,
    );
    const plan = planOf(query);
    expect(fullScans(plan, ['sessions']), describePlan(plan)).toEqual([]);
  });
});

/**
 * Plan lines that walk a whole table or a whole index, in any statement. A statement whose plan has none
 * of these reaches its rows by key, so it costs the same at a million signatures as at ten.
 */
function wholeWalks(plan: string[]): string[] {
  // A subquery's own rows are no table: SQLite names it "(subquery-N)", or by its alias (which
  // PostgreSQL requires) after a CO-ROUTINE or MATERIALIZE line that introduces it.
  const subqueries = new Set(
    plan.flatMap((line) => /^(?:CO-ROUTINE|MATERIALIZE) (\S+)$/.exec(line)?.[1] ?? []),
  );
  return plan.filter(
    (line) => /^SCAN (?!\(|CONSTANT ROW)/.test(line) && !subqueries.has(line.slice('SCAN '.length)),
  );
}

/**
 * Whole walks that stay small however many signatures and letters there are, and why. Anything else
 * that walks a table fails the test below.
 */
const BOUNDED_WALKS: { line: RegExp; why: string }[] = [
  {
    line: /^SCAN abuse_list_entries$/,
    why: 'the admins’ block and allow lists, read whole to match address ranges in code; they grow by hand, not with signatures',
  },
  {
    line: /^SCAN outbox_messages USING INDEX outbox_messages_claim$/,
    why: 'a partial index of the messages waiting to be sent, walked in priority order up to the claim’s limit',
  },
  {
    line: /^SCAN pragma_data_version VIRTUAL TABLE/,
    why: 'SQLite’s data version, one row: the page cache’s write mark (databaseWriteMark)',
  },
];

/**
 * A plan line that reads many rows of a table that grows with signatures, through one of its own
 * (non-unique) indexes. With a temporary B-tree in the same plan, every one of those rows is sorted
 * before the first is returned.
 */
const READS_SIGNATURE_SIZED_ROWS =
  /^SEARCH \w+ USING (?:COVERING )?INDEX (?:signatures|outbox_messages|signing_hits|limit_counters)_/;

/**
 * Every statement that real requests run, captured below the repositories (so a new query cannot be
 * missed by a hand-picked list): a supporter's page views, signing with and without proof of work,
 * confirming, withdrawing, the mail worker sending, an admin's export of a letter's signatures.
 */
describe('query plans of every statement a journey runs', () => {
  let t: TestPlatform;
  let statements: CapturedStatement[];
  let explain: (statement: CapturedStatement) => string[];
  let reader: SQLite.Database;

  /** A solved proof of work, from the endpoint the widget uses. */
  async function solvedProof(): Promise<string> {
    const response = await request(t.app).get('/altcha/challenge');
    const challenge = response.body as Challenge;
    const solution = await solveChallenge({ challenge, deriveKey });
    return Buffer.from(JSON.stringify({ challenge, solution })).toString('base64');
  }

  beforeAll(async () => {
    t = await createTestPlatform();
    const admin = await createAccount(t.platform, 'admin');
    const { slug } = await createLetter(t.platform.db, t.clock.now(), { slug: 'hot-letter' });
    await createLetter(t.platform.db, t.clock.now(), { slug: 'another-letter' });
    const staff = await loginAs(t.app, admin);
    // The export form page lists every letter for admins: only the export itself is hot.
    const exportForm = await staff.get('/admin/exports');
    expect(exportForm.status).toBe(200);

    const capture = captureStatements();
    try {
      const visitor = new Visitor(t.app);
      for (const path of ['/', '/?lang=ko', `/letters/${slug}`, `/letters/${slug}?lang=uk&text=en`])
        expect((await visitor.get(path)).status).toBe(200);
      const links = await signAndConfirm(t, visitor, slug);
      // The public API: the list, a letter, its signatories a page at a time (the second by cursor).
      for (const path of ['/api/v1/letters', `/api/v1/letters/${slug}`])
        expect((await request(t.app).get(path)).status).toBe(200);
      const signatories = await request(t.app).get(`/api/v1/letters/${slug}/signatures?per_page=1`);
      const next = (JSON.parse(signatories.text) as { _links: { next: { href: string } } })._links.next.href;
      expect((await request(t.app).get(new URL(next).pathname + new URL(next).search)).status).toBe(200);
      expect((await visitor.get(links.withdraw)).status).toBe(200);
      expect((await visitor.submit(links.withdraw, links.withdraw, {})).status).toBe(303);
      // The same address again (the duplicate path), and one with a proof of work (its replay check).
      await sign(new Visitor(t.app), slug);
      await sign(new Visitor(t.app), slug, { email: 'proved@example.org', altcha: await solvedProof() });
      await t.drainOutbox();
      // The running worker's heartbeat: renewing its claims, releasing expired ones.
      await t.platform.worker!.renewLeases();
      await t.platform.repositories.outbox.nextDueAt();
      for (const path of [`/letters/${slug}/check-your-inbox`, `/letters/${slug}/thank-you`])
        expect((await visitor.get(path)).status).toBe(200);
      const exported = await staff.agent
        .post('/admin/exports')
        .type('form')
        // The form as it opens: the default columns ticked.
        .send(
          `${new URLSearchParams([
            ['letter', slug],
            ['status', 'confirmed'],
            ['format', 'csv'],
            ...DEFAULT_EXPORT_COLUMNS.map((c): [string, string] => ['columns', c]),
            ['_csrf', csrfTokenIn(exportForm.text)],
          ]).toString()}`,
        );
      expect(exported.status).toBe(200);
    } finally {
      capture.stop();
    }
    statements = capture
      .statements()
      .filter((s) => !/^\s*(?:begin|commit|rollback|savepoint|release|pragma)\b/i.test(s.sql));
    reader = new SQLite(t.config.databasePath, { readonly: true });
    explain = (statement) =>
      (
        reader
          .prepare(`explain query plan ${statement.sql}`)
          .all(...(statement.parameters as never[])) as PlanRow[]
      ).map((row) => row.detail);
  }, 60_000);
  afterAll(async () => {
    reader?.close();
    await t?.close();
  });

  it('captures the statements of each part of the journey', () => {
    const sql = statements.map((s) => s.sql).join('\n');
    // A capture that lost a part of the journey would pass the checks below for nothing.
    for (const part of [
      /from "letters" where "slug" = \?/, // letter page
      /from "signatures" where "letter_id" = \? and "status" = \?/, // public signatories
      /insert into "signatures"/, // signing
      /"limit_counters"|"signing_hits"/, // request and signing limits
      /"proof_of_work_solutions"/, // proof-of-work replay
      /insert into "outbox_messages"/, // confirmation enqueue
      /update outbox_messages\s+(not indexed\s+)?set status = 'sending'/, // worker claim
      /update "outbox_messages" set "lease_expires_at" = \?/, // worker heartbeat
      /"status" = \? where "id" = \? and "status" = \?|set "updated_at" = \?, "confirmed_at"/, // confirm
      /"withdrawn_at"/, // withdraw
      /from "sessions"/, // a signed-in admin
      /from "signatures" as "s"/, // the export
      /\("confirmed_at", "id"\) < \(\?, \?\)/, // the API's signatories after a cursor
      /from "deliveries" as "d"/, // the API's delivery record
    ])
      expect(sql, String(part)).toMatch(part);
  });

  it('walks no table or index whole, except the few that stay small by nature', () => {
    const walks = statements.flatMap((statement) =>
      wholeWalks(explain(statement))
        .filter((line) => !BOUNDED_WALKS.some((bounded) => bounded.line.test(line)))
        .map((line) => `${line}  ←  ${statement.sql.replace(/\s+/g, ' ').slice(0, 160)}`),
    );
    expect(walks).toEqual([]);
  });

  it('never sorts signature-sized rows in a temporary B-tree (the export streams in index order)', () => {
    const sorts = statements
      .filter((statement) => !/\blimit\b/i.test(statement.sql))
      .filter((statement) => {
        const plan = explain(statement);
        return (
          plan.some((line) => READS_SIGNATURE_SIZED_ROWS.test(line)) &&
          plan.some((line) => /TEMP B-TREE/.test(line))
        );
      })
      .map((statement) => statement.sql.replace(/\s+/g, ' ').slice(0, 200));
    expect(sorts).toEqual([]);
  });
});
