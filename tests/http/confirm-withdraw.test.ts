import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLetter, SIMPLE_LETTER_BODY } from '../support/factories.js';
import {
  byClass,
  byId,
  hrefsIn,
  innerHtml,
  mainOf,
  startTags,
  textOf,
  textsByClass,
} from '../support/html.js';
import { expectNoCsrfToken, Visitor } from '../support/http.js';
import {
  ERROR_TITLES,
  expectErrorPage,
  lastMailTo,
  sign,
  signAndConfirm,
  signAndGetLinks,
  signatureLinks,
  signatureRows,
  shownCount,
  storedCount,
  tokenOf,
} from '../support/signing.js';
import { createTestPlatform, TEST_PUBLIC_URL, type TestPlatform } from '../support/test-platform.js';

const LINK_INVALID = 'This link is not valid.';

/** The names in the letter page's "recent signatories" list. */
async function listedNames(visitor: Visitor, slug: string): Promise<string[]> {
  return textsByClass((await visitor.get(`/letters/${slug}`)).text, 'signatory__name');
}

/** The visible text of the signatories list items. */
async function listedEntries(visitor: Visitor, slug: string): Promise<string[]> {
  const html = (await visitor.get(`/letters/${slug}`)).text;
  const list = byClass(html, 'signatories')[0];
  if (!list) return [];
  const inner = innerHtml(html, list);
  return startTags(inner, 'li').map((li) => textOf(innerHtml(inner, li)));
}

async function statusOf(t: TestPlatform, email: string): Promise<string | undefined> {
  return (await signatureRows(t.platform.db)).find((r) => r.email === email)?.status;
}

// Every test: a fresh platform with one open letter, and a supporter's browser.
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

describe('the confirmation e-mail', () => {
  it('has an HTML and a text part, both with the confirm and the withdraw link', async () => {
    await sign(new Visitor(t.app), slug);
    expect(await t.drainOutbox()).toBe(1);
    const mail = lastMailTo(t, 'ji-hoon@example.org');
    const { confirm, withdraw } = signatureLinks(mail);
    expect(typeof mail.parsed.html).toBe('string');
    expect(mail.parsed.text).toContain(`${TEST_PUBLIC_URL}${confirm}`);
    expect(mail.parsed.text).toContain(`${TEST_PUBLIC_URL}${withdraw}`);
    const hrefs = hrefsIn(mail.parsed.html as string);
    expect(hrefs).toContain(`${TEST_PUBLIC_URL}${confirm}`);
    expect(hrefs).toContain(`${TEST_PUBLIC_URL}${withdraw}`);
    expect(hrefs).toContain(`${TEST_PUBLIC_URL}/letters/${slug}?lang=en&text=en`);
    expect(tokenOf(confirm)).not.toBe(tokenOf(withdraw));
  });

  it('names the letter in its subject and comes from MAIL_FROM with a stable Message-ID', async () => {
    await sign(new Visitor(t.app), slug);
    await t.drainOutbox();
    const mail = lastMailTo(t, 'ji-hoon@example.org');
    expect(mail.parsed.subject).toBe('Please confirm your signature: Protect the captured soldiers');
    expect(t.config.mailFrom).toBe('Undersigned <letters@undersigned.example.org>');
    expect(mail.parsed.from?.value).toEqual([
      { address: 'letters@undersigned.example.org', name: 'Undersigned' },
    ]);
    expect(mail.envelopeTo).toEqual(['ji-hoon@example.org']);
    expect(mail.parsed.messageId).toMatch(/^<[^<>@\s]+@undersigned\.example\.org>$/);
    const [row] = await t.platform.db
      .selectFrom('outbox_messages')
      .select(['message_id', 'status'])
      .execute();
    expect(row).toEqual({ message_id: mail.parsed.messageId, status: 'sent' });
    expect(mail.parsed.headers.get('auto-submitted')).toBe('auto-generated');
  });

  it("never shows the supporter's e-mail address on a public page", async () => {
    const email = 'unique.supporter-7@example.org';
    const stranger = new Visitor(t.app);
    const links = await signAndGetLinks(t, visitor, slug, { email, organisation: 'Seoul Peace Forum' });
    const pages = [`/letters/${slug}/check-your-inbox`, links.confirm, links.withdraw];
    await visitor.submit(links.confirm, links.confirm, {});
    pages.push('/', `/letters/${slug}`, `/letters/${slug}/thank-you`, links.confirm, '/privacy');
    for (const path of pages) {
      for (const who of [visitor, stranger]) {
        const page = await who.get(path);
        expect(page.status, path).toBe(200);
        expect(page.text.toLowerCase(), path).not.toContain('unique.supporter-7');
      }
    }
    await visitor.submit(links.withdraw, links.withdraw, {});
    const withdrawn = await visitor.get(`/letters/${slug}/withdrawn`);
    expect(withdrawn.text).not.toContain('unique.supporter-7');
  });
});

describe('confirming a signature', () => {
  it('shows a Confirm button that posts when the link is opened, and changes nothing', async () => {
    const { confirm } = await signAndGetLinks(t, visitor, slug);
    for (let i = 0; i < 3; i += 1) {
      const page = await visitor.get(confirm);
      expect(page.status).toBe(200);
      const [form] = startTags(mainOf(page.text), 'form');
      // It posts to its own address with the e-mail's ?lang= (the text is the interface's: no ?text=).
      expect(form!.attrs).toMatchObject({ method: 'post', action: `${confirm.split('?')[0]}?lang=en` });
      const button = startTags(page.text, 'button')[0]!;
      expect(button.attrs.type).toBe('submit');
      expect(textOf(innerHtml(page.text, button))).toBe('Confirm my signature');
    }
    // A scanner that follows links without cookies changes nothing either.
    expect((await new Visitor(t.app).get(confirm)).status).toBe(200);
    expect(await statusOf(t, 'ji-hoon@example.org')).toBe('pending');
    expect(await storedCount(t, slug)).toBe(0);
  });

  it('counts the signature when the button is pressed and thanks the supporter with share links and the new count', async () => {
    const { confirm } = await signAndGetLinks(t, visitor, slug);
    const confirmed = await visitor.submit(confirm, confirm, {});
    expect(confirmed.status).toBe(303);
    expect(confirmed.headers.location).toBe(`/letters/${slug}/thank-you?lang=en`);
    expect(await statusOf(t, 'ji-hoon@example.org')).toBe('confirmed');
    expect(await storedCount(t, slug)).toBe(1);

    const thanks = await visitor.get(`/letters/${slug}/thank-you`);
    expect(thanks.status).toBe(200);
    const main = mainOf(thanks.text);
    expect(textOf(main)).toContain('Thank you for signing');
    expect(textOf(main)).toContain('1 person has signed so far.');
    expect(textOf(main)).toContain('Embassy of Testland');
    // Shared links name the page's language (and the text read, were it another), so whoever opens them
    // reads the same letter.
    const letterUrl = `${TEST_PUBLIC_URL}/letters/${slug}?lang=en`;
    const shares = hrefsIn(main);
    for (const prefix of [
      'mailto:?',
      'https://wa.me/',
      'https://t.me/share/url',
      'https://x.com/intent/tweet',
      'https://www.facebook.com/sharer/sharer.php',
      'https://social-plugins.line.me/lineit/share',
    ]) {
      const link = shares.find((h) => h.startsWith(prefix));
      expect(link, prefix).toBeDefined();
      expect(decodeURIComponent(link!)).toContain(letterUrl);
    }
    expect(startTags(main, 'input').find((i) => i.attrs.id === 'share-url')!.attrs.value).toBe(letterUrl);
    expect(await shownCount(visitor, slug)).toBe(1);
  });

  it('is harmless to confirm twice: the count stays and the page says it is already confirmed', async () => {
    const { confirm } = await signAndConfirm(t, visitor, slug);
    const again = await visitor.submit(`/letters/${slug}`, confirm, {});
    expect(again.status).toBe(303);
    expect(again.headers.location).toBe(`/letters/${slug}/thank-you?lang=en`);
    expect(await storedCount(t, slug)).toBe(1);
    expect(await shownCount(visitor, slug)).toBe(1);
    const page = await visitor.get(confirm);
    expect(textOf(mainOf(page.text))).toContain('Your signature is already confirmed.');
    expect(startTags(mainOf(page.text), 'form')).toHaveLength(0);
  });

  it('counts once when the button is pressed from several open pages at once', async () => {
    const { confirm } = await signAndGetLinks(t, visitor, slug);
    // Both pages are open before either button is pressed, as with a double click or two devices.
    const clicks = await Promise.all(
      [visitor, visitor, new Visitor(t.app), new Visitor(t.app)].map(async (who) => {
        expectNoCsrfToken((await who.get(confirm)).text);
        return who;
      }),
    );
    const results = await Promise.all(clicks.map((who) => who.agent.post(confirm).type('form').send({})));
    expect(results.map((r) => r.status)).toEqual([303, 303, 303, 303]);
    expect(await storedCount(t, slug)).toBe(1);
  });

  it('shows the 404 page for a forged or garbled confirm link, and confirms nothing', async () => {
    const { confirm } = await signAndGetLinks(t, visitor, slug);
    const token = tokenOf(confirm);
    const [ref, mac] = token.split('.') as [string, string];
    const flipped = mac.slice(0, -1) + (mac.endsWith('A') ? 'B' : 'A');
    const bad = [
      `${ref}.${flipped}`, // forged MAC
      `${ref}.${mac.slice(0, 20)}`, // cut short by a mail program
      ref, // no MAC at all
      `${'A'.repeat(22)}.${mac}`, // someone else's reference
      'not-a-token',
      `${token}%20extra`,
    ];
    for (const forged of bad) {
      expectErrorPage(await visitor.get(`/signatures/confirm/${forged}`), 404, ERROR_TITLES[404]);
      const posted = await visitor.submit(`/letters/${slug}`, `/signatures/confirm/${forged}`, {});
      expectErrorPage(posted, 404, ERROR_TITLES[404]);
      expect(textOf(mainOf(posted.text))).toContain(LINK_INVALID);
    }
    expect(await statusOf(t, 'ji-hoon@example.org')).toBe('pending');
    expect(await storedCount(t, slug)).toBe(0);
  });

  it('does not accept a confirm token on the withdraw address, nor a withdraw token on the confirm address', async () => {
    const { confirm, withdraw } = await signAndConfirm(t, visitor, slug);
    const confirmToken = tokenOf(confirm);
    const withdrawToken = tokenOf(withdraw);
    expectErrorPage(await visitor.get(`/signatures/withdraw/${confirmToken}`), 404, ERROR_TITLES[404]);
    expectErrorPage(
      await visitor.submit(`/letters/${slug}`, `/signatures/withdraw/${confirmToken}`, {}),
      404,
      ERROR_TITLES[404],
    );
    expect(await statusOf(t, 'ji-hoon@example.org')).toBe('confirmed');
    expect(await storedCount(t, slug)).toBe(1);

    expectErrorPage(await visitor.get(`/signatures/confirm/${withdrawToken}`), 404, ERROR_TITLES[404]);
  });
});

describe('withdrawing a signature', () => {
  it('takes a confirmed signature out of the count and the list', async () => {
    await signAndConfirm(t, new Visitor(t.app), slug, { name: 'Park Min-seo', email: 'min-seo@example.org' });
    const { withdraw } = await signAndConfirm(t, visitor, slug);
    expect(await shownCount(visitor, slug)).toBe(2);
    expect(await listedNames(visitor, slug)).toContain('Kim Ji-hoon');

    const page = await visitor.get(withdraw);
    expect(textOf(innerHtml(page.text, startTags(page.text, 'button')[0]!))).toBe('Withdraw my signature');
    expect(await storedCount(t, slug)).toBe(2);

    const withdrawn = await visitor.submit(withdraw, withdraw, {});
    expect(withdrawn.status).toBe(303);
    expect(withdrawn.headers.location).toBe(`/letters/${slug}/withdrawn?lang=en`);
    const after = textOf(mainOf((await visitor.get(`/letters/${slug}/withdrawn`)).text));
    expect(after).toContain('Your signature has been withdrawn');
    // The way to erase now points at the button the withdrawal link still shows, not only at e-mails.
    expect(after).toContain('open the withdrawal link from your e-mail again and choose “Erase my data”');
    const again = textOf(mainOf((await visitor.get(withdraw)).text));
    expect(again).toContain('This signature has already been withdrawn.');
    expect(again).toContain('Erase my data');

    expect(await storedCount(t, slug)).toBe(1);
    expect(await shownCount(visitor, slug)).toBe(1);
    expect(await listedNames(visitor, slug)).toEqual(['Park Min-seo']);
    expect((await visitor.get(`/letters/${slug}`)).text).not.toContain('Kim Ji-hoon');
    expect(textsByClass((await visitor.get('/')).text, 'stats__count')).toEqual(['1 signature']);
  });

  it('names the letter and how the name appears on the confirm and withdraw pages, in the text read', async () => {
    // Someone who signed several letters could not tell which one a button would act on.
    const { confirm, withdraw } = await signAndGetLinks(t, visitor, slug, { display: 'initials' });
    const about = async (link: string) => {
      const page = await visitor.get(link);
      return textOf(innerHtml(page.text, byId(page.text, 'signature-about')!));
    };
    for (const link of [confirm, withdraw]) {
      expect(await about(link), link).toContain('Protect the captured soldiers');
      // Not confirmed yet: it does not appear anywhere, and the page must not say it does.
      expect(await about(link), link).toContain('Once confirmed, your signature will appear as K. J.-H.');
    }
    expect((await visitor.submit(confirm, confirm, {})).status).toBe(303);
    expect(await about(withdraw)).toContain('Your signature appears as K. J.-H.');
    expect((await visitor.submit(withdraw, withdraw, {})).status).toBe(303);
    for (const link of [confirm, withdraw])
      expect(await about(link), link).toContain('No longer shown or counted: withdrawn');
    // Read in Korean, the letter is named by its Korean title, marked as Korean.
    const bilingual = await createLetter(t.platform.db, t.clock.now(), {
      texts: [
        { language: 'en', title: 'Let them choose', summary: 'A test letter.', body: SIMPLE_LETTER_BODY },
        { language: 'ko', title: '선택하게 하십시오', summary: '시험 편지.', body: SIMPLE_LETTER_BODY },
      ],
    });
    const { confirm: toConfirm } = await signAndGetLinks(t, visitor, bilingual.slug, {
      email: 'reads-korean@example.org',
    });
    // The link as the e-mail of a supporter who read the Korean text carries it (?text=ko).
    expect(toConfirm).toContain('text=en');
    const page = await visitor.get(toConfirm.replace('text=en', 'text=ko'));
    const title = startTags(innerHtml(page.text, byId(page.text, 'signature-about')!), 'dd')[0]!;
    expect(title.attrs.lang).toBe('ko');
    expect(textOf(innerHtml(page.text, byId(page.text, 'signature-about')!))).toContain('선택하게 하십시오');
  });

  it('says on the withdraw page that the details stay stored until retention, and offers to erase them now', async () => {
    // Someone at risk who withdrew was told their name no longer appears, and not that their name,
    // address and city were still held for months, nor how to remove them.
    const { withdraw } = await signAndConfirm(t, visitor, slug);
    for (const moment of ['before', 'after']) {
      if (moment === 'after') expect((await visitor.submit(withdraw, withdraw, {})).status).toBe(303);
      const page = await visitor.get(withdraw);
      const text = textOf(mainOf(page.text));
      expect(text, moment).toContain('shown nowhere, until 6 months after the letter closes');
      const erase = hrefsIn(mainOf(page.text)).find((href) => href.startsWith('/privacy/erase/'));
      expect(erase, moment).toBeDefined();
      const erasePage = await visitor.get(erase!);
      expect(erasePage.status, moment).toBe(200);
      expect(
        startTags(erasePage.text, 'form').some((f) => f.attrs.method === 'post'),
        moment,
      ).toBe(true);
    }
  });

  it('says an erase link already used has erased everything, and leads a broken one somewhere', async () => {
    const { withdraw } = await signAndConfirm(t, visitor, slug);
    const page = await visitor.get(withdraw);
    const erase = hrefsIn(mainOf(page.text)).find((href) => href.startsWith('/privacy/erase/'))!;
    expect((await visitor.submit(erase, erase, {})).status).toBe(200);
    // The same page and button again read as if nothing had happened.
    const used = await visitor.get(erase);
    expect(used.status).toBe(200);
    expect(textOf(mainOf(used.text))).toContain("This link's signature no longer holds an address");
    expect(startTags(mainOf(used.text), 'form')).toHaveLength(0);
    // Other letters signed with the address may still hold it (retention empties one letter at a time).
    expect(hrefsIn(mainOf(used.text)).some((href) => href.startsWith('/privacy/access'))).toBe(true);
    // A link cut short: not a dead end, the data-access form sends a working one.
    const broken = await visitor.get(erase.split('?')[0]!.slice(0, -6));
    expect(broken.status).toBe(404);
    expect(textOf(mainOf(broken.text))).toContain('This link is not valid.');
    expect(hrefsIn(mainOf(broken.text))).toContain('/privacy/access');
    // The withdrawal link after the erasure: no name left to take off the letter, nothing left to erase.
    const withdrawPage = textOf(mainOf((await visitor.get(withdraw)).text));
    expect(withdrawPage).toContain('Your details were erased already: this signature has no name');
    expect(withdrawPage).not.toContain('your name is removed from the letter');
    expect(withdrawPage).not.toContain('Erase your details as well');
  });

  it('withdraws a pending signature, which can then no longer be confirmed', async () => {
    const { confirm, withdraw } = await signAndGetLinks(t, visitor, slug);
    expect((await visitor.submit(withdraw, withdraw, {})).status).toBe(303);
    expect(await statusOf(t, 'ji-hoon@example.org')).toBe('withdrawn');
    expect(await storedCount(t, slug)).toBe(0);

    // The link's page no longer offers a Confirm button…
    const opened = await visitor.get(confirm);
    expect(textOf(mainOf(opened.text))).toContain('This signature was withdrawn, so it cannot be confirmed.');
    expect(startTags(mainOf(opened.text), 'form')).toHaveLength(0);
    // …and a POST made anyway is refused.
    const refused = await visitor.submit(`/letters/${slug}`, confirm, {});
    expect(refused.status).toBe(409);
    expect(textOf(mainOf(refused.text))).toContain(
      'This signature was withdrawn, so it cannot be confirmed.',
    );
    expect(await storedCount(t, slug)).toBe(0);
    expect(await listedNames(visitor, slug)).toEqual([]);
  });

  it('is harmless to withdraw twice: the count goes down once', async () => {
    await signAndConfirm(t, new Visitor(t.app), slug, { name: 'Park Min-seo', email: 'min-seo@example.org' });
    const { withdraw } = await signAndConfirm(t, visitor, slug);
    expect((await visitor.submit(withdraw, withdraw, {})).status).toBe(303);
    expect(await storedCount(t, slug)).toBe(1);

    const page = await visitor.get(withdraw);
    expect(textOf(mainOf(page.text))).toContain('This signature has already been withdrawn.');
    expect(startTags(mainOf(page.text), 'form')).toHaveLength(0);
    const again = await visitor.submit(`/letters/${slug}`, withdraw, {});
    expect(again.status).toBe(303);
    expect(again.headers.location).toBe(`/letters/${slug}/withdrawn?lang=en`);
    expect(await storedCount(t, slug)).toBe(1);
    expect(await listedNames(visitor, slug)).toEqual(['Park Min-seo']);
  });

  it('shows the 404 page for a forged withdraw link and withdraws nothing', async () => {
    const { withdraw } = await signAndConfirm(t, visitor, slug);
    const token = tokenOf(withdraw);
    const forged = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    expectErrorPage(await visitor.get(`/signatures/withdraw/${forged}`), 404, ERROR_TITLES[404]);
    expectErrorPage(
      await visitor.submit(`/letters/${slug}`, `/signatures/withdraw/${forged}`, {}),
      404,
      ERROR_TITLES[404],
    );
    expect(await storedCount(t, slug)).toBe(1);
  });
});

describe('who is counted and listed', () => {
  // The letter page as anyone reads it.
  let reader: Visitor;
  beforeEach(() => {
    reader = new Visitor(t.app);
  });

  it('never counts or lists an unconfirmed signature', async () => {
    await signAndGetLinks(t, new Visitor(t.app), slug, {
      name: 'Pending Person',
      email: 'pending@example.org',
      display: 'full',
    });
    expect(await storedCount(t, slug)).toBe(0);
    expect(await shownCount(reader, slug)).toBe(0);
    expect(await listedNames(reader, slug)).toEqual([]);
    expect((await reader.get(`/letters/${slug}`)).text).not.toContain('Pending Person');
    expect(textsByClass((await reader.get('/')).text, 'stats__count')).toEqual(['0 signatures']);
    expect(textOf(mainOf((await reader.get(`/letters/${slug}/thank-you`)).text))).toContain(
      '0 people have signed so far.',
    );
  });

  it('counts a "hidden" signature but never lists the name', async () => {
    await signAndConfirm(t, new Visitor(t.app), slug, {
      name: 'Hidden Person',
      email: 'hidden@example.org',
      display: 'hidden',
    });
    expect(await shownCount(reader, slug)).toBe(1);
    expect(await listedNames(reader, slug)).toEqual([]);
    const page = (await reader.get(`/letters/${slug}`)).text;
    expect(page).not.toContain('Hidden Person');
    expect(page).not.toMatch(/H\. P\./);
  });

  it('lists an "initials" signature by initials and country, never by full name or organisation', async () => {
    await signAndConfirm(t, new Visitor(t.app), slug, {
      display: 'initials',
      organisation: 'Seoul Peace Forum',
      city: 'Seoul',
      title: 'Researcher',
    });
    expect(await shownCount(reader, slug)).toBe(1);
    expect(await listedEntries(reader, slug)).toEqual(['K. J.-H. (South Korea)']);
    const page = (await reader.get(`/letters/${slug}`)).text;
    for (const detail of ['Kim Ji-hoon', 'Ji-hoon', 'Seoul Peace Forum', 'Researcher'])
      expect(page).not.toContain(detail);
  });

  it('lists a "full" signature by name, organisation and country', async () => {
    await signAndConfirm(t, new Visitor(t.app), slug, { display: 'full', organisation: 'Seoul Peace Forum' });
    expect(await listedEntries(reader, slug)).toEqual(['Kim Ji-hoon, Seoul Peace Forum (South Korea)']);
  });

  it('lists the most recent confirmations first', async () => {
    await signAndConfirm(t, new Visitor(t.app), slug, { name: 'First Signer', email: 'first@example.org' });
    t.clock.advance(60_000);
    await signAndConfirm(t, new Visitor(t.app), slug, { name: 'Second Signer', email: 'second@example.org' });
    expect(await listedNames(reader, slug)).toEqual(['Second Signer', 'First Signer']);
    expect(await shownCount(reader, slug)).toBe(2);
  });
});
