import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLetter, SIMPLE_LETTER_BODY } from '../support/factories.js';
import {
  byClass,
  byId,
  innerHtml,
  mainOf,
  startTags,
  textById,
  textOf,
  textsByClass,
  type StartTag,
} from '../support/html.js';
import { RecipientRepository } from '../../server/recipients/recipient-repository.js';
import { Visitor } from '../support/http.js';
import { signAndConfirm } from '../support/signing.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

const DAY = 86_400_000;

/** The home page's cards, each as its visible text and markup. */
function cardsIn(html: string, sectionHeadingId: string): { text: string; html: string }[] {
  const section = startTags(html, 'section').find((s) => s.attrs['aria-labelledby'] === sectionHeadingId);
  if (!section) return [];
  const inner = innerHtml(html, section);
  return byClass(inner, 'card').map((card) => {
    const markup = innerHtml(inner, card);
    return { text: textOf(markup), html: markup };
  });
}

describe('the public pages', () => {
  let t: TestPlatform;
  let visitor: Visitor;
  beforeEach(async () => {
    t = await createTestPlatform();
    visitor = new Visitor(t.app);
  });
  afterEach(async () => {
    await t.close();
  });

  it('lists the open letters on the home page with title, summary, recipients, count, progress and deadline', async () => {
    const now = t.clock.now();
    const first = await createLetter(t.platform.db, now, {
      goal: 100,
      closesAt: new Date(now.getTime() + 30 * DAY),
      texts: [
        {
          language: 'en',
          title: 'Let the soldiers choose asylum',
          summary: 'No forced repatriation.',
          body: SIMPLE_LETTER_BODY,
        },
      ],
    });
    await createLetter(t.platform.db, now, {
      goal: null,
      closesAt: null,
      texts: [
        {
          language: 'en',
          title: 'Open access for monitors',
          summary: 'Let the ICRC visit.',
          body: SIMPLE_LETTER_BODY,
        },
      ],
    });
    await signAndConfirm(t, new Visitor(t.app), first.slug);

    const home = await visitor.get('/');
    expect(home.status).toBe(200);
    const cards = cardsIn(home.text, 'open-heading');
    expect(cards).toHaveLength(2);
    const withGoal = cards.find((c) => c.text.includes('Let the soldiers choose asylum'))!;
    const withoutGoal = cards.find((c) => c.text.includes('Open access for monitors'))!;

    expect(withGoal.text).toContain('Let the soldiers choose asylum');
    expect(startTags(withGoal.html, 'a').map((a) => a.attrs.href)).toContain(`/letters/${first.slug}`);
    expect(withGoal.text).toContain('No forced repatriation.');
    expect(withGoal.text).toContain('To: Embassy of Testland');
    expect(textsByClass(withGoal.html, 'stats__count')).toEqual(['1 signature']);
    expect(withGoal.text).toContain('Goal: 100 · 1% of the goal');
    expect(startTags(withGoal.html, 'progress').map((p) => [p.attrs.max, p.attrs.value])).toEqual([
      ['100', '1'],
    ]);
    expect(withGoal.text).toContain('Open for signatures until December 23, 2026 · 29 days left');
    expect(startTags(withGoal.html, 'time')[0]!.attrs.datetime).toBe('2026-12-23T10:00:00.000Z');

    expect(withoutGoal.text).toContain('Open access for monitors');
    expect(withoutGoal.text).toContain('Let the ICRC visit.');
    expect(textsByClass(withoutGoal.html, 'stats__count')).toEqual(['0 signatures']);
    expect(startTags(withoutGoal.html, 'progress')).toEqual([]);
  });

  it('lists closed letters apart from the open ones, and drafts nowhere', async () => {
    const now = t.clock.now();
    await createLetter(t.platform.db, now, { title: 'Still open' });
    await createLetter(t.platform.db, now, {
      title: 'Already closed',
      status: 'closed',
      closesAt: new Date(now.getTime() - DAY),
    });
    await createLetter(t.platform.db, now, { title: 'Secret draft', status: 'draft' });
    const home = (await visitor.get('/')).text;
    expect(cardsIn(home, 'open-heading').map((c) => c.text)).toEqual([expect.stringContaining('Still open')]);
    const closed = cardsIn(home, 'closed-heading');
    expect(closed.map((c) => c.text)).toEqual([expect.stringContaining('Already closed')]);
    expect(closed[0]!.text).toContain('Closed on November 22, 2026');
    expect(home).not.toContain('Secret draft');
  });

  it('shows the empty state on the home page when there are no letters', async () => {
    const home = await visitor.get('/');
    expect(home.status).toBe(200);
    expect(textsByClass(home.text, 'empty')).toEqual([
      'There are no open letters right now. Please come back soon.',
    ]);
    expect(byClass(home.text, 'card')).toEqual([]);
  });

  it('caps the progress at 100% when a letter passes its goal', async () => {
    const { slug } = await createLetter(t.platform.db, t.clock.now(), { goal: 1 });
    await signAndConfirm(t, new Visitor(t.app), slug, { email: 'a@example.org' });
    await signAndConfirm(t, new Visitor(t.app), slug, { email: 'b@example.org', name: 'Park Min-seo' });
    const page = (await visitor.get(`/letters/${slug}`)).text;
    expect(textsByClass(page, 'stats__count')).toEqual(['2 signatures']);
    expect(textsByClass(page, 'stats__goal')).toEqual(['Goal: 1 · 100% of the goal']);
  });

  it('shows the letter, its recipients, count, progress, deadline and recent signatories', async () => {
    const { slug } = await createLetter(t.platform.db, t.clock.now());
    await signAndConfirm(t, new Visitor(t.app), slug, { display: 'full' });
    const page = await visitor.get(`/letters/${slug}`);
    expect(page.status).toBe(200);
    const main = mainOf(page.text);
    const text = textOf(main);
    expect(text).toContain('Started by Test coalition');
    expect(textOf(innerHtml(main, byClass(main, 'recipients')[0]!))).toBe(
      'Addressed to Embassy of Testland, Ambassador',
    );
    expect(textsByClass(main, 'stats__count')).toEqual(['1 signature']);
    expect(startTags(main, 'progress').map((p) => [p.attrs.max, p.attrs.value])).toEqual([['100', '1']]);
    expect(text).toContain('Open for signatures until December 23, 2026');
    // The letter as it will be sent, addressed to its first recipient.
    const letterText = textOf(innerHtml(main, byClass(main, 'letter__text')[0]!));
    expect(letterText).toContain('Dear Ambassador,');
    expect(letterText).toContain('We ask you to protect the captured soldiers.');
    expect(letterText).toContain('1 people signed: Kim Ji-hoon, South Korea');
    expect(textById(main, 'recent-heading')).toBe('Recent signatories');
    expect(textsByClass(main, 'signatory__name')).toEqual(['Kim Ji-hoon']);
  });

  it('lists a full name with the title and organisation given, as the privacy notice says; initials with neither', async () => {
    const { slug } = await createLetter(t.platform.db, t.clock.now());
    await signAndConfirm(t, new Visitor(t.app), slug, {
      email: 'alice@example.org',
      name: 'Alice Example',
      title: 'Coordinator',
      organisation: 'Friends of Freedom',
      country: 'GB',
    });
    await signAndConfirm(t, new Visitor(t.app), slug, {
      email: 'olena@example.org',
      name: 'Olena Petrenko',
      title: 'Nurse',
      organisation: 'Kyiv Relief',
      country: 'UA',
      display: 'initials',
    });
    const main = mainOf((await visitor.get(`/letters/${slug}`)).text);
    const list = textOf(innerHtml(main, byClass(main, 'signatories')[0]!));
    expect(list).toContain('Alice Example, Coordinator, Friends of Freedom (United Kingdom)');
    expect(list).toContain('O. P. (Ukraine)');
    expect(list).not.toContain('Nurse');
    expect(list).not.toContain('Kyiv Relief');
  });

  it('names every recipient with title and organisation, without repeating an organisation that is the name', async () => {
    const now = t.clock.now();
    const { id, slug } = await createLetter(t.platform.db, now);
    const recipientId = await new RecipientRepository(t.platform.db).findOrCreate(
      {
        name: 'Volker Türk',
        title: 'High Commissioner',
        organisation: 'Office of the UN High Commissioner for Human Rights',
        country: null,
        email: 'hc@ohchr.example.org',
        language: 'en',
        salutation: 'Dear High Commissioner',
      },
      now,
    );
    await t.platform.db
      .insertInto('letter_recipients')
      .values({ letter_id: id, recipient_id: recipientId, position: 1 })
      .execute();

    const html = (await visitor.get(`/letters/${slug}`)).text;
    const list = innerHtml(html, byClass(html, 'recipients')[0]!);
    expect(startTags(list, 'li').map((li) => textOf(innerHtml(list, li)))).toEqual([
      'Embassy of Testland, Ambassador',
      'Volker Türk, High Commissioner — Office of the UN High Commissioner for Human Rights',
    ]);
    expect(cardsIn((await visitor.get('/')).text, 'open-heading')[0]!.text).toContain(
      'To: Embassy of Testland; Volker Türk',
    );
  });

  it('offers the signing form with every field the supporter needs', async () => {
    const { slug } = await createLetter(t.platform.db, t.clock.now());
    const html = (await visitor.get(`/letters/${slug}`)).text;
    const form = startTags(html, 'form').find((f) => f.attrs.action === `/letters/${slug}/sign`)!;
    expect(form.attrs.method).toBe('post');
    const inside = innerHtml(html, form);
    const inputs = startTags(inside, 'input');
    const named = (name: string) => inputs.filter((i) => i.attrs.name === name);

    expect(named('name')[0]!.attrs).toMatchObject({ type: 'text', autocomplete: 'name', required: '' });
    expect(named('email')[0]!.attrs).toMatchObject({ type: 'email', autocomplete: 'email', required: '' });
    for (const optional of ['city', 'organisation', 'title']) {
      expect(named(optional), optional).toHaveLength(1);
      expect('required' in named(optional)[0]!.attrs, optional).toBe(false);
    }
    const select = startTags(inside, 'select').find((s) => s.attrs.name === 'country')!;
    const options = startTags(innerHtml(inside, select), 'option');
    expect(options[0]!.attrs.value).toBe('');
    expect(options.length).toBeGreaterThan(190);
    const korea = options.find((o) => o.attrs.value === 'KR')!;
    expect(textOf(innerHtml(innerHtml(inside, select), korea))).toBe('South Korea');
    expect(options.find((o) => o.attrs.value === 'KP')).toBeDefined();

    expect(named('display').map((r) => [r.attrs.type, r.attrs.value])).toEqual([
      ['radio', 'full'],
      ['radio', 'initials'],
      ['radio', 'hidden'],
    ]);
    expect(named('privacy')[0]!.attrs).toMatchObject({ type: 'checkbox', value: 'yes', required: '' });
    expect('checked' in named('privacy')[0]!.attrs).toBe(false);
    expect(named('updates')[0]!.attrs).toMatchObject({ type: 'checkbox', value: 'yes' });
    expect('checked' in named('updates')[0]!.attrs).toBe(false);
    expect('required' in named('updates')[0]!.attrs).toBe(false);
    // The letter's own privacy notice, made from its settings (pages/privacy-notice.ts).
    expect(startTags(inside, 'a').find((a) => a.attrs.href === `/letters/${slug}/privacy`)).toBeDefined();
    expect(startTags(inside, 'button').map((b) => textOf(innerHtml(inside, b)))).toEqual(['Sign the letter']);
  });

  it('has exactly one <h1>, a <main> landmark with a skip link, and a label for every field', async () => {
    const { slug } = await createLetter(t.platform.db, t.clock.now());
    const html = (await visitor.get(`/letters/${slug}`)).text;
    expect(startTags(html, 'html')[0]!.attrs.lang).toBe('en');
    expect(startTags(html, 'h1')).toHaveLength(1);
    expect(textOf(innerHtml(html, startTags(html, 'h1')[0]!))).toBe('Protect the captured soldiers');
    const mains = startTags(html, 'main');
    expect(mains).toHaveLength(1);
    expect(startTags(html, 'a').find((a) => a.attrs.href === `#${mains[0]!.attrs.id}`)).toBeDefined();

    const labelled = new Set(startTags(html, 'label').map((l) => l.attrs.for));
    const controls: StartTag[] = [
      ...startTags(html, 'input'),
      ...startTags(html, 'select'),
      ...startTags(html, 'textarea'),
    ].filter((c) => c.attrs.type !== 'hidden');
    expect(controls.length).toBeGreaterThanOrEqual(12);
    for (const control of controls) {
      expect(control.attrs.id, control.raw).toBeDefined();
      expect(labelled.has(control.attrs.id), `a <label for="${control.attrs.id}">`).toBe(true);
    }
    // The bots' field is out of reach for people and screen readers.
    const honeypot = byId(html, 'field-website')!;
    expect(honeypot.attrs.tabindex).toBe('-1');
    expect(
      startTags(html).find((tag) => (tag.attrs.class ?? '').includes('website-field'))!.attrs['aria-hidden'],
    ).toBe('true');
  });

  it('has one <h1> on every other public page', async () => {
    const { slug } = await createLetter(t.platform.db, t.clock.now());
    for (const path of [
      '/',
      '/privacy',
      `/letters/${slug}/check-your-inbox`,
      `/letters/${slug}/thank-you`,
      `/letters/${slug}/withdrawn`,
      '/nowhere',
    ]) {
      const html = (await visitor.get(path)).text;
      expect(startTags(html, 'h1'), path).toHaveLength(1);
      expect(startTags(html, 'main'), path).toHaveLength(1);
    }
  });

  it('names each page in its <title>, before the site name', async () => {
    const titleOf = async (path: string) =>
      /<title>([^<]*)<\/title>/.exec((await visitor.get(path)).text)?.[1];
    expect(await titleOf('/privacy')).toBe('Privacy notice · Undersigned');
    expect(await titleOf('/login')).toBe('Log in · Undersigned');
    expect(await titleOf('/nowhere')).toBe('Page not found · Undersigned');
    const { slug } = await createLetter(t.platform.db, t.clock.now());
    for (const path of [
      `/letters/${slug}`,
      `/letters/${slug}/check-your-inbox`,
      `/letters/${slug}/thank-you`,
      `/letters/${slug}/withdrawn`,
      '/privacy/access',
      '/account/reset',
    ]) {
      const title = await titleOf(path);
      expect(title, path).toMatch(/^\S.* · Undersigned$/);
      // Not a translation key shown for want of its text.
      expect(title, path).not.toMatch(/^[\w-]+(\.[\w-]+)+ · /);
    }
  });

  it('serves the privacy notice, saying how long data is kept', async () => {
    const page = await visitor.get('/privacy');
    expect(page.status).toBe(200);
    const text = textOf(mainOf(page.text));
    expect(text).toContain('Privacy notice');
    expect(text).toContain('How long');
    expect(text).toContain('for at most 6 months after it closes');
    expect(text).toContain('Your e-mail address is never shown in public');
    // Every public page links to it.
    expect(
      startTags((await visitor.get('/')).text, 'a').filter((a) => a.attrs.href === '/privacy').length,
    ).toBeGreaterThan(0);
  });

  it('says "1 month" in the privacy notice when data is kept for one month', async () => {
    const oneMonth = await createTestPlatform({ env: { RETENTION_MONTHS: '1' } });
    try {
      const text = textOf(mainOf((await new Visitor(oneMonth.app).get('/privacy')).text));
      expect(text).toContain('for at most 1 month after it closes');
    } finally {
      await oneMonth.close();
    }
  });

  it('labels the progress toward a goal of one signature in the singular', async () => {
    const { slug } = await createLetter(t.platform.db, t.clock.now(), { goal: 1 });
    const [progress] = startTags((await visitor.get(`/letters/${slug}`)).text, 'progress');
    expect(progress?.attrs['aria-label']).toBe('Progress toward the goal of 1 signature');
  });

  it('answers /healthz with JSON', async () => {
    const response = await request(t.app).get('/healthz');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.body).toEqual({ status: 'ok' });
  });

  it('answers an unknown page with the 404 page, or JSON for clients that ask for it', async () => {
    const html = await visitor.get('/no/such/page');
    expect(html.status).toBe(404);
    expect(textOf(mainOf(html.text))).toContain('Page not found');
    const json = await request(t.app).get('/no/such/page').set('Accept', 'application/json');
    expect(json.status).toBe(404);
    expect(json.body).toEqual({
      error: {
        status: 404,
        code: 'not_found',
        message: expect.stringContaining('We could not find that page'),
      },
    });
  });

  it('serves the style sheet from /assets', async () => {
    const css = await request(t.app).get('/assets/styles.css');
    expect(css.status).toBe(200);
    expect(css.headers['content-type']).toMatch(/^text\/css/);
    expect(startTags((await visitor.get('/')).text, 'link').map((l) => l.attrs.href)).toContain(
      '/assets/styles.css',
    );
  });
});
