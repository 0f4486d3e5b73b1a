import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import { verifyConsistency } from '../../server/commitments/merkle.js';
import { createAccount } from '../support/accounts.js';
import { createLetter } from '../support/factories.js';
import { openApiValidator } from '../support/public-api.js';
import { storeSignature } from '../support/stored-signatures.js';
import { createTestPlatform, TEST_PUBLIC_URL, type TestPlatform } from '../support/test-platform.js';

const SECRET = 'test-secret-test-secret-test-secret-0123';
const HOUR = 3_600_000;

type Json = Record<string, unknown>;

/**
 * A delivered list's commitment where the public sees it: at the end of the letter the recipients got,
 * on the letter's delivery record, in the public API with the consistency proof between two rounds.
 */
describe('a delivered list committed in public', () => {
  let t: TestPlatform;
  let admin: User;
  let letterId: number;
  let slug: string;
  let validate: (name: string, value: unknown) => unknown[];
  let delivery: { id: number; root: string };
  let update: { id: number; root: string };

  const store = (name: string, display: 'full' | 'initials' | 'hidden', country = 'KR') =>
    storeSignature(t.platform.db, SECRET, letterId, {
      name,
      email: `${name.toLowerCase().replace(/\W+/g, '.')}@example.org`,
      status: 'confirmed',
      country,
      display,
      // Confirmed an hour after this: before the round the test starts next.
      createdAt: new Date(t.clock.now().getTime() - 2 * HOUR).toISOString(),
    });
  const setCount = (count: number) =>
    t.platform.db.updateTable('letters').set({ signature_count: count }).where('id', '=', letterId).execute();
  const commitmentOf = (roundId: number) =>
    t.platform.db
      .selectFrom('round_commitments')
      .selectAll()
      .where('round_id', '=', roundId)
      .executeTakeFirstOrThrow();
  /** Compiles the waiting rounds and sends their letters; returns the messages the sink received. */
  async function compileAndSend() {
    const before = t.sink.messages.length;
    await t.platform.roundCompiling.compilePending();
    await t.drainOutbox();
    return t.sink.messages.slice(before);
  }
  const json = (response: { text: string }) => JSON.parse(response.text) as Json;
  /** HTML with the two entities Handlebars writes in addresses turned back into their characters. */
  const unescaped = (html: string) => html.replaceAll('&#x3D;', '=').replaceAll('&amp;', '&');

  beforeAll(async () => {
    t = await createTestPlatform();
    admin = await createAccount(t.platform, 'admin');
    ({ id: letterId, slug } = await createLetter(t.platform.db, t.clock.now(), {
      slug: 'committed-in-public',
      goal: null,
    }));
    await store('Kim Ji-hoon', 'full');
    await store('Olena Kovalenko', 'initials', 'UA');
    await store('Hidden Supporter', 'hidden');
    await setCount(3);
    ({ validate } = await openApiValidator(t.app));
  });
  afterAll(async () => {
    await t?.close();
  });

  it('says in a test letter that a test commits to nothing', async () => {
    await t.platform.deliveries.sendTest(admin, letterId, 'public-test');
    const [letter] = await compileAndSend();
    expect(letter!.envelopeTo).toEqual([admin.email]);
    expect(letter!.parsed.text).toContain('A test commits to nothing.');
    expect(letter!.parsed.text).not.toContain('/verify?');
  });

  it("ends the recipients' letter, text and HTML, with the list's size, root and where to verify it", async () => {
    const round = await t.platform.deliveries.deliverNow(admin, letterId, 'public-delivery');
    const [letter] = await compileAndSend();
    const { root, tree_size } = await commitmentOf(round.id);
    delivery = { id: round.id, root };
    expect(tree_size).toBe(3);
    const verify = `${TEST_PUBLIC_URL}/verify?letter=${slug}&round=${round.id}`;
    const text = letter!.parsed.text!;
    expect(text).toContain(`This list of 3 signatures is committed to by the root ${root}.`);
    expect(text).toContain(verify);
    // The section comes after the letter and its annex's figures.
    expect(text.indexOf(root)).toBeGreaterThan(text.indexOf('Signatures by country'));
    const html = unescaped(String(letter!.parsed.html));
    expect(html).toContain(root);
    expect(html).toContain(`href="${verify}"`);
  });

  it('shows the same count, root and verify link on the public delivery record', async () => {
    t.clock.advance(5_000);
    const page = await request(t.app).get(`/letters/${slug}`).expect(200);
    expect(page.text).toContain(`<code class="sent-record__root">${delivery.root}</code>`);
    expect(unescaped(page.text)).toContain(`href="/verify?letter=${slug}&round=${delivery.id}"`);
    expect(page.text).toContain(
      'Receipts for this list of 3 signatures are checked against its published root:',
    );
  });

  it('lists the commitment in the letter resource, valid against the declared schema', async () => {
    const letter = json(await request(t.app).get(`/api/v1/letters/${slug}`).expect(200));
    expect(validate('Letter', letter)).toEqual([]);
    expect(letter.commitments).toEqual([
      {
        round: delivery.id,
        kind: 'delivery',
        deliveredAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown,
        treeSize: 3,
        root: delivery.root,
        correctsRound: null,
      },
    ]);
    // A list with a field the schema does not name is refused (the schema is closed).
    const commitments = letter.commitments as Json[];
    expect(validate('Letter', { ...letter, commitments: [{ ...commitments[0], salt: 'x' }] })).not.toEqual(
      [],
    );
  });

  it('proves that an update after only new signatures extends the delivered list', async () => {
    t.clock.advance(HOUR);
    await store('Park Min-jun', 'full');
    await store('Late Hidden', 'hidden', 'UA');
    await setCount(5);
    const round = await t.platform.deliveries.sendUpdate(admin, letterId, 'public-update');
    await compileAndSend();
    const { root, tree_size } = await commitmentOf(round.id);
    expect(tree_size).toBe(5);
    update = { id: round.id, root };
    t.clock.advance(5_000);
    const answer = await request(t.app)
      .get(`/api/v1/letters/${slug}/commitments/${round.id}/consistency?from=${delivery.id}`)
      .expect(200);
    const body = json(answer);
    expect(validate('ConsistencyProof', body)).toEqual([]);
    expect(body.from).toEqual({ round: delivery.id, treeSize: 3, root: delivery.root });
    expect(body.to).toEqual({ round: update.id, treeSize: 5, root });
    const proof = (body.proof as string[]).map((p) => Buffer.from(p, 'hex'));
    expect(verifyConsistency(3, 5, Buffer.from(delivery.root, 'hex'), Buffer.from(root, 'hex'), proof)).toBe(
      true,
    );
    // The same proof does not hold for another earlier root.
    expect(verifyConsistency(3, 5, Buffer.alloc(32), Buffer.from(root, 'hex'), proof)).toBe(false);
  });

  it('answers 409 when a signature was withdrawn between two rounds: no proof exists', async () => {
    t.clock.advance(HOUR);
    await t.platform.db
      .updateTable('signatures')
      .set({ status: 'withdrawn', withdrawn_at: t.clock.now().toISOString() })
      .where('full_name', '=', 'Olena Kovalenko')
      .execute();
    await store('Another Late', 'initials');
    await setCount(5);
    const round = await t.platform.deliveries.sendUpdate(admin, letterId, 'public-update-2');
    await compileAndSend();
    expect((await commitmentOf(round.id)).tree_size).toBe(5);
    t.clock.advance(5_000);
    const refused = await request(t.app)
      .get(`/api/v1/letters/${slug}/commitments/${round.id}/consistency?from=${update.id}`)
      .expect(409);
    const body = json(refused);
    expect(validate('Error', body)).toEqual([]);
    expect(body.error).toMatchObject({ status: 409, code: 'not_an_extension' });
    expect((body.error as Json).message).toContain(`round ${update.id}`);
  });

  it('refuses bad rounds and parameters with a clear 4xx, never a 500', async () => {
    const base = `/api/v1/letters/${slug}/commitments`;
    const cases: [string, number, string][] = [
      [`${base}/${update.id}/consistency`, 400, 'invalid_parameter'],
      [`${base}/${update.id}/consistency?from=abc`, 400, 'invalid_parameter'],
      [`${base}/${update.id}/consistency?from=1&from=2`, 400, 'invalid_parameter'],
      [`${base}/${update.id}/consistency?from=99999999999`, 400, 'invalid_parameter'],
      [`${base}/0/consistency?from=${delivery.id}`, 404, 'commitment_not_found'],
      [`${base}/-1/consistency?from=${delivery.id}`, 404, 'commitment_not_found'],
      [`${base}/99999/consistency?from=${delivery.id}`, 404, 'commitment_not_found'],
      [`${base}/${update.id}/consistency?from=99999`, 404, 'commitment_not_found'],
      [
        `/api/v1/letters/no-such-letter/commitments/${update.id}/consistency?from=${delivery.id}`,
        404,
        'letter_not_found',
      ],
    ];
    for (const [path, status, code] of cases) {
      const answer = await request(t.app).get(path);
      expect(answer.status, path).toBe(status);
      const body = json(answer);
      expect(validate('Error', body), path).toEqual([]);
      expect((body.error as Json).code, path).toBe(code);
    }
    // The test round reached no recipient: it has no published list.
    const test = await t.platform.db
      .selectFrom('delivery_rounds')
      .select('id')
      .where('kind', '=', 'test')
      .executeTakeFirstOrThrow();
    await request(t.app).get(`${base}/${update.id}/consistency?from=${test.id}`).expect(404);
  });
});
