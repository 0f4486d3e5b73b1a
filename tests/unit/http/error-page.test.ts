import type { Request, Response } from 'express';
import { describe, expect, it } from 'vitest';
import { renderError } from '../../../server/http/errors.js';
import { AppError } from '../../../server/lib/errors.js';
import type { TFunction } from '../../../server/lib/i18n.js';

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
