import request from 'supertest';
import type { Express } from 'express';

/**
 * The CSRF token in a rendered form, or '' on a public page: anonymous forms carry none (they are
 * protected by Fetch Metadata and Origin, http/security.ts), so a test that posts one sends an empty
 * field the server ignores. Forms under the account paths always carry one; security.test.ts checks both.
 */
export function csrfTokenIn(html: string): string {
  const match = /name="_csrf" value="([^"]*)"/.exec(html);
  return match?.[1] ?? '';
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
   * Opens `formPage`, then posts `fields` (plus its CSRF token, if it has one) to `action`. `formPage` may
   * be any page of the site with a form: tokens belong to the browser, not to one form.
   */
  async submit(formPage: string, action: string, fields: Record<string, string>) {
    const page = await this.get(formPage);
    const token = csrfTokenIn(page.text);
    return this.agent
      .post(action)
      .type('form')
      .set('Accept', 'text/html')
      .set('Sec-Fetch-Site', 'same-origin')
      .send(token === '' ? fields : { ...fields, _csrf: token });
  }
}
