import { once } from 'node:events';
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request, type Response } from 'express';
import { MemoryStore } from 'express-rate-limit';
import { afterEach, describe, expect, it } from 'vitest';
import { requestLimits } from '../../../server/http/security.js';
import { AppError } from '../../../server/lib/errors.js';
import { ManualClock } from '../../../server/lib/clock.js';

/**
 * A request limit of 2 per window that does not count forms sent back for a mistake (countRejected:
 * false), in front of a route that answers 422 when asked to, and otherwise waits for `gate` before
 * answering 200: a request can be abandoned by its client while the route still works on it.
 */
function limitedApp() {
  let opened!: () => void;
  const reached = new Promise<void>((resolve) => (opened = resolve));
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const limitPerIp = requestLimits({
    store: () => new MemoryStore(),
    clock: new ManualClock(),
    secret: 's'.repeat(32),
  });
  const app = express();
  app.use((_req, res, next) => {
    res.locals.t = ((key: string) => key) as unknown as Response['locals']['t'];
    next();
  });
  app.post('/form', limitPerIp(2, 60_000, { countRejected: false }), async (req: Request, res: Response) => {
    if (req.query.mistake === '1') return res.status(422).send('fix it');
    opened();
    await gate;
    res.status(200).send('done');
  });
  app.use((error: unknown, _req: Request, res: Response, _next: () => void) => {
    res.status(error instanceof AppError ? error.status : 500).send('refused');
  });
  return { app, reached, release };
}

/** Posts to `path` and answers its status. */
async function post(port: number, path: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST' });
  await response.text();
  return response.status;
}

describe('a request limit that does not count forms sent back for a mistake', () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.close();
    server = undefined;
  });

  it('counts a request its client abandoned while it was being answered, and not a 4xx', async () => {
    const { app, reached, release } = limitedApp();
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;

    // Mistakes are taken off the count: three of them lock nobody out.
    for (let n = 1; n <= 3; n++) expect(await post(port, '/form?mistake=1')).toBe(422);

    // A request whose client hangs up while the route works on it (the route still ran: an e-mail was
    // queued) is counted. express-rate-limit's skipFailedRequests took it back, so posting and dropping
    // the connection was never counted.
    const abandoned = request({ host: '127.0.0.1', port, method: 'POST', path: '/form' });
    abandoned.on('error', () => undefined);
    const closed = new Promise((resolve) => abandoned.on('close', resolve));
    abandoned.end();
    await reached;
    abandoned.destroy();
    await closed;
    // Let the server see the connection go before the route answers.
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    await new Promise((resolve) => setTimeout(resolve, 20));

    expect(await post(port, '/form')).toBe(200);
    expect(await post(port, '/form')).toBe(429);
  });
});
