import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import { leafHash, treeRoot, UNNAMED, verifyReceipt, type Receipt } from '../../server/commitments/merkle.js';
import { createAccount } from '../support/accounts.js';
import { createLetter } from '../support/factories.js';
import { Visitor } from '../support/http.js';
import { mainOf, textOf } from '../support/html.js';
import { lastMailTo, pathOf, signAndConfirm, signAndGetLinks, tokenOf } from '../support/signing.js';
import { linksIn } from '../support/smtp-sink.js';
import { createTestPlatform, TEST_PUBLIC_URL, type TestPlatform } from '../support/test-platform.js';

type Json = Record<string, unknown>;

const SUPPORTERS = {
  full: { name: 'Kim Ji-hoon', email: 'kim@example.org', display: 'full', country: 'KR' },
  initials: { name: 'Olena Kovalenko', email: 'olena@example.org', display: 'initials', country: 'UA' },
  hidden: { name: 'Hidden Supporter', email: 'hidden@example.org', display: 'hidden', country: 'KR' },
} as const;
type Who = keyof typeof SUPPORTERS;

/**
 * A supporter's receipts, from the link in their own e-mails: each checks against the root the letter
 * published, belongs to that supporter only, and is gone once they are erased.
 */
describe("a supporter's receipt from the link in their e-mails", () => {
  let t: TestPlatform;
  let admin: User;
  let letterId: number;
  let slug: string;
  let published: { round: number; treeSize: number; root: string };
  /** Each supporter's receipts link (its path), from the "letter sent" e-mail. */
  const receiptsPath = {} as Record<Who, string>;
  /** The receipts link in each supporter's confirmation e-mail. */
  const confirmationLinks = {} as Record<Who, string>;

  const unescaped = (html: string) => html.replaceAll('&#x3D;', '=').replaceAll('&amp;', '&');
  const jsonHref = (page: string) => /href="([^"]+\.json)"/.exec(unescaped(page))?.[1];
  const receiptOf = async (who: Who): Promise<Receipt> => {
    const page = await request(t.app).get(receiptsPath[who]).expect(200);
    const answer = await request(t.app).get(jsonHref(page.text)!).expect(200);
    return JSON.parse(answer.text) as Receipt;
  };

  beforeAll(async () => {
    t = await createTestPlatform();
    admin = await createAccount(t.platform, 'admin');
    ({ id: letterId, slug } = await createLetter(t.platform.db, t.clock.now(), {
      slug: 'receipts-letter',
      goal: null,
    }));
    const visitor = new Visitor(t.app);
    for (const who of Object.keys(SUPPORTERS) as Who[]) {
      const s = SUPPORTERS[who];
      await signAndConfirm(t, visitor, slug, { ...s, updates: 'yes' });
      const link = linksIn(t.sink.to(s.email)[0]!).find((l) => l.includes('/signatures/receipts/'));
      confirmationLinks[who] = link ?? '';
    }
    t.clock.advance(60_000);
    await t.platform.deliveries.sendTest(admin, letterId, 'receipts-test');
    const round = await t.platform.deliveries.deliverNow(admin, letterId, 'receipts-delivery');
    await t.platform.roundCompiling.compilePending();
    await t.drainOutbox();
    await t.platform.supporterNews.notifyPending();
    await t.drainOutbox();
    for (const who of Object.keys(SUPPORTERS) as Who[]) {
      const link = linksIn(lastMailTo(t, SUPPORTERS[who].email)).find((l) =>
        l.includes('/signatures/receipts/'),
      );
      receiptsPath[who] = pathOf(link!);
    }
    t.clock.advance(5_000);
    const letter = JSON.parse((await request(t.app).get(`/api/v1/letters/${slug}`).expect(200)).text) as {
      commitments: { round: number; treeSize: number; root: string }[];
    };
    published = letter.commitments.find((c) => c.round === round.id)!;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('puts the receipts link in the confirmation e-mail and in the "letter sent" e-mail, the same link', () => {
    for (const who of Object.keys(SUPPORTERS) as Who[]) {
      expect(confirmationLinks[who], who).toMatch(new RegExp(`^${TEST_PUBLIC_URL}/signatures/receipts/`));
      expect(tokenOf(confirmationLinks[who]), who).toBe(tokenOf(receiptsPath[who]));
    }
  });

  it('gives each supporter a receipt that verifies against the published root and size, with the leaf as the annex listed them', async () => {
    expect(published.treeSize).toBe(3);
    const names = { full: 'Kim Ji-hoon', initials: 'O. K.', hidden: UNNAMED };
    const indexes = new Set<number>();
    for (const who of Object.keys(SUPPORTERS) as Who[]) {
      const receipt = await receiptOf(who);
      expect(verifyReceipt(receipt, published), who).toBe(true);
      expect(receipt).toMatchObject({ version: 1, letter: slug, round: published.round, treeSize: 3 });
      expect(receipt.leaf.name, who).toBe(names[who]);
      expect(receipt.leaf.country, who).toBe(SUPPORTERS[who].country);
      // Nothing but the leaf's fields: never the address.
      expect(JSON.stringify(receipt)).not.toContain('@');
      indexes.add(receipt.leafIndex);
      // Tampering with one field of the leaf makes it fail.
      expect(verifyReceipt({ ...receipt, leaf: { ...receipt.leaf, country: 'US' } }, published)).toBe(false);
    }
    expect([...indexes].sort()).toEqual([0, 1, 2]);
  });

  it('serves the page and the download privately, and links /verify with the receipt in the fragment', async () => {
    const page = await request(t.app).get(receiptsPath.full).expect(200);
    for (const answer of [page, await request(t.app).get(jsonHref(page.text)!).expect(200)]) {
      expect(answer.headers['cache-control']).toBe('no-store');
      expect(answer.headers['referrer-policy']).toBe('no-referrer');
      expect(answer.headers['x-robots-tag']).toBe('noindex');
    }
    const download = await request(t.app).get(jsonHref(page.text)!).expect(200);
    expect(download.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(download.headers['content-disposition']).toBe(
      `attachment; filename="receipt-${slug}-round-${published.round}.json"`,
    );
    // The check opens in the language of the link the supporter followed (its ?lang=).
    const fragment = /href="\/verify\?lang=en#receipt=([A-Za-z0-9_-]+)"/.exec(unescaped(page.text))?.[1];
    expect(fragment).toBeDefined();
    expect(JSON.parse(Buffer.from(fragment!, 'base64url').toString('utf8'))).toEqual(
      JSON.parse(download.text),
    );
    expect(page.text).toContain(published.root);
  });

  it("never gives one supporter's receipt through another's link, nor through a link made for something else", async () => {
    const kim = await receiptOf('full');
    const olena = await receiptOf('initials');
    expect(kim.leaf.reference).not.toBe(olena.leaf.reference);
    // Olena's reference with the mark of Kim's link: forged, refused.
    const kimToken = tokenOf(receiptsPath.full);
    const forged = `${olena.leaf.reference}.${kimToken.split('.')[1]}`;
    await request(t.app).get(`/signatures/receipts/${forged}`).expect(404);
    await request(t.app).get(`/signatures/receipts/${forged}/${published.round}.json`).expect(404);
    // A withdraw link's token is no receipts token.
    const withdraw = linksIn(t.sink.to(SUPPORTERS.full.email)[0]!).find((l) =>
      l.includes('/signatures/withdraw/'),
    )!;
    await request(t.app)
      .get(`/signatures/receipts/${tokenOf(withdraw)}`)
      .expect(404);
  });

  it('answers a bad token or file with a 404 page, never a 500', async () => {
    const token = tokenOf(receiptsPath.full);
    const paths = [
      '/signatures/receipts/x',
      `/signatures/receipts/${'a'.repeat(300)}`,
      `/signatures/receipts/${token}/abc.json`,
      `/signatures/receipts/${token}/0.json`,
      `/signatures/receipts/${token}/99999999999.json`,
      `/signatures/receipts/${token}/99999.json`,
      `/signatures/receipts/${token}/${published.round}.txt`,
    ];
    for (const path of paths) {
      const answer = await request(t.app).get(path);
      expect(answer.status, path).toBe(404);
      expect(answer.headers['content-type'], path).toMatch(/^text\/html/);
    }
    // An address that is not even valid percent-encoding is refused before any route.
    expect((await request(t.app).get('/signatures/receipts/%00%ff')).status).toBe(400);
    // The test round is no delivered list: no receipt for it.
    const test = await t.platform.db
      .selectFrom('delivery_rounds')
      .select('id')
      .where('kind', '=', 'test')
      .executeTakeFirstOrThrow();
    await request(t.app).get(`/signatures/receipts/${token}/${test.id}.json`).expect(404);
  });

  it("offers nothing false once a supporter's name shows differently than in the list sent", async () => {
    await t.platform.db
      .updateTable('signatures')
      .set({ display: 'full' })
      .where('email', '=', SUPPORTERS.initials.email)
      .execute();
    const page = await request(t.app).get(receiptsPath.initials).expect(200);
    expect(page.text).toContain('no receipt is given');
    expect(jsonHref(page.text)).toBeUndefined();
    await request(t.app)
      .get(`${receiptsPath.initials.split('?')[0]}/${published.round}.json`)
      .expect(404);
    await t.platform.db
      .updateTable('signatures')
      .set({ display: 'initials' })
      .where('email', '=', SUPPORTERS.initials.email)
      .execute();
    expect(verifyReceipt(await receiptOf('initials'), published)).toBe(true);
  });

  it('still gives the receipt of a list that printed a name by an earlier rule, naming what that list said', async () => {
    // Until 2026-12-07 initials gave a Hangul name a syllable a part: "김 철수" was listed as "김. 철.",
    // and is "김." now. A list delivered then is rebuilt here as it was, its leaf and root with that name.
    const now = await receiptOf('initials');
    const leafAt = { round_id: published.round, position: now.leafIndex };
    const rows = () =>
      t.platform.db
        .selectFrom('round_leaves')
        .select('leaf_hash')
        .where('round_id', '=', published.round)
        .orderBy('position')
        .execute();
    const setList = async (leaf: string, root: string) => {
      await t.platform.db
        .updateTable('round_leaves')
        .set({ leaf_hash: leaf })
        .where('round_id', '=', leafAt.round_id)
        .where('position', '=', leafAt.position)
        .execute();
      await t.platform.db
        .updateTable('round_commitments')
        .set({ root })
        .where('round_id', '=', published.round)
        .execute();
    };
    const setName = (name: string) =>
      t.platform.db
        .updateTable('signatures')
        .set({ full_name: name })
        .where('email', '=', SUPPORTERS.initials.email)
        .execute();
    const before = (await rows()).map((r) => r.leaf_hash);
    const earlier = leafHash({ ...now.leaf, name: '김. 철.' }).toString('hex');
    const earlierRoot = treeRoot(
      before.map((h, i) => Buffer.from(i === leafAt.position ? earlier : h, 'hex')),
    ).toString('hex');
    await setName('김 철수');
    await setList(earlier, earlierRoot);
    try {
      const receipt = await receiptOf('initials');
      expect(receipt.leaf.name).toBe('김. 철.');
      expect(verifyReceipt(receipt, { ...published, root: earlierRoot })).toBe(true);
      // The same signature in a list made now is named by today's rule.
      await setList(leafHash({ ...now.leaf, name: '김.' }).toString('hex'), published.root);
      expect((await receiptOf('initials')).leaf.name).toBe('김.');
    } finally {
      await setName(SUPPORTERS.initials.name);
      await setList(before[leafAt.position]!, published.root);
    }
    expect(verifyReceipt(await receiptOf('initials'), published)).toBe(true);
  });

  it('tells a supporter who withdrew before any delivery that no receipt will come, not that one will', async () => {
    const email = 'withdrew-early@example.org';
    const visitor = new Visitor(t.app);
    const { withdraw } = await signAndGetLinks(t, visitor, slug, { email, name: 'Early Leaver' });
    const receipts = linksIn(t.sink.to(email)[0]!).find((l) => l.includes('/signatures/receipts/'))!;
    const before = await request(t.app).get(pathOf(receipts)).expect(200);
    expect(textOf(mainOf(before.text))).toContain(
      'Once the letter is delivered, this same link gives you its receipt.',
    );
    expect((await visitor.submit(withdraw, withdraw, {})).status).toBe(303);
    const after = await request(t.app).get(pathOf(receipts)).expect(200);
    expect(textOf(mainOf(after.text))).toContain('no list sent from now on will hold it');
    expect(after.text).not.toContain('Once the letter is delivered');
  });

  it('gives no receipt once the supporter is erased, the salt gone and the root unchanged', async () => {
    const before = await receiptOf('hidden');
    await t.platform.privacy.erase(SUPPORTERS.hidden.email, admin);
    const page = await request(t.app).get(receiptsPath.hidden).expect(200);
    expect(page.text).toContain('Your signature was erased.');
    expect(jsonHref(page.text)).toBeUndefined();
    await request(t.app)
      .get(`${receiptsPath.hidden.split('?')[0]}/${published.round}.json`)
      .expect(404);
    const signature = await t.platform.db
      .selectFrom('signatures')
      .select('id')
      .where('ref', '=', before.leaf.reference)
      .executeTakeFirstOrThrow();
    expect(
      await t.platform.db
        .selectFrom('signature_salts')
        .selectAll()
        .where('signature_id', '=', signature.id)
        .execute(),
    ).toEqual([]);
    t.clock.advance(5_000);
    const letter = JSON.parse((await request(t.app).get(`/api/v1/letters/${slug}`).expect(200)).text) as Json;
    expect((letter.commitments as { root: string }[])[0]!.root).toBe(published.root);
    // The receipt kept from before still checks: the list sent is what it was.
    expect(verifyReceipt(before, published)).toBe(true);
  });
});
