import request from 'supertest';
import type { Express } from 'express';

/** The CSRF token in a rendered form. */
export function csrfTokenIn(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no CSRF token in the page');
  return match[1]!;
}

/**
 * A visitor with a cookie jar, as a browser would be: it opens a page to get the form's CSRF token,
 * then posts the form from it.
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
   * Opens `formPage`, then posts `fields` (plus its CSRF token) to `action`. `formPage` may be any page
   * of the site with a form: tokens belong to the browser, not to one form.
   */
  async submit(formPage: string, action: string, fields: Record<string, string>) {
    const page = await this.get(formPage);
    return this.agent
      .post(action)
      .type('form')
      .set('Accept', 'text/html')
      .send({ ...fields, _csrf: csrfTokenIn(page.text) });
  }
}
