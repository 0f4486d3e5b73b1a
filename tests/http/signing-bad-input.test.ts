import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLetter } from '../support/factories.js';
import { byClass, byId, hrefsIn, innerHtml, startTags, textById, textOf } from '../support/html.js';
import { expectNoCsrfToken, Visitor } from '../support/http.js';
import { ERROR_TITLES, expectErrorPage, rowCounts } from '../support/signing.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

/** Everything a careful supporter fills in, with non-default choices so that "kept" is visible. */
const TYPED = {
  name: 'Kim Ji-hoon',
  email: 'ji-hoon@example.org',
  country: 'KR',
  city: 'Seoul',
  organisation: 'Seoul Peace Forum',
  title: 'Researcher',
  display: 'hidden',
  privacy: 'yes',
  updates: 'yes',
};

const MESSAGES = {
  nameRequired: 'Enter your name.',
  emailRequired: 'Enter your e-mail address, so we can send you the confirmation link.',
  emailInvalid: 'Enter an e-mail address in the form name@example.org.',
  country: 'Choose your country from the list.',
  display: 'Choose how your name should appear.',
  privacy: 'Tick the box to agree to the privacy notice; we cannot store your signature without it.',
  tooLong: (max: number) => `This is too long: at most ${max} characters. Please shorten it.`,
  controlCharacters: 'This contains characters that cannot be used. Please retype it.',
};

type Field = 'name' | 'email' | 'country' | 'city' | 'organisation' | 'title' | 'display' | 'privacy';

function withField(field: string, value: string | undefined): Record<string, string> {
  const form: Record<string, string> = { ...TYPED };
  if (value === undefined) delete form[field];
  else form[field] = value;
  return form;
}

/** The message sits beside the field, the field points at it, and the summary links to the field. */
function expectMessageBeside(html: string, field: Field, message: string): void {
  expect(textById(html, `field-${field}-error`)).toBe(`Error: ${message}`);
  const control = byId(html, `field-${field}`);
  expect(control, `#field-${field} exists`).toBeDefined();
  expect(control!.attrs['aria-describedby']?.split(' ')).toContain(`field-${field}-error`);
  if (field === 'display') {
    // A radio group is a fieldset: its description (the message) is read when the group is entered.
    expect(control!.name).toBe('fieldset');
  } else {
    expect(control!.attrs['aria-invalid']).toBe('true');
  }

  const [summary] = byClass(html, 'error-summary');
  expect(summary, 'an error summary').toBeDefined();
  const summaryHtml = innerHtml(html, summary!);
  const link = startTags(summaryHtml, 'a').find((a) => a.attrs.href === `#field-${field}`);
  expect(link, `the summary links to #field-${field}`).toBeDefined();
  expect(textOf(innerHtml(summaryHtml, link!))).toBe(message);
}

/** Only the named fields are marked as wrong. */
function expectOnlyErrors(html: string, fields: Field[]): void {
  const marked = startTags(html)
    .filter((tag) => tag.attrs.id?.endsWith('-error') && tag.attrs.class === 'field-error')
    .map((tag) => tag.attrs.id);
  expect(marked.sort()).toEqual(fields.map((f) => `field-${f}-error`).sort());
}

/** Every value the supporter sent is back in the form: text, the chosen country and radio, both boxes. */
function expectValuesKept(html: string, sent: Record<string, string>): void {
  for (const field of ['name', 'email', 'city', 'organisation', 'title'] as const) {
    expect(byId(html, `field-${field}`)!.attrs.value, `value of ${field}`).toBe(sent[field] ?? '');
  }
  const select = byId(html, 'field-country')!;
  const options = startTags(innerHtml(html, select), 'option');
  const selected = options.filter((o) => 'selected' in o.attrs).map((o) => o.attrs.value);
  const listed = Boolean(sent.country) && options.some((o) => o.attrs.value === sent.country);
  expect(selected).toEqual(listed ? [sent.country] : []);

  const checkedRadios = startTags(html, 'input')
    .filter((i) => i.attrs.name === 'display' && 'checked' in i.attrs)
    .map((i) => i.attrs.value);
  const validDisplay = ['full', 'initials', 'hidden'].includes(sent.display ?? '');
  expect(checkedRadios).toEqual(validDisplay ? [sent.display] : []);

  expect('checked' in byId(html, 'field-privacy')!.attrs).toBe(sent.privacy === 'yes');
  expect('checked' in byId(html, 'field-updates')!.attrs).toBe(sent.updates === 'yes');
}

describe('the signing form refuses bad input, says why beside the field and keeps what was typed', () => {
  let t: TestPlatform;
  let slug: string;
  let visitor: Visitor;

  beforeEach(async () => {
    t = await createTestPlatform();
    ({ slug } = await createLetter(t.platform.db, t.clock.now()));
    visitor = new Visitor(t.app);
  });
  afterEach(async () => {
    await t.close();
  });

  const submit = (fields: Record<string, string>) =>
    visitor.submit(`/letters/${slug}`, `/letters/${slug}/sign`, fields);

  async function expectRefused(fields: Record<string, string>, field: Field, message: string) {
    const response = await submit(fields);
    expect(response.status).toBe(422);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expectMessageBeside(response.text, field, message);
    expectOnlyErrors(response.text, [field]);
    expectValuesKept(response.text, fields);
    expect(await rowCounts(t.platform.db)).toEqual({ signatures: 0, outbox: 0 });
    return response;
  }

  it('says the longest a field takes in every language, as its maxlength does', async () => {
    const long = withField('city', 'S'.repeat(81));
    for (const [lang, message] of [
      ['ko', '너무 깁니다. 80자 이내로 줄여 주십시오.'],
      ['uk', 'Задовгий текст: щонайбільше 80 символів. Будь ласка, скоротіть його.'],
    ] as const) {
      const response = await visitor.submit(`/letters/${slug}`, `/letters/${slug}/sign?lang=${lang}`, long);
      expect(response.status).toBe(422);
      expect(textById(response.text, 'field-city-error')).toContain(message);
      expect(byId(response.text, 'field-city')!.attrs.maxlength).toBe('80');
    }
  });

  it('asks for a name when the name is missing', async () => {
    await expectRefused(withField('name', ''), 'name', MESSAGES.nameRequired);
  });

  it('asks for a name when the name is only spaces', async () => {
    await expectRefused(withField('name', '   '), 'name', MESSAGES.nameRequired);
  });

  it.each([
    ['a Hangul filler', '\u3164'],
    ['the Hangul choseong and jungseong fillers', '\u115F\u1160'],
    ['the Braille blank', '\u2800'],
    ['a zero-width joiner', '\u200D'],
    ['a left-to-right mark and spaces', ' \u200E '],
    ['combining marks with nothing to sit on', '\u0301\u0301\u0301'],
  ])(
    'asks for a name when the name is only %s, which the public list would show as a blank',
    async (_l, name) => {
      await expectRefused(withField('name', name), 'name', MESSAGES.nameRequired);
    },
  );

  it('leaves out an organisation nobody can see, rather than showing a blank beside the name', async () => {
    const response = await submit({ ...withField('organisation', '\u3164'), title: '\u200E' });
    expect(response.status).toBe(303);
    const stored = await t.platform.db
      .selectFrom('signatures')
      .select(['organisation', 'job_title'])
      .executeTakeFirstOrThrow();
    expect(stored).toEqual({ organisation: '', job_title: '' });
  });

  it('leads the refused form’s address, opened again, to the form on the letter’s page, not to a 404', async () => {
    for (const [path, location] of [
      [`/letters/${slug}/sign`, `/letters/${slug}#sign`],
      [`/letters/${slug}/sign?lang=ko`, `/letters/${slug}?lang=ko#sign`],
    ] as const) {
      const reopened = await visitor.get(path);
      expect(reopened.status, path).toBe(303);
      expect(reopened.headers.location, path).toBe(location);
    }
  });

  it('refuses a name longer than 120 characters', async () => {
    await expectRefused(withField('name', 'K'.repeat(121)), 'name', MESSAGES.tooLong(120));
  });

  it('refuses a name with control characters', async () => {
    await expectRefused(withField('name', 'Kim\u0007 Ji-hoon'), 'name', MESSAGES.controlCharacters);
  });

  it('refuses a name with a bidirectional override, which would show it on the public list in another order', async () => {
    await expectRefused(withField('name', 'Kim \u202Enoohj-iJ'), 'name', MESSAGES.controlCharacters);
    await expectRefused(withField('city', 'Seoul\u2066'), 'city', MESSAGES.controlCharacters);
  });

  it('asks for an e-mail address when it is missing', async () => {
    await expectRefused(withField('email', ''), 'email', MESSAGES.emailRequired);
  });

  it('refuses an e-mail address that is not one', async () => {
    await expectRefused(withField('email', 'ji-hoon at example.org'), 'email', MESSAGES.emailInvalid);
  });

  it('refuses an e-mail address longer than 254 characters', async () => {
    await expectRefused(withField('email', `${'a'.repeat(250)}@example.org`), 'email', MESSAGES.tooLong(254));
  });

  it('refuses an address a mail server would refuse: more than 64 characters before the @', async () => {
    await expectRefused(
      withField('email', `${'a'.repeat(65)}@example.org`),
      'email',
      'Mail servers refuse an address with more than 64 characters before the @. Check it for typing mistakes.',
    );
  });

  it('asks for a country when none is chosen', async () => {
    await expectRefused(withField('country', ''), 'country', MESSAGES.country);
  });

  it('refuses a country code that is not in the list', async () => {
    await expectRefused(withField('country', 'XX'), 'country', MESSAGES.country);
  });

  it('refuses an over-long city', async () => {
    await expectRefused(withField('city', 'S'.repeat(81)), 'city', MESSAGES.tooLong(80));
  });

  it('refuses an over-long organisation', async () => {
    await expectRefused(withField('organisation', 'O'.repeat(121)), 'organisation', MESSAGES.tooLong(120));
  });

  it('refuses an over-long title', async () => {
    await expectRefused(withField('title', 'T'.repeat(121)), 'title', MESSAGES.tooLong(120));
  });

  it('refuses an e-mail address typed as the organisation or the title, which can be shown with the signature', async () => {
    const message =
      'This looks like an e-mail address, and what you type here can be shown with your signature. Your address goes only in the e-mail box, where it is never shown.';
    await expectRefused(
      withField('organisation', 'Forum (press@forum.example.org)'),
      'organisation',
      message,
    );
    await expectRefused(withField('title', 'Researcher, jh＠mail.example'), 'title', message);
  });

  it('asks how the name should appear when no display choice is sent', async () => {
    await expectRefused(withField('display', undefined), 'display', MESSAGES.display);
  });

  it('refuses a forged display value', async () => {
    await expectRefused(withField('display', 'everyone'), 'display', MESSAGES.display);
  });

  it('requires the privacy agreement to be ticked', async () => {
    await expectRefused(withField('privacy', undefined), 'privacy', MESSAGES.privacy);
  });

  it('does not take a forged privacy value for agreement', async () => {
    await expectRefused(withField('privacy', 'true'), 'privacy', MESSAGES.privacy);
  });

  it('lists every problem in the summary, in the order of the form, when several fields are wrong', async () => {
    const fields = { ...TYPED, name: '', email: 'nope', country: '', privacy: '' };
    const response = await submit(fields);
    expect(response.status).toBe(422);
    expectOnlyErrors(response.text, ['name', 'email', 'country', 'privacy']);
    const summary = byClass(response.text, 'error-summary')[0]!;
    expect(hrefsIn(innerHtml(response.text, summary))).toEqual([
      '#field-name',
      '#field-email',
      '#field-country',
      '#field-privacy',
    ]);
    expectValuesKept(response.text, fields);
    expect(await rowCounts(t.platform.db)).toEqual({ signatures: 0, outbox: 0 });
  });

  it('accepts the form once the supporter corrects it, from the re-rendered page', async () => {
    const refused = await submit(withField('email', 'ji-hoon@'));
    expect(refused.status).toBe(422);
    expectNoCsrfToken(refused.text);
    const corrected = await visitor.agent.post(`/letters/${slug}/sign`).type('form').send(TYPED);
    expect(corrected.status).toBe(303);
    expect(corrected.headers.location).toBe(`/letters/${slug}/check-your-inbox`);
    expect(await rowCounts(t.platform.db)).toEqual({ signatures: 1, outbox: 1 });
  });

  it('answers a body over 16 kB with 413 and the error page, not a stack trace', async () => {
    const response = await submit({ ...TYPED, name: 'K'.repeat(17 * 1024) });
    expectErrorPage(response, 413, ERROR_TITLES[413]);
    expect(response.text).toContain('What you sent is larger than this form accepts.');
    // Back to the form with what was typed, as the browser keeps it: a link would load it empty.
    expect(response.text).toContain('Go back with your browser’s Back button');
    expect(await rowCounts(t.platform.db)).toEqual({ signatures: 0, outbox: 0 });
  });

  it('answers a form with too many fields with 413', async () => {
    expectNoCsrfToken((await visitor.get(`/letters/${slug}`)).text);
    const padding = Array.from({ length: 60 }, (_, i) => `extra${i}=x`).join('&');
    const response = await visitor.agent
      .post(`/letters/${slug}/sign`)
      .type('form')
      .set('Accept', 'text/html')
      .send(`${new URLSearchParams(TYPED).toString()}&${padding}`);
    expectErrorPage(response, 413, ERROR_TITLES[413]);
    expect(await rowCounts(t.platform.db)).toEqual({ signatures: 0, outbox: 0 });
  });

  it('refuses a body with broken percent-encoding with 400 and stores nothing', async () => {
    expectNoCsrfToken((await visitor.get(`/letters/${slug}`)).text);
    const response = await visitor.agent
      .post(`/letters/${slug}/sign`)
      .type('form')
      .set('Accept', 'text/html')
      .send('name=%E0%A4%A&email=%&country=%ZZ');
    // Refused before the form is read (server/http/form-encoding.ts), so nothing is stored literally.
    expectErrorPage(response, 400, ERROR_TITLES[400]);
    expect(await rowCounts(t.platform.db)).toEqual({ signatures: 0, outbox: 0 });
  });

  it('treats a repeated field as missing rather than failing', async () => {
    expectNoCsrfToken((await visitor.get(`/letters/${slug}`)).text);
    const body = `${new URLSearchParams(TYPED).toString()}&name=Second+name`;
    const response = await visitor.agent
      .post(`/letters/${slug}/sign`)
      .type('form')
      .set('Accept', 'text/html')
      .send(body);
    expect(response.status).toBe(422);
    expectMessageBeside(response.text, 'name', MESSAGES.nameRequired);
    expect(await rowCounts(t.platform.db)).toEqual({ signatures: 0, outbox: 0 });
  });

  it('refuses a body in an unsupported character set with 415 and the error page', async () => {
    expectNoCsrfToken((await visitor.get(`/letters/${slug}`)).text);
    const response = await visitor.agent
      .post(`/letters/${slug}/sign`)
      .set('Content-Type', 'application/x-www-form-urlencoded; charset=utf-7')
      .set('Accept', 'text/html')
      .send(new URLSearchParams(TYPED).toString());
    expectErrorPage(response, 415, ERROR_TITLES[415]);
    expect(await rowCounts(t.platform.db)).toEqual({ signatures: 0, outbox: 0 });
  });

  it('refuses a body that claims to be compressed but is not with 400 and the error page', async () => {
    await visitor.get(`/letters/${slug}`);
    const response = await visitor.agent
      .post(`/letters/${slug}/sign`)
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .set('Content-Encoding', 'gzip')
      .set('Accept', 'text/html')
      .send('this is not gzip');
    expectErrorPage(response, 400, ERROR_TITLES[400]);
    expect(await rowCounts(t.platform.db)).toEqual({ signatures: 0, outbox: 0 });
  });

  it('refuses a JSON body (the form is not an API) without a 500', async () => {
    expectNoCsrfToken((await visitor.get(`/letters/${slug}`)).text);
    const response = await visitor.agent
      .post(`/letters/${slug}/sign`)
      .set('Content-Type', 'application/json')
      .set('Accept', 'text/html')
      .send(JSON.stringify(TYPED));
    // Not read as a form: the form comes back with its errors, as if nothing were typed.
    expect(response.status).toBe(422);
    expect(await rowCounts(t.platform.db)).toEqual({ signatures: 0, outbox: 0 });
  });

  it('refuses an empty body without a 500', async () => {
    await visitor.get(`/letters/${slug}`);
    const response = await visitor.agent.post(`/letters/${slug}/sign`).set('Accept', 'text/html');
    expect(response.status).toBe(422);
    expect(await rowCounts(t.platform.db)).toEqual({ signatures: 0, outbox: 0 });
  });
});
