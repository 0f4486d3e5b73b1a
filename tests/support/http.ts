import request from 'supertest';
import type { Express } from 'express';

const CSRF_FIELD = /name="_csrf" value="([^"]*)"/;

/** The paths whose forms carry a CSRF token (app.ts's ADMIN_PATHS); every other form is anonymous. */
const ACCOUNT_PATHS = /^\/(?:admin|login|logout|account)(?:[/?#]|$)/i;

/**
 * The CSRF token in a page under the account paths (/admin, /login, /account). Throws when there is
 * none: a form that lost its token must fail the test that posts it, not send an empty field and pass
 * (a permission test expecting 403 would otherwise pass for the wrong reason).
 */
export function csrfTokenIn(html: string): string {
  const token = CSRF_FIELD.exec(html)?.[1];
  if (!token) throw new Error('No CSRF token in the page: every form under the account paths carries one.');
  return token;
}

/**
 * Checks that a public page carries no CSRF token: anonymous forms are protected by Fetch Metadata and
 * Origin (http/security.ts), and a per-visitor token would make a cached public page wrong for the next.
 */
export function expectNoCsrfToken(html: string): void {
  if (CSRF_FIELD.test(html))
    throw new Error('A public page carries a CSRF token: anonymous pages carry none.');
}

/**
 * The CSRF field a browser's form posted to `action` carries, read from the page the form is on: the
 * page's token under the account paths (it must have one), nothing elsewhere (the page must have none).
 */
export function csrfFieldFor(action: string, html: string): { _csrf?: string } {
  if (ACCOUNT_PATHS.test(action)) return { _csrf: csrfTokenIn(html) };
  expectNoCsrfToken(html);
  return {};
}

/**
 * A visitor with a cookie jar, as a browser would be: it opens a page (for the form's CSRF token under
 * the account paths), then posts the form from it, saying so as a browser does (`Sec-Fetch-Site`).
 */
export class Visitor {
  readonly agent: ReturnType<typeof request.agent>;

  constructor(app: Express) {
    this.agent = request.agent(app);
  }

  get(path: string) {
    return this.agent.get(path).set('Accept', 'text/html');
  }

  /**
   * Opens `formPage`, then posts `fields` to `action`: with the page's CSRF token when `action` is under
   * the account paths (it must have one), with none otherwise (the page must have none). `formPage` may be
   * any page of the site with a form: tokens belong to the browser, not to one form.
   */
  async submit(formPage: string, action: string, fields: Record<string, string>) {
    const page = await this.get(formPage);
    return this.agent
      .post(action)
      .type('form')
      .set('Accept', 'text/html')
      .set('Sec-Fetch-Site', 'same-origin')
      .send({ ...fields, ...csrfFieldFor(action, page.text) });
  }
}
