import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLetter, signingForm } from '../support/factories.js';
import { Visitor } from '../support/http.js';
import { linksIn } from '../support/smtp-sink.js';
import {
  lastMailTo,
  pathOf,
  rowCounts,
  sign,
  signatureLinks,
  signatureRows,
  signAndConfirm,
  storedCount,
} from '../support/signing.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

/** The title createLetter gives its English text. */
const TITLE = 'Protect the captured soldiers';

describe('one address, one signature: repeats, address variants and bots', () => {
  let t: TestPlatform;
  let slug: string;

  beforeEach(async () => {
    t = await createTestPlatform();
    ({ slug } = await createLetter(t.platform.db, t.clock.now()));
  });
  afterEach(async () => {
    await t.close();
  });

  /** What a supporter sees after posting the form: the redirect, its body, and the page it leads to. */
  async function signAndLook(visitor: Visitor, overrides: Record<string, string> = {}) {
    const posted = await sign(visitor, slug, overrides);
    const landed = await visitor.get(posted.headers.location!);
    expect(landed.status).toBe(200);
    return {
      status: posted.status,
      location: posted.headers.location,
      redirectBody: posted.text,
      page: landed.text,
    };
  }

  it('does not create a second signature when the same address signs again, and answers exactly the same', async () => {
    const visitor = new Visitor(t.app);
    const first = await signAndLook(visitor);
    const again = await signAndLook(visitor);
    expect(again).toEqual(first);
    expect(first.page).toContain('Check your inbox');
    // Said to everyone alike: how a supporter changes what they entered (signing again does not).
    expect(first.page).toContain(
      'To change how your name appears, withdraw your signature with the link in the e-mail',
    );
    expect((await rowCounts(t.platform.db)).signatures).toBe(1);
  });

  it("answers a stranger repeating someone else's address exactly as it answered the first signer", async () => {
    const first = await signAndLook(new Visitor(t.app));
    const stranger = await signAndLook(new Visitor(t.app), { name: 'Someone Else' });
    expect(stranger).toEqual(first);
    const [row] = await signatureRows(t.platform.db);
    expect(row!.full_name).toBe('Kim Ji-hoon');
    expect((await rowCounts(t.platform.db)).signatures).toBe(1);
  });

  it('re-sends the confirmation at most 3 times: 4 e-mails at most after 6 attempts', async () => {
    const visitor = new Visitor(t.app);
    for (let attempt = 0; attempt < 6; attempt += 1) {
      await sign(visitor, slug);
      await t.drainOutbox();
    }
    expect(t.sink.to('ji-hoon@example.org')).toHaveLength(4);
    expect(await rowCounts(t.platform.db)).toEqual({ signatures: 1, outbox: 4 });
    const [row] = await signatureRows(t.platform.db);
    expect(row!.confirmation_sends).toBe(4);
    // Every re-sent e-mail carries the same, still valid links.
    const links = t.sink.to('ji-hoon@example.org').map((m) => signatureLinks(m).confirm);
    expect(new Set(links).size).toBe(1);
  });

  it('tells an address that already confirmed that its signature counts, and keeps the count', async () => {
    const visitor = new Visitor(t.app);
    const links = await signAndConfirm(t, visitor, slug);
    const again = await signAndLook(new Visitor(t.app), { name: 'Someone Else', display: 'full' });
    // The page says what it says to anyone (an e-mail is on its way): it must not tell a stranger who signed.
    expect(again.page).toContain('Check your inbox');
    await t.drainOutbox();

    const mails = t.sink.to('ji-hoon@example.org');
    expect(mails).toHaveLength(2);
    const notice = mails[1]!;
    expect(notice.parsed.subject).toBe(`You have already signed: ${TITLE}`);
    const text = notice.parsed.text ?? '';
    // Written to the name the address signed with, not to the one the second form gave.
    expect(text).toContain('Hello Kim Ji-hoon,');
    expect(text).toContain('You confirmed your signature earlier, and it is counted');
    // How it appears (as first entered, not as the second form said), and how to change that.
    expect(text).toContain('On the letter, your signature appears as: Kim Ji-hoon, South Korea.');
    expect(text).toContain('To change how it appears, withdraw it with the link at the end of this e-mail');
    // Nothing to confirm; the same withdraw link as every e-mail about this signature.
    expect(linksIn(notice).some((l) => l.includes('/signatures/confirm/'))).toBe(false);
    expect(linksIn(notice).map(pathOf)).toContain(links.withdraw);
    expect(notice.parsed.headers.get('auto-submitted')).toBe('auto-generated');

    expect(await storedCount(t, slug)).toBe(1);
    expect((await rowCounts(t.platform.db)).signatures).toBe(1);
    const [row] = await signatureRows(t.platform.db);
    expect(row).toMatchObject({ status: 'confirmed', full_name: 'Kim Ji-hoon', confirmation_sends: 2 });
  });

  it('names the letter in the language of the attempt its "already signed" notice answers, when the letter has it', async () => {
    const { slug: bilingual } = await createLetter(t.platform.db, t.clock.now(), {
      texts: [
        {
          language: 'en',
          title: TITLE,
          summary: 'A test letter.',
          body: 'Dear {{recipient.salutation}},\n\nText.',
        },
        {
          language: 'ko',
          title: '포로가 된 군인들을 보호하십시오',
          summary: '시험 편지.',
          body: '{{recipient.salutation}}께,\n\n본문.',
        },
      ],
    });
    await signAndConfirm(t, new Visitor(t.app), bilingual);
    // Again, from a Korean page: the notice is written in Korean, and its subject names the Korean text.
    const visitor = new Visitor(t.app);
    const again = await visitor.submit(
      `/letters/${bilingual}?lang=ko`,
      `/letters/${bilingual}/sign?lang=ko`,
      {
        ...signingForm(),
        language: 'ko',
      },
    );
    expect(again.status).toBe(303);
    await t.drainOutbox();
    const notice = lastMailTo(t, 'ji-hoon@example.org').parsed;
    expect(notice.subject).toContain('포로가 된 군인들을 보호하십시오');
    expect(notice.subject).not.toContain(TITLE);
    expect(notice.text).not.toContain('Hello');
  });

  it('says in the confirmation e-mail how the signature will appear, so the supporter sees what they confirm', async () => {
    await sign(new Visitor(t.app), slug, { display: 'initials', email: 'initials@example.org' });
    await sign(new Visitor(t.app), slug, { display: 'hidden', email: 'hidden@example.org' });
    await t.drainOutbox();
    expect(lastMailTo(t, 'initials@example.org').parsed.text).toContain(
      'On the letter, your signature appears as: K. J.-H., South Korea.',
    );
    // A full name shows the title and organisation given with it, on the page and in the delivered letter:
    // the e-mail says so (it said the name and country only).
    await sign(new Visitor(t.app), slug, {
      display: 'full',
      email: 'full@example.org',
      organisation: 'Citizens’ Alliance',
      title: 'Researcher',
    });
    await t.drainOutbox();
    expect(lastMailTo(t, 'full@example.org').parsed.text).toContain(
      'On the letter, your signature appears as: Kim Ji-hoon, Researcher, Citizens’ Alliance, South Korea.',
    );
    const hidden = lastMailTo(t, 'hidden@example.org').parsed;
    expect(hidden.text).toContain('On the letter, your signature is not shown: you are only counted.');
    expect(hidden.text).not.toContain('Kim Ji-hoon, South Korea');
    expect(hidden.html).toContain('your signature is not shown');
  });

  it('sends an address that already confirmed no more e-mails than a pending one gets: 4 in all', async () => {
    await signAndConfirm(t, new Visitor(t.app), slug);
    for (let attempt = 0; attempt < 5; attempt += 1) {
      await sign(new Visitor(t.app), slug);
      await t.drainOutbox();
    }
    const subjects = t.sink.to('ji-hoon@example.org').map((m) => m.parsed.subject);
    expect(subjects).toEqual([
      `Please confirm your signature: ${TITLE}`,
      ...Array.from({ length: 3 }, () => `You have already signed: ${TITLE}`),
    ]);
    expect(await storedCount(t, slug)).toBe(1);
  });

  it('does not send the notice once the signature no longer counts (withdrawn before the worker got to it)', async () => {
    const visitor = new Visitor(t.app);
    const links = await signAndConfirm(t, visitor, slug);
    await sign(new Visitor(t.app), slug);
    const withdrawn = await visitor.submit(links.withdraw, links.withdraw, {});
    expect(withdrawn.status).toBe(303);
    await t.drainOutbox();

    expect(t.sink.to('ji-hoon@example.org')).toHaveLength(1);
    const notice = await t.platform.db
      .selectFrom('outbox_messages')
      .select(['status', 'last_reply'])
      .where('kind', '=', 'signature-already-signed')
      .executeTakeFirstOrThrow();
    expect(notice).toEqual({
      status: 'failed',
      last_reply: 'not sent: nothing to render (its signature is gone or no longer counts)',
    });
  });

  it('writes the notice in the interface language of the attempt it answers', async () => {
    // Signed and confirmed in English, then signed again from a Ukrainian browser.
    await signAndConfirm(t, new Visitor(t.app), slug);
    const ukrainian = new Visitor(t.app);
    ukrainian.agent.set('Accept-Language', 'uk');
    const signed = await ukrainian.submit(`/letters/${slug}`, `/letters/${slug}/sign`, signingForm());
    expect(signed.status).toBe(303);
    await t.drainOutbox();

    const notice = lastMailTo(t, 'ji-hoon@example.org');
    expect(notice.parsed.subject).toMatch(/^Ви вже підписали: /);
    expect(notice.parsed.text).toContain('більше нічого робити не потрібно');
    expect(notice.parsed.html).toContain('<html lang="uk"');
  });

  it('compares addresses after trimming and lower-casing', async () => {
    const visitor = new Visitor(t.app);
    await sign(visitor, slug, { email: 'Ji-Hoon@Example.org' });
    await sign(visitor, slug, { email: '  ji-hoon@example.ORG  ' });
    await sign(visitor, slug, { email: 'JI-HOON@EXAMPLE.ORG' });
    expect((await rowCounts(t.platform.db)).signatures).toBe(1);
  });

  it('treats Gmail dot, +tag, case and googlemail.com variants as the same address', async () => {
    const visitor = new Visitor(t.app);
    await sign(visitor, slug, { email: 'kim.jihoon@gmail.com' });
    for (const variant of [
      'kimjihoon@gmail.com',
      'Kim.Ji.Hoon+letters@gmail.com',
      'KIMJIHOON@GMAIL.COM',
      'kim.jihoon@googlemail.com',
      ' k.i.m.j.i.h.o.o.n+x+y@GoogleMail.com ',
    ]) {
      await sign(visitor, slug, { email: variant });
    }
    expect((await rowCounts(t.platform.db)).signatures).toBe(1);
    await t.drainOutbox();
    // Re-sends go to the address first given, never to an address typed later.
    expect(t.sink.messages.every((m) => m.envelopeTo.join() === 'kim.jihoon@gmail.com')).toBe(true);
    expect(t.sink.messages).toHaveLength(4);
  });

  it('keeps dots significant outside Gmail', async () => {
    const visitor = new Visitor(t.app);
    await sign(visitor, slug, { email: 'ji.hoon@example.org' });
    await sign(visitor, slug, { email: 'jihoon@example.org' });
    await sign(visitor, slug, { email: 'jihoon+tag@example.org' });
    expect((await rowCounts(t.platform.db)).signatures).toBe(3);
  });

  it('makes a second signature for a different address', async () => {
    const visitor = new Visitor(t.app);
    await sign(visitor, slug, { email: 'ji-hoon@example.org' });
    await sign(visitor, slug, { email: 'min-seo@example.org', name: 'Park Min-seo' });
    const rows = await signatureRows(t.platform.db);
    expect(rows.map((r) => r.full_name)).toEqual(['Kim Ji-hoon', 'Park Min-seo']);
    await t.drainOutbox();
    expect(t.sink.to('ji-hoon@example.org')).toHaveLength(1);
    expect(t.sink.to('min-seo@example.org')).toHaveLength(1);
  });

  it('lets the same address sign two different letters', async () => {
    const other = await createLetter(t.platform.db, t.clock.now(), { title: 'Another letter' });
    const visitor = new Visitor(t.app);
    await sign(visitor, slug);
    await sign(visitor, other.slug);
    expect((await rowCounts(t.platform.db)).signatures).toBe(2);
  });

  it('creates a pending signature and its confirmation e-mail together, and counts nothing yet', async () => {
    await sign(new Visitor(t.app), slug, { display: 'initials', city: 'Seoul', updates: 'yes' });
    const [row] = await signatureRows(t.platform.db);
    expect(row).toMatchObject({
      status: 'pending',
      full_name: 'Kim Ji-hoon',
      email: 'ji-hoon@example.org',
      country: 'KR',
      city: 'Seoul',
      display: 'initials',
      consent_updates: 1,
    });
    const outbox = await t.platform.db.selectFrom('outbox_messages').selectAll().execute();
    expect(outbox).toHaveLength(1);
    expect(outbox[0]).toMatchObject({
      kind: 'signature-confirmation',
      signature_id: row!.id,
      to_address: 'ji-hoon@example.org',
      status: 'queued',
    });
    expect(await storedCount(t, slug)).toBe(0);
  });

  it('gives a bot that fills the hidden website field the usual answer and stores nothing', async () => {
    const visitor = new Visitor(t.app);
    const response = await visitor.submit(
      `/letters/${slug}`,
      `/letters/${slug}/sign`,
      signingForm({ website: 'https://spam.example' }),
    );
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe(`/letters/${slug}/check-your-inbox`);
    expect(await rowCounts(t.platform.db)).toEqual({ signatures: 0, outbox: 0 });
    expect(await t.drainOutbox()).toBe(0);
  });

  it('lets a supporter who withdrew sign again, as a new pending signature with a fresh e-mail', async () => {
    const visitor = new Visitor(t.app);
    const links = await signAndConfirm(t, visitor, slug);
    const withdrawn = await visitor.submit(links.withdraw, links.withdraw, {});
    expect(withdrawn.status).toBe(303);
    expect(await storedCount(t, slug)).toBe(0);

    await sign(visitor, slug, { display: 'hidden' });
    await t.drainOutbox();
    const [row] = await signatureRows(t.platform.db);
    expect(row).toMatchObject({ status: 'pending', display: 'hidden' });
    expect((await rowCounts(t.platform.db)).signatures).toBe(1);
    expect(t.sink.to('ji-hoon@example.org')).toHaveLength(2);
    const again = signatureLinks(lastMailTo(t, 'ji-hoon@example.org'));
    expect((await visitor.submit(again.confirm, again.confirm, {})).status).toBe(303);
    expect(await storedCount(t, slug)).toBe(1);
  });
});
