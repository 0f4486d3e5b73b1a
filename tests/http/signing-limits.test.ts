import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../server/app.js';
import { noPdf } from '../../server/deliveries/pdf-renderer.js';
import { createLogger } from '../../server/lib/logger.js';
import { pruneLimits } from '../../server/limits/signing-limit-screen.js';
import { wire, type Platform } from '../../server/wiring.js';
import { createLetter, signingForm } from '../support/factories.js';
import { signedIn } from '../support/accounts.js';
import { postForm } from '../support/admin-forms.js';
import { mainOf, textOf, textsByClass } from '../support/html.js';
import { Visitor } from '../support/http.js';
import { loopbackTransport } from '../support/mail-worker.js';
import type { SinkMessage } from '../support/smtp-sink.js';
import { lastMailTo, shownCount, signatureLinks, signatureRows, storedCount } from '../support/signing.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

/**
 * Strict limits, so that a second signing within a minute is already over one; the test platform
 * otherwise raises them so other tests can sign freely. The defaults have tests of their own (below).
 */
const STRICT_LIMITS = { SIGNING_LIMIT_BURST: '1/60', SIGNING_LIMIT_SUSTAINED: '5/300' };

const FIRST = { name: 'Kim Ji-hoon', email: 'first@example.org', country: 'KR' };
const SECOND = { name: 'Kim Ji-hoon', email: 'second@example.org', country: 'KR' };

/** An e-mail with what is personal to its supporter (address, link tokens) put aside, to compare two. */
function mailShape(message: SinkMessage, address: string) {
  const neutral = (text: string) =>
    text
      .replaceAll(address, '<address>')
      .replace(/\/(confirm|withdraw|erase|receipts)\/[A-Za-z0-9_.-]+/g, '/$1/<token>')
      .replace(/<[^<>@\s]+@[^<>\s]+>/g, '<message-id>');
  return {
    subject: message.parsed.subject,
    text: neutral(message.parsed.text ?? ''),
    html: neutral(typeof message.parsed.html === 'string' ? message.parsed.html : ''),
  };
}

/** Signs through the form, as a browser would, and follows the redirect; what a supporter sees. */
async function signAndSee(app: TestPlatform['app'], slug: string, who: typeof FIRST) {
  const visitor = new Visitor(app);
  const response = await visitor.submit(`/letters/${slug}`, `/letters/${slug}/sign`, signingForm(who));
  const page = await visitor.get(response.headers.location ?? '/');
  return {
    visitor,
    status: response.status,
    location: response.headers.location,
    page: page.text,
  };
}

/** What a supporter sees when pressing the button in the confirmation e-mail. */
async function confirmAndSee(visitor: Visitor, confirmPath: string) {
  const response = await visitor.submit(confirmPath, confirmPath, {});
  const page = await visitor.get(response.headers.location ?? '/');
  return { status: response.status, location: response.headers.location, page: page.text };
}

const row = async (t: TestPlatform, email: string) =>
  (await signatureRows(t.platform.db)).find((r) => r.email === email)!;

describe('signing limits: a signature over the limit is answered like any other and never counts', () => {
  let t: TestPlatform;
  let letter: { id: number; slug: string };

  beforeEach(async () => {
    t = await createTestPlatform({ env: STRICT_LIMITS });
    letter = await createLetter(t.platform.db, t.clock.now(), { slug: 'let-them-choose' });
  });
  afterEach(async () => {
    await t.close();
  });

  it('answers a second signing within a minute from the same connection exactly as the first: status, redirect, page and e-mail', async () => {
    const first = await signAndSee(t.app, letter.slug, FIRST);
    t.clock.advance(10_000);
    const second = await signAndSee(t.app, letter.slug, SECOND);
    await t.drainOutbox();

    expect(first.status).toBe(303);
    expect(second.status).toBe(first.status);
    expect(second.location).toBe(first.location);
    expect(second.page).toBe(first.page);
    expect(mailShape(lastMailTo(t, SECOND.email), SECOND.email)).toEqual(
      mailShape(lastMailTo(t, FIRST.email), FIRST.email),
    );
    // Positive control: the comparison is not blind, the two are really told apart inside.
    expect((await row(t, FIRST.email)).suspect_reasons).toBeNull();
    expect((await row(t, SECOND.email)).suspect_reasons).toBe('rate-burst');
  });

  it('stores it with rate-burst; confirming it shows the confirmed page but moves no count, list, annex or export', async () => {
    const first = await signAndSee(t.app, letter.slug, FIRST);
    t.clock.advance(10_000);
    const second = await signAndSee(t.app, letter.slug, SECOND);
    await t.drainOutbox();

    const firstConfirmed = await confirmAndSee(
      first.visitor,
      signatureLinks(lastMailTo(t, FIRST.email)).confirm,
    );
    const secondConfirmed = await confirmAndSee(
      second.visitor,
      signatureLinks(lastMailTo(t, SECOND.email)).confirm,
    );
    expect(firstConfirmed.status).toBe(303);
    expect(firstConfirmed.location).toBe(`/letters/${letter.slug}/thank-you?lang=en`);
    expect(secondConfirmed).toEqual(firstConfirmed);
    // The page a held supporter sees is everyone's, so it may not promise they count at once (a
    // walkthrough on shared Wi-Fi was told "usually at once" and waited for a moderator for days).
    const thanks = textOf(mainOf((await second.visitor.get(secondConfirmed.location!)).text));
    expect(thanks).toContain('sometimes a moderator has to look first, which can take a few days');
    // Opening either link again says the same: already confirmed (a walkthrough saw the held one ask
    // to be confirmed again, contradicting the thank-you page it had just shown).
    const reopened = await Promise.all(
      [[first.visitor, FIRST.email] as const, [second.visitor, SECOND.email] as const].map(
        async ([visitor, email]) =>
          textOf(mainOf((await visitor.get(signatureLinks(lastMailTo(t, email)).confirm)).text)),
      ),
    );
    expect(reopened[0]).toContain('Your signature is already confirmed.');
    expect(reopened[1]).toBe(reopened[0]);

    const suspect = await row(t, SECOND.email);
    expect(suspect.status).toBe('pending');
    expect(suspect.confirmed_at).toBeNull();
    expect(suspect.confirm_requested_at).not.toBeNull();
    expect((await row(t, FIRST.email)).status).toBe('confirmed');

    expect(await storedCount(t, letter.slug)).toBe(1);
    expect(await shownCount(new Visitor(t.app), letter.slug)).toBe(1);
    expect(await t.platform.repositories.letters.countryCounts(letter.id)).toEqual([
      { code: 'KR', count: 1 },
    ]);
    // Both signed as "Kim Ji-hoon": the public list names one signatory only.
    const publicPage = (await new Visitor(t.app).get(`/letters/${letter.slug}`)).text;
    expect(textsByClass(publicPage, 'signatory__name')).toEqual(['Kim Ji-hoon']);
    const annex = await t.platform.repositories.signatures.annexRows(letter.id, t.clock.now());
    expect(annex).toHaveLength(1);
    const exported = [];
    for await (const r of t.platform.repositories.signatures.streamForExport({
      letter: letter.slug,
      statuses: ['confirmed'],
      country: undefined,
      from: undefined,
      to: undefined,
      consent: undefined,
    }))
      exported.push(r.email);
    expect(exported).toEqual([FIRST.email]);
  });

  it('leaves a silenced signature out of the compiled letter’s annex and the confirmed export', async () => {
    const other = { ...SECOND, name: 'Olena Kovalenko', country: 'UA' };
    const first = await signAndSee(t.app, letter.slug, FIRST);
    t.clock.advance(10_000);
    const second = await signAndSee(t.app, letter.slug, other);
    await t.drainOutbox();
    await confirmAndSee(first.visitor, signatureLinks(lastMailTo(t, FIRST.email)).confirm);
    await confirmAndSee(second.visitor, signatureLinks(lastMailTo(t, other.email)).confirm);

    const { user: admin, visitor: adminVisitor } = await signedIn(t.app, t.platform, 'admin');
    const before = t.sink.messages.length;
    const path = `/admin/letters/${letter.id}/delivery`;
    const test = await postForm(adminVisitor, path, `${path}/test`, [['request_key', 'annex-of-silenced']]);
    expect(test.status).toBe(303);
    await t.compileDeliveries();
    await t.drainOutbox();
    const compiled = t.sink.messages
      .slice(before)
      .filter((m) => m.parsed.headers.has('x-undersigned-letter'));
    expect(compiled).toHaveLength(1);
    expect(compiled[0]!.parsed.text).toContain(FIRST.name);
    expect(compiled[0]!.parsed.text).not.toContain(other.name);

    const chunks: string[] = [];
    const rows = await t.platform.exports.run(
      {
        filters: {
          letter: letter.slug,
          statuses: ['confirmed'],
          country: undefined,
          from: undefined,
          to: undefined,
          consent: undefined,
        },
        columns: ['name', 'country'],
        format: 'csv',
      },
      admin,
      { write: async (chunk: string | Buffer) => void chunks.push(chunk.toString()) },
    );
    expect(rows).toBe(1);
    expect(chunks.join('')).toContain(FIRST.name);
    expect(chunks.join('')).not.toContain(other.name);
  });

  it('marks a signing past the sustained limit rate-sustained, even spaced within the burst limit', async () => {
    // A burst limit of 3 a minute lets signings 30 s apart through; the sixth in five minutes is one too many.
    const spaced = await createTestPlatform({
      env: { SIGNING_LIMIT_BURST: '3/60', SIGNING_LIMIT_SUSTAINED: '5/300' },
    });
    try {
      const other = await createLetter(spaced.platform.db, spaced.clock.now(), { slug: 'let-them-choose' });
      for (let n = 1; n <= 6; n++) {
        await signAndSee(spaced.app, other.slug, { ...FIRST, email: `spaced-${n}@example.org` });
        spaced.clock.advance(30_000);
      }
      const reasons = (await signatureRows(spaced.platform.db)).map((r) => r.suspect_reasons);
      expect(reasons).toEqual([null, null, null, null, null, 'rate-sustained']);
    } finally {
      await spaced.close();
    }
  });

  it('does not limit another letter, another connection, or the same connection a minute later', async () => {
    const other = await createLetter(t.platform.db, t.clock.now(), { slug: 'protect-the-soldiers' });
    await signAndSee(t.app, letter.slug, FIRST);
    await signAndSee(t.app, other.slug, FIRST);
    t.clock.advance(60_000);
    await signAndSee(t.app, letter.slug, SECOND);
    expect((await signatureRows(t.platform.db)).map((r) => r.suspect_reasons)).toEqual([null, null, null]);
  });

  it('does not silence an earlier signature when its address is signed again too soon', async () => {
    const first = await signAndSee(t.app, letter.slug, FIRST);
    t.clock.advance(5_000);
    await signAndSee(t.app, letter.slug, FIRST);
    await t.drainOutbox();
    expect(t.sink.to(FIRST.email)).toHaveLength(2);
    await confirmAndSee(first.visitor, signatureLinks(lastMailTo(t, FIRST.email)).confirm);
    expect((await row(t, FIRST.email)).suspect_reasons).toBeNull();
    expect(await storedCount(t, letter.slug)).toBe(1);
  });
});

describe('the default signing limits', () => {
  let t: TestPlatform;
  let letter: { id: number; slug: string };

  beforeEach(async () => {
    // Empty settings count as unset: the platform's own defaults, not the test platform's roomy ones.
    t = await createTestPlatform({ env: { SIGNING_LIMIT_BURST: '', SIGNING_LIMIT_SUSTAINED: '' } });
    letter = await createLetter(t.platform.db, t.clock.now(), { slug: 'let-them-choose' });
  });
  afterEach(async () => {
    await t.close();
  });

  it('count three people signing from one connection within a minute (a household), and hold the fourth', async () => {
    const household = ['mother', 'father', 'daughter', 'stranger'].map((name) => ({
      ...FIRST,
      name: `Kim ${name}`,
      email: `${name}@example.org`,
    }));
    for (const person of household) {
      const signed = await signAndSee(t.app, letter.slug, person);
      expect(signed.status).toBe(303);
      t.clock.advance(10_000);
    }
    await t.drainOutbox();
    for (const person of household) {
      const visitor = new Visitor(t.app);
      await confirmAndSee(visitor, signatureLinks(lastMailTo(t, person.email)).confirm);
    }

    const reasons = await Promise.all(household.map(async (p) => (await row(t, p.email)).suspect_reasons));
    expect(reasons).toEqual([null, null, null, 'rate-burst']);
    expect(await storedCount(t, letter.slug)).toBe(3);
  });

  it('hold the eleventh signing from one connection within ten minutes, however spaced', async () => {
    for (let n = 1; n <= 11; n++) {
      await signAndSee(t.app, letter.slug, { ...FIRST, email: `spaced-${n}@example.org` });
      t.clock.advance(50_000);
    }
    const reasons = (await signatureRows(t.platform.db)).map((r) => r.suspect_reasons);
    expect(reasons.slice(0, 10)).toEqual(Array(10).fill(null));
    expect(reasons[10]).toBe('rate-sustained');
  });
});

describe('signing limits are kept in the database', () => {
  let t: TestPlatform;
  let letter: { id: number; slug: string };
  const others: Platform[] = [];
  /** Set when a test has shut the first platform down itself (the restart). */
  let restarted = false;

  beforeEach(async () => {
    restarted = false;
    t = await createTestPlatform({ env: STRICT_LIMITS });
    letter = await createLetter(t.platform.db, t.clock.now(), { slug: 'let-them-choose' });
  });
  afterEach(async () => {
    for (const platform of others.splice(0)) await platform.shutdown();
    if (!restarted) return t.close();
    await t.sink.stop();
    rmSync(t.dataDir, { recursive: true, force: true });
  });

  /** Another process on the same database file: its own connection, services and app. */
  async function anotherInstance(withWorker = false) {
    const platform = await wire(t.config, createLogger('silent'), {
      clock: t.clock,
      withWorker,
      ...(withWorker ? { transport: loopbackTransport(t.sink.port) } : {}),
      pdf: noPdf,
    });
    others.push(platform);
    return { platform, app: createApp(platform.appDeps) };
  }

  it('holds across two app instances on one database', async () => {
    const second = await anotherInstance();
    await signAndSee(t.app, letter.slug, FIRST);
    t.clock.advance(10_000);
    await signAndSee(second.app, letter.slug, SECOND);
    expect((await row(t, SECOND.email)).suspect_reasons).toBe('rate-burst');
  });

  it('survives a restart (a new app on the same database file)', async () => {
    await signAndSee(t.app, letter.slug, FIRST);
    await t.platform.shutdown();
    restarted = true;
    t.clock.advance(10_000);
    const again = await anotherInstance(true);
    await signAndSee(again.app, letter.slug, SECOND);
    const suspect = await again.platform.db
      .selectFrom('signatures')
      .select('suspect_reasons')
      .where('email', '=', SECOND.email)
      .executeTakeFirstOrThrow();
    expect(suspect.suspect_reasons).toBe('rate-burst');
  });

  it('forgets hits older than the longest window when the scheduler prunes', async () => {
    await signAndSee(t.app, letter.slug, FIRST);
    const hits = () =>
      t.platform.db
        .selectFrom('signing_hits')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
    await pruneLimits(t.platform.appDeps.limits, t.config.signingLimits, t.clock);
    expect(Number((await hits()).n)).toBe(1);
    t.clock.advance(300_001);
    await pruneLimits(t.platform.appDeps.limits, t.config.signingLimits, t.clock);
    expect(Number((await hits()).n)).toBe(0);
  });
});
