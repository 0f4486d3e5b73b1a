import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import { createI18n, type TFunction } from '../../server/lib/i18n.js';
import { createAccount, loginAs } from '../support/accounts.js';
import { auditEntries } from '../support/audit-log.js';
import {
  createDraft,
  EN_BODY,
  fieldErrors,
  fieldsOf,
  organizerPlatform,
  postForm,
} from '../support/admin-forms.js';
import { byId, innerHtml, mainOf, startTags, textOf } from '../support/html.js';
import { Visitor } from '../support/http.js';
import { linksIn, type SinkMessage } from '../support/smtp-sink.js';
import { ERROR_TITLES, expectErrorPage } from '../support/signing.js';
import { createTestPlatform, TEST_PUBLIC_URL, type TestPlatform } from '../support/test-platform.js';

const i18n = createI18n();
const tIn = (language: string): TFunction => i18n.getFixedT(language);

/** A text in `language`, checked to be a translation of its own (an English fallback cannot pass). */
function translated(language: string, key: string, options: Record<string, unknown> = {}): string {
  const text = tIn(language)(key, options);
  expect(text, `${language} has its own ${key}`).not.toBe(tIn('en')(key, options));
  return text;
}

/** The query of a link, as the page it opens reads it. */
const queryOf = (link: string) => Object.fromEntries(new URL(link).searchParams);

const languageOf = async (t: TestPlatform, id: number) =>
  (await t.platform.db.selectFrom('users').select('language').where('id', '=', id).executeTakeFirstOrThrow())
    .language;

describe('staff are written to in the language of their account', () => {
  let t: TestPlatform;
  let admin: User;
  let as: Visitor;

  beforeEach(async () => {
    t = await createTestPlatform();
    admin = await createAccount(t.platform, 'admin');
    as = await loginAs(t.app, admin);
  });
  afterEach(async () => {
    await t.close();
  });

  const lastTo = (address: string): SinkMessage => {
    const message = t.sink.to(address).at(-1);
    if (!message) throw new Error(`no mail to ${address}`);
    return message;
  };

  it("gives a new account the inviting admin's interface language, and writes its invitation in it", async () => {
    // The admin chose Korean with the switcher.
    expect((await as.get('/language/ko?next=/admin/users')).status).toBe(303);
    const response = await postForm(
      as,
      '/admin/users',
      '/admin/users/invite',
      fieldsOf({ email: 'min-ji@example.org', role: 'organizer' }),
    );
    expect(response.status).toBe(303);
    await t.drainOutbox();

    const invited = (await t.platform.repositories.users.findByEmail('min-ji@example.org'))!;
    expect(invited.language).toBe('ko');
    const mail = lastTo('min-ji@example.org');
    expect(mail.parsed.subject).toBe(translated('ko', 'emails.account-invitation.subject'));
    // The role is named in Korean too, not as the code "organizer".
    expect(mail.parsed.text).toContain(
      translated('ko', 'emails.account-invitation.body', {
        invitedBy: admin.email,
        role: translated('ko', 'emails.account-invitation.role.organizer'),
      }),
    );
    // When the link stops working, said once in UTC: the date as written says so already (it said "UTC(UTC)").
    expect(mail.parsed.text?.match(/UTC/g)).toHaveLength(1);
    const link = linksIn(mail).find((l) => l.startsWith(`${TEST_PUBLIC_URL}/account/invite/`))!;
    expect(queryOf(link)).toEqual({ lang: 'ko' });
    expect((await new Visitor(t.app).get(link.slice(TEST_PUBLIC_URL.length))).status).toBe(200);
  });

  it('writes the invitation in the language the admin chose on the form, and offers theirs first', async () => {
    const page = await as.get('/admin/users');
    const options = startTags(innerHtml(page.text, byId(page.text, 'field-language')!), 'option');
    expect(options.map((o) => [o.attrs.value, o.attrs.lang, 'selected' in o.attrs])).toEqual([
      ['en', 'en', true],
      ['ko', 'ko', false],
      ['uk', 'uk', false],
    ]);

    const invite = (language: string) =>
      postForm(
        as,
        '/admin/users',
        '/admin/users/invite',
        fieldsOf({ email: 'olena@example.org', role: 'organizer', language }),
      );
    expect((await invite('uk')).status).toBe(303);
    await t.drainOutbox();
    const invited = (await t.platform.repositories.users.findByEmail('olena@example.org'))!;
    expect(invited.language).toBe('uk');
    const mail = lastTo('olena@example.org');
    expect(mail.parsed.subject).toBe(translated('uk', 'emails.account-invitation.subject'));
    const link = linksIn(mail).find((l) => l.startsWith(`${TEST_PUBLIC_URL}/account/invite/`))!;
    expect(queryOf(link)).toEqual({ lang: 'uk' });

    // Invited again before ever logging in (they never chose a language): the new choice is theirs now.
    expect((await invite('ko')).status).toBe(303);
    await t.drainOutbox();
    expect(await languageOf(t, invited.id)).toBe('ko');
    expect(lastTo('olena@example.org').parsed.subject).toBe(
      translated('ko', 'emails.account-invitation.subject'),
    );
    // The change is on record, with the language it replaced.
    const entries = await auditEntries(t.platform.db, 'user-invited');
    expect(entries.map((e) => e.details)).toEqual([
      { email: 'olena@example.org', role: 'organizer', language: 'uk' },
      { email: 'olena@example.org', role: 'organizer', language: 'ko', again: true, languageBefore: 'uk' },
    ]);
  });

  it('refuses an invitation language not on the list with 422 beside the field, keeping what was typed', async () => {
    for (const language of ['xx', 'ko-KR', 'Korean']) {
      const refused = await postForm(
        as,
        '/admin/users',
        '/admin/users/invite',
        fieldsOf({ email: 'not-yet@example.org', role: 'admin', language }),
      );
      expect(refused.status, language).toBe(422);
      expect(fieldErrors(refused.text, 'field-language')).toEqual([
        tIn('en')('account.emailLanguage.invalid'),
      ]);
      expect(byId(refused.text, 'field-email')?.attrs.value).toBe('not-yet@example.org');
      const role = startTags(innerHtml(refused.text, byId(refused.text, 'field-role')!), 'option').find(
        (o) => 'selected' in o.attrs,
      );
      expect(role?.attrs.value).toBe('admin');
    }
    expect(await t.platform.repositories.users.findByEmail('not-yet@example.org')).toBeUndefined();
    expect(t.sink.to('not-yet@example.org')).toEqual([]);
  });

  it('lets a person choose the language of their e-mails on the account page', async () => {
    const page = await as.get('/account/password');
    const select = byId(page.text, 'field-language')!;
    expect(select.name).toBe('select');
    const label = startTags(page.text, 'label').find((l) => l.attrs.for === 'field-language')!;
    expect(textOf(innerHtml(page.text, label))).toBe('Language');
    const options = startTags(innerHtml(page.text, select), 'option');
    expect(options.map((o) => [o.attrs.value, o.attrs.lang, 'selected' in o.attrs])).toEqual([
      ['en', 'en', true],
      ['ko', 'ko', false],
      ['uk', 'uk', false],
    ]);

    const saved = await postForm(as, '/account/password', '/account/language', fieldsOf({ language: 'uk' }));
    expect(saved.status).toBe(303);
    expect(saved.headers.location).toBe('/account/password?done=emailLanguageSaved');
    expect(await languageOf(t, admin.id)).toBe('uk');
    const after = await as.get(saved.headers.location!);
    expect(textOf(mainOf(after.text))).toContain(tIn('en')('account.notices.emailLanguageSaved'));
    const selected = startTags(innerHtml(after.text, byId(after.text, 'field-language')!), 'option').find(
      (o) => 'selected' in o.attrs,
    );
    expect(selected?.attrs.value).toBe('uk');
  });

  it('refuses a language that is not one of the list with 422, its message beside the field, changing nothing', async () => {
    for (const language of ['xx', 'ko-KR', 'Korean', '', 'en;uk', 'u'.repeat(5000)]) {
      const refused = await postForm(as, '/account/password', '/account/language', fieldsOf({ language }));
      expect(refused.status, language).toBe(422);
      expect(fieldErrors(refused.text, 'field-language')).toEqual([
        tIn('en')('account.emailLanguage.invalid'),
      ]);
    }
    // Two values at once are no choice either.
    const twice = await postForm(as, '/account/password', '/account/language', [
      ['language', 'ko'],
      ['language', 'uk'],
    ]);
    expect(twice.status).toBe(422);
    // Without the form's token: refused before anything is read.
    const forged = await as.agent
      .post('/account/language')
      .type('form')
      .set('Accept', 'text/html')
      .send({ language: 'ko' });
    expectErrorPage(forged, 403, ERROR_TITLES[403]);
    // Nobody logged in: to the login page.
    const anonymous = await new Visitor(t.app).agent.post('/account/language').type('form').send({});
    expect([302, 303, 403]).toContain(anonymous.status);
    expect(await languageOf(t, admin.id)).toBe('en');
  });

  it("writes a password reset asked from a Korean login page in the account's language", async () => {
    const owner = await createAccount(t.platform, 'organizer');
    await t.platform.repositories.users.setLanguage(owner.id, 'uk', t.clock.now());
    const visitor = new Visitor(t.app);
    const asked = await postForm(
      visitor,
      '/account/reset?lang=ko',
      '/account/reset?lang=ko',
      fieldsOf({ email: owner.email }),
    );
    expect(asked.status).toBe(200);
    expect(asked.text).toContain('<html lang="ko"');
    await t.drainOutbox();
    const mail = lastTo(owner.email);
    expect(mail.parsed.subject).toBe(translated('uk', 'emails.password-reset.subject'));
    const link = linksIn(mail).find((l) => l.startsWith(`${TEST_PUBLIC_URL}/account/reset/`))!;
    expect(queryOf(link)).toEqual({ lang: 'uk' });
  });
});

describe('review notices are written in each account’s language', () => {
  it("names the letter by its title in each account's language where the letter has a text in it", async () => {
    const { t, organizer, visitor, recipient } = await organizerPlatform();
    try {
      const settings = t.platform.appDeps.settings;
      await settings.write({ ...(await settings.read()), requireReview: true }, t.clock.now());
      const ukrainianAdmin = await createAccount(t.platform, 'admin');
      const koreanAdmin = await createAccount(t.platform, 'admin');
      const colleague = await createAccount(t.platform, 'organizer');
      await t.platform.repositories.users.setLanguage(ukrainianAdmin.id, 'uk', t.clock.now());
      await t.platform.repositories.users.setLanguage(koreanAdmin.id, 'ko', t.clock.now());
      await t.platform.repositories.users.setLanguage(colleague.id, 'uk', t.clock.now());
      const ukTitle = 'Дайте їм вибрати свободу';
      const id = await createDraft(visitor, [recipient], {
        languages: ['en', 'uk'],
        title_uk: ukTitle,
        summary_uk: 'Двоє солдатів хочуть поїхати до Південної Кореї.',
        body_uk: EN_BODY,
      });
      const shared = await postForm(visitor, `/admin/letters/${id}`, `/admin/letters/${id}/collaborators`, [
        ['email', colleague.email],
      ]);
      expect(shared.status).toBe(303);
      await t.platform.letterAdmin.workflow.publish(organizer, id);
      await t.drainOutbox();

      expect(t.sink.to(colleague.email).at(-1)?.parsed.subject).toBe(
        translated('uk', 'emails.letter-shared.subject', { letterTitle: ukTitle }),
      );
      expect(t.sink.to(ukrainianAdmin.email).at(-1)?.parsed.subject).toBe(
        translated('uk', 'emails.letter-review-requested.subject.letter', { letterTitle: ukTitle }),
      );
      // No Korean text: the main language's title, in a Korean sentence.
      expect(t.sink.to(koreanAdmin.email).at(-1)?.parsed.subject).toBe(
        translated('ko', 'emails.letter-review-requested.subject.letter', {
          letterTitle: 'Let them choose freedom',
        }),
      );
    } finally {
      await t.close();
    }
  });

  it('tells a Ukrainian admin in Ukrainian and an English admin in English', async () => {
    const { t, organizer, visitor, recipient } = await organizerPlatform();
    try {
      const settings = t.platform.appDeps.settings;
      await settings.write({ ...(await settings.read()), requireReview: true }, t.clock.now());
      const english = await createAccount(t.platform, 'admin');
      const ukrainian = await createAccount(t.platform, 'admin');
      await t.platform.repositories.users.setLanguage(ukrainian.id, 'uk', t.clock.now());
      const id = await createDraft(visitor, [recipient]);
      await t.platform.letterAdmin.workflow.publish(organizer, id);
      await t.drainOutbox();

      const title = (await t.platform.repositories.letters.findById(id))!;
      const texts = await t.platform.repositories.letters.textsOfVersion(title.currentVersionId);
      const letterTitle = texts.find((x) => x.language === 'en')!.title;
      const [toUkrainian] = t.sink.to(ukrainian.email);
      expect(toUkrainian!.parsed.subject).toBe(
        translated('uk', 'emails.letter-review-requested.subject.letter', { letterTitle }),
      );
      expect(linksIn(toUkrainian!)).toContain(`${TEST_PUBLIC_URL}/admin/letters/${id}?lang=uk`);
      const [toEnglish] = t.sink.to(english.email);
      expect(toEnglish!.parsed.subject).toBe(
        tIn('en')('emails.letter-review-requested.subject.letter', { letterTitle }),
      );
    } finally {
      await t.close();
    }
  });
});
