import { Writable } from 'node:stream';
import express from 'express';
import { pino } from 'pino';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { requestLog } from '../../../server/http/request-log.js';

interface Line {
  level: number;
  msg: string;
  req: { method: string; url: string };
  res: { statusCode: number };
  responseTime: number;
}

/** An app with the request log in front of a few routes, and the lines it wrote. */
function loggedApp() {
  const lines: Line[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Line);
      done();
    },
  });
  const app = express();
  app.use(requestLog(pino({ level: 'info' }, stream), { ignore: (url) => url.startsWith('/assets/') }));
  app.get('/assets/site.css', (_req, res) => {
    res.send('body {}');
  });
  app.get(/.*/, (req, res) => {
    res.status(req.path === '/broken' ? 500 : 200).send('ok');
  });
  return { app, lines };
}

describe('the request log', () => {
  it('writes one line per request, with method, path, status and time', async () => {
    const { app, lines } = loggedApp();
    await request(app).get('/letters/a-letter');
    await request(app).get('/');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 30,
      msg: 'request completed',
      req: { method: 'GET', url: '/letters/a-letter' },
      res: { statusCode: 200 },
    });
    expect(typeof lines[0]!.responseTime).toBe('number');
  });

  it('leaves out the query string and every token in a path', async () => {
    const { app, lines } = loggedApp();
    await request(app).get('/signatures/confirm/secret-token-123?ref=ji-hoon%40example.org');
    await request(app).get('/account/reset/another-secret');
    expect(lines.map((l) => l.req.url)).toEqual(['/signatures/confirm/[token]', '/account/reset/[token]']);
    const text = JSON.stringify(lines);
    for (const secret of ['secret-token-123', 'another-secret', 'ji-hoon', 'example.org'])
      expect(text).not.toContain(secret);
  });

  it('leaves out a token whatever the letter case of its path, as Express routes it', async () => {
    const { app, lines } = loggedApp();
    const paths = [
      '/Signatures/Confirm/SECRET-1',
      '/SIGNATURES/WITHDRAW/SECRET-2',
      '/signatures/Unsubscribe/SECRET-3',
      '/Privacy/Erase/SECRET-4',
      '/Account/Invite/SECRET-5',
      '/account/RESET/SECRET-6/',
    ];
    for (const path of paths) await request(app).get(path);
    expect(lines.map((l) => l.req.url)).toEqual([
      '/Signatures/Confirm/[token]',
      '/SIGNATURES/WITHDRAW/[token]',
      '/signatures/Unsubscribe/[token]',
      '/Privacy/Erase/[token]',
      '/Account/Invite/[token]',
      '/account/RESET/[token]/',
    ]);
    expect(JSON.stringify(lines)).not.toContain('SECRET');
  });

  it('logs a server error at error level', async () => {
    const { app, lines } = loggedApp();
    await request(app).get('/broken');
    expect(lines).toEqual([expect.objectContaining({ level: 50, msg: 'request errored' })]);
  });

  it('writes nothing for the static assets', async () => {
    const { app, lines } = loggedApp();
    await request(app).get('/assets/site.css').expect(200);
    expect(lines).toEqual([]);
  });
});
