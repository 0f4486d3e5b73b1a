import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createI18n, type TFunction } from '../../../server/lib/i18n.js';
import { createAccount } from '../../support/accounts.js';
import { createLetter, signingForm } from '../../support/factories.js';
import { hrefsIn, mainOf, startTags } from '../../support/html.js';
import { expectNoCsrfToken, Visitor } from '../../support/http.js';
import { linksIn, type SinkMessage } from '../../support/smtp-sink.js';
import { lastMailTo, pathOf, tokenOf } from '../../support/signing.js';
import { createTestPlatform, TEST_PUBLIC_URL, type TestPlatform } from '../../support/test-platform.js';

const i18n = createI18n();
const tIn = (language: string): TFunction => i18n.getFixedT(language);

const TEXTS = [
  {
    language: 'en',
    title: 'Protect the captured soldiers',
    summary: 'A test letter.',
    body: 'Dear {{recipient.salutation}},',
  },
  {
    language: 'ko',
    title: '포로가 된 병사들을 보호하십시오',
    summary: '시험용 편지입니다.',
    body: '{{recipient.salutation}}',
  },
  {
    language: 'uk',
    title: 'Захистіть полонених солдатів',
    summary: 'Тестовий лист.',
    body: '{{recipient.salutation}}',
  },
];
const titleIn = (language: string) => TEXTS.find((text) => text.language === language)!.title;

/** The query of a link (`lang`, `text`), as the page it opens reads it. */
const queryOf = (link: string) => Object.fromEntries(new URL(link, TEST_PUBLIC_URL).searchParams);

/** Every link of a message, in its text part and its HTML part. */
const everyLink = (message: SinkMessage) => [
  ...linksIn(message),
  ...hrefsIn(typeof message.parsed.html === 'string' ? message.parsed.html : ''),
];

describe('supporters are written to in the interface language they signed in', () => {
  let t: TestPlatform;
  let slug: string;
  let letterId: number;

  beforeEach(async () => {
    t = await createTestPlatform();
    ({ slug, id: letterId } = await createLetter(t.platform.db, t.clock.now(), { texts: TEXTS }));
  });
  afterEach(async () => {
    await t.close();
  });

  /** Signs on the letter page opened in interface `lang` with the letter's text in `text`. */
  async function signIn(lang: string, text: string, overrides: Record<string, string> = {}) {
    const visitor = new Visitor(t.app);
    const page = `/letters/${slug}?lang=${lang}&text=${text}`;
    const response = await visitor.submit(page, `/letters/${slug}/sign?lang=${lang}&text=${text}`, {
      ...signingForm(overrides),
      language: text,
    });
    expect(response.status).toBe(303);
    return visitor;
  }

  it('stores the interface language beside the language of the text read', async () => {
    await signIn('ko', 'uk');
    const row = await t.platform.db.selectFrom('signatures').selectAll().executeTakeFirstOrThrow();
    expect({ text: row.language, interface: row.interface_language }).toEqual({
      text: 'uk',
      interface: 'ko',
    });
  });

  it('writes the confirmation in that language, names the letter in the text read, and every link keeps both', async () => {
    await signIn('ko', 'uk');
    await t.drainOutbox();
    const mail = lastMailTo(t, 'ji-hoon@example.org');
    const subject = tIn('ko')('emails.signature-confirmation.subject', { letterTitle: titleIn('uk') });
    expect(subject, 'the Korean catalog has its own subject').not.toBe(
      tIn('en')('emails.signature-confirmation.subject', { letterTitle: titleIn('uk') }),
    );
    expect(mail.parsed.subject).toBe(subject);
    expect(mail.parsed.text).toContain(tIn('ko')('emails.signature-confirmation.button'));
    expect(mail.parsed.html).toContain('<html lang="ko"');
    // The Ukrainian title in the Korean sentence, and in the link to the letter, says its own language.
    expect(mail.parsed.html).toContain(`<span lang="uk">${titleIn('uk')}</span>`);
    expect(mail.parsed.html).toContain(`lang="uk" style="color:#1d4e89;">${titleIn('uk')}</a>`);
    const links = everyLink(mail).filter((l) => l.startsWith(TEST_PUBLIC_URL));
    expect(links.length).toBeGreaterThan(4);
    for (const link of links) {
      expect(queryOf(link).lang, link).toBe('ko');
      // A link that shows the letter (or leads to a page about it) opens it in the text read.
      if (/\/(letters|signatures)\//.test(link)) expect(queryOf(link).text, link).toBe('uk');
    }
    const confirm = links.find((l) => l.includes('/signatures/confirm/'))!;
    // The query is no part of the signed token: the link opens its page.
    expect(tokenOf(confirm)).not.toContain('?');
    expect((await new Visitor(t.app).get(pathOf(confirm))).status).toBe(200);
  });

  it("keeps the e-mail's language through the erase page's form, for a reader whose browser says otherwise", async () => {
    await signIn('uk', 'uk');
    await t.drainOutbox();
    const erase = pathOf(
      linksIn(lastMailTo(t, 'ji-hoon@example.org')).find((l) => l.includes('/privacy/erase/'))!,
    );
    const reader = new Visitor(t.app);
    const page = await reader.get(erase).set('Accept-Language', 'ko-KR,ko;q=0.9');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<html lang="uk"');
    const [form] = startTags(mainOf(page.text), 'form');
    expect(form!.attrs.action).toBe(erase);
    expectNoCsrfToken(page.text);
    const erased = await reader.agent
      .post(form!.attrs.action!)
      .type('form')
      .set('Accept', 'text/html')
      .set('Accept-Language', 'ko-KR,ko;q=0.9')
      .send({});
    expect(erased.status).toBe(200);
    expect(erased.text).toContain('<html lang="uk"');
  });

  it('writes to a supporter in the interface language the service is given, not in the language of the text they read', async () => {
    await t.platform.appDeps.signatures.sign(
      (await t.platform.repositories.letters.findBySlug(slug))!,
      {
        fullName: 'Olena Kovalenko',
        email: 'olena@example.org',
        country: 'UA',
        city: '',
        organisation: '',
        jobTitle: '',
        display: 'full',
        consentUpdates: false,
      },
      { language: 'uk', interfaceLanguage: 'ko', ip: undefined },
    );
    await t.drainOutbox();
    expect(lastMailTo(t, 'olena@example.org').parsed.subject).toBe(
      tIn('ko')('emails.signature-confirmation.subject', { letterTitle: titleIn('uk') }),
    );
  });

  it('tells a supporter in their language that the letter was sent, with the letter in the text they read', async () => {
    const visitor = await signIn('uk', 'ko', { updates: 'yes' });
    await t.drainOutbox();
    const confirm = pathOf(
      linksIn(lastMailTo(t, 'ji-hoon@example.org')).find((l) => l.includes('/confirm/'))!,
    );
    expect((await visitor.submit(confirm, confirm, {})).status).toBe(303);
    const admin = await createAccount(t.platform, 'admin');
    await t.platform.deliveries.sendTest(admin, letterId, randomBytes(12).toString('base64url'));
    await t.compileDeliveries();
    await t.drainOutbox();
    await t.platform.deliveries.deliverNow(admin, letterId, randomBytes(12).toString('base64url'));
    await t.compileDeliveries();
    await t.drainOutbox();
    await t.platform.supporterNews.notifyPending();
    await t.drainOutbox();

    const notice = lastMailTo(t, 'ji-hoon@example.org');
    const subject = tIn('uk')('emails.letter-sent.subject', { letterTitle: titleIn('ko') });
    expect(subject).not.toBe(tIn('en')('emails.letter-sent.subject', { letterTitle: titleIn('ko') }));
    expect(notice.parsed.subject).toBe(subject);
    expect(notice.parsed.html).toContain(`<span lang="ko">${titleIn('ko')}</span>`);
    const letterLink = linksIn(notice).find((l) => l.startsWith(`${TEST_PUBLIC_URL}/letters/`))!;
    expect(queryOf(letterLink)).toEqual({ lang: 'uk', text: 'ko' });
    const unsubscribe = linksIn(notice).find((l) => l.includes('/unsubscribe/'))!;
    expect(queryOf(unsubscribe)).toEqual({ lang: 'uk' });
    // Its page, and the form on it, stay in Ukrainian for a browser that asks for English.
    const reader = new Visitor(t.app);
    const page = await reader.get(pathOf(unsubscribe)).set('Accept-Language', 'en');
    expect(page.text).toContain('<html lang="uk"');
    const [form] = startTags(mainOf(page.text), 'form');
    expect(form!.attrs.action).toBe(pathOf(unsubscribe));
    // The page after it leads back to the letter in Ukrainian around the Korean text read.
    const done = await reader.agent
      .post(form!.attrs.action!)
      .type('form')
      .set('Accept', 'text/html')
      .set('Accept-Language', 'en')
      .send({});
    expect(done.status).toBe(200);
    expect(done.text).toContain('<html lang="uk"');
    expect(hrefsIn(mainOf(done.text))).toContain(`/letters/${slug}?lang=uk&text=ko`);
  });
});

describe("a supporter's data-access answer", () => {
  let t: TestPlatform;
  let first: { id: number; slug: string };
  let second: { id: number; slug: string };

  beforeEach(async () => {
    t = await createTestPlatform();
    first = await createLetter(t.platform.db, t.clock.now(), { slug: 'let-them-choose', texts: TEXTS });
    second = await createLetter(t.platform.db, t.clock.now(), { slug: 'protect-the-soldiers' });
  });
  afterEach(async () => {
    await t.close();
  });

  const KIM = { name: 'Kim Ji-hoon', email: 'ji-hoon.kim@example.org', country: 'KR', display: 'initials' };
  const OLENA = { name: 'Olena Kovalenko', email: 'olena.kovalenko@example.org', country: 'UA' };

  async function signOn(
    letterSlug: string,
    lang: string,
    text: string,
    who: Record<string, string>,
  ): Promise<Visitor> {
    const visitor = new Visitor(t.app);
    const response = await visitor.submit(
      `/letters/${letterSlug}?lang=${lang}&text=${text}`,
      `/letters/${letterSlug}/sign?lang=${lang}&text=${text}`,
      { ...signingForm(who), language: text },
    );
    expect(response.status).toBe(303);
    return visitor;
  }

  async function confirmLast(visitor: Visitor, address: string): Promise<void> {
    await t.drainOutbox();
    const confirm = pathOf(linksIn(lastMailTo(t, address)).find((l) => l.includes('/confirm/'))!);
    expect((await visitor.submit(confirm, confirm, {})).status).toBe(303);
  }

  it('is a readable e-mail in the language last used, listing each signature, with the data attached as JSON', async () => {
    await confirmLast(await signOn(first.slug, 'en', 'uk', KIM), KIM.email);
    await confirmLast(await signOn(first.slug, 'uk', 'uk', OLENA), OLENA.email);
    await signOn(second.slug, 'ko', 'en', KIM);
    await t.drainOutbox();
    const before = t.sink.messages.length;

    // Asked from an English page: the answer is still in Korean, the language Kim used last.
    const asker = new Visitor(t.app);
    expect(
      (await asker.submit('/privacy/access?lang=en', '/privacy/access?lang=en', { email: KIM.email })).status,
    ).toBe(200);
    await t.drainOutbox();
    const sent = t.sink.messages.slice(before);
    expect(sent).toHaveLength(1);
    const mail = sent[0]!;
    expect(mail.envelopeTo).toEqual([KIM.email]);

    const ko = tIn('ko');
    expect(ko('emails.data-access.asked')).not.toBe(tIn('en')('emails.data-access.asked'));
    expect(mail.parsed.subject).toBe(ko('emails.data-access.subject'));
    const text = mail.parsed.text ?? '';
    expect(text).toContain(ko('emails.data-access.asked'));
    expect(text).toContain(ko('emails.data-access.signedCount', { count: 2 }));
    // Each letter by its title in the text that was read, its status, how the name appears, the country.
    expect(text).toContain(titleIn('uk'));
    expect(text).toContain('Protect the captured soldiers');
    expect(text).toContain(ko('emails.data-access.statuses.confirmed'));
    expect(text).toContain(ko('emails.data-access.statuses.pending'));
    expect(text).toContain('K. J.-H.');
    expect(text).toContain(new Intl.DisplayNames(['ko'], { type: 'region' }).of('KR')!);
    // The signing time on a 24-hour clock (t.clock: 2026-11-23T10:00Z).
    expect(text).toContain('2026년 11월 23일 10:00');
    expect(text).toContain(ko('emails.data-access.erasing'));
    // A title in another language than the e-mail's says which, for screen readers.
    expect(mail.parsed.html).toContain(`lang="uk" style="color:#1d4e89;">${titleIn('uk')}</a>`);
    // The raw data is not the body any more: it is the attachment.
    expect(text).not.toContain('"newsAboutTheLetter"');
    const attachment = mail.parsed.attachments.find((a) => a.filename === 'undersigned-data.json');
    expect(attachment?.contentType).toBe('application/json');
    const records = JSON.parse(attachment!.content.toString('utf8')) as Record<string, unknown>[];
    expect(records.map((r) => [r.letter, r.status, r.language, r.interfaceLanguage])).toEqual([
      [first.slug, 'confirmed', 'uk', 'en'],
      [second.slug, 'pending', 'en', 'ko'],
    ]);
    // Every link opens its page in Korean; those of a letter in the text read; withdraw links for both.
    const links = linksIn(mail).filter((l) => l.startsWith(TEST_PUBLIC_URL));
    for (const link of links) expect(queryOf(link).lang, link).toBe('ko');
    expect(links.filter((l) => l.includes('/signatures/withdraw/')).map((l) => queryOf(l).text)).toEqual([
      'uk',
      'en',
      // The footer's, for the latest signature.
      'en',
    ]);
    // Nothing of anyone else, though Olena signed the same letter.
    const everything = [mail.raw, text, attachment!.content.toString('utf8')].join('\n');
    expect(everything).not.toContain(OLENA.email);
    expect(everything).not.toContain(OLENA.name);
  });
});
