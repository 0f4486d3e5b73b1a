import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import { signedIn } from '../support/accounts.js';
import {
  addRecipient,
  createDraft,
  fieldsOf,
  formFieldsFor,
  postForm,
  saveNewVersion,
} from '../support/admin-forms.js';
import { byId, hrefsIn, innerHtml, mainOf, startTags, textOf } from '../support/html.js';
import { Visitor } from '../support/http.js';
import { signAndConfirm } from '../support/signing.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

const RECIPIENTS = [
  {
    name: 'Embassy of Ukraine in Seoul',
    email: 'seoul-embassy@example.org',
    language: 'ko',
    salutation: '존경하는 대사님께',
  },
  {
    name: 'UN High Commissioner for Refugees',
    email: 'unhcr-office@example.org',
    language: 'en',
    salutation: 'Dear High Commissioner',
  },
];

const DELIVERED_TITLE = 'This version has already been delivered';
const IN_PROGRESS_TITLE = 'This version is being delivered';
/** The question and the sentences the page said together after a delivery (the walkthrough's defect). */
const QUESTION = 'Deliver the letter now?';
const EARLIER_VERSION = 'in an earlier version';
const THIS_VERSION_REFUSED = 'This version of the letter has already been delivered. Send an update';

const key = () => randomBytes(12).toString('base64url');

describe('the page that asks before delivering, once the letter has been delivered', () => {
  let t: TestPlatform;
  let organizer: User;
  let visitor: Visitor;
  let id: number;

  const deliveryPath = () => `/admin/letters/${id}/delivery`;
  const askPath = () => `${deliveryPath()}/deliver`;
  const press = (action: 'test' | 'deliver', requestKey = key()) =>
    postForm(visitor, deliveryPath(), `${deliveryPath()}/${action}`, [['request_key', requestKey]]);
  const roundsOf = () =>
    t.platform.db
      .selectFrom('delivery_rounds')
      .select(['id', 'kind', 'letter_version_id'])
      .where('letter_id', '=', id)
      .orderBy('id')
      .execute();
  const deliveryRound = async () => (await roundsOf()).filter((r) => r.kind === 'delivery').at(-1)!;
  async function sendAll(): Promise<void> {
    await t.compileDeliveries();
    await t.drainOutbox();
  }

  beforeEach(async () => {
    t = await createTestPlatform();
    ({ user: organizer, visitor } = await signedIn(t.app, t.platform, 'organizer'));
    const recipientIds: number[] = [];
    for (const r of RECIPIENTS) recipientIds.push(await addRecipient(t.platform.db, t.clock.now(), r));
    id = await createDraft(visitor, recipientIds);
    expect((await postForm(visitor, `/admin/letters/${id}`, `/admin/letters/${id}/publish`, [])).status).toBe(
      303,
    );
    // By hand only: no round starts by itself while the jobs run.
    const settings = fieldsOf({ mode: 'manual', milestone_every: '', deliver_at: '', reply_to: '' });
    expect((await postForm(visitor, deliveryPath(), `${deliveryPath()}/settings`, settings)).status).toBe(
      303,
    );
    const { slug } = (await t.platform.repositories.letters.findById(id))!;
    const supporter = new Visitor(t.app);
    for (const email of ['ji-hoon.kim@example.org', 'olena.kovalenko@example.org'])
      await signAndConfirm(t, supporter, slug, { email });
    expect((await press('test')).status).toBe(303);
    await sendAll();
  });
  afterEach(async () => {
    await t.close();
  });

  /** The page's heading, the statement of where the version stands, and the links it offers. */
  function pageOf(html: string) {
    const main = mainOf(html);
    const h1 = startTags(main, 'h1')[0]!;
    return { main, text: textOf(main), hrefs: hrefsIn(main), h1: textOf(innerHtml(main, h1)) };
  }

  it('says once that this version was delivered, links its record and the update, and asks nothing', async () => {
    expect((await press('deliver')).status).toBe(303);
    await sendAll();
    const round = await deliveryRound();

    const asked = await visitor.get(askPath());
    expect(asked.status).toBe(200);
    const { main, text, hrefs, h1 } = pageOf(asked.text);
    expect(h1).toBe(DELIVERED_TITLE);
    expect(text).not.toContain(QUESTION);
    expect(text).not.toContain(EARLIER_VERSION);
    expect(text).not.toContain(THIS_VERSION_REFUSED);
    expect(text.split('was delivered to its recipients on')).toHaveLength(2);
    // Nothing to press that would deliver, and no list of whom it "will" go to.
    expect(startTags(main, 'form')).toEqual([]);
    expect(text).not.toContain(RECIPIENTS[0]!.name);
    expect(text).not.toContain('confirmed signatures of this moment');
    // The way to its record, to the round itself, and the next step there is: an update.
    expect(hrefs).toContain(`${deliveryPath()}#round-${round.id}`);
    expect(byId(mainOf((await visitor.get(deliveryPath())).text), `round-${round.id}`)).toBeDefined();
    expect(hrefs).toContain(`${deliveryPath()}/update`);
    expect(text).toContain('To give the recipients new figures, send an update.');
  });

  it('says while the letters are on their way that the version is being delivered, without the update', async () => {
    expect((await press('deliver')).status).toBe(303);
    const { text, hrefs, h1 } = pageOf((await visitor.get(askPath())).text);
    expect(h1).toBe(IN_PROGRESS_TITLE);
    expect(text).not.toContain(QUESTION);
    expect(hrefs).toContain(`${deliveryPath()}#round-${(await deliveryRound()).id}`);
    expect(hrefs).not.toContain(`${deliveryPath()}/update`);
    await sendAll();
    expect(pageOf((await visitor.get(askPath())).text).h1).toBe(DELIVERED_TITLE);
  });

  it('says the same in Korean and in Ukrainian', async () => {
    expect((await press('deliver')).status).toBe(303);
    await sendAll();
    const ko = pageOf((await visitor.get(`${askPath()}?lang=ko`)).text);
    expect(ko.h1).toBe('이 버전은 이미 발송되었습니다');
    expect(ko.text).toContain('수신인에게 발송되었습니다');
    expect(ko.text).toContain('발송 기록에서 보기');
    expect(ko.text).not.toContain('지금 편지를 발송하시겠습니까?');
    const uk = pageOf((await visitor.get(`${askPath()}?lang=uk`)).text);
    expect(uk.h1).toBe('Цю версію вже надіслано');
    expect(uk.text).toContain('Переглянути в журналі надсилання');
    expect(uk.text).not.toContain('Надіслати лист зараз?');
  });

  it('says that the delivery of this version was stopped, why, and offers neither a delivery nor an update', async () => {
    expect((await press('deliver')).status).toBe(303);
    // As the compile stops a letter over the size budget (round-compile-service.ts), before anything went.
    const failure = {
      code: 'letter_too_long',
      params: { signatures: '2', max: '100', block: '{{#each}}', line: '3' },
    };
    await t.platform.db
      .updateTable('delivery_rounds')
      .set({ status: 'cancelled', failure: JSON.stringify(failure) })
      .where('id', '=', (await deliveryRound()).id)
      .execute();
    const { main, text, hrefs, h1 } = pageOf((await visitor.get(askPath())).text);
    expect(h1).toBe('The delivery of this version was stopped');
    expect(text).toContain('Nothing was sent: with 2 named signatories');
    expect(text).not.toContain(QUESTION);
    expect(startTags(main, 'form')).toEqual([]);
    expect(hrefs).not.toContain(`${deliveryPath()}/update`);
    expect(hrefs).toContain(`${deliveryPath()}#round-${(await deliveryRound()).id}`);
  });

  it('asks again for a new version, saying only that an earlier version went', async () => {
    expect((await press('deliver')).status).toBe(303);
    await sendAll();
    await saveNewVersion(t.platform, organizer, id);

    const asked = await visitor.get(askPath());
    expect(asked.status).toBe(200);
    const { main, text, h1 } = pageOf(asked.text);
    expect(h1).toBe(QUESTION);
    expect(text.split(EARLIER_VERSION)).toHaveLength(2);
    expect(text).not.toContain(THIS_VERSION_REFUSED);
    expect(text).not.toContain(DELIVERED_TITLE);
    expect(byId(main, 'delivery-started')).toBeUndefined();
    expect(formFieldsFor(asked.text, askPath()).length).toBeGreaterThan(0);
  });

  it('answers a form left open before the delivery with 409 and where the version stands, never a second round', async () => {
    // Two tabs ask; the first delivers, the second is pressed later with its own key.
    const stale = await visitor.get(askPath());
    const staleFields = formFieldsFor(stale.text, askPath());
    expect((await press('deliver')).status).toBe(303);
    await sendAll();

    // Its CSRF token is the browser's, good for any form; its request key is the stale page's own.
    const late = await postForm(visitor, deliveryPath(), askPath(), staleFields);
    expect(late.status).toBe(409);
    const { text, hrefs, h1 } = pageOf(late.text);
    expect(h1).toBe(DELIVERED_TITLE);
    expect(text).not.toContain(QUESTION);
    expect(hrefs).toContain(`${deliveryPath()}#round-${(await deliveryRound()).id}`);
    expect(hrefs).toContain(deliveryPath());
    await sendAll();
    expect((await roundsOf()).map((r) => r.kind)).toEqual(['test', 'delivery']);
    for (const r of RECIPIENTS)
      expect(t.sink.to(r.email).filter((m) => m.parsed.headers.has('x-undersigned-letter'))).toHaveLength(1);
  });
});
