import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import { keyedHash } from '../../server/lib/keyed-hash.js';
import { loginAs, signedIn } from '../support/accounts.js';
import { fieldErrors, formFieldsFor, postForm, withField, type FormFields } from '../support/admin-forms.js';
import { BULK_PREVIEW_ROWS } from '../../server/signatures/moderation-service.js';
import { createLetter, signingForm } from '../support/factories.js';
import { storeSignature } from '../support/stored-signatures.js';
import { byId, hrefsIn, innerHtml, mainOf, startTags, textOf, textsByClass } from '../support/html.js';
import { expectNoCsrfToken, Visitor } from '../support/http.js';
import type { SinkMessage } from '../support/smtp-sink.js';
import {
  ERROR_TITLES,
  expectErrorPage,
  shownCount,
  signatureLinks,
  storedCount,
} from '../support/signing.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

const SECRET = 'test-secret-test-secret-test-secret-0123';

interface Supporter {
  name: string;
  email: string;
  country: string;
}

const KIM: Supporter = { name: 'Kim Ji-hoon', email: 'ji-hoon.kim@example.org', country: 'KR' };
const KIM_KO: Supporter = { name: '김지훈', email: 'kim.jh@mail.example.net', country: 'KR' };
const OLENA: Supporter = { name: 'Олена Коваленко', email: 'olena.kovalenko@example.org', country: 'UA' };
const JOHN: Supporter = { name: 'John Smith', email: 'john.smith@example.com', country: 'GB' };
const bot = (n: number): Supporter => ({
  name: `Mass Signer ${n}`,
  email: `mass-${n}@spam.example.net`,
  country: 'US',
});

const IP_A = '203.0.113.10';
const IP_B = '198.51.100.20';

const MODERATION_ERRORS = {
  criteria: 'Give an e-mail domain, a connection hash, or both ends of a time window.',
  date: 'Enter a real date.',
  domain: 'Enter a domain, like example.org.',
};

describe('moderating signatures', () => {
  let t: TestPlatform;
  let admin: User;
  let adminVisitor: Visitor;
  let letter: { id: number; slug: string };
  let otherLetter: { id: number; slug: string };

  beforeEach(async () => {
    // Behind a proxy, so each supporter's connection can be told apart by X-Forwarded-For.
    t = await createTestPlatform({ env: { TRUST_PROXY: '1' } });
    ({ user: admin, visitor: adminVisitor } = await signedIn(t.app, t.platform, 'admin'));
    letter = await createLetter(t.platform.db, t.clock.now(), { slug: 'let-them-choose' });
    otherLetter = await createLetter(t.platform.db, t.clock.now(), { slug: 'protect-the-soldiers' });
  });
  afterEach(async () => {
    await t.close();
  });

  /** Signs through the letter's form from `ip`, as a browser behind the proxy would. */
  async function sign(s: Supporter, options: { slug?: string; ip?: string; display?: string } = {}) {
    const slug = options.slug ?? letter.slug;
    const visitor = new Visitor(t.app);
    expectNoCsrfToken((await visitor.get(`/letters/${slug}`)).text);
    const response = await visitor.agent
      .post(`/letters/${slug}/sign`)
      .set('Accept', 'text/html')
      .set('X-Forwarded-For', options.ip ?? IP_A)
      .type('form')
      .send({
        ...signingForm({
          name: s.name,
          email: s.email,
          country: s.country,
          display: options.display ?? 'full',
        }),
      });
    expect(response.status, `signing as ${s.email}`).toBe(303);
    return visitor;
  }

  /** Signs and confirms from the e-mail's link. */
  async function signAndConfirm(s: Supporter, options: { slug?: string; ip?: string } = {}) {
    const visitor = await sign(s, options);
    await t.drainOutbox();
    const mail = t.sink.to(s.email).at(-1);
    expect(mail, `confirmation mail to ${s.email}`).toBeDefined();
    const { confirm } = signatureLinks(mail!);
    const path = confirm.replace(/^https?:\/\/[^/]+/, '');
    const confirmed = await visitor.submit(path, path, {});
    expect(confirmed.status).toBe(303);
  }

  const signatureOf = (email: string) =>
    t.platform.db
      .selectFrom('signatures')
      .selectAll()
      .where('email', '=', email)
      .orderBy('id')
      .executeTakeFirstOrThrow();

  const statuses = async () =>
    Object.fromEntries(
      (await t.platform.db.selectFrom('signatures').select(['email', 'status']).orderBy('id').execute()).map(
        (r) => [r.email, r.status],
      ),
    );

  const countryCounts = (letterId: number) => t.platform.repositories.letters.countryCounts(letterId);

  const auditRows = (action: string) =>
    t.platform.db.selectFrom('audit_events').selectAll().where('action', '=', action).orderBy('id').execute();

  /** The e-mail addresses the moderation page lists, in order. */
  async function listed(query: string): Promise<string[]> {
    const page = await adminVisitor.get(`/admin/signatures${query}`);
    expect(page.status, `/admin/signatures${query}`).toBe(200);
    return textsByClass(mainOf(page.text), 'wrap-anywhere');
  }

  /** The confirmed supporters' names the public letter page shows. */
  async function publicNames(slug: string): Promise<string[]> {
    const page = await new Visitor(t.app).get(`/letters/${slug}`);
    return textsByClass(page.text, 'signatory__name');
  }

  /** Sends a test delivery to the admin and returns the compiled letter's text (with its annex). */
  async function compiledLetter(): Promise<string> {
    const before = t.sink.messages.length;
    const path = `/admin/letters/${letter.id}/delivery`;
    const response = await postForm(adminVisitor, path, `${path}/test`, [
      ['request_key', randomBytes(12).toString('base64url')],
    ]);
    expect(response.status).toBe(303);
    await t.compileDeliveries();
    await t.drainOutbox();
    const compiled = t.sink.messages
      .slice(before)
      .filter((m: SinkMessage) => m.parsed.headers.has('x-undersigned-letter'));
    expect(compiled).toHaveLength(1);
    return compiled[0]!.parsed.text ?? '';
  }

  /** The hidden fields and text inputs of the bulk page's confirmation form (the one that posts). */
  function confirmationForm(html: string): FormFields {
    const form = startTags(html, 'form').find(
      (f) => f.attrs.action === '/admin/signatures/bulk' && f.attrs.method === 'post',
    );
    if (!form) throw new Error('the page offers no confirmation');
    return startTags(innerHtml(html, form), 'input')
      .filter((i) => i.attrs.name && i.attrs.name !== '_csrf')
      .map((i) => [i.attrs.name!, i.attrs.value ?? '']);
  }

  /** The preview's heading ("3 signatures would be invalidated"). */
  const previewHeading = (html: string) => {
    const h2 = startTags(html, 'h2').find((h) => h.attrs.id === 'preview-heading');
    return h2 ? textOf(innerHtml(html, h2)) : undefined;
  };

  const errorSummary = (html: string) => textOf(mainOf(html));

  describe('search', () => {
    beforeEach(async () => {
      await signAndConfirm(KIM);
      await signAndConfirm(KIM_KO);
      t.clock.advance(2 * 86_400_000); // 2026-11-25
      await signAndConfirm(OLENA);
      await sign(JOHN, { slug: otherLetter.slug });
      // Two days on, the admin's session has lapsed: they log in again.
      adminVisitor = await loginAs(t.app, admin);
    });

    it('finds signatures by any part of the name, in any letter case', async () => {
      expect(await listed('?name=ji-HOON')).toEqual([KIM.email]);
      expect(await listed('?name=SMITH')).toEqual([JOHN.email]);
    });

    it('finds Korean and Ukrainian names, whatever the letter case typed', async () => {
      expect(await listed(`?name=${encodeURIComponent('지훈')}`)).toEqual([KIM_KO.email]);
      expect(await listed(`?name=${encodeURIComponent('Коваленко')}`)).toEqual([OLENA.email]);
      expect(await listed(`?name=${encodeURIComponent('олена')}`)).toEqual([OLENA.email]);
      expect(await listed(`?name=${encodeURIComponent('КОВАЛЕНКО')}`)).toEqual([OLENA.email]);
    });

    it("names each row's status in the singular, the filter's choices in the plural (Ukrainian)", async () => {
      const page = (await adminVisitor.get('/admin/signatures?lang=uk')).text;
      const badges = textsByClass(page, 'badge--confirmed');
      expect(badges.length).toBeGreaterThan(0);
      for (const badge of badges) expect(badge).toBe('підтверджено');
      const options = startTags(page, 'option').map((o) => textOf(innerHtml(page, o)));
      expect(options).toContain('підтверджені');
    });

    it('says beside a full name how its supporter chose to appear, so it is not copied as more', async () => {
      const PARK: Supporter = { name: 'Park Seo-yeon', email: 'park.seo-yeon@example.net', country: 'KR' };
      const HIDDEN: Supporter = { name: 'Choi Min-jun', email: 'choi.min-jun@example.net', country: 'KR' };
      await sign(PARK, { display: 'initials' });
      await sign(HIDDEN, { display: 'hidden' });
      const rowOf = (html: string, email: string) => {
        const main = mainOf(html);
        const row = startTags(main, 'tr').find((r) => innerHtml(main, r).includes(email));
        return textOf(innerHtml(main, row!));
      };
      const page = (await adminVisitor.get('/admin/signatures')).text;
      expect(rowOf(page, PARK.email)).toContain('Chose initials: shown as P. S.-Y.');
      expect(rowOf(page, HIDDEN.email)).toContain('Chose not to be shown: counted only');
      expect(rowOf(page, OLENA.email)).not.toContain('Chose');
      const korean = (await adminVisitor.get('/admin/signatures?lang=ko')).text;
      expect(rowOf(korean, PARK.email)).toContain('머리글자 선택(표시: P. S.-Y.)');
    });

    it('finds signatures by any part of the e-mail address', async () => {
      expect(await listed('?email=KOVALENKO%40')).toEqual([OLENA.email]);
      expect(await listed('?email=example.org')).toEqual([OLENA.email, KIM.email]);
      expect(await listed('?email=nobody')).toEqual([]);
    });

    it('names nobody who withdrew, nor finds them by name or address, as their supporter was told', async () => {
      const { withdraw } = signatureLinks(t.sink.to(KIM.email).at(-1)!);
      const path = withdraw.replace(/^https?:\/\/[^/]+/, '');
      expect((await new Visitor(t.app).submit(path, path, {})).status).toBe(303);
      const page = mainOf((await adminVisitor.get('/admin/signatures?status=withdrawn')).text);
      expect(textOf(page)).toContain('(withdrawn: name and address not shown)');
      expect(page).not.toContain(KIM.email);
      expect(page).not.toContain(KIM.name);
      // Its status, country and date stay: the history of the count.
      expect(textOf(page)).toContain('South Korea');
      expect(await listed('?name=ji-HOON')).toEqual([]);
      expect(await listed(`?email=${encodeURIComponent(KIM.email)}`)).toEqual([]);
      expect(await listed('?email=example.org')).toEqual([OLENA.email]);
    });

    it('finds signatures by country', async () => {
      expect(await listed('?country=UA')).toEqual([OLENA.email]);
      expect((await listed('?country=KR')).sort()).toEqual([KIM.email, KIM_KO.email].sort());
    });

    it('finds signatures by the UTC day they were made', async () => {
      expect((await listed('?from=2026-11-23&to=2026-11-23')).sort()).toEqual(
        [KIM.email, KIM_KO.email].sort(),
      );
      expect((await listed('?from=2026-11-24')).sort()).toEqual([JOHN.email, OLENA.email].sort());
      expect(await listed('?to=2026-11-22')).toEqual([]);
    });

    it('combines filters: letter, status and name', async () => {
      expect(await listed(`?letter=${otherLetter.slug}`)).toEqual([JOHN.email]);
      expect(await listed('?status=pending')).toEqual([JOHN.email]);
      expect(await listed(`?letter=${letter.slug}&name=kim`)).toEqual([KIM.email]);
    });

    it('offers the letters by title to narrow by, on the search and the bulk page, keeping the one chosen', async () => {
      // A slug typed by hand found nothing when mistyped, and said nothing about why.
      for (const path of ['/admin/signatures', '/admin/signatures/bulk']) {
        const page = (await adminVisitor.get(`${path}?letter=${otherLetter.slug}`)).text;
        const select = startTags(page, 'select').find((s) => s.attrs.name === 'letter');
        if (!select) throw new Error(`${path} offers no list of letters`);
        const options = startTags(innerHtml(page, select), 'option');
        expect(options.map((o) => o.attrs.value).sort(), path).toEqual(
          ['', letter.slug, otherLetter.slug].sort(),
        );
        expect(
          options.filter((o) => 'selected' in o.attrs).map((o) => o.attrs.value),
          path,
        ).toEqual([otherLetter.slug]);
      }
      // An old link's letter that is gone stays chosen, so the page shows what it searched for.
      const gone = (await adminVisitor.get('/admin/signatures?letter=no-such-letter')).text;
      const chosen = startTags(gone, 'option').filter((o) => 'selected' in o.attrs);
      expect(chosen.map((o) => o.attrs.value)).toContain('no-such-letter');
    });

    it('answers a malformed filter with 400 and says what is wrong, listing nothing', async () => {
      for (const query of ['?from=2026-13-01', '?to=2026-02-30', '?from=yesterday']) {
        const page = await adminVisitor.get(`/admin/signatures${query}`);
        expect(page.status, query).toBe(400);
        expect(errorSummary(page.text), query).toContain(MODERATION_ERRORS.date);
        expect(textsByClass(page.text, 'wrap-anywhere'), query).toEqual([]);
      }
      const badCountry = await adminVisitor.get('/admin/signatures?country=XX');
      expect(badCountry.status).toBe(400);
      expect(errorSummary(badCountry.text)).toContain('Choose a country from the list.');
      const badStatus = await adminVisitor.get('/admin/signatures?status=deleted');
      expect(badStatus.status).toBe(400);
      expect(errorSummary(badStatus.text)).toContain('Choose a status from the list.');
      // Days the wrong way round said only "No signature matches".
      const reversed = await adminVisitor.get('/admin/signatures?from=2026-11-24&to=2026-11-23');
      expect(reversed.status).toBe(400);
      expect(errorSummary(reversed.text)).toContain('The end date is before the start date.');
      const bulk = await adminVisitor.get('/admin/signatures/bulk?from=2026-11-24&to=2026-11-23');
      expect(bulk.status).toBe(400);
      expect(errorSummary(bulk.text)).toContain('The end date is before the start date.');
    });
  });

  describe('invalidating and restoring one signature', () => {
    beforeEach(async () => {
      await signAndConfirm(KIM);
      await signAndConfirm(OLENA);
      await signAndConfirm(JOHN);
    });

    async function invalidate(email: string, reason: string) {
      const { id } = await signatureOf(email);
      return postForm(adminVisitor, '/admin/signatures', `/admin/signatures/${id}/invalidate`, [
        ['reason', reason],
        ['return_to', '/admin/signatures?country=UA'],
      ]);
    }

    async function restore(email: string) {
      const { id } = await signatureOf(email);
      return postForm(adminVisitor, '/admin/signatures', `/admin/signatures/${id}/restore`, [
        ['return_to', '/admin/signatures'],
      ]);
    }

    it('takes a confirmed signature out of the count, the public list, the country breakdown and the annex, and keeps it on record', async () => {
      expect(await storedCount(t, letter.slug)).toBe(3);
      expect(await countryCounts(letter.id)).toEqual([
        { code: 'GB', count: 1 },
        { code: 'KR', count: 1 },
        { code: 'UA', count: 1 },
      ]);
      expect(await compiledLetter()).toContain(OLENA.name);

      const response = await invalidate(OLENA.email, 'Signed with a stolen address');
      expect(response.status).toBe(303);
      expect(response.headers.location).toBe('/admin/signatures?country=UA&done=invalidated');

      expect(await storedCount(t, letter.slug)).toBe(2);
      expect(await shownCount(new Visitor(t.app), letter.slug)).toBe(2);
      const names = await publicNames(letter.slug);
      expect(names).not.toContain(OLENA.name);
      expect(names).toEqual(expect.arrayContaining([KIM.name, JOHN.name]));
      expect(await countryCounts(letter.id)).toEqual([
        { code: 'GB', count: 1 },
        { code: 'KR', count: 1 },
      ]);
      const annex = await compiledLetter();
      expect(annex).not.toContain(OLENA.name);
      expect(annex).toContain(KIM.name);
      expect(annex).toMatch(/\b2 people signed/);

      // Still there, with its reason and its person, for the record.
      expect(await signatureOf(OLENA.email)).toMatchObject({
        status: 'invalidated',
        full_name: OLENA.name,
        invalidated_reason: 'Signed with a stolen address',
        status_before_invalidation: 'confirmed',
      });
      const page = await adminVisitor.get('/admin/signatures?country=UA&done=invalidated');
      const main = textOf(mainOf(page.text));
      expect(main).toContain('The signature was invalidated.');
      expect(main).toContain('Signed with a stolen address');
      expect(main).toContain('Invalidated');
    });

    it('restores a confirmed signature as it was: it counts again everywhere', async () => {
      await invalidate(OLENA.email, 'mistake');
      const response = await restore(OLENA.email);
      expect(response.status).toBe(303);
      expect(response.headers.location).toBe('/admin/signatures?done=restored');
      expect(await storedCount(t, letter.slug)).toBe(3);
      expect(await shownCount(new Visitor(t.app), letter.slug)).toBe(3);
      expect(await publicNames(letter.slug)).toContain(OLENA.name);
      expect(await countryCounts(letter.id)).toContainEqual({ code: 'UA', count: 1 });
      expect(await compiledLetter()).toContain(OLENA.name);
      expect(await signatureOf(OLENA.email)).toMatchObject({
        status: 'confirmed',
        invalidated_reason: null,
        invalidated_at: null,
        status_before_invalidation: null,
      });
    });

    it('restores a pending signature to pending: it does not count until confirmed', async () => {
      const pending = bot(1);
      const visitor = await sign(pending);
      await invalidate(pending.email, 'looked automated');
      expect((await signatureOf(pending.email)).status).toBe('invalidated');
      expect(await storedCount(t, letter.slug)).toBe(3);

      expect((await restore(pending.email)).status).toBe(303);
      expect((await signatureOf(pending.email)).status).toBe('pending');
      expect(await storedCount(t, letter.slug)).toBe(3);
      // Its confirmation link still works, and only then does it count.
      await t.drainOutbox();
      const { confirm } = signatureLinks(t.sink.to(pending.email).at(-1)!);
      const path = confirm.replace(/^https?:\/\/[^/]+/, '');
      expect((await visitor.submit(path, path, {})).status).toBe(303);
      expect(await storedCount(t, letter.slug)).toBe(4);
    });

    it('refuses to invalidate twice or to restore a standing signature, changing nothing', async () => {
      await invalidate(OLENA.email, 'first');
      const again = await invalidate(OLENA.email, 'second');
      expectErrorPage(again, 409, ERROR_TITLES[409]);
      expect(await signatureOf(OLENA.email)).toMatchObject({ invalidated_reason: 'first' });
      expectErrorPage(await restore(KIM.email), 409, ERROR_TITLES[409]);
      expect(await storedCount(t, letter.slug)).toBe(2);
      expect(await auditRows('signature-invalidated')).toHaveLength(1);
      expect(await auditRows('signature-restored')).toHaveLength(0);
    });

    it('comes back to this site after a step, whatever return_to a crafted link carried', async () => {
      // "/.//evil.example" passed as a local path, and adding the notice to it resolved the dot
      // segment: the answer was "Location: //evil.example/x?done=…", another site.
      const { id } = await signatureOf(OLENA.email);
      for (const crafted of ['/.//evil.example/x', '/..//evil.example', '//evil.example']) {
        const steps: [string, FormFields][] = [
          ['invalidate', [['reason', 'A test of where the step comes back to']]],
          ['restore', []],
        ];
        for (const [step, fields] of steps) {
          const done = await postForm(adminVisitor, '/admin/signatures', `/admin/signatures/${id}/${step}`, [
            ...fields,
            ['return_to', crafted],
          ]);
          expect(done.status, `${step} ${crafted}`).toBe(303);
          expect(done.headers.location, `${step} ${crafted}`).toMatch(/^\/admin\/signatures\?/);
        }
      }
    });

    it('asks to confirm before invalidating: the page shows the signature and asks for a reason, and nothing changes yet', async () => {
      const list = await adminVisitor.get('/admin/signatures?country=UA');
      const links = hrefsIn(mainOf(list.text)).filter((href) => href.includes('/invalidate'));
      const { id } = await signatureOf(OLENA.email);
      expect(links).toEqual([
        `/admin/signatures/${id}/invalidate?return_to=${encodeURIComponent('/admin/signatures?country=UA')}`,
      ]);
      // The list itself changes nothing: no form on it posts an invalidation.
      expect(startTags(list.text, 'form').some((f) => (f.attrs.action ?? '').endsWith('/invalidate'))).toBe(
        false,
      );

      const page = await adminVisitor.get(links[0]!);
      expect(page.status).toBe(200);
      const summary = textOf(innerHtml(page.text, byId(page.text, 'signature-summary')!));
      for (const shown of [OLENA.name, OLENA.email, 'Ukraine', 'let-them-choose', 'confirmed'])
        expect(summary).toContain(shown);
      const reason = startTags(page.text, 'input').find((i) => i.attrs.name === 'reason');
      expect(reason?.attrs).toMatchObject({ required: '', maxlength: '500' });
      expect(await storedCount(t, letter.slug)).toBe(3);
      expect((await signatureOf(OLENA.email)).status).toBe('confirmed');

      const fields = formFieldsFor(page.text, `/admin/signatures/${id}/invalidate`);
      expect(fields).toContainEqual(['return_to', '/admin/signatures?country=UA']);
      const done = await postForm(
        adminVisitor,
        links[0]!,
        `/admin/signatures/${id}/invalidate`,
        withField(fields, 'reason', 'Signed with a stolen address'),
      );
      expect(done.status).toBe(303);
      expect(done.headers.location).toBe('/admin/signatures?country=UA&done=invalidated');
      expect(await signatureOf(OLENA.email)).toMatchObject({
        status: 'invalidated',
        invalidated_reason: 'Signed with a stolen address',
      });
    });

    it('refuses to invalidate without a reason, or with one too long (400), showing the signature again with the input kept', async () => {
      const { id } = await signatureOf(OLENA.email);
      const path = `/admin/signatures/${id}/invalidate`;
      for (const [reason, message] of [
        ['', 'Give the reason for invalidating.'],
        ['   ', 'Give the reason for invalidating.'],
        // Characters nobody can see are no reason either.
        ['\u3164\u200B', 'Give the reason for invalidating.'],
        ['x'.repeat(501), 'Keep the reason to 500 characters or fewer.'],
      ] as const) {
        const response = await postForm(adminVisitor, path, path, [
          ['reason', reason],
          ['return_to', '/admin/signatures?country=UA'],
        ]);
        expect(response.status, JSON.stringify(reason)).toBe(400);
        expect(fieldErrors(response.text, 'field-reason')).toEqual([message]);
        expect(textOf(mainOf(response.text))).toContain(OLENA.name);
        const fields = formFieldsFor(response.text, path);
        expect(fields).toContainEqual(['reason', reason.trim()]);
        expect(fields).toContainEqual(['return_to', '/admin/signatures?country=UA']);
      }
      expect((await signatureOf(OLENA.email)).status).toBe('confirmed');
      expect(await storedCount(t, letter.slug)).toBe(3);
      expect(await auditRows('signature-invalidated')).toEqual([]);
    });

    it('offers no confirmation for a signature that is not standing (409) or not there (404)', async () => {
      await invalidate(OLENA.email, 'first');
      const { id } = await signatureOf(OLENA.email);
      expectErrorPage(await adminVisitor.get(`/admin/signatures/${id}/invalidate`), 409, ERROR_TITLES[409]);
      expectErrorPage(
        await adminVisitor.get(`/admin/signatures/${id + 1000}/invalidate`),
        404,
        ERROR_TITLES[404],
      );
    });

    it('records each invalidation and restoration in the audit log, with who, which and why', async () => {
      const { id } = await signatureOf(OLENA.email);
      await invalidate(OLENA.email, 'Signed with a stolen address');
      await restore(OLENA.email);
      const [invalidated] = await auditRows('signature-invalidated');
      expect(invalidated).toMatchObject({
        actor_user_id: admin.id,
        actor_email: admin.email,
        target_type: 'signature',
        target_id: String(id),
        at: t.clock.now().toISOString(),
      });
      expect(JSON.parse(invalidated!.details)).toEqual({
        letter: letter.id,
        reason: 'Signed with a stolen address',
      });
      const [restored] = await auditRows('signature-restored');
      expect(restored).toMatchObject({ actor_user_id: admin.id, target_id: String(id) });
      expect(JSON.parse(restored!.details)).toEqual({ letter: letter.id, to: 'confirmed' });
    });
  });

  describe('bulk invalidation', () => {
    const ipHash = (ip: string) => keyedHash(SECRET, 'ip', ip);

    beforeEach(async () => {
      await signAndConfirm(KIM, { ip: IP_B });
      await signAndConfirm(OLENA, { ip: IP_B });
      t.clock.advance(60 * 60_000); // 11:00
      await signAndConfirm(bot(1), { ip: IP_A });
      await signAndConfirm(bot(2), { ip: IP_A });
      await sign(bot(3), { ip: IP_A });
      await sign(bot(4), { ip: IP_A, slug: otherLetter.slug });
      t.clock.advance(60 * 60_000); // 12:00
      await signAndConfirm(JOHN, { ip: IP_B });
    });

    async function preview(query: string) {
      const page = await adminVisitor.get(`/admin/signatures/bulk?${query}`);
      expect(page.status, query).toBe(200);
      return page;
    }

    const confirmFrom = (formPage: string, fields: FormFields) =>
      postForm(adminVisitor, formPage, '/admin/signatures/bulk', fields);

    it('by connection, from the moderation list filtered by it: the bulk link keeps the connection', async () => {
      // The hash is only ever shown cut short: typed into the bulk form, it matched nothing.
      const query = `ip=${encodeURIComponent(ipHash(IP_A))}`;
      const list = await adminVisitor.get(`/admin/signatures?${query}`);
      const link = startTags(list.text, 'a').find((a) => a.attrs.id === 'bulk-link');
      expect(link?.attrs.href).toBe(`/admin/signatures/bulk?ip=${ipHash(IP_A)}`);
      const page = await preview(new URL(link!.attrs.href!, 'http://x').search.slice(1));
      expect(previewHeading(page.text)).toBe('4 signatures would be invalidated');
      // Unfiltered, the link is the empty form.
      const all = await adminVisitor.get('/admin/signatures');
      expect(startTags(all.text, 'a').find((a) => a.attrs.id === 'bulk-link')?.attrs.href).toBe(
        '/admin/signatures/bulk',
      );
    });

    it('by connection: shows how many would change, changes nothing, then invalidates them once confirmed', async () => {
      const before = await statuses();
      const query = `ip=${encodeURIComponent(ipHash(IP_A))}`;
      const page = await preview(query);
      expect(previewHeading(page.text)).toBe('4 signatures would be invalidated');
      expect(textOf(mainOf(page.text))).toContain('2 confirmed, 2 pending, on 2 letters.');
      expect(await statuses()).toEqual(before);
      expect(await storedCount(t, letter.slug)).toBe(5);
      expect(await countryCounts(letter.id)).toContainEqual({ code: 'US', count: 2 });

      const fields = confirmationForm(page.text);
      expect(fields).toContainEqual(['expected', '4']);
      const done = await confirmFrom(`/admin/signatures/bulk?${query}`, [
        ...fields.filter(([n]) => n !== 'reason'),
        ['reason', 'one connection, many names'],
      ]);
      expect(done.status).toBe(303);
      expect(done.headers.location).toMatch(/^\/admin\/signatures\?done=bulk&count=4&batch=\d+$/);
      const after = await statuses();
      for (const n of [1, 2, 3, 4]) expect(after[bot(n).email]).toBe('invalidated');
      for (const s of [KIM, OLENA, JOHN]) expect(after[s.email]).toBe('confirmed');
      expect(await storedCount(t, letter.slug)).toBe(3);
      expect(await countryCounts(letter.id)).not.toContainEqual(expect.objectContaining({ code: 'US' }));
      expect((await signatureOf(bot(1).email)).invalidated_reason).toBe('one connection, many names');

      const [entry] = await auditRows('signatures-bulk-invalidated');
      expect(entry).toMatchObject({ actor_user_id: admin.id, actor_email: admin.email });
      const details = JSON.parse(entry!.details) as Record<string, unknown>;
      expect(details).toMatchObject({ count: 4, reason: 'one connection, many names', letter: 'all' });
      // The hash is shortened in the log.
      expect(details.ipHash).toBe(`${ipHash(IP_A).slice(0, 8)}…`);
      const notice = await adminVisitor.get(done.headers.location!);
      expect(textOf(mainOf(notice.text))).toContain('4 signatures were invalidated.');
    });

    it('by e-mail domain, in any letter case and with a leading @', async () => {
      const page = await preview('domain=%40SPAM.Example.NET');
      expect(previewHeading(page.text)).toBe('4 signatures would be invalidated');
      const done = await confirmFrom(
        '/admin/signatures/bulk?domain=spam.example.net',
        withField(confirmationForm(page.text), 'reason', 'throwaway domain'),
      );
      expect(done.status).toBe(303);
      const after = await statuses();
      expect(Object.values(after).filter((s) => s === 'invalidated')).toHaveLength(4);
      expect(after[KIM.email]).toBe('confirmed');
      expect(JSON.parse((await auditRows('signatures-bulk-invalidated'))[0]!.details)).toMatchObject({
        count: 4,
        emailDomain: 'spam.example.net',
      });
      // Asked again, nothing still stands to invalidate: said in words, not as "0 confirmed, 0 pending, on 0 letters".
      const again = await preview('domain=spam.example.net');
      expect(previewHeading(again.text)).toBe('No signature would be invalidated');
      expect(textOf(mainOf(again.text))).toContain('those already invalidated or withdrawn stay as they are');
      expect(textOf(mainOf(again.text))).not.toContain('0 confirmed');
    });

    it('by time window, on one letter', async () => {
      const before = await statuses();
      const query = `from=2026-11-23T10:30&to=2026-11-23T11:30&letter=${letter.slug}`;
      const page = await preview(query);
      expect(previewHeading(page.text)).toBe('3 signatures would be invalidated');
      // One letter is one letter, not "1 letters".
      expect(textOf(mainOf(page.text))).toMatch(/, on 1 letter\./);
      expect(await statuses()).toEqual(before);
      const done = await confirmFrom(
        `/admin/signatures/bulk?${query}`,
        withField(confirmationForm(page.text), 'reason', 'a burst of signatures'),
      );
      expect(done.status).toBe(303);
      const after = await statuses();
      for (const n of [1, 2, 3]) expect(after[bot(n).email]).toBe('invalidated');
      expect(after[bot(4).email]).toBe('pending');
      expect(after[JOHN.email]).toBe('confirmed');
      expect(await storedCount(t, letter.slug)).toBe(3);
      const details = JSON.parse((await auditRows('signatures-bulk-invalidated'))[0]!.details) as object;
      expect(details).toMatchObject({
        count: 3,
        letter: letter.slug,
        from: '2026-11-23T10:30:00.000Z',
        to: '2026-11-23T11:30:00.000Z',
      });
    });

    it('lists the signatures the preview would invalidate: name, letter, country, status and date, never an address', async () => {
      const page = await preview(`ip=${encodeURIComponent(ipHash(IP_A))}`);
      const table = innerHtml(page.text, byId(page.text, 'preview-rows')!);
      const rows = table
        .split('</tr>')
        .filter((row) => row.includes('<tr') && !row.includes('<th scope="col"'))
        .map(textOf);
      expect(rows).toHaveLength(4);
      expect(rows[0]).toContain(bot(1).name);
      expect(rows[0]).toContain('let-them-choose');
      expect(rows[0]).toContain('United States');
      expect(rows[0]).toContain('confirmed');
      expect(rows[3]).toContain(bot(4).name);
      expect(rows[3]).toContain('protect-the-soldiers');
      expect(rows[3]).toContain('pending (not confirmed)');
      expect(textOf(mainOf(page.text))).not.toContain('@spam.example.net');
      expect(byId(page.text, 'preview-more')).toBeUndefined();
    });

    it('lists at most the first rows of a large preview and says how many more', async () => {
      const extra = BULK_PREVIEW_ROWS + 3 - 4;
      for (let n = 0; n < extra; n++) {
        await storeSignature(t.platform.db, SECRET, letter.id, {
          name: `Stored Signer ${n}`,
          email: `stored-${n}@spam.example.net`,
          status: 'pending',
          country: 'US',
          createdAt: t.clock.now().toISOString(),
        });
      }
      const page = await preview('domain=spam.example.net');
      expect(previewHeading(page.text)).toBe(`${BULK_PREVIEW_ROWS + 3} signatures would be invalidated`);
      const table = innerHtml(page.text, byId(page.text, 'preview-rows')!);
      expect(table.split('<th scope="row"').length - 1).toBe(BULK_PREVIEW_ROWS);
      expect(textOf(innerHtml(page.text, byId(page.text, 'preview-more')!))).toBe('… and 3 more.');
    });

    it('refuses to invalidate in bulk without a reason (400): the preview again, criteria and count kept, nothing changed', async () => {
      const before = await statuses();
      const query = `ip=${encodeURIComponent(ipHash(IP_A))}`;
      const page = await preview(query);
      const response = await confirmFrom(
        `/admin/signatures/bulk?${query}`,
        withField(confirmationForm(page.text), 'reason', ''),
      );
      expect(response.status).toBe(400);
      expect(fieldErrors(response.text, 'field-reason')).toEqual(['Give the reason for invalidating.']);
      expect(previewHeading(response.text)).toBe('4 signatures would be invalidated');
      expect(confirmationForm(response.text)).toEqual(confirmationForm(page.text));
      expect(await statuses()).toEqual(before);
      expect(await auditRows('signatures-bulk-invalidated')).toEqual([]);
    });

    it('changes nothing when a signature arrived since the preview, and shows the new number (409)', async () => {
      const query = `ip=${encodeURIComponent(ipHash(IP_A))}`;
      const page = await preview(query);
      const seen = withField(confirmationForm(page.text), 'reason', 'one connection, many names');
      expect(seen).toContainEqual(['expected', '4']);
      await sign(bot(5), { ip: IP_A });
      const before = await statuses();

      const stale = await confirmFrom(`/admin/signatures/bulk?${query}`, seen);
      expect(stale.status).toBe(409);
      expect(await statuses()).toEqual(before);
      expect(await storedCount(t, letter.slug)).toBe(5);
      expect(textOf(mainOf(stale.text))).toContain('The number changed since the preview');
      expect(previewHeading(stale.text)).toBe('5 signatures would be invalidated');
      expect(await auditRows('signatures-bulk-invalidated')).toEqual([]);

      // Confirming the new number works; the reason given is kept in the form.
      const fresh = confirmationForm(stale.text);
      expect(fresh).toContainEqual(['expected', '5']);
      expect(fresh).toContainEqual(['reason', 'one connection, many names']);
      const done = await confirmFrom(`/admin/signatures/bulk?${query}`, fresh);
      expect(done.status).toBe(303);
      expect(done.headers.location).toMatch(/^\/admin\/signatures\?done=bulk&count=5&batch=\d+$/);
    });

    it('refuses a bulk action without criteria (400, with a message), in the preview and when posted', async () => {
      const before = await statuses();
      const page = await adminVisitor.get(`/admin/signatures/bulk?letter=${letter.slug}`);
      expect(page.status).toBe(400);
      expect(textOf(mainOf(page.text))).toContain(MODERATION_ERRORS.criteria);
      expect(previewHeading(page.text)).toBeUndefined();
      // The form's button pressed with nothing filled in (it showed the empty form again, silently).
      const empty = await adminVisitor.get('/admin/signatures/bulk?domain=&ip=&from=&to=&letter=&show=1');
      expect(empty.status).toBe(400);
      expect(textOf(mainOf(empty.text))).toContain(MODERATION_ERRORS.criteria);
      // An IP address where the connection's hash goes: said beside the field (it matched nothing, silently).
      const address = await adminVisitor.get('/admin/signatures/bulk?ip=203.0.113.10&show=1');
      expect(address.status).toBe(400);
      expect(fieldErrors(address.text, 'field-ip')).toEqual([
        "Enter the connection's hash, as the moderation list links it: IP addresses are never stored, so an address matches nothing.",
      ]);
      // Half a time window is no window.
      const half = await adminVisitor.get('/admin/signatures/bulk?from=2026-11-23T10:30');
      expect(half.status).toBe(400);
      expect(textOf(mainOf(half.text))).toContain(MODERATION_ERRORS.criteria);

      const posted = await confirmFrom('/admin/signatures/bulk', [
        ['letter', letter.slug],
        ['expected', '5'],
        ['reason', 'everything'],
      ]);
      expect(posted.status).toBe(400);
      expect(textOf(mainOf(posted.text))).toContain(MODERATION_ERRORS.criteria);
      expect(await statuses()).toEqual(before);
    });

    it('refuses bad dates and domains with 400 and the message beside the field', async () => {
      const before = await statuses();
      for (const [query, field, message] of [
        ['from=2026-02-30T10:00&to=2026-03-01T10:00', 'field-from', MODERATION_ERRORS.date],
        ['from=2026-11-23T10:00&to=2026-11-23T25:00', 'field-to', MODERATION_ERRORS.date],
        ['from=last%20week&to=2026-11-23T10:00', 'field-from', MODERATION_ERRORS.date],
        ['domain=not%20a%20domain', 'field-domain', MODERATION_ERRORS.domain],
        ['domain=example', 'field-domain', MODERATION_ERRORS.domain],
        ['domain=%3Cscript%3E.org', 'field-domain', MODERATION_ERRORS.domain],
      ] as const) {
        const page = await adminVisitor.get(`/admin/signatures/bulk?${query}`);
        expect(page.status, query).toBe(400);
        expect(fieldErrors(page.text, field), query).toEqual([message]);
        expect(previewHeading(page.text), query).toBeUndefined();
        const posted = await confirmFrom('/admin/signatures/bulk', [
          ...new URLSearchParams(query).entries(),
          ['expected', '4'],
        ]);
        expect(posted.status, `POST ${query}`).toBe(400);
        expect(fieldErrors(posted.text, field), `POST ${query}`).toEqual([message]);
      }
      expect(await statuses()).toEqual(before);
      expect(await auditRows('signatures-bulk-invalidated')).toEqual([]);
    });
  });

  describe('access', () => {
    it('refuses organizers every moderation page and action (403), changing nothing', async () => {
      await signAndConfirm(OLENA);
      const { id } = await signatureOf(OLENA.email);
      const { visitor: organizer } = await signedIn(t.app, t.platform, 'organizer');
      for (const path of [
        '/admin/signatures',
        '/admin/signatures/bulk?domain=example.org',
        '/admin/erasure',
      ]) {
        expectErrorPage(await organizer.get(path), 403, ERROR_TITLES[403]);
      }
      const posts: [string, FormFields][] = [
        [`/admin/signatures/${id}/invalidate`, [['reason', 'mine']]],
        [
          '/admin/signatures/bulk',
          [
            ['domain', 'example.org'],
            ['expected', '1'],
          ],
        ],
        [
          '/admin/erasure',
          [
            ['email', OLENA.email],
            ['confirm', 'yes'],
          ],
        ],
      ];
      for (const [action, fields] of posts) {
        const response = await postForm(organizer, '/admin', action, fields);
        expectErrorPage(response, 403, ERROR_TITLES[403]);
        expect(textOf(mainOf(response.text))).toContain('Only admins can open this page.');
      }
      expect(await signatureOf(OLENA.email)).toMatchObject({ status: 'confirmed', full_name: OLENA.name });
      expect(await storedCount(t, letter.slug)).toBe(1);
    });

    it('keeps visitors without an account out of moderation', async () => {
      const response = await new Visitor(t.app).get('/admin/signatures');
      expect(response.status).toBe(303);
      expect(response.headers.location).toMatch(/^\/login/);
    });
  });
});
