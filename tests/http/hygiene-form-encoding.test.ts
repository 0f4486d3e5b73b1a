import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signedIn } from '../support/accounts.js';
import { formFieldsFor, withField } from '../support/admin-forms.js';
import { createLetter, signingForm } from '../support/factories.js';
import { mainOf, textOf } from '../support/html.js';
import { csrfTokenIn, expectNoCsrfToken, Visitor } from '../support/http.js';
import { ERROR_TITLES, expectErrorPage, rowCounts } from '../support/signing.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

/** What the refusal says, after its title. */
const CANNOT_READ = 'The form could not be read: part of it is not valid text (a broken %-escape).';

/** Broken %-escapes a hand-made or truncated request may carry. */
const MALFORMED = ['%E0%A4%A', '%ZZ', 'Kim%', '%FF', '%C0%AF', 'Kim+%E0%A4'];

/** A form body as a browser encodes it, with one field's value replaced by raw, unencoded text. */
function bodyWith(fields: [string, string][], name: string, raw: string): string {
  return fields
    .map(([key, value]) =>
      key === name ? `${encodeURIComponent(key)}=${raw}` : new URLSearchParams([[key, value]]).toString(),
    )
    .join('&');
}

describe('a form body with broken percent-encoding', () => {
  let t: TestPlatform;
  beforeEach(async () => {
    t = await createTestPlatform();
  });
  afterEach(async () => {
    await t.close();
  });

  it('is refused on the signing form with 400 and a message that says why; nothing is stored', async () => {
    const { slug } = await createLetter(t.platform.db, t.clock.now());
    const visitor = new Visitor(t.app);
    for (const [index, raw] of MALFORMED.entries()) {
      expectNoCsrfToken((await visitor.get(`/letters/${slug}`)).text);
      const fields = Object.entries(signingForm({ email: `person-${index}@example.org` }));
      for (const field of ['name', 'organisation']) {
        const response = await visitor.agent
          .post(`/letters/${slug}/sign`)
          .type('form')
          .set('Accept', 'text/html')
          .send(bodyWith(fields, field, raw));
        expectErrorPage(response, 400, ERROR_TITLES[400]);
        expect(textOf(mainOf(response.text)), `${field}=${raw}`).toContain(CANNOT_READ);
      }
    }
    expect(await rowCounts(t.platform.db)).toEqual({ signatures: 0, outbox: 0 });

    // The same form, well encoded, still signs (the check refuses only what cannot be read).
    expectNoCsrfToken((await visitor.get(`/letters/${slug}`)).text);
    const good = await visitor.agent
      .post(`/letters/${slug}/sign`)
      .type('form')
      .send(bodyWith(Object.entries(signingForm()), 'name', 'Kim%20Ji-hoon%20%E2%9C%93'));
    expect(good.status).toBe(303);
    const [stored] = await t.platform.db.selectFrom('signatures').select('full_name').execute();
    expect(stored!.full_name).toBe('Kim Ji-hoon ✓');
  });

  it('answers JSON clients with the same refusal in the one error shape', async () => {
    const { slug } = await createLetter(t.platform.db, t.clock.now());
    const response = await new Visitor(t.app).agent
      .post(`/letters/${slug}/sign`)
      .type('form')
      .set('Accept', 'application/json')
      .send('name=%ZZ');
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      error: { status: 400, code: 'malformed_form', message: expect.stringContaining(CANNOT_READ) },
    });
  });

  it('is refused on an admin form with 400; the directory is unchanged', async () => {
    const { visitor } = await signedIn(t.app, t.platform, 'admin');
    const page = await visitor.get('/admin/recipients/new');
    const fields = withField(
      withField(formFieldsFor(page.text, '/admin/recipients'), 'name', 'Embassy'),
      '_csrf',
      csrfTokenIn(page.text),
    );
    const before = await t.platform.db.selectFrom('recipients').selectAll().execute();
    for (const raw of MALFORMED) {
      const response = await visitor.agent
        .post('/admin/recipients')
        .type('form')
        .set('Accept', 'text/html')
        .send(bodyWith(fields, 'name', raw));
      expectErrorPage(response, 400, ERROR_TITLES[400]);
      expect(textOf(mainOf(response.text)), raw).toContain(CANNOT_READ);
    }
    expect(await t.platform.db.selectFrom('recipients').selectAll().execute()).toEqual(before);
  });
});
