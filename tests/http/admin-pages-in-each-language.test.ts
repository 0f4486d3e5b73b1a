import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLanguage } from '../../server/lib/i18n.js';
import { signedIn } from '../support/accounts.js';
import { formFields, postForm, withField } from '../support/admin-forms.js';
import { createLetter } from '../support/factories.js';
import { mainOf, startTags, textOf } from '../support/html.js';
import { Visitor } from '../support/http.js';
import { signAndConfirm } from '../support/signing.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

type Messages = { [key: string]: string | Messages };

/** Every English key, plural forms by their base ("letter.signatures"): what a raw key on a page looks like. */
function keysOf(messages: Messages, prefix = ''): string[] {
  return Object.entries(messages).flatMap(([key, value]) =>
    typeof value === 'string'
      ? [`${prefix}${key}`.replace(/_(zero|one|two|few|many|other)$/, '')]
      : keysOf(value, `${prefix}${key}.`),
  );
}
const KEYS = new Set(keysOf(readLanguage('en')));

/** Catalog keys shown as they are: in the page's text or in its labelling attributes. */
function rawKeysIn(html: string): string[] {
  const labels = startTags(html)
    .flatMap((tag) => [tag.attrs['aria-label'], tag.attrs.title, tag.attrs.placeholder, tag.attrs.alt])
    .filter((value): value is string => value !== undefined);
  const shown = [textOf(html), ...labels].join(' ');
  return [...shown.matchAll(/[A-Za-z][\w-]*(?:\.[\w-]+)+/g)]
    .map((m) => m[0])
    .filter((word) => KEYS.has(word));
}

describe.each(['ko', 'uk'])('the admin and public pages in %s', (language) => {
  const missing: { language: string; key: string }[] = [];
  let t: TestPlatform;
  let admin: Visitor;
  let open: number;
  let draft: number;
  let recipient: number;
  let signature: number;
  beforeAll(async () => {
    t = await createTestPlatform({ onMissingKey: (lng, key) => missing.push({ language: lng, key }) });
    const now = t.clock.now();
    const letter = await createLetter(t.platform.db, now);
    open = letter.id;
    draft = (await createLetter(t.platform.db, now, { status: 'draft' })).id;
    const supporter = new Visitor(t.app);
    await signAndConfirm(t, supporter, letter.slug, { display: 'full' });
    recipient = (await t.platform.db.selectFrom('recipients').select('id').executeTakeFirstOrThrow()).id;
    signature = (await t.platform.db.selectFrom('signatures').select('id').executeTakeFirstOrThrow()).id;
    ({ visitor: admin } = await signedIn(t.app, t.platform, 'admin'));
    // The switcher sets the cookie every later page is read with.
    expect((await admin.get(`/language/${language}?next=/admin`)).status).toBe(303);
  });
  afterAll(async () => {
    await t.close();
  });

  const pages = () => [
    '/admin',
    '/admin/letters',
    '/admin/letters/templates',
    '/admin/letters/new',
    `/admin/letters/${open}`,
    `/admin/letters/${draft}`,
    `/admin/letters/${open}/versions`,
    `/admin/letters/${open}/delivery`,
    `/admin/letters/${draft}/publish`,
    `/admin/letters/${open}/close`,
    '/admin/recipients',
    '/admin/recipients/new',
    '/admin/recipients/import',
    `/admin/recipients/${recipient}`,
    `/admin/recipients/${recipient}/delete`,
    '/admin/signatures',
    `/admin/signatures/${signature}/invalidate`,
    '/admin/signatures/bulk',
    '/admin/erasure',
    '/admin/exports',
    '/admin/queue',
    '/admin/users',
    '/admin/audit',
    '/admin/abuse',
    '/admin/abuse/trending',
    '/admin/settings',
    '/admin/api-tokens',
    `/admin/letters/${open}/webhooks`,
    '/account/password',
  ];

  it('renders every admin page in the language, with no text missing and no raw key shown', async () => {
    const problems: string[] = [];
    for (const path of pages()) {
      missing.length = 0;
      const page = await admin.get(path);
      if (page.status !== 200) problems.push(`${path}: status ${page.status}`);
      if (startTags(page.text, 'html')[0]?.attrs.lang !== language)
        problems.push(`${path}: not in ${language}`);
      for (const m of missing) problems.push(`${path}: ${m.language} lacks ${m.key}`);
      for (const key of rawKeysIn(mainOf(page.text))) problems.push(`${path}: shows the key ${key}`);
    }
    expect(problems).toEqual([]);
  });

  it('renders the public pages in the language too, with no text missing and no raw key shown', async () => {
    const slug = (
      await t.platform.db
        .selectFrom('letters')
        .select('slug')
        .where('id', '=', open)
        .executeTakeFirstOrThrow()
    ).slug;
    const reader = new Visitor(t.app);
    await reader.get(`/language/${language}?next=/`);
    const problems: string[] = [];
    for (const path of [
      '/',
      `/letters/${slug}`,
      `/letters/${slug}/check-your-inbox`,
      `/letters/${slug}/thank-you`,
      `/letters/${slug}/withdrawn`,
      '/privacy',
      '/privacy/access',
      '/login',
      '/account/reset',
      '/no-such-page',
    ]) {
      missing.length = 0;
      const page = await reader.get(path);
      if (startTags(page.text, 'html')[0]?.attrs.lang !== language)
        problems.push(`${path}: not in ${language}`);
      for (const m of missing) problems.push(`${path}: ${m.language} lacks ${m.key}`);
      for (const key of rawKeysIn(page.text)) problems.push(`${path}: shows the key ${key}`);
    }
    expect(problems).toEqual([]);
  });

  it("renders the organizer's preview of a letter in the language, with no text missing", async () => {
    const editor = await admin.get(`/admin/letters/${open}`);
    const fields = withField(formFields(editor.text, 'editor-form'), 'action', 'preview');
    missing.length = 0;
    const preview = await postForm(admin, `/admin/letters/${open}`, `/admin/letters/${open}`, fields);
    expect(preview.status).toBe(200);
    expect(startTags(preview.text, 'html')[0]!.attrs.lang).toBe(language);
    expect(textOf(mainOf(preview.text))).toContain('Embassy of Testland');
    expect(missing.map((m) => `${m.language} lacks ${m.key}`)).toEqual([]);
    expect(rawKeysIn(mainOf(preview.text))).toEqual([]);
  });
});
