import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/**
 * Tests about SQLite itself (its file, WAL, checkpoints, pragmas, query plans): not run on PostgreSQL.
 * One line each, with the reason.
 */
const SQLITE_ONLY: string[] = [
  // SQLite's WAL checkpointer thread
  'tests/integration/db/checkpointer.test.ts',
  // SQLite's query planner (explain query plan)
  'tests/integration/db/query-plans.test.ts',
  // better-sqlite3's prepared statements
  'tests/integration/db/statement-cache.test.ts',
  // SQLite's side of group commit (its commit statements, a deferred key by pragma); both: group-commit-both
  'tests/integration/db/group-commit.test.ts',
  // migration 08 of SQLite's chain; PostgreSQL starts at the baseline after it
  'tests/integration/deliveries/delivery-settings-migration.test.ts',
  // migration 11 of SQLite's chain; PostgreSQL starts at the baseline after it
  'tests/integration/recipients/salutations-migration.test.ts',
  // the modes of the SQLite file and its -wal/-shm (it wires DATA_DIR's SQLite whatever the project)
  'tests/http/hygiene-file-modes.test.ts',
  // reads the source, not a database: once is enough
  'tests/integration/architecture/slice-direction.test.ts',
  // the README's nginx in front of the app: the proxy is the same whichever database is behind it
  'tests/integration/process/readme-nginx.test.ts',
];

/** Tests that need PostgreSQL (copying into it): run in the -pg tiers only. */
const POSTGRES_ONLY: string[] = [
  // npm run db:copy copies an SQLite file into the test cluster
  'tests/integration/cli/db-copy.test.ts',
  // 2 web processes and 3 mail workers on one database: several processes is what PostgreSQL is for
  'tests/integration/process/multi-process.test.ts',
];

/**
 * Tests that do not pass on PostgreSQL yet (issue 13), each with its reason: removed from here as the
 * code they cover is made to run on both. The lead reports this list.
 */
const POSTGRES_PENDING: string[] = [];

/**
 * Tests that must have the machine to themselves: they time or pace what they watch, spawn processes and
 * wait for them, or build dist/ (npm run <cli> builds first; two builds at once would overwrite the files
 * a third process is loading). They run in the *-serial projects, one file at a time, after the others.
 */
const SERIAL: string[] = [
  // npm run user:create, export and db:copy build dist/ and start a process each
  'tests/integration/accounts/user-create-cli.test.ts',
  'tests/integration/cli/**/*.test.ts',
  // mail workers in processes of their own, killed and restarted; a live worker's lease renewal
  'tests/integration/outbox/worker-crash.test.ts',
  'tests/integration/outbox/worker-process.test.ts',
  'tests/integration/outbox/worker-liveness.test.ts',
  // sends per second per domain, and the gaps between a domain's connections
  'tests/integration/outbox/domain-pacing.test.ts',
  'tests/integration/outbox/smtp-scenarios.test.ts',
  // platforms in processes of their own: start, stop within a limit, several at once
  'tests/integration/process/**/*.test.ts',
  // the retention job in a process of its own, and the pauses between its batches
  'tests/integration/privacy/retention.test.ts',
  // memory growth and the health answers per second while a million rows stream
  'tests/integration/exports/export-million.test.ts',
  // compiling time against a measured baseline, and the event loop's answers meanwhile
  'tests/integration/deliveries/compile-budget.test.ts',
  // work that arrives within a group's few milliseconds commits together (failed beside another file)
  'tests/integration/db/group-commit.test.ts',
  'tests/integration/db/group-commit-both.test.ts',
  // the checkpointer thread keeps up with a stream of commits
  'tests/integration/db/checkpointer.test.ts',
];

/**
 * HTTP tests that must run alone on PostgreSQL: its write mark is the whole cluster's WAL position, which
 * another test file's writes (in its own database) move, and these tests watch that nothing moved it.
 */
const SERIAL_ON_POSTGRES: string[] = [
  // a kept page is answered without reading a table (failed beside other files, whose writes moved it)
  'tests/http/page-caching.test.ts',
];

// Two test files at a time (vitest's default leaves one of a 2-core machine's cores idle while a file
// waits for a process, a socket or a thread); the SERIAL files and the browser run alone afterwards.
const WORKERS = Math.max(2, availableParallelism() - 1);

/**
 * Made once for the whole run (docs/decisions/2026-12-05-test-suite-time.md):
 * - the platforms' worker threads (letter compiling, SQLite's checkpointer) run from one build of
 *   server/, as production runs dist/, instead of each thread loading its .ts files through tsx (~2 s of
 *   CPU for a compile thread against ~0.6 s);
 * - a migrated SQLite file, which each test's new SQLite database copies instead of migrating;
 * and in each test file, passwords hashed at Argon2's smallest cost (the unit tests keep the production
 * cost and check it: tests/unit/accounts/password-cost.test.ts).
 */
const prepared = {
  globalSetup: ['tests/support/worker-threads-global-setup.ts', 'tests/support/sqlite-global-setup.ts'],
  setupFiles: ['tests/support/worker-threads-setup.ts', 'tests/support/password-cost-setup.ts'],
};

/**
 * The parallel projects load the server's modules once per worker process instead of once per test
 * file (isolate: false). Evaluating them again for each of ~300 files was a third of the parallel
 * phase's time (vitest's "import", 313 s of 1,117 s). What a test file needs fresh it makes itself:
 * each test builds its own platform, database and app; the setup files still run for every file.
 */
const shared = { isolate: false };

const postgres = {
  env: { TEST_DATABASE: 'postgres' },
  // One throwaway cluster for both -pg projects, with a migrated template each test database copies.
  globalSetup: [...prepared.globalSetup, 'tests/support/postgres-global-setup.ts'],
  setupFiles: prepared.setupFiles,
  // A platform's setup also creates its database here, on a machine that runs both tiers at once.
  hookTimeout: 30_000,
  // RUN_POSTGRES_PENDING=1 runs the pending files too, to see which pass now.
  exclude: [...SQLITE_ONLY, ...(process.env.RUN_POSTGRES_PENDING ? [] : POSTGRES_PENDING)],
};

// Six tiers, all run by `npm test`: integration and HTTP tests run on SQLite (each test file its own
// file) and again on PostgreSQL (each its own database in one test cluster). The integration tiers are
// two projects each: `integration` and `integration-serial` (the SERIAL files), and the same with -pg.
export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: WORKERS,
    projects: [
      { test: { name: 'unit', ...shared, include: ['tests/unit/**/*.test.ts'] } },
      {
        test: {
          name: 'integration',
          ...prepared,
          ...shared,
          include: ['tests/integration/**/*.test.ts'],
          exclude: [...POSTGRES_ONLY, ...SERIAL],
          testTimeout: 20_000,
          // A platform's setup shares the machine with another test file's.
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration-serial',
          ...prepared,
          include: SERIAL,
          exclude: POSTGRES_ONLY,
          testTimeout: 20_000,
          hookTimeout: 30_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'http',
          ...prepared,
          ...shared,
          include: ['tests/http/**/*.test.ts'],
          testTimeout: 20_000,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration-pg',
          ...shared,
          include: ['tests/integration/**/*.test.ts'],
          testTimeout: 20_000,
          ...postgres,
          exclude: [...postgres.exclude, ...SERIAL],
        },
      },
      {
        test: {
          name: 'integration-pg-serial',
          include: SERIAL,
          testTimeout: 20_000,
          ...postgres,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'http-pg',
          ...shared,
          include: ['tests/http/**/*.test.ts'],
          testTimeout: 20_000,
          ...postgres,
          exclude: [...postgres.exclude, ...SERIAL_ON_POSTGRES],
        },
      },
      {
        test: {
          name: 'http-pg-serial',
          include: SERIAL_ON_POSTGRES,
          testTimeout: 20_000,
          ...postgres,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'browser',
          ...prepared,
          include: ['tests/browser/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // One Chromium at a time on a 2-core machine.
          fileParallelism: false,
        },
      },
    ],
  },
});
