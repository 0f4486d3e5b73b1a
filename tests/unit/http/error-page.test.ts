import type { Request, Response } from 'express';
import { describe, expect, it } from 'vitest';
import type { AccessRefusal } from '../../../server/audit/access-refusals.js';
import { errorHandler, renderError } from '../../../server/http/errors.js';
import { AppError } from '../../../server/lib/errors.js';
import type { TFunction } from '../../../server/lib/i18n.js';
import type { Logger } from '../../../server/lib/logger.js';
import { authorize, letterResource } from '../../../server/policy/policy.js';

/** A response whose view engine fails, as a strict view missing a field does; records what is sent. */
function failingResponse() {
  const sent: { status?: number; type?: string; body?: string } = {};
  const res = {
    locals: { t: ((key: string) => `<${key}>`) as unknown as TFunction, language: 'en' },
    status(code: number) {
      sent.status = code;
      return res;
    },
    type(value: string) {
      sent.type = value;
      return res;
    },
    send(body: string) {
      sent.body = body;
      return res;
    },
    render(_view: string, _locals: object, callback: (error: unknown, html?: string) => void) {
      callback(new Error('errors/error.hbs: "title" not defined in [object Object]'));
    },
  };
  return { res: res as unknown as Response, sent };
}

const htmlRequest = { accepts: () => 'html', originalUrl: '/letters/missing' } as unknown as Request;

describe('the error page', () => {
  it('still answers, with its status, title and message, when its view cannot be rendered', () => {
    const { res, sent } = failingResponse();
    const failures: unknown[] = [];
    renderError(htmlRequest, res, new AppError(404, 'not_found', 'errors.notFound'), (f) => failures.push(f));
    expect(sent.status).toBe(404);
    expect(sent.type).toBe('html');
    // The translated texts, escaped: the plain page is HTML built by hand.
    expect(sent.body).toContain('<h1>&lt;errors.titles.404&gt;</h1>');
    expect(sent.body).toContain('<p>&lt;errors.notFound&gt;</p>');
    expect(failures).toHaveLength(1);
  });
});

describe('the error handler and policy refusals', () => {
  /** A signed-in organizer's request for someone else's letter, and a response whose page renders. */
  function refusedRequest(signedIn: boolean) {
    const sent: { status?: number; body?: string } = {};
    const res = {
      headersSent: false,
      locals: {
        t: ((key: string) => key) as unknown as TFunction,
        language: 'en',
        currentUser: signedIn ? { id: 4, email: 'prober@example.org', role: 'organizer' } : undefined,
      },
      status(code: number) {
        sent.status = code;
        return res;
      },
      send(body: string) {
        sent.body = body;
        return res;
      },
      render(_view: string, _locals: object, callback: (error: unknown, html?: string) => void) {
        callback(null, '<p>refused</p>');
      },
    };
    const req = {
      method: 'GET',
      originalUrl: '/admin/letters/7?tab=texts',
      path: '/admin/letters/7',
      query: {},
      accepts: () => 'html',
      get: () => undefined,
    };
    const refusal = (() => {
      try {
        authorize({ id: 4, role: 'organizer' }, 'letter.edit', letterResource({ id: 7, ownerId: 2 }, []));
      } catch (error) {
        return error;
      }
    })();
    return { req: req as unknown as Request, res: res as unknown as Response, sent, refusal };
  }

  const logger = (logged: string[]) => ({ error: (_: unknown, message: string) => logged.push(message) });

  async function handle(signedIn: boolean, record: (refusal: AccessRefusal) => Promise<unknown>) {
    const { req, res, sent, refusal } = refusedRequest(signedIn);
    const logged: string[] = [];
    const passedOn: unknown[] = [];
    await new Promise<void>((done) => {
      const response = res as unknown as { send: (body: string) => unknown };
      const send = response.send.bind(res);
      response.send = (body: string) => {
        send(body);
        done();
        return res;
      };
      errorHandler(logger(logged) as unknown as Logger, { record })(refusal, req, res, (error: unknown) => {
        passedOn.push(error);
        done();
      });
    });
    return { sent, logged, passedOn };
  }

  it("puts a signed-in account's refusal on record, with the action, target and address without its query", async () => {
    const recorded: AccessRefusal[] = [];
    const { sent } = await handle(true, async (refusal) => recorded.push(refusal));
    expect(sent.status).toBe(403);
    expect(recorded).toEqual([
      {
        user: expect.objectContaining({ id: 4, email: 'prober@example.org' }),
        action: 'letter.edit',
        target: { type: 'letter', id: 7 },
        method: 'GET',
        path: '/admin/letters/7',
      },
    ]);
  });

  it('records nothing for a visitor who is not logged in', async () => {
    const recorded: AccessRefusal[] = [];
    const { sent } = await handle(false, async (refusal) => recorded.push(refusal));
    expect(sent.status).toBe(403);
    expect(recorded).toEqual([]);
  });

  it('still answers 403 when the record cannot be written, and logs why', async () => {
    const { sent, logged, passedOn } = await handle(true, () => Promise.reject(new Error('disk full')));
    expect(sent.status).toBe(403);
    expect(passedOn).toEqual([]);
    expect(logged).toEqual(['a refusal could not be put on the audit record']);
  });
});
