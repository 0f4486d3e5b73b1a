import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAccount } from '../support/accounts.js';
import { fieldErrors } from '../support/admin-forms.js';
import { createLetter } from '../support/factories.js';
import { innerHtml, mainOf, startTags, textOf } from '../support/html.js';
import { Visitor } from '../support/http.js';
import { linksIn } from '../support/smtp-sink.js';
import {
  ERROR_TITLES,
  expectErrorPage,
  pathOf,
  sign,
  signAndConfirm,
  signAndGetLinks,
} from '../support/signing.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

const KIM = {
  name: 'Kim Ji-hoon',
  email: 'ji-hoon.kim@example.org',
  country: 'KR',
  city: 'Seoul',
  organisation: 'NK Watch',
  title: 'Researcher',
  display: 'initials',
  updates: 'yes',
};
const OLENA = { name: 'Olena Kovalenko', email: 'olena.kovalenko@example.org', country: 'UA' };

const NEUTRAL =
  'If we hold anything about that address, it is on its way to it now. If nothing arrives, we hold nothing about it.';

interface Record {
  letter: string;
  status: string;
  name: string;
  shownAs: string;
  email: string;
  country: string;
  city: string;
  organisation: string;
  title: string;
  language: string;
  newsAboutTheLetter: boolean;
  signedAt: string;
  confirmedAt: string | null;
  withdrawnAt: string | null;
}

describe('a supporter asks what is held about their address', () => {
  let t: TestPlatform;
  let visitor: Visitor;
  let first: { slug: string };
  let second: { slug: string };

  beforeEach(async () => {
    t = await createTestPlatform();
    visitor = new Visitor(t.app);
    first = await createLetter(t.platform.db, t.clock.now(), { slug: 'let-them-choose' });
    second = await createLetter(t.platform.db, t.clock.now(), { slug: 'protect-the-soldiers' });
  });
  afterEach(async () => {
    await t.close();
  });

  const ask = (email: string, as: Visitor = visitor) =>
    as.submit('/privacy/access', '/privacy/access', { email });

  /** The addresses the data-access e-mails queued so far go to. */
  const dataAccessQueuedTo = async () =>
    (
      await t.platform.db
        .selectFrom('outbox_messages')
        .select('to_address')
        .where('kind', '=', 'data-access')
        .orderBy('id')
        .execute()
    ).map((row) => row.to_address);

  it('sends every signature, with its letter and fields, to that address only; the page says nothing', async () => {
    await signAndConfirm(t, visitor, first.slug, KIM);
    const { withdraw } = await signAndGetLinks(t, visitor, second.slug, { ...KIM, display: 'full' });
    expect((await visitor.submit(withdraw, withdraw, {})).status).toBe(303);
    await signAndConfirm(t, visitor, first.slug, OLENA);
    const sentBefore = t.sink.messages.length;

    // Typed in another letter case: the same address.
    const response = await ask('JI-HOON.KIM@example.org');
    expect(response.status).toBe(200);
    expect(textOf(mainOf(response.text))).toContain(NEUTRAL);
    await t.drainOutbox();

    const sent = t.sink.messages.slice(sentBefore);
    expect(sent).toHaveLength(1);
    const [mail] = sent;
    expect(mail!.envelopeTo).toEqual([KIM.email]);
    expect(mail!.parsed.subject).toBe('Your data on Undersigned');
    const attachment = mail!.parsed.attachments.find((a) => a.filename === 'undersigned-data.json');
    expect(attachment?.contentType).toBe('application/json');
    const records = JSON.parse(attachment!.content.toString('utf8')) as Record[];
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({
      letter: first.slug,
      status: 'confirmed',
      name: KIM.name,
      shownAs: 'K. J.-H.',
      email: KIM.email,
      country: 'South Korea',
      city: KIM.city,
      organisation: KIM.organisation,
      title: KIM.title,
      language: 'en',
      newsAboutTheLetter: true,
      signedAt: '2026-11-23T10:00:00.000Z',
      confirmedAt: '2026-11-23T10:00:00.000Z',
      withdrawnAt: null,
    });
    expect(records[1]).toMatchObject({
      letter: second.slug,
      status: 'withdrawn',
      name: KIM.name,
      shownAs: KIM.name,
      email: KIM.email,
      confirmedAt: null,
      withdrawnAt: '2026-11-23T10:00:00.000Z',
    });
    // Nothing of anyone else.
    const everything = [mail!.raw, mail!.parsed.text ?? '', attachment!.content.toString('utf8')].join('\n');
    expect(everything).not.toContain(OLENA.email);
    expect(everything).not.toContain(OLENA.name);
    // The text part lists the same, and, as every supporter e-mail, carries a working erase link.
    expect(mail!.parsed.text).toContain(first.slug);
    expect(mail!.parsed.text).toContain(second.slug);
    // "Here it is, complete": the e-mail itself says every field the file holds, not only the file.
    const html = String(mail!.parsed.html);
    const htmlRows = startTags(html, 'tr').map((tr) =>
      startTags(innerHtml(html, tr), 'td')
        .map((td) => textOf(innerHtml(innerHtml(html, tr), td)))
        .join(': '),
    );
    for (const shown of [
      `E-mail address: ${KIM.email}`,
      `City: ${KIM.city}`,
      `Organisation: ${KIM.organisation}`,
      `Title or role: ${KIM.title}`,
      'News about this letter: Yes, you asked for it',
    ]) {
      expect(mail!.parsed.text).toContain(shown);
      expect(htmlRows).toContain(shown);
    }
    const erase = linksIn(mail!).find((l) => l.includes('/privacy/erase/'));
    expect(erase).toBeDefined();
    expect((await new Visitor(t.app).get(pathOf(erase!))).status).toBe(200);
  });

  it('says of a held signature whose link was pressed that it waits for a check, not that it waits to be confirmed', async () => {
    // Screening held it (here set by hand): pressing its link showed "confirmed", as for any other.
    const { confirm } = await signAndGetLinks(t, visitor, first.slug, OLENA);
    await t.platform.db.updateTable('signatures').set({ suspect_reasons: 'rate-burst' }).execute();
    expect((await visitor.submit(confirm, confirm, {})).status).toBe(303);
    const sentBefore = t.sink.messages.length;
    expect((await ask(OLENA.email)).status).toBe(200);
    await t.drainOutbox();
    const [mail] = t.sink.messages.slice(sentBefore);
    const attachment = mail!.parsed.attachments.find((a) => a.filename === 'undersigned-data.json');
    const [record] = JSON.parse(attachment!.content.toString('utf8')) as Record[];
    expect(record).toMatchObject({ status: 'held', confirmedAt: null });
    expect(mail!.parsed.text).toContain('Confirmed by you, and not counted yet');
    expect(mail!.parsed.text).not.toContain('Not confirmed yet');
    // Nor the reason: the e-mail tells no one how screening works.
    expect(mail!.parsed.text).not.toContain('rate-burst');
  });

  it('answers the same page for an address with no data, and sends nothing', async () => {
    await signAndConfirm(t, visitor, first.slug, KIM);
    const held = await ask(KIM.email);
    const sentBefore = t.sink.messages.length;
    const notHeld = await ask('nobody-here@example.org');
    expect(notHeld.status).toBe(held.status);
    expect(textOf(mainOf(notHeld.text))).toBe(textOf(mainOf(held.text)));
    expect(textOf(mainOf(notHeld.text))).toContain(NEUTRAL);
    expect(await dataAccessQueuedTo()).toEqual([KIM.email]);
    await t.drainOutbox();
    expect(t.sink.messages.slice(sentBefore).map((m) => m.envelopeTo)).toEqual([[KIM.email]]);
  });

  it('sends nothing about signatures that were erased', async () => {
    await sign(visitor, first.slug, KIM);
    await sign(visitor, first.slug, OLENA);
    await t.platform.privacy.erase(KIM.email, await createAccount(t.platform, 'admin'));
    expect((await ask(KIM.email)).status).toBe(200);
    // The same request for a signature that stands is answered: only the erased one is not.
    expect((await ask(OLENA.email, new Visitor(t.app))).status).toBe(200);
    expect(await dataAccessQueuedTo()).toEqual([OLENA.email]);
  });

  it('refuses a malformed or oversized address with 422 and a message, sending nothing', async () => {
    await signAndConfirm(t, visitor, first.slug, KIM);
    for (const email of ['', 'not an address', 'ji-hoon.kim@', `${'a'.repeat(250)}@example.org`, 'a@b']) {
      const response = await ask(email, new Visitor(t.app));
      expect(response.status, email).toBe(422);
      expect(fieldErrors(response.text, 'field-email'), email).toEqual([
        'Enter an e-mail address, like name@example.org.',
      ]);
    }
    expect(await dataAccessQueuedTo()).toEqual([]);
  });

  it('refuses a request posted from another site (403), sending nothing', async () => {
    await signAndConfirm(t, visitor, first.slug, KIM);
    const response = await visitor.agent
      .post('/privacy/access')
      .type('form')
      .set('Accept', 'text/html')
      .set('Sec-Fetch-Site', 'cross-site')
      .send({ email: KIM.email });
    expectErrorPage(response, 403, ERROR_TITLES[403]);
    expect(await dataAccessQueuedTo()).toEqual([]);
  });

  it('allows five requests an hour from one address, typos not counted; the sixth is refused (429) and sends nothing', async () => {
    await signAndConfirm(t, visitor, first.slug, KIM);
    // Typos come back with the form (422) and do not count: six of them lock nobody out.
    for (let typo = 1; typo <= 6; typo++)
      expect((await ask('not an address', new Visitor(t.app))).status, `typo ${typo}`).toBe(422);
    for (let i = 1; i <= 5; i++) {
      const response = await ask(KIM.email, new Visitor(t.app));
      expect(response.status, `request ${i}`).toBe(200);
    }
    const sixth = await ask(KIM.email, new Visitor(t.app));
    expectErrorPage(sixth, 429, ERROR_TITLES[429]);
    expect(await dataAccessQueuedTo()).toEqual([KIM.email, KIM.email, KIM.email, KIM.email, KIM.email]);
    // The form itself can still be read.
    expect((await visitor.get('/privacy/access')).status).toBe(200);
  });
});
