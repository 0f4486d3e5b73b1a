/**
 * Baseline for signing on PostgreSQL: bare node:http and a `pg` pool of 10 connections (the platform's
 * default DATABASE_POOL_SIZE) to the database at BENCH_PG_URL, in a process of its own. Each POST's
 * urlencoded body is parsed and inserted as one row in its own transaction (autocommit), and answered
 * 303: the least a signature written to this PostgreSQL can cost here. Tells its parent its port over
 * IPC; stops on SIGTERM.
 */
import { createServer } from 'node:http';
import pg from 'pg';

const url = process.env.BENCH_PG_URL;
if (!url) throw new Error('BENCH_PG_URL names the database of the baseline');
const pool = new pg.Pool({ connectionString: url, max: 10 });
await pool.query(`create table signatures (
  id integer generated always as identity primary key,
  slug text not null,
  full_name text not null,
  email text not null,
  country text not null,
  created_at text not null,
  unique (slug, email)
)`);
const INSERT =
  'insert into signatures (slug, full_name, email, country, created_at) values ($1, $2, $3, $4, $5)';

const server = createServer((req, res) => {
  const match = /^\/letters\/([^/]+)\/sign$/.exec(req.url ?? '');
  if (req.method !== 'POST' || !match) {
    res.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    pool
      .query({
        name: 'sign',
        text: INSERT,
        values: [
          match[1]!,
          form.get('name') ?? '',
          form.get('email') ?? '',
          form.get('country') ?? '',
          new Date().toISOString(),
        ],
      })
      .then(
        () => res.writeHead(303, { location: `/letters/${match[1]}/check-your-inbox` }).end(),
        () => res.writeHead(500).end(),
      );
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => {
    void pool.end().finally(() => process.exit(0));
  });
});
