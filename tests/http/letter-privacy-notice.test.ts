import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import { DeliveryRepository } from '../../server/deliveries/delivery-repository.js';
import { EscalationRepository } from '../../server/deliveries/escalation-repository.js';
import { formatsFor } from '../../server/lib/format.js';
import { createAccount, loginAs } from '../support/accounts.js';
import { createLetter } from '../support/factories.js';
import { byId, hrefsIn, innerHtml, mainOf, startTags, textOf } from '../support/html.js';
import { Visitor } from '../support/http.js';
import { sign, signAndConfirm } from '../support/signing.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

/** Every string in a page that has the shape of an e-mail address. */
function addressesIn(html: string): string[] {
  return [...html.matchAll(/[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g)].map((m) => m[0]);
}

/** The text of the element with this id. */
function textAt(html: string, id: string): string {
  const tag = byId(html, id);
  if (!tag) throw new Error(`no #${id} in the page`);
  return textOf(innerHtml(html, tag));
}

describe("a letter's privacy notice", () => {
  let t: TestPlatform;
  let admin: User;
  let slug: string;
  let letterId: number;
  const missing: { language: string; key: string }[] = [];
  /** The supporters' addresses, and the recipients': none may appear in a notice. */
  const supporters = ['ji-hoon.kim@example.net', 'olena.k@example.net', 'counted.only@example.net'];
  const recipientAddresses = ['minister@mofa.example.org', 'office@president.example.org'];

  beforeAll(async () => {
    t = await createTestPlatform({ onMissingKey: (language, key) => missing.push({ language, key }) });
    const now = t.clock.now();
    ({ id: letterId, slug } = await createLetter(t.platform.db, now, { title: 'Let them choose asylum' }));
    // The letter's real recipients, in the organizer's order, instead of the factory's one.
    const recipients = t.platform.repositories.recipients;
    const minister = await recipients.findOrCreate(
      {
        name: 'Cho Tae-yul',
        title: 'Minister of Foreign Affairs',
        organisation: 'Ministry of Foreign Affairs',
        country: 'KR',
        email: recipientAddresses[0]!,
        language: 'ko',
        salutation: 'Dear Minister',
      },
      now,
    );
    const president = await recipients.findOrCreate(
      {
        name: 'Office of the President of Ukraine',
        title: '',
        organisation: 'Office of the President of Ukraine',
        country: 'UA',
        email: recipientAddresses[1]!,
        language: 'uk',
        salutation: 'Dear Sir or Madam',
        names: {
          uk: { name: 'Офіс Президента України', title: '', organisation: 'Офіс Президента України' },
        },
      },
      now,
    );
    await t.platform.repositories.letters.setRecipients(letterId, [minister, president]);
    // Supporters with each display choice, one asking for news (the organizers may read that address).
    await signAndConfirm(t, new Visitor(t.app), slug, {
      email: supporters[0]!,
      display: 'full',
      updates: 'yes',
    });
    await signAndConfirm(t, new Visitor(t.app), slug, {
      email: supporters[1]!,
      name: 'Olena Kovalenko',
      display: 'initials',
      organisation: 'Kyiv Human Rights Group',
    });
    await sign(new Visitor(t.app), slug, { email: supporters[2]!, name: 'Counted Only', display: 'hidden' });
    admin = await createAccount(t.platform, 'admin');
  });
  afterAll(async () => {
    await t?.close();
  });

  it("names the letter's real recipients, and says plainly that no data controller is named yet", async () => {
    const response = await new Visitor(t.app).get(`/letters/${slug}/privacy`);
    expect(response.status).toBe(200);
    const recipients = textAt(response.text, 'recipients');
    expect(recipients).toContain(
      'Cho Tae-yul, Minister of Foreign Affairs — Ministry of Foreign Affairs (South Korea)',
    );
    expect(recipients).toContain('Office of the President of Ukraine (Ukraine)');
    expect(recipients).not.toContain('Embassy of Testland');
    // A Ukrainian reader reads the name typed in Ukrainian (the letter page's "Addressed to" does).
    const ukrainian = textAt(
      (await new Visitor(t.app).get(`/letters/${slug}/privacy?lang=uk`)).text,
      'recipients',
    );
    expect(ukrainian).toContain('Офіс Президента України (Україна)');
    expect(ukrainian).not.toContain('Office of the President');
    expect(textAt(response.text, 'controller-missing')).toContain(
      'has not yet filled in who the data controller is',
    );
    expect(byId(response.text, 'controller')).toBeUndefined();
    expect(textOf(mainOf(response.text))).toContain('Let them choose asylum');
    // Each display choice, and what it shows.
    expect(textAt(response.text, 'display-initials')).toContain('never your organisation or title');
    expect(textAt(response.text, 'display-hidden')).toContain('you are only counted');
    // The commitment's salt, and where a receipt is checked.
    expect(textAt(response.text, 'commitment')).toContain(
      'the salt is deleted when your signature is erased',
    );
    expect(startTags(innerHtml(response.text, byId(response.text, 'commitment')!), 'a')[0]!.attrs.href).toBe(
      '/verify',
    );
    // The request limit's 15-minute window (longer than the signing limits' 5), and the 5 minutes to the pruning.
    expect(textOf(mainOf(response.text))).toContain(
      'keyed hashes of your address (alone, and with this letter) are kept for at most 20 minutes.',
    );
  });

  it('shows no e-mail address of any supporter or recipient, in any language', async () => {
    for (const lang of ['en', 'ko', 'uk']) {
      const html = (await new Visitor(t.app).get(`/letters/${slug}/privacy?lang=${lang}`)).text;
      // No controller is named yet: the page holds no address at all.
      expect(addressesIn(html), lang).toEqual([]);
      for (const address of [...supporters, ...recipientAddresses]) expect(html).not.toContain(address);
      // Nor a supporter's name: the notice lists no signatory.
      expect(html).not.toContain('Kim Ji-hoon');
      expect(html).not.toContain('Kovalenko');
    }
  });

  it('is cacheable as the other public pages, and rendered again when a setting of the letter changes', async () => {
    const visitor = new Visitor(t.app);
    const first = await visitor.get(`/letters/${slug}/privacy`);
    expect(first.headers['cache-control']).toBe('public, max-age=1, stale-while-revalidate=2');
    const etag = first.headers.etag!;
    expect(etag).toBeDefined();
    const again = await visitor.agent.get(`/letters/${slug}/privacy`).set('If-None-Match', etag);
    expect(again.status).toBe(304);
    const date = formatsFor('en').date;
    expect(textAt(first.text, 'retention')).toBe(
      `This letter is set to close on ${date(new Date('2026-12-23T10:00:00Z'))}. Your name, e-mail address and other details are erased automatically 6 months after it closes: from ${date(new Date('2027-06-23T10:00:00Z'))}, if it closes as planned.`,
    );
    expect(textAt(first.text, 'delivery-mode')).toBe('It is sent when the letter closes.');
    expect(textAt(first.text, 'embed')).toContain('may show the signing form on websites of their own');
    expect(byId(first.text, 'listeners')).toBeUndefined();

    // The organizer's choices: no closing date, a delivery date, two sites for the embed, a webhook.
    const now = t.clock.now();
    await t.platform.db.updateTable('letters').set({ closes_at: null }).where('id', '=', letterId).execute();
    await new DeliveryRepository(t.platform.db).saveSettings(
      letterId,
      { mode: 'scheduled', milestoneEvery: null, deliverAt: new Date('2027-01-15T09:00:00Z'), replyTo: '' },
      now,
    );
    await t.platform.repositories.letters.setEmbedOrigins(
      letterId,
      ['https://campaign.example.org', 'https://news.example.net'],
      now,
    );
    await t.platform.appDeps.webhooks.register(admin, letterId, {
      url: 'https://93.184.216.34/hooks/receiver',
      events: ['signature.confirmed'],
    });

    const changed = await visitor.agent.get(`/letters/${slug}/privacy`).set('If-None-Match', etag);
    expect(changed.status).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
    expect(textAt(changed.text, 'retention')).toBe(
      'This letter has no closing date: your details are kept while it is open, and erased automatically 6 months after it closes.',
    );
    expect(textAt(changed.text, 'delivery-mode')).toBe(
      `It is sent on ${date(new Date('2027-01-15T09:00:00Z'))}.`,
    );
    expect(textAt(changed.text, 'embed')).toContain(
      'on these websites only: https://campaign.example.org, https://news.example.net.',
    );
    expect(textAt(changed.text, 'listeners')).toContain('(93.184.216.34)');
  });

  it('says when the letter escalates to the next tier, and the tier of each recipient', async () => {
    const visitor = new Visitor(t.app);
    const before = await visitor.get(`/letters/${slug}/privacy`);
    expect(byId(before.text, 'escalation')).toBeUndefined();
    expect(textAt(before.text, 'recipients')).not.toContain('Head of state');
    const president = await t.platform.db
      .selectFrom('recipients')
      .select('id')
      .where('email', '=', recipientAddresses[1]!)
      .executeTakeFirstOrThrow();
    await t.platform.repositories.letters.setTiers(letterId, new Map([[president.id, 3]]));
    await new EscalationRepository(t.platform.db).saveSchedule(letterId, 14, admin.id, t.clock.now());
    const after = await visitor.agent
      .get(`/letters/${slug}/privacy`)
      .set('If-None-Match', before.headers.etag!);
    expect(after.status).toBe(200);
    expect(textAt(after.text, 'escalation')).toContain('if none of them replies in person within 14 days');
    expect(textAt(after.text, 'recipients')).toContain(
      'Office of the President of Ukraine (Ukraine) 3 · Head of state',
    );
    expect(textAt(after.text, 'recipients')).toContain('(South Korea) 1 · Embassy');
  });

  it('names the data controller an admin saves, with how to reach them, at once', async () => {
    const visitor = new Visitor(t.app);
    const before = await visitor.get(`/letters/${slug}/privacy`);
    await t.platform.appDeps.settingsService.change(admin, {
      controllerName: 'Undersigned Foundation',
      controllerAddress: '12 Example Street\nSeoul 04524\nRepublic of Korea',
      controllerEmail: 'privacy@undersigned.example.org',
      controllerDpo: 'Min-ji Park, dpo@undersigned.example.org',
      controllerAuthority: 'Personal Information Protection Commission',
    });
    const after = await visitor.agent
      .get(`/letters/${slug}/privacy`)
      .set('If-None-Match', before.headers.etag!);
    expect(after.status).toBe(200);
    expect(byId(after.text, 'controller-missing')).toBeUndefined();
    const controller = innerHtml(after.text, byId(after.text, 'controller')!);
    expect(textOf(controller)).toContain('Undersigned Foundation');
    expect(controller).toContain('12 Example Street<br>Seoul 04524<br>Republic of Korea');
    expect(controller).toContain('href="mailto:privacy@undersigned.example.org"');
    expect(textOf(controller)).toContain('Personal Information Protection Commission');
    expect(textOf(mainOf(after.text))).toContain(
      'write to the data controller at privacy@undersigned.example.org',
    );
    // The only addresses on the page are the controller's own.
    expect(new Set(addressesIn(after.text))).toEqual(
      new Set(['privacy@undersigned.example.org', 'dpo@undersigned.example.org']),
    );
  });

  it('reads in English, Korean and Ukrainian, every text found in its language', async () => {
    missing.length = 0;
    const headings = {
      en: 'Privacy notice for this letter',
      ko: '이 편지의 개인정보 처리 방침',
      uk: 'Повідомлення про конфіденційність цього листа',
    };
    for (const [lang, heading] of Object.entries(headings)) {
      const response = await new Visitor(t.app).get(`/letters/${slug}/privacy?lang=${lang}`);
      expect(response.status).toBe(200);
      expect(response.text).toContain(`<html lang="${lang}"`);
      expect(textOf(mainOf(response.text))).toContain(heading);
    }
    expect(missing).toEqual([]);
  });

  it('is linked from the signing form, beside the consent, on the letter page and in its embed', async () => {
    const page = await new Visitor(t.app).get(`/letters/${slug}`);
    expect(byId(page.text, 'privacy-notice-link')!.attrs.href).toBe(`/letters/${slug}/privacy`);
    expect(byId(page.text, 'letter-privacy-link')!.attrs.href).toBe(`/letters/${slug}/privacy`);
    // The form's link comes right after the consent checkbox.
    const form = page.text.slice(page.text.indexOf('id="field-privacy"'));
    expect(form.indexOf('id="privacy-notice-link"')).toBeLessThan(form.indexOf('id="field-updates"'));
    const korean = await new Visitor(t.app).get(`/letters/${slug}?lang=ko`);
    expect(byId(korean.text, 'privacy-notice-link')!.attrs.href).toBe(`/letters/${slug}/privacy?lang=ko`);
    const embed = await new Visitor(t.app).get(`/letters/${slug}/embed`);
    expect(byId(embed.text, 'privacy-notice-link')!.attrs.href).toBe(`/letters/${slug}/privacy`);
    // The organizer sees from the editor what supporters are told.
    const editor = await (await loginAs(t.app, admin)).get(`/admin/letters/${letterId}`);
    expect(byId(editor.text, 'editor-privacy-link')!.attrs.href).toBe(`/letters/${slug}/privacy`);
    const general = await new Visitor(t.app).get('/privacy');
    expect(textOf(mainOf(general.text))).toContain('Each letter also has a privacy notice of its own');
  });

  it('is not contradicted by the form: the address and the news choice say organizers get it with news', async () => {
    // The notice says organizers receive the address of a supporter who asks for news (and the organizer
    // API and supporters page give it): a hint saying "never given" to anyone but the recipients misled.
    const words = { en: "this letter's organizers", ko: '주최자', uk: 'організатори' };
    for (const [language, organizers] of Object.entries(words)) {
      const page = await new Visitor(t.app).get(`/letters/${slug}?lang=${language}`);
      expect(textAt(page.text, 'field-email-hint')).toContain(organizers);
      const news = page.text.slice(page.text.indexOf('<label for="field-updates">'));
      expect(textOf(news.slice(0, news.indexOf('</label>')))).toContain(
        language === 'en' ? 'Its organizers' : organizers,
      );
      const notice = await new Visitor(t.app).get(`/letters/${slug}/privacy?lang=${language}`);
      expect(textOf(mainOf(notice.text))).toContain(
        language === 'en' ? 'The organizers of this letter' : organizers,
      );
    }
  });

  it("says so when a closed letter's supporters' details are due or gone", async () => {
    const { id, slug: closed } = await createLetter(t.platform.db, t.clock.now(), { status: 'closed' });
    const closedAt = new Date('2026-11-01T08:00:00Z');
    await t.platform.db
      .updateTable('letters')
      .set({ closed_at: closedAt.toISOString() })
      .where('id', '=', id)
      .execute();
    const date = formatsFor('en').date;
    const page = await new Visitor(t.app).get(`/letters/${closed}/privacy`);
    expect(textAt(page.text, 'retention')).toBe(
      `This letter closed on ${date(closedAt)}. Your name, e-mail address and other details are erased automatically from ${date(new Date('2027-05-01T08:00:00Z'))}, 6 months later.`,
    );
    await t.platform.db
      .updateTable('letters')
      .set({ closed_at: '2026-01-10T08:00:00.000Z' })
      .where('id', '=', id)
      .execute();
    const gone = await new Visitor(t.app).get(`/letters/${closed}/privacy`);
    expect(textAt(gone.text, 'retention')).toContain('were erased from');
  });

  it('names the letter by its title in the text asked for (?text=), and links back to that text', async () => {
    const body = 'We ask you to protect them.';
    const { slug: bilingual } = await createLetter(t.platform.db, t.clock.now(), {
      texts: [
        { language: 'en', title: 'Protect them', summary: 'A test letter.', body },
        { language: 'ko', title: '그들을 보호해 주십시오', summary: '시험 편지.', body },
      ],
    });
    const page = await new Visitor(t.app).get(`/letters/${bilingual}/privacy?text=ko`);
    expect(page.status).toBe(200);
    expect(textOf(mainOf(page.text))).toContain('the settings of the letter “그들을 보호해 주십시오”');
    expect(hrefsIn(mainOf(page.text))).toContain(`/letters/${bilingual}?text=ko`);
  });

  it('is a 404 for a draft, an unknown letter and a hostile slug, never a 500', async () => {
    const { slug: draft } = await createLetter(t.platform.db, t.clock.now(), { status: 'draft' });
    for (const path of [
      `/letters/${draft}/privacy`,
      '/letters/no-such-letter/privacy',
      '/letters/%00/privacy',
      `/letters/${'x'.repeat(5000)}/privacy`,
    ])
      expect((await new Visitor(t.app).get(path)).status, path).toBe(404);
    expect((await new Visitor(t.app).get('/letters/%E0%A4%A/privacy')).status).toBe(400);
  });
});
