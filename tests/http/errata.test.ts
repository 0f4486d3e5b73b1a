import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import {
  inclusionProof,
  leafHash,
  treeRoot,
  verifyReceipt,
  type Receipt,
} from '../../server/commitments/merkle.js';
import { DeliveryRepository } from '../../server/deliveries/delivery-repository.js';
import { initialsOf } from '../../server/signatures/signature.js';
import { RecipientRepository } from '../../server/recipients/recipient-repository.js';
import { createAccount, loginAs } from '../support/accounts.js';
import { createLetter, SIMPLE_LETTER_BODY } from '../support/factories.js';
import { COUNT_EPOCH_MS } from '../../server/pages/page-cache.js';
import { byClass, decodeEntities, innerHtml, mainOf, textOf, textsByClass } from '../support/html.js';
import { Visitor } from '../support/http.js';
import { linksIn } from '../support/smtp-sink.js';
import { ERROR_TITLES, expectErrorPage, signAndConfirm } from '../support/signing.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

const KO_RECIPIENT = 'seoul-embassy@example.org';

/**
 * Issue 15 §5, an erratum after a withdrawal: a letter delivered with four signatures loses one to its
 * supporter's own withdrawal and one to moderation; its organizer sees the change and sends the
 * recipients a correction whose root is the tree over the delivered list's stored leaves less those two.
 */
describe('a correction of a delivered list', () => {
  let t: TestPlatform;
  let owner: User;
  let admin: User;
  let as: { owner: Visitor; stranger: Visitor };
  let letter: { id: number; slug: string };
  let enRecipient: string;
  let deliveredRound: number;
  const supporters = {
    withdrawn: { name: 'Kim Ji-hoon', email: 'ji-hoon@example.org', display: 'full' },
    invalidated: { name: 'Spam Sender', email: 'spam@example.net', display: 'full' },
    staying: { name: 'Olena Kovalenko', email: 'olena@example.org', display: 'initials', country: 'UA' },
    hidden: { name: 'Park Min-su', email: 'min-su@example.org', display: 'hidden' },
  };
  const links: Record<string, { confirm: string; withdraw: string }> = {};
  const deliveryPage = () => `/admin/letters/${letter.id}/delivery`;
  const erratumPage = (round = deliveredRound) =>
    `/admin/letters/${letter.id}/delivery/rounds/${round}/erratum`;
  const signatureId = async (email: string) =>
    (
      await t.platform.db
        .selectFrom('signatures')
        .select('id')
        .where('email', '=', email)
        .executeTakeFirstOrThrow()
    ).id;
  const leavesOf = (roundId: number) =>
    t.platform.db
      .selectFrom('round_leaves')
      .selectAll()
      .where('round_id', '=', roundId)
      .orderBy('position')
      .execute();
  const roundCount = async () =>
    (await t.platform.db.selectFrom('delivery_rounds').select('id').execute()).length;

  beforeAll(async () => {
    t = await createTestPlatform();
    owner = await createAccount(t.platform, 'organizer');
    admin = await createAccount(t.platform, 'admin');
    const stranger = await createAccount(t.platform, 'organizer');
    as = { owner: await loginAs(t.app, owner), stranger: await loginAs(t.app, stranger) };
    letter = await createLetter(t.platform.db, t.clock.now(), {
      goal: null,
      texts: [
        {
          language: 'en',
          title: 'Protect the captured soldiers',
          summary: 'A test letter.',
          body: SIMPLE_LETTER_BODY,
        },
        {
          language: 'ko',
          title: '포로가 된 병사들을 보호하십시오',
          summary: '시험 편지.',
          body: SIMPLE_LETTER_BODY,
        },
      ],
    });
    await t.platform.db
      .updateTable('letters')
      .set({ owner_id: owner.id })
      .where('id', '=', letter.id)
      .execute();
    // A second recipient, who reads Korean.
    const recipients = new RecipientRepository(t.platform.db);
    const ko = await recipients.findOrCreate(
      {
        name: 'Embassy in Seoul',
        title: '',
        organisation: 'Embassy in Seoul',
        country: 'KR',
        email: KO_RECIPIENT,
        language: 'ko',
        salutation: '존경하는 대사님께',
      },
      t.clock.now(),
    );
    const first = await t.platform.db
      .selectFrom('letter_recipients as lr')
      .innerJoin('recipients as r', 'r.id', 'lr.recipient_id')
      .select(['r.id', 'r.email'])
      .where('lr.letter_id', '=', letter.id)
      .executeTakeFirstOrThrow();
    enRecipient = first.email;
    await t.platform.repositories.letters.setRecipients(letter.id, [first.id, ko]);

    for (const [key, supporter] of Object.entries(supporters)) {
      links[key] = await signAndConfirm(t, new Visitor(t.app), letter.slug, supporter);
      t.clock.advance(60_000);
    }
    await t.platform.deliveries.sendTest(owner, letter.id, 'errata-test-round');
    await t.compileDeliveries();
    deliveredRound = (await t.platform.deliveries.deliverNow(owner, letter.id, 'errata-delivery')).id;
    await t.compileDeliveries();
    await t.drainOutbox();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('shows no change and offers no correction while the delivered list stands', async () => {
    expect((await leavesOf(deliveredRound)).length).toBe(4);
    const page = mainOf((await as.owner.get(deliveryPage())).text);
    expect(byClass(page, 'round__change')).toEqual([]);
    expect(page).not.toContain(erratumPage());
  });

  it('refuses a correction with 409 when nothing changed, and sends nothing', async () => {
    const confirm = await as.owner.get(erratumPage());
    expect(confirm.status).toBe(200);
    expect(textsByClass(mainOf(confirm.text), 'notice')).toEqual([
      'Nothing has left this list since it was delivered: there is nothing to correct.',
    ]);
    const rounds = await roundCount();
    const root = treeRoot((await leavesOf(deliveredRound)).map((l) => Buffer.from(l.leaf_hash, 'hex')));
    const response = await as.owner.submit(deliveryPage(), erratumPage(), {
      request_key: 'errata-unchanged-key',
      root: root.toString('hex'),
    });
    expectErrorPage(response, 409, ERROR_TITLES[409]);
    expect(response.text).toContain('there is nothing to correct');
    expect(await roundCount()).toBe(rounds);
  });

  it("shows the organizer how the count changed after a supporter's withdrawal and a moderator's invalidation", async () => {
    const withdrawn = await new Visitor(t.app).submit(
      links.withdrawn!.withdraw,
      links.withdrawn!.withdraw,
      {},
    );
    expect(withdrawn.status).toBe(303);
    await t.platform.appDeps.moderation.invalidate(
      admin,
      await signatureId(supporters.invalidated.email),
      'spam',
    );
    const page = mainOf((await as.owner.get(deliveryPage())).text);
    expect(textsByClass(page, 'round__change')).toEqual([
      'Delivered with 4 signatures — since then 1 withdrawn, 1 invalidated: the list now counts 2.',
    ]);
    expect(page).toContain(`href="${erratumPage()}"`);
  });

  it('refuses another organizer the confirmation page and the correction (403), and sends nothing', async () => {
    const rounds = await roundCount();
    expectErrorPage(await as.stranger.get(erratumPage()), 403, ERROR_TITLES[403]);
    const post = await as.stranger.submit('/admin', erratumPage(), {
      request_key: 'errata-stranger-key',
      root: 'a'.repeat(64),
    });
    expectErrorPage(post, 403, ERROR_TITLES[403]);
    expect(await roundCount()).toBe(rounds);
  });

  it('asks first: a POST without the confirmation page’s root sends nothing and shows that page', async () => {
    const rounds = await roundCount();
    for (const root of [undefined, '', 'not-a-root', 'A'.repeat(64)]) {
      const response = await as.owner.submit(deliveryPage(), erratumPage(), {
        request_key: 'errata-unconfirmed-key',
        ...(root === undefined ? {} : { root }),
      });
      expect(response.status).toBe(303);
      expect(response.headers.location).toBe(erratumPage());
    }
    expect(await roundCount()).toBe(rounds);
    const confirm = mainOf((await as.owner.get(erratumPage())).text);
    expect(textsByClass(confirm, 'erratum__change')).toEqual([
      'Delivered with 4 signatures — since then 1 withdrawn, 1 invalidated: the list now counts 2.',
    ]);
    expect(confirm).toContain('Send the correction to 2 recipients');
  });

  it('refuses a root other than the one shown (the list changed meanwhile) with 409', async () => {
    const rounds = await roundCount();
    const response = await as.owner.submit(deliveryPage(), erratumPage(), {
      request_key: 'errata-stale-key',
      root: 'b'.repeat(64),
    });
    expectErrorPage(response, 409, ERROR_TITLES[409]);
    expect(await roundCount()).toBe(rounds);
  });

  let correctionRound: number;
  let newRoot: string;

  it('sends the recipients a correction carrying the new count and the root over the remaining stored leaves', async () => {
    // Some time after the delivery (its own sending time: the record must not take it for the delivery).
    t.clock.advance(10 * 60_000);
    const delivered = await leavesOf(deliveredRound);
    const gone = new Set([
      await signatureId(supporters.withdrawn.email),
      await signatureId(supporters.invalidated.email),
    ]);
    const remaining = delivered.filter((l) => !gone.has(l.signature_id!));
    expect(remaining).toHaveLength(2);
    newRoot = treeRoot(remaining.map((l) => Buffer.from(l.leaf_hash, 'hex'))).toString('hex');

    // The organisation gives a reply address since: the correction still answers as the letter did.
    await new DeliveryRepository(t.platform.db).saveSettings(
      letter.id,
      { mode: 'manual', milestoneEvery: null, deliverAt: null, replyTo: 'press@coalition.example.org' },
      t.clock.now(),
    );
    const confirm = (await as.owner.get(erratumPage())).text;
    expect(confirm).toContain(newRoot);
    const root = /name="root" value="([0-9a-f]{64})"/.exec(confirm)![1]!;
    const key = /name="request_key" value="([^"]+)"/.exec(confirm)![1]!;
    expect(root).toBe(newRoot);
    const sent = await as.owner.submit(erratumPage(), erratumPage(), { request_key: key, root });
    expect(sent.status).toBe(303);
    expect(sent.headers.location).toBe(`${deliveryPage()}?done=erratumSent`);
    await t.drainOutbox();

    const round = await t.platform.db
      .selectFrom('round_commitments')
      .selectAll()
      .where('corrects_round_id', '=', deliveredRound)
      .executeTakeFirstOrThrow();
    correctionRound = round.round_id;
    expect({ size: round.tree_size, root: round.root }).toEqual({ size: 2, root: newRoot });
    // Its leaves are the remaining ones, in the same order: receipts work for it too.
    expect((await leavesOf(correctionRound)).map((l) => [l.signature_id, l.leaf_hash])).toEqual(
      remaining.map((l) => [l.signature_id, l.leaf_hash]),
    );

    const english = t.sink.to(enRecipient).filter((m) => m.parsed.subject?.startsWith('Correction'));
    expect(english).toHaveLength(1);
    expect(english[0]!.parsed.subject).toBe('Correction: Protect the captured soldiers — now 2 signatures');
    const text = english[0]!.parsed.text!;
    expect(text).toContain('On November 23, 2026 we sent you this open letter with 4 signatures.');
    expect(text).toContain('1 signatory withdrew their signature');
    expect(text).toContain('1 signature was invalidated by moderation');
    expect(text).not.toContain('erased');
    expect(text).toContain('The list you received now counts 2 signatures.');
    expect(text).toContain(newRoot);
    expect(text).toContain(`/verify?letter=${letter.slug}&round=${correctionRound}`);
    // The correction is not the letter: no annex, no supporter named, no address.
    for (const s of Object.values(supporters)) {
      expect(text).not.toContain(s.name);
      expect(text).not.toContain(s.email);
    }

    // It answers the letter it corrects: in the same thread, and to the same Reply-To.
    const original = t.sink
      .to(enRecipient)
      .find((m) => m.parsed.headers.has('x-undersigned-letter') && m !== english[0]);
    const letterId = original!.parsed.messageId!;
    expect(english[0]!.parsed.inReplyTo).toBe(letterId);
    expect(english[0]!.parsed.references).toBe(letterId);
    // The delivery's own reply address (the organisation gives none): the answer reaches the organizer.
    expect(original!.parsed.replyTo?.text).toMatch(/^replies\+d\d+-[0-9a-f]{16}@undersigned\.example\.org$/);
    expect(english[0]!.parsed.replyTo?.text).toBe(original!.parsed.replyTo?.text);
    // Under the name the letter went under.
    expect(english[0]!.parsed.from?.value[0]?.name).toBe(original!.parsed.from?.value[0]?.name);
    expect(english[0]!.parsed.from?.value[0]?.name).toBe('Test coalition via Undersigned');

    const korean = t.sink.to(KO_RECIPIENT).filter((m) => m.parsed.subject?.startsWith('정정'));
    expect(korean).toHaveLength(1);
    expect(korean[0]!.parsed.subject).toBe('정정: 포로가 된 병사들을 보호하십시오 — 현재 서명 2건');
    expect(korean[0]!.parsed.text).toContain('받으신 명단의 서명은 현재 2건입니다.');
    expect(korean[0]!.parsed.text).toContain(newRoot);
  });

  it("leaves the withdrawn supporter's leaf out of the new tree, and verifies a remaining supporter's receipt against the new root", async () => {
    const withdrawnId = await signatureId(supporters.withdrawn.email);
    const withdrawnLeaf = (await leavesOf(deliveredRound)).find((l) => l.signature_id === withdrawnId)!;
    const corrected = await leavesOf(correctionRound);
    expect(corrected.map((l) => l.leaf_hash)).not.toContain(withdrawnLeaf.leaf_hash);

    // Olena's receipt, from what the platform keeps: her signature as the annex listed it and her salt.
    const staying = await t.platform.db
      .selectFrom('signatures as s')
      .innerJoin('signature_salts as k', 'k.signature_id', 's.id')
      .select(['s.id', 's.ref', 's.country', 's.confirmed_at', 'k.salt'])
      .where('s.email', '=', supporters.staying.email)
      .executeTakeFirstOrThrow();
    const leaf = {
      reference: staying.ref,
      name: initialsOf(supporters.staying.name),
      country: staying.country,
      confirmedAt: staying.confirmed_at!,
      salt: staying.salt,
    };
    const index = corrected.findIndex((l) => l.signature_id === staying.id);
    expect(leafHash(leaf).toString('hex')).toBe(corrected[index]!.leaf_hash);
    const receipt: Receipt = {
      version: 1,
      letter: letter.slug,
      round: correctionRound,
      treeSize: corrected.length,
      root: newRoot,
      leafIndex: index,
      leaf,
      proof: inclusionProof(
        corrected.map((l) => Buffer.from(l.leaf_hash, 'hex')),
        index,
      ).map((p) => p.toString('hex')),
    };
    expect(verifyReceipt(receipt, { root: newRoot, treeSize: 2 })).toBe(true);
    // The same receipt, as the platform serves it from the link in her own e-mail.
    const receiptsLink = linksIn(t.sink.to(supporters.staying.email)[0]!).find((l) =>
      l.includes('/signatures/receipts/'),
    )!;
    const receiptsPath = new URL(receiptsLink).pathname;
    const served = await new Visitor(t.app).agent.get(`${receiptsPath}/${correctionRound}.json`);
    expect(served.status).toBe(200);
    expect(JSON.parse(served.text)).toEqual(receipt);
    const receiptsPage = mainOf((await new Visitor(t.app).get(receiptsPath)).text);
    expect(textOf(receiptsPage)).toContain('Correction sent on November 23, 2026');
    // Not against the delivered list's root: that list had four.
    const delivered = await t.platform.db
      .selectFrom('round_commitments')
      .select(['root', 'tree_size'])
      .where('round_id', '=', deliveredRound)
      .executeTakeFirstOrThrow();
    expect(verifyReceipt(receipt, { root: delivered.root, treeSize: delivered.tree_size })).toBe(false);
  });

  it('sends it once: the same form again returns the same round, and another correction of the same list is refused (409)', async () => {
    const rounds = await roundCount();
    const messages = t.sink.messages.length;
    const audit = await t.platform.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'erratum-sent')
      .execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.actor_user_id).toBe(owner.id);
    expect(JSON.parse(audit[0]!.details)).toMatchObject({
      letterId: letter.id,
      round: correctionRound,
      corrects: deliveredRound,
      before: 4,
      after: 2,
      withdrawn: 1,
      invalidated: 1,
      erased: 0,
      root: newRoot,
    });
    const again = await as.owner.submit(deliveryPage(), erratumPage(), {
      request_key: 'errata-second-key',
      root: newRoot,
    });
    expectErrorPage(again, 409, ERROR_TITLES[409]);
    expect(again.text).toContain('already been sent');
    await t.drainOutbox();
    expect(await roundCount()).toBe(rounds);
    expect(t.sink.messages.length).toBe(messages);
  });

  it("shows the correction on the organizer's page, with no PDF of a letter it does not carry", async () => {
    const page = mainOf((await as.owner.get(`${deliveryPage()}?done=erratumSent`)).text);
    expect(page).toContain('The correction is on its way to the recipients.');
    const corrections = textsByClass(page, 'round__correction');
    expect(corrections).toHaveLength(1);
    expect(corrections[0]).toContain(`2 signatures, root ${newRoot}`);
    expect(textsByClass(page, 'note').some((n) => n === 'The recipients have the corrected count.')).toBe(
      true,
    );
    expect(page).not.toContain(`href="${erratumPage()}"`);
    expect(page).not.toContain(`/delivery/rounds/${correctionRound}/en.pdf`);
    const pdf = await as.owner.get(`/admin/letters/${letter.id}/delivery/rounds/${correctionRound}/en.pdf`);
    expect(pdf.status).toBe(404);
    // A correction round cannot itself be corrected.
    expectErrorPage(await as.owner.get(erratumPage(correctionRound)), 404, ERROR_TITLES[404]);
  });

  it("shows the correction on the letter's public record beside the delivery it corrects, and in the API", async () => {
    t.clock.advance(COUNT_EPOCH_MS);
    const page = mainOf((await new Visitor(t.app).get(`/letters/${letter.slug}`)).text);
    const [delivery] = byClass(page, 'sent-record__delivery');
    const item = innerHtml(page, delivery!);
    // The delivery stays as it went, with its own list; the correction follows it.
    expect(textsByClass(item, 'sent-record__when')[0]).toMatch(/^November 23, 2026 — with 4 signatures/);
    expect(textsByClass(item, 'sent-record__correction')).toEqual([
      `Correction sent November 23, 2026: 4 → 2 signatures · root of the corrected list ${newRoot} · verify a receipt`,
    ]);
    expect(decodeEntities(item)).toContain(`href="/verify?letter=${letter.slug}&round=${correctionRound}"`);
    expect(byClass(page, 'sent-record__delivery')).toHaveLength(1);
    const ko = mainOf((await new Visitor(t.app).get(`/letters/${letter.slug}?lang=ko`)).text);
    expect(textsByClass(ko, 'sent-record__correction')[0]).toMatch(/정정 발송: 서명 4건 → 2건/);

    const api = await new Visitor(t.app).agent
      .get(`/api/v1/letters/${letter.slug}`)
      .set('Accept', 'application/json');
    expect(api.status).toBe(200);
    const commitments = (
      api.body as {
        commitments: { round: number; treeSize: number; root: string; correctsRound: number | null }[];
      }
    ).commitments;
    expect(commitments.find((c) => c.round === correctionRound)).toMatchObject({
      kind: 'correction',
      treeSize: 2,
      root: newRoot,
      correctsRound: deliveredRound,
    });
    expect(commitments.find((c) => c.round === deliveredRound)).toMatchObject({
      treeSize: 4,
      correctsRound: null,
    });
  });

  it('tells no supporter about a correction (it is no news of the letter)', async () => {
    const before = t.sink.messages.length;
    await t.platform.supporterNews.notifyPending();
    await t.drainOutbox();
    const news = t.sink.messages.slice(before);
    expect(news.filter((m) => textOf(m.parsed.html || '').includes(newRoot))).toEqual([]);
    expect(
      (
        await t.platform.db
          .selectFrom('delivery_rounds')
          .select('notified_at')
          .where('id', '=', correctionRound)
          .executeTakeFirstOrThrow()
      ).notified_at,
    ).toBeNull();
  });

  it('answers a hostile round id with 404', async () => {
    for (const round of ['0', 'abc', '99999999999', `${deliveredRound}%00`])
      expectErrorPage(
        await as.owner.get(`/admin/letters/${letter.id}/delivery/rounds/${round}/erratum`),
        404,
        ERROR_TITLES[404],
      );
  });
});
