import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import { COUNT_EPOCH_MS } from '../../server/pages/page-cache.js';
import { createAccount, loginAs } from '../support/accounts.js';
import { createLetter, signingForm, SIMPLE_LETTER_BODY } from '../support/factories.js';
import { byClass, byId, innerHtml, startTags, textById, textOf } from '../support/html.js';
import { Visitor } from '../support/http.js';
import { lastMailTo, signatureLinks } from '../support/signing.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

/** The frame-ancestors directive of a response's CSP. */
function frameAncestors(response: { headers: Record<string, string | undefined> }): string | undefined {
  return /frame-ancestors ([^;]*)/.exec(response.headers['content-security-policy'] ?? '')?.[1];
}

describe('the embed and who may frame it', () => {
  let t: TestPlatform;
  let admin: Visitor;
  let organizer: User;
  let letter: { id: number; slug: string };
  const reader = () => new Visitor(t.app);
  const storedOrigins = async () => (await t.platform.repositories.letters.findById(letter.id))!.embedOrigins;
  const auditCount = async () =>
    (
      await t.platform.db
        .selectFrom('audit_events')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('action', '=', 'letter-embed-changed')
        .executeTakeFirstOrThrow()
    ).n;

  beforeAll(async () => {
    t = await createTestPlatform();
    letter = await createLetter(t.platform.db, t.clock.now(), { goal: 500, title: 'Protect "them" <now>' });
    admin = await loginAs(t.app, await createAccount(t.platform, 'admin'));
    organizer = await createAccount(t.platform, 'organizer');
  });
  afterAll(async () => {
    await t.close();
  });

  it('lets any site frame the embed by default, and no other page', async () => {
    const embed = await reader().get(`/letters/${letter.slug}/embed`);
    expect(embed.status).toBe(200);
    expect(frameAncestors(embed)).toBe('*');
    expect(embed.headers['x-frame-options']).toBeUndefined();
    // A public page sets no cookie: nothing third-party rides in the frame.
    expect(embed.headers['set-cookie']).toBeUndefined();
    // Everything in a landmark, the credit line in the frame's footer (screen readers move by landmarks).
    expect(embed.text).toMatch(
      /<body class="embed">\s*<main id="main">[\s\S]*<\/main>\s*<footer><p class="embed__by">/,
    );
    // The count, the goal and the one signing form, posting to the letter's route with embed=1.
    expect(textById(embed.text, 'sign-heading')).toBe('Sign this letter');
    expect(embed.text).toContain('0 signatures');
    expect(embed.text).toContain('Goal: 500');
    const form = startTags(embed.text, 'form')[0]!;
    expect(form.attrs.action).toBe(`/letters/${letter.slug}/sign?embed=1`);
    expect(startTags(embed.text, 'input').find((i) => i.attrs.name === 'embed')?.attrs.value).toBe('1');
    expect(byId(embed.text, 'field-email')).toBeDefined();
    // Its layout has no site header or navigation.
    expect(embed.text).not.toContain('class="site-header"');

    for (const path of [
      `/letters/${letter.slug}`,
      '/',
      '/privacy',
      `/letters/${letter.slug}/check-your-inbox`,
    ]) {
      const page = await reader().get(path);
      expect(frameAncestors(page), path).toBe("'self'");
      expect(page.headers['x-frame-options'], path).toBe('SAMEORIGIN');
    }
  });

  it('signs from the embed with the same confirmation, and answers inside the frame', async () => {
    const supporter = reader();
    const email = 'embed-signer@example.org';
    const signed = await supporter.submit(`/letters/${letter.slug}/embed`, `/letters/${letter.slug}/sign`, {
      ...signingForm({ email, name: 'Lee Min-ji' }),
      embed: '1',
    });
    expect(signed.status).toBe(303);
    expect(signed.headers.location).toBe(`/letters/${letter.slug}/embed/check-your-inbox`);
    const inbox = await supporter.get(signed.headers.location!);
    expect(inbox.status).toBe(200);
    expect(frameAncestors(inbox)).toBe('*');
    expect(inbox.text).toContain('Check your inbox');
    expect(inbox.text).not.toContain('class="site-header"');
    await t.drainOutbox();
    expect(signatureLinks(lastMailTo(t, email)).confirm).toContain('/signatures/confirm/');

    // Refused input comes back in the embed, framable, with the input kept and the error linked.
    const refused = await supporter.submit(`/letters/${letter.slug}/embed`, `/letters/${letter.slug}/sign`, {
      ...signingForm({ email: 'not an address', name: 'Lee Min-ji' }),
      embed: '1',
    });
    expect(refused.status).toBe(422);
    expect(frameAncestors(refused)).toBe('*');
    expect(refused.text).not.toContain('class="site-header"');
    expect(byId(refused.text, 'field-email')?.attrs['aria-invalid']).toBe('true');
    expect(byId(refused.text, 'field-name')?.attrs.value).toBe('Lee Min-ji');

    // The embed's form marks its address too: a body refused before it is read (too large, here) or the
    // request limit's 429 answers an error page the partner's frame can still show, not a blank frame.
    const action = `/letters/${letter.slug}/sign?embed=1`;
    /** A same-site form post of `fields` (without a token: the body is refused before one is read). */
    const postRaw = (as: Visitor, path: string, fields: Record<string, string>) =>
      as.agent
        .post(path)
        .type('form')
        .set('Accept', 'text/html')
        .set('Sec-Fetch-Site', 'same-origin')
        .send(fields);
    const tooLong = { ...signingForm({ name: 'L'.repeat(40_000) }), embed: '1' };
    const tooLarge = await postRaw(supporter, action, tooLong);
    expect(tooLarge.status).toBe(413);
    expect(frameAncestors(tooLarge)).toBe('*');
    expect(tooLarge.headers['x-frame-options']).toBeUndefined();
    // Only the signing form's errors: another form's with ?embed=1 stays unframeable.
    const elsewhere = await postRaw(supporter, '/privacy/access?embed=1', { email: 'x'.repeat(40_000) });
    expect(elsewhere.status).toBe(413);
    expect(frameAncestors(elsewhere)).toBe("'self'");
    // The signing route reads no session: even a logged-in admin's error page there has no account menu
    // or logout form to be pressed in someone else's frame.
    const loggedIn = await postRaw(admin, action, tooLong);
    expect(loggedIn.status).toBe(413);
    expect(loggedIn.text).not.toContain('logout');
    expect(startTags(loggedIn.text, 'form')).toHaveLength(0);
    // Reopened, the address leads back to the embed.
    expect((await supporter.get(action)).headers.location).toBe(`/letters/${letter.slug}/embed`);

    // The same post without embed=1 is the letter page's, unframable, as before.
    const plain = await supporter.submit(
      `/letters/${letter.slug}`,
      `/letters/${letter.slug}/sign`,
      signingForm({ email: 'x' }),
    );
    expect(plain.status).toBe(422);
    expect(frameAncestors(plain)).toBe("'self'");
  });

  it('shows the organizer the snippet, and only to those who may edit the letter', async () => {
    const page = await admin.get(`/admin/letters/${letter.id}/embed`);
    expect(page.status).toBe(200);
    const snippet = textById(page.text, 'embed-snippet');
    const [frame, sizer] = snippet.split(/\s(?=<script>)/);
    expect(frame).toBe(
      `<iframe src="http://localhost:3000/letters/${letter.slug}/embed" title="Protect &quot;them&quot; &lt;now&gt;" lang="en" loading="lazy" style="width:100%;max-width:32rem;height:110rem;border:0"></iframe>`,
    );
    // The height comes from the embed, taken only from the platform's own origin and for the frame that
    // sent it; a new page in the frame brings its top into view (tests/browser/embed.test.ts).
    expect(sizer).toMatch(
      /^<script>\(function\(\)\{.*addEventListener\("message",.*e\.origin!=="http:\/\/localhost:3000".*f\.contentWindow!==e\.source.*scrollIntoView\(\).*<\/script>$/,
    );
    // Only a number and a flag are read from the message: nothing of it is put in the site's page.
    expect(sizer).not.toMatch(/innerHTML|insertAdjacentHTML|document\.write|eval/);
    const other = await loginAs(t.app, organizer);
    expect((await other.get(`/admin/letters/${letter.id}/embed`)).status).toBe(403);
    const post = await other.submit(`/admin/letters`, `/admin/letters/${letter.id}/embed`, {
      origins: 'https://evil.example',
    });
    expect(post.status).toBe(403);
    expect(await storedOrigins()).toEqual([]);
  });

  it('gives a snippet whose frame always shows one language, when the organizer chooses it', async () => {
    const page = await admin.get(`/admin/letters/${letter.id}/embed?frame=ko`);
    expect(page.status).toBe(200);
    expect(textById(page.text, 'embed-snippet')).toContain(
      `<iframe src="http://localhost:3000/letters/${letter.slug}/embed?lang=ko"`,
    );
    const chosen = startTags(page.text, 'option').find((o) => o.attrs.selected !== undefined);
    expect(chosen?.attrs.value).toBe('ko');
    // By default, and for a language the interface does not have, each visitor's own.
    for (const query of ['', '?frame=xx'])
      expect(
        textById((await admin.get(`/admin/letters/${letter.id}/embed${query}`)).text, 'embed-snippet'),
      ).toContain(`<iframe src="http://localhost:3000/letters/${letter.slug}/embed"`);
  });

  it("names the letter in the organizer's language on the page, the frame by its primary text or the frame's language", async () => {
    const translated = await createLetter(t.platform.db, t.clock.now(), {
      texts: [
        { language: 'en', title: 'Let them choose', summary: 'A test letter.', body: SIMPLE_LETTER_BODY },
        { language: 'ko', title: '선택하게 하십시오', summary: '시험 편지.', body: SIMPLE_LETTER_BODY },
      ],
    });
    const korean = await loginAs(t.app, await createAccount(t.platform, 'admin'));
    const page = await korean.get(`/admin/letters/${translated.id}/embed?lang=ko`);
    expect(page.status).toBe(200);
    expect(/<title>([^<]*)<\/title>/.exec(page.text)?.[1]).toContain('선택하게 하십시오');
    const [lede] = byClass(page.text, 'lede');
    expect(textOf(innerHtml(page.text, lede!))).toBe('선택하게 하십시오');
    expect(lede!.attrs.lang).toBeUndefined();
    // One snippet for every reader of the other site: the frame is named by the primary title.
    expect(textById(page.text, 'embed-snippet')).toContain('title="Let them choose" lang="en"');
    // A frame that always shows Korean is named in Korean; one in a language without a text, by the primary.
    const inKorean = await korean.get(`/admin/letters/${translated.id}/embed?lang=ko&frame=ko`);
    expect(textById(inKorean.text, 'embed-snippet')).toContain('title="선택하게 하십시오" lang="ko"');
    const inUkrainian = await korean.get(`/admin/letters/${translated.id}/embed?lang=ko&frame=uk`);
    expect(textById(inUkrainian.text, 'embed-snippet')).toContain('title="Let them choose" lang="en"');
  });

  it('refuses a list that is not https origins, saying which entry, and saves nothing', async () => {
    const cases: [string, string][] = [
      ['http://campaign.example.org', '“http://campaign.example.org” does not start with https://'],
      ['https://campaign.example.org/petition', 'is not the address of a site'],
      ['https://*.example.org', 'patterns with * are not accepted'],
      ['javascript:alert(1)', 'does not start with https://'],
      ["https://a.example'; script-src *", 'is not the address of a site'],
      ['not a site', '“not” is not a web address'],
      ['https://user:pw@example.org', 'is not the address of a site'],
      [
        Array.from({ length: 21 }, (_, i) => `https://s${i}.example.org`).join('\n'),
        'List at most 20 sites.',
      ],
      ['https://example.org '.repeat(300), 'The list is too long'],
    ];
    for (const [origins, message] of cases) {
      const response = await admin.submit(
        `/admin/letters/${letter.id}/embed`,
        `/admin/letters/${letter.id}/embed`,
        {
          origins,
        },
      );
      expect(response.status, origins).toBe(422);
      expect(textById(response.text, 'field-origins-error'), origins).toContain(message);
      expect(byId(response.text, 'field-origins')?.attrs['aria-invalid']).toBe('true');
      // Kept as typed (the reader collapses white space).
      expect(textById(response.text, 'field-origins')).toBe(
        origins.slice(0, 4000).replace(/\s+/g, ' ').trim(),
      );
    }
    expect(await storedOrigins()).toEqual([]);
    expect(await auditCount()).toBe(0);
  });

  it("frames the embed only from the organizer's sites once listed, from the page cache too", async () => {
    const saved = await admin.submit(
      `/admin/letters/${letter.id}/embed`,
      `/admin/letters/${letter.id}/embed`,
      {
        origins:
          'https://Campaign.Example.org/\n\nhttps://partner.example.net:8443, https://campaign.example.org',
      },
    );
    expect(saved.status).toBe(303);
    expect(await storedOrigins()).toEqual([
      'https://campaign.example.org',
      'https://partner.example.net:8443',
    ]);
    expect(await auditCount()).toBe(1);
    expect(saved.headers.location).toBe(`/admin/letters/${letter.id}/embed?done=saved`);
    expect((await admin.get(saved.headers.location!)).text).toContain('The sites are saved.');

    t.clock.advance(COUNT_EPOCH_MS);
    const expected = "'self' https://campaign.example.org https://partner.example.net:8443";
    const first = await reader().get(`/letters/${letter.slug}/embed`);
    expect(frameAncestors(first)).toBe(expected);
    // The second is the copy kept in the page cache (same ETag), with the letter's policy still on it.
    const kept = t.platform.appDeps.pageCache.size().entries;
    const second = await reader().get(`/letters/${letter.slug}/embed`);
    expect(t.platform.appDeps.pageCache.size().entries).toBe(kept);
    expect(second.headers.etag).toBe(first.headers.etag);
    expect(frameAncestors(second)).toBe(expected);
    expect(second.headers['x-frame-options']).toBeUndefined();
    const conditional = await reader()
      .get(`/letters/${letter.slug}/embed`)
      .set('If-None-Match', first.headers.etag!);
    expect(conditional.status).toBe(304);
    expect(frameAncestors(conditional)).toBe(expected);
    // The letter page itself still frames nowhere else.
    expect(frameAncestors(await reader().get(`/letters/${letter.slug}`))).toBe("'self'");

    // Emptying the list lets any site again.
    await admin.submit(`/admin/letters/${letter.id}/embed`, `/admin/letters/${letter.id}/embed`, {
      origins: '',
    });
    t.clock.advance(COUNT_EPOCH_MS);
    expect(frameAncestors(await reader().get(`/letters/${letter.slug}/embed`))).toBe('*');
  });

  it('answers an unknown or draft letter with the ordinary 404, unframable', async () => {
    const draft = await createLetter(t.platform.db, t.clock.now(), { status: 'draft' });
    for (const path of ['/letters/no-such-letter/embed', `/letters/${draft.slug}/embed`]) {
      const response = await reader().get(path);
      expect(response.status, path).toBe(404);
      expect(frameAncestors(response), path).toBe("'self'");
    }
  });
});
