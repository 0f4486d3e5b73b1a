/**
 * Baseline for signing: bare node:http and better-sqlite3, in a process of its own. Each POST's
 * urlencoded body is parsed and inserted as one row in its own transaction, with the platform's
 * pragmas (WAL, synchronous=NORMAL, foreign_keys, busy_timeout), and answered 303: the least a
 * signature written to SQLite can cost here. Tells its parent its port over IPC; stops on SIGTERM.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';

const dir = mkdtempSync(path.join(os.tmpdir(), 'undersigned-bare-'));
const db = new SQLite(path.join(dir, 'bare.sqlite'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('foreign_keys = ON');
db.pragma('busy_timeout = 5000');
db.exec(`create table signatures (
  id integer primary key,
  slug text not null,
  full_name text not null,
  email text not null,
  country text not null,
  created_at text not null,
  unique (slug, email)
)`);
const insert = db.prepare(
  'insert into signatures (slug, full_name, email, country, created_at) values (?, ?, ?, ?, ?)',
);
const sign = db.transaction((slug: string, form: URLSearchParams) =>
  insert.run(
    slug,
    form.get('name') ?? '',
    form.get('email') ?? '',
    form.get('country') ?? '',
    new Date().toISOString(),
  ),
);

const server = createServer((req, res) => {
  const match = /^\/letters\/([^/]+)\/sign$/.exec(req.url ?? '');
  if (req.method !== 'POST' || !match) {
    res.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    sign(match[1]!, new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    res.writeHead(303, { location: `/letters/${match[1]}/check-your-inbox` }).end();
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
});
