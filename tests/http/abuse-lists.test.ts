import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import { keyedHash } from '../../server/lib/keyed-hash.js';
import { createAccount, loginAs, signedIn } from '../support/accounts.js';
import { createLetter } from '../support/factories.js';
import { csrfTokenIn, Visitor } from '../support/http.js';
import { byId, mainOf, startTags, textById, textOf } from '../support/html.js';
import {
  expectErrorPage,
  ERROR_TITLES,
  lastMailTo,
  sign,
  signAndConfirm,
  signAndGetLinks,
  signatureRows,
  storedCount,
} from '../support/signing.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

// Several signings from one test client in a minute: the signing limits are not what these tests are about.
const ROOMY_LIMITS = { SIGNING_LIMIT_BURST: '100/60', SIGNING_LIMIT_SUSTAINED: '100/300' };

const reasons = (value: string | null) => (value ? value.split(',') : []);

async function auditActions(t: TestPlatform) {
  return t.platform.db
    .selectFrom('audit_events')
    .select(['action', 'details', 'actor_email'])
    .where('action', 'like', 'abuse-%')
    .orderBy('id')
    .execute();
}

async function entries(t: TestPlatform) {
  return t.platform.db.selectFrom('abuse_list_entries').selectAll().orderBy('id').execute();
}

describe('block and allow lists', () => {
  let t: TestPlatform;
  let admin: { user: User; visitor: Visitor };
  beforeEach(async () => {
    t = await createTestPlatform({ env: ROOMY_LIMITS });
    admin = await signedIn(t.app, t.platform, 'admin');
  });
  afterEach(async () => {
    await t.close();
  });

  it('refuses organizers, on the pages and inside the service', async () => {
    const organizer = await signedIn(t.app, t.platform, 'organizer');
    expectErrorPage(await organizer.visitor.get('/admin/abuse'), 403, ERROR_TITLES[403]);
    expectErrorPage(await organizer.visitor.get('/admin/abuse/trending'), 403, ERROR_TITLES[403]);
    const posted = await organizer.visitor.submit('/admin', '/admin/abuse/entries', {
      list: 'allow',
      kind: 'domain',
      value: 'example.org',
      note: '',
    });
    expectErrorPage(posted, 403, ERROR_TITLES[403]);
    await expect(
      t.platform.appDeps.abuse.addEntry(organizer.user, {
        list: 'allow',
        kind: 'domain',
        value: 'x.org',
        note: '',
      }),
    ).rejects.toMatchObject({ status: 403 });
    expect(await entries(t)).toEqual([]);
    // The admin's way in is there (a positive control for the refusals above).
    expect((await admin.visitor.get('/admin/abuse')).status).toBe(200);
  });

  it('refuses an address range that is not one with 422, keeping what was typed', async () => {
    const response = await admin.visitor.submit('/admin/abuse', '/admin/abuse/entries', {
      list: 'block',
      kind: 'ip',
      value: '10.0.0.0/33',
      note: 'from the office',
    });
    expect(response.status).toBe(422);
    expect(byId(response.text, 'field-value')!.attrs.value).toBe('10.0.0.0/33');
    expect(byId(response.text, 'field-note')!.attrs.value).toBe('from the office');
    expect(textById(response.text, 'field-value-error')).toContain(
      'Enter an address range such as 192.0.2.0/24',
    );
    expect(mainOf(response.text)).toContain('error-summary');
    expect(await entries(t)).toEqual([]);
  });

  it('asks before blocking a range wider than a /16 or one that holds the admin’s own address, then blocks it', async () => {
    // A walkthrough blocked 0.0.0.0/0 with one press: every signature since, silenced unsaid.
    for (const [value, says] of [
      ['0.0.0.0/0', '0.0.0.0/0 holds 4,294,967,296 addresses'],
      ['10.0.0.0/8', '10.0.0.0/8 holds 16,777,216 addresses'],
      ['2001:db8::/16', '2001::/16 holds'],
      ['127.0.0.0/24', '127.0.0.0/24 holds the address you are using now'],
    ] as const) {
      const asked = await admin.visitor.submit('/admin/abuse', '/admin/abuse/entries', {
        list: 'block',
        kind: 'ip',
        value,
        note: 'asked',
      });
      expect(asked.status, value).toBe(200);
      expect(textById(asked.text, 'confirm-block'), value).toContain(says);
      expect(byId(asked.text, 'field-value')!.attrs.value).toBe(value);
      expect(await entries(t)).toEqual([]);
    }
    // Allowing is never asked about, nor a narrow range elsewhere.
    for (const [list, value] of [
      ['allow', '10.0.0.0/8'],
      ['block', '198.51.100.0/24'],
    ] as const) {
      const added = await admin.visitor.submit('/admin/abuse', '/admin/abuse/entries', {
        list,
        kind: 'ip',
        value,
        note: '',
      });
      expect(added.status, value).toBe(303);
    }
    // Confirmed, it is blocked.
    const confirmed = await admin.visitor.submit('/admin/abuse', '/admin/abuse/entries', {
      list: 'block',
      kind: 'ip',
      value: '10.0.0.0/8',
      note: 'a flood from one carrier',
      confirm: 'yes',
    });
    expect(confirmed.status).toBe(303);
    expect((await entries(t)).map((e) => [e.list, e.value])).toEqual([
      ['allow', '10.0.0.0/8'],
      ['block', '198.51.100.0/24'],
      ['block', '10.0.0.0/8'],
    ]);
  });

  it('keeps a range in one normal form, a whole address only as a keyed hash, and audits each change', async () => {
    for (const [kind, value] of [
      ['ip', '192.0.2.77/24'],
      ['address', 'Someone.Else@Example.org'],
    ]) {
      const added = await admin.visitor.submit('/admin/abuse', '/admin/abuse/entries', {
        list: 'block',
        kind: kind!,
        value: value!,
        note: 'test',
      });
      expect(added.status).toBe(303);
      expect(added.headers.location).toBe('/admin/abuse?done=added');
    }
    const [range, address] = await entries(t);
    expect(range).toMatchObject({
      list: 'block',
      kind: 'ip',
      value: '192.0.2.0/24',
      created_by: admin.user.id,
    });
    expect(address).toMatchObject({
      kind: 'address',
      value: keyedHash(t.config.secretKey!, 'email', 'someone.else@example.org'),
    });
    const page = await admin.visitor.get('/admin/abuse');
    expect(textOf(mainOf(page.text))).toContain('192.0.2.0/24');
    expect(page.text.toLowerCase()).not.toContain('someone.else@example.org');
    expect(page.text).not.toContain(address!.value);
    const log = await auditActions(t);
    expect(log.map((e) => e.action)).toEqual(['abuse-list-added', 'abuse-list-added']);
    expect(JSON.stringify(log).toLowerCase()).not.toContain('someone.else');
    expect(JSON.stringify(log)).not.toContain(address!.value);
  });

  it('removes an entry only after asking, and audits it', async () => {
    await admin.visitor.submit('/admin/abuse', '/admin/abuse/entries', {
      list: 'allow',
      kind: 'domain',
      value: 'Partner.Example.org',
      note: '',
    });
    const [entry] = await entries(t);
    const asked = await admin.visitor.get(`/admin/abuse/entries/${entry!.id}/remove`);
    expect(asked.status).toBe(200);
    expect(textOf(mainOf(asked.text))).toContain('partner.example.org');
    expect(await entries(t)).toHaveLength(1);
    const removed = await admin.visitor.submit(
      `/admin/abuse/entries/${entry!.id}/remove`,
      `/admin/abuse/entries/${entry!.id}/remove`,
      {},
    );
    expect(removed.status).toBe(303);
    expect(await entries(t)).toEqual([]);
    expect((await auditActions(t)).map((e) => e.action)).toEqual(['abuse-list-added', 'abuse-list-removed']);
  });

  it("answers a blocked domain's signing like any other, stores it suspect, and never counts it", async () => {
    const { slug } = await createLetter(t.platform.db, t.clock.now());
    await admin.visitor.submit('/admin/abuse', '/admin/abuse/entries', {
      list: 'block',
      kind: 'domain',
      value: 'spam.test',
      note: 'fake signatures',
    });

    // From the outside: the same answer, the same page, a confirmation e-mail all the same.
    const ordinary = await sign(new Visitor(t.app), slug, { email: 'ordinary@example.org' });
    const blockedVisitor = new Visitor(t.app);
    const blocked = await sign(blockedVisitor, slug, { email: 'bot@mail.spam.test' });
    expect(blocked.status).toBe(ordinary.status);
    expect(blocked.headers.location).toBe(ordinary.headers.location);
    const links = await signAndGetLinks(t, blockedVisitor, slug, { email: 'bot@mail.spam.test' });
    expect(lastMailTo(t, 'bot@mail.spam.test').parsed.subject).toBeTruthy();

    // From the inside: stored with its reason, never confirmed or counted.
    const row = (await signatureRows(t.platform.db)).find((r) => r.email === 'bot@mail.spam.test')!;
    expect(reasons(row.suspect_reasons)).toContain('blocked-domain');
    const confirmed = await blockedVisitor.submit(links.confirm, links.confirm, {});
    expect(confirmed.status).toBe(303);
    expect(confirmed.headers.location).toBe(`/letters/${slug}/thank-you?lang=en`);
    expect((await signatureRows(t.platform.db)).find((r) => r.id === row.id)!.status).toBe('pending');
    expect(await storedCount(t, slug)).toBe(0);
  });
});

describe('disposable e-mail domains', () => {
  let t: TestPlatform;
  afterEach(async () => {
    await t.close();
  });

  it('flags a signature from a throwaway domain for review, and counts it once confirmed', async () => {
    t = await createTestPlatform();
    const { slug } = await createLetter(t.platform.db, t.clock.now());
    await signAndConfirm(t, new Visitor(t.app), slug, { email: 'someone@mailinator.com' });
    const [row] = await signatureRows(t.platform.db);
    expect(reasons(row!.review_reasons)).toContain('disposable-domain');
    expect(reasons(row!.suspect_reasons)).toEqual([]);
    expect(await storedCount(t, slug)).toBe(1);
  });
});

describe('allow list and the signing limits', () => {
  let t: TestPlatform;
  beforeEach(async () => {
    // The default limits: one signing per client and letter a minute.
    t = await createTestPlatform({ env: { SIGNING_LIMIT_BURST: '1/60', SIGNING_LIMIT_SUSTAINED: '5/300' } });
  });
  afterEach(async () => {
    await t.close();
  });

  it('lets an allow-listed domain sign more than once a minute from one network, and no other', async () => {
    const admin = await loginAs(t.app, await createAccount(t.platform, 'admin'));
    await admin.submit('/admin/abuse', '/admin/abuse/entries', {
      list: 'allow',
      kind: 'domain',
      value: 'partner.example',
      note: 'one office, many signers',
    });
    const { slug } = await createLetter(t.platform.db, t.clock.now());
    for (const name of ['a', 'b', 'c'])
      await sign(new Visitor(t.app), slug, { email: `${name}@partner.example` });
    for (const name of ['x', 'y'])
      await sign(new Visitor(t.app), slug, { email: `${name}@elsewhere.example` });
    const rows = await signatureRows(t.platform.db);
    expect(rows.slice(0, 3).map((r) => reasons(r.suspect_reasons))).toEqual([[], [], []]);
    // A positive control: the same network signing twice for another domain is over the limit.
    expect(reasons(rows[3]!.suspect_reasons)).toEqual([]);
    expect(reasons(rows[4]!.suspect_reasons)).toContain('rate-burst');
  });
});

describe('trending sources', () => {
  let t: TestPlatform;
  beforeEach(async () => {
    t = await createTestPlatform({ env: ROOMY_LIMITS });
  });
  afterEach(async () => {
    await t.close();
  });

  it('shows a burst per client and per domain, alerts on the dashboard, and blocks a source after asking', async () => {
    const admin = await loginAs(t.app, await createAccount(t.platform, 'admin'));
    const threshold = await admin.submit('/admin/settings', '/admin/settings', {
      trending_alert_per_hour: '3',
    });
    expect(threshold.status).toBe(303);
    const dashboardBefore = await admin.get('/admin');
    expect(byId(dashboardBefore.text, 'trending-alert')).toBeUndefined();

    const { slug } = await createLetter(t.platform.db, t.clock.now());
    const burst = new Visitor(t.app);
    for (const name of ['a', 'b', 'c']) await sign(burst, slug, { email: `${name}@burst.example` });
    await sign(new Visitor(t.app), slug, { email: 'someone@example.org' });

    const trending = await admin.get('/admin/abuse/trending');
    expect(trending.status).toBe(200);
    const domains = textOf(trending.text.slice(trending.text.indexOf('id="trending-domains"')));
    expect(domains).toMatch(/burst\.example over the alert threshold 3/);
    // Clients are shown by the start of a keyed hash, never by IP.
    const addresses = trending.text.slice(
      trending.text.indexOf('id="trending-addresses"'),
      trending.text.indexOf('id="trending-domains"'),
    );
    expect(addresses).not.toMatch(/127\.0\.0\.1/);
    expect(textOf(addresses)).toMatch(/over the alert threshold 4/);
    // Each source leads to its signatures in moderation, where they can be invalidated in bulk.
    const sourceLinks = startTags(addresses, 'a').map((a) => a.attrs.href);
    expect(sourceLinks.length).toBeGreaterThan(0);
    for (const href of sourceLinks) expect(href).toMatch(/^\/admin\/signatures\?ip=[A-Za-z0-9_-]{20,}$/);
    const filtered = await admin.get(sourceLinks[0]!);
    expect(filtered.status).toBe(200);
    expect(textOf(filtered.text)).toContain('Showing signatures from one connection only.');

    const dashboard = await admin.get('/admin');
    expect(textById(dashboard.text, 'trending-alert')).toContain(
      '2 sources sent 3 or more signatures in the last hour.',
    );

    // One click asks; the confirmation blocks.
    const page = await admin.get('/admin/abuse/trending');
    const asked = await admin.agent
      .post('/admin/abuse/trending/block')
      .type('form')
      .send({ _csrf: csrfTokenIn(page.text), kind: 'domain', value: 'burst.example' });
    expect(asked.status).toBe(200);
    expect(textOf(mainOf(asked.text))).toContain('Block every address at burst.example');
    expect(await t.platform.db.selectFrom('abuse_list_entries').selectAll().execute()).toEqual([]);
    const confirmed = await admin.agent
      .post('/admin/abuse/trending/block')
      .type('form')
      .send({ _csrf: csrfTokenIn(asked.text), kind: 'domain', value: 'burst.example', confirm: 'yes' });
    expect(confirmed.status).toBe(303);
    expect(
      await t.platform.db.selectFrom('abuse_list_entries').select(['list', 'kind', 'value']).execute(),
    ).toEqual([{ list: 'block', kind: 'domain', value: 'burst.example' }]);

    await sign(new Visitor(t.app), slug, { email: 'd@burst.example' });
    const last = (await signatureRows(t.platform.db)).at(-1)!;
    expect(reasons(last.suspect_reasons)).toContain('blocked-domain');
    const after = await admin.get('/admin/abuse/trending');
    expect(textOf(after.text.slice(after.text.indexOf('id="trending-domains"')))).toMatch(
      /burst\.example.*4 1 4 Blocked/,
    );
  });

  it('refuses an alert threshold that is not a whole number, keeping what was typed', async () => {
    const admin = await loginAs(t.app, await createAccount(t.platform, 'admin'));
    const response = await admin.submit('/admin/settings', '/admin/settings', {
      trending_alert_per_hour: 'many',
    });
    expect(response.status).toBe(422);
    expect(byId(response.text, 'field-trendingAlert')!.attrs.value).toBe('many');
    expect((await t.platform.appDeps.settings.read()).trendingAlertPerHour).toBe(50);
  });
});
