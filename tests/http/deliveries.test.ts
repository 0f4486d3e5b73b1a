import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { pino } from 'pino';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import { keepAudiencesReached } from '../../server/db/migrations/2026-12-06T07-round-audiences.js';
import { DeliveryRepository } from '../../server/deliveries/delivery-repository.js';
import { LetterRepository } from '../../server/letters/letter-repository.js';
import { createAccount, loginAs, signedIn } from '../support/accounts.js';
import {
  addRecipient,
  createDraft,
  fieldErrors,
  fieldsOf,
  formFields,
  postForm,
  saveNewVersion,
  withField,
} from '../support/admin-forms.js';
import { signingForm } from '../support/factories.js';
import { storeSignature } from '../support/stored-signatures.js';
import { byId, innerHtml, mainOf, startTags, textOf, textsByClass } from '../support/html.js';
import { Visitor } from '../support/http.js';
import type { SinkMessage } from '../support/smtp-sink.js';
import { ERROR_TITLES, expectErrorPage, pathOf, signAndConfirm, tokenOf } from '../support/signing.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { testDialect } from '../support/test-database.js';
import { auditEntries } from '../support/audit-log.js';
import { COUNT_EPOCH_MS } from '../../server/pages/page-cache.js';

const EN_TITLE = 'Let them choose freedom';
const EN_BODY = `{{date}}

{{recipient.salutation}},

We ask you to protect the captured soldiers from forced return.

{{signatureCount}} people signed:
{{#each signatories}}{{name}}, {{country}}
{{/each}}`;

const KO_TITLE = '포로가 된 병사들에게 선택의 자유를';
const KO_SENTENCE = '우리는 포로가 된 병사들이 강제로 송환되지 않도록 보호해 주실 것을 요청합니다.';
const KO_BODY = `{{date}}

{{recipient.salutation}},

${KO_SENTENCE}

서명자 {{signatureCount}}명:
{{#each signatories}}{{name}}, {{country}}
{{/each}}`;

const MAIL_FROM_ADDRESS = 'letters@undersigned.example.org';
const REPLY_TO = 'office@nk-watch.example.org';

/** The recipients of the bilingual letter: one reads Korean, one Ukrainian (not translated), one English. */
const KO_RECIPIENT = {
  name: 'Embassy of Ukraine in Seoul',
  email: 'seoul-embassy@example.org',
  language: 'ko',
  salutation: '존경하는 대사님께',
};
const UK_RECIPIENT = {
  name: 'Ministry of Foreign Affairs of Ukraine',
  email: 'mfa-kyiv@example.org',
  language: 'uk',
  salutation: 'Шановний пане Міністре',
};
const EN_RECIPIENT = {
  name: 'UN High Commissioner for Refugees',
  email: 'unhcr-office@example.org',
  language: 'en',
  salutation: 'Dear High Commissioner',
};
const RECIPIENT_ADDRESSES = [KO_RECIPIENT.email, UK_RECIPIENT.email, EN_RECIPIENT.email];

/** Supporters: one named in full (wants news), one by initials, one counted only (wants news). */
const FULL = {
  name: 'Kim Ji-hoon',
  email: 'ji-hoon.kim@example.org',
  country: 'KR',
  organisation: 'NK Watch',
  title: 'Researcher',
  display: 'full',
  updates: 'yes',
};
const INITIALS = {
  name: 'Olena Kovalenko',
  email: 'olena.kovalenko@example.org',
  country: 'UA',
  organisation: 'Kyiv Legal Aid',
  title: 'Lawyer',
  display: 'initials',
};
const HIDDEN = {
  name: 'Park Min-su',
  email: 'min-su.park@example.org',
  country: 'KR',
  organisation: 'Escapee circle',
  title: 'Member',
  display: 'hidden',
  updates: 'yes',
};
const SUPPORTERS = [FULL, INITIALS, HIDDEN];

const key = () => randomBytes(12).toString('base64url');
const deliveryPath = (id: number) => `/admin/letters/${id}/delivery`;

/** Whether a message is a compiled letter (as opposed to a confirmation or a supporter's notice). */
const isLetter = (m: SinkMessage) => m.parsed.headers.has('x-undersigned-letter');
// mailparser folds List-* headers into one "list" entry: look for the header line itself.
const isNotice = (m: SinkMessage) => m.parsed.headerLines.some((h) => h.key === 'list-unsubscribe-post');

/** A header's raw value, unfolded, as the message carries it. */
function rawHeader(message: SinkMessage, name: string): string | undefined {
  const line = message.parsed.headerLines.find((h) => h.key === name.toLowerCase())?.line;
  return line
    ?.slice(line.indexOf(':') + 1)
    .replace(/\r?\n[ \t]+/g, ' ')
    .trim();
}

/** Everything a reader or a program could get out of a message: raw source, decoded parts, attachments. */
function everythingIn(message: SinkMessage): string {
  return [
    message.raw,
    message.parsed.text ?? '',
    typeof message.parsed.html === 'string' ? message.parsed.html : '',
    ...message.parsed.attachments.map((a) => a.content.toString('utf8')),
  ].join('\n');
}

describe('delivering a letter to its recipients', () => {
  let t: TestPlatform;
  let organizer: User;
  let visitor: Visitor;
  let supporter: Visitor;
  let recipientIds: number[];

  /** What the platform logged at warn and above: the message of each line. */
  let warnings: string[];

  beforeEach(async () => {
    warnings = [];
    const logger = pino(
      { level: 'warn' },
      { write: (line: string) => void warnings.push((JSON.parse(line) as { msg: string }).msg) },
    );
    t = await createTestPlatform({ logger });
    ({ user: organizer, visitor } = await signedIn(t.app, t.platform, 'organizer'));
    supporter = new Visitor(t.app);
    recipientIds = [];
    for (const r of [KO_RECIPIENT, UK_RECIPIENT, EN_RECIPIENT]) {
      recipientIds.push(await addRecipient(t.platform.db, t.clock.now(), r));
    }
  });
  afterEach(async () => {
    await t.close();
  });

  const letter = async (id: number) => (await t.platform.repositories.letters.findById(id))!;
  /** The delivery settings the organizer saved for a letter (undefined: none saved, the default applies). */
  const savedSettings = (id: number) => new DeliveryRepository(t.platform.db).settingsOf(id);

  /** A published letter in English and Korean, addressed to the three recipients. */
  async function publishedLetter(overrides: Record<string, string | string[]> = {}) {
    const id = await createDraft(visitor, recipientIds, {
      languages: ['en', 'ko'],
      title_en: EN_TITLE,
      body_en: EN_BODY,
      title_ko: KO_TITLE,
      summary_ko: '두 병사는 한국으로 가기를 원합니다.',
      body_ko: KO_BODY,
      ...overrides,
    });
    const published = await postForm(visitor, `/admin/letters/${id}`, `/admin/letters/${id}/publish`, []);
    expect(published.status).toBe(303);
    return { id, slug: (await letter(id)).slug };
  }

  const press = (as: Visitor, id: number, action: 'test' | 'deliver' | 'update', requestKey = key()) =>
    postForm(as, deliveryPath(id), `${deliveryPath(id)}/${action}`, [['request_key', requestKey]]);

  const saveSettings = (as: Visitor, id: number, fields: Record<string, string>) =>
    postForm(
      as,
      deliveryPath(id),
      `${deliveryPath(id)}/settings`,
      fieldsOf({ mode: 'manual', milestone_every: '', deliver_at: '', reply_to: '', ...fields }),
    );

  /** Runs the delivery jobs and lets the worker send what they queued. */
  async function sendAll(): Promise<void> {
    await t.compileDeliveries();
    await t.drainOutbox();
  }

  /** Sends a test and lets it go, so delivery opens. */
  async function tested(id: number): Promise<void> {
    expect((await press(visitor, id, 'test')).status).toBe(303);
    await sendAll();
  }

  async function signAll(slug: string, supporters: Record<string, string>[] = SUPPORTERS): Promise<void> {
    for (const s of supporters) await signAndConfirm(t, supporter, slug, s);
  }

  const lettersTo = (address: string) => t.sink.to(address).filter(isLetter);
  const allLetters = () => t.sink.messages.filter(isLetter);
  const rounds = (letterId: number) =>
    t.platform.db
      .selectFrom('delivery_rounds')
      .selectAll()
      .where('letter_id', '=', letterId)
      .orderBy('id')
      .execute();

  it("shows the organizer the letter's delivery page: recipients' languages, settings and an empty record", async () => {
    const { id } = await publishedLetter();
    const page = await visitor.get(deliveryPath(id));
    expect(page.status).toBe(200);
    const main = textOf(mainOf(page.text));
    expect(main).toContain('Delivery');
    expect(main).toContain(`Send a test to my address`);
    expect(main).toContain(organizer.email);
    expect(main).toContain('Send a test first');
    expect(main).toContain('Nothing has been sent yet.');
    expect(main).toContain('PDF attachments are off');
    // No way to deliver is offered before a test.
    expect(startTags(page.text, 'a').some((a) => a.attrs.href === `${deliveryPath(id)}/deliver`)).toBe(false);
    const checked = startTags(page.text, 'input').find(
      (i) => i.attrs.name === 'mode' && 'checked' in i.attrs,
    );
    expect(checked?.attrs.value).toBe('closing');
  });

  it('refuses to deliver before a test delivery, and says to send one first', async () => {
    const { id } = await publishedLetter();
    const response = await press(visitor, id, 'deliver');
    expectErrorPage(response, 409, ERROR_TITLES[409]);
    expect(textOf(mainOf(response.text))).toContain('Send a test delivery to your own address first.');
    expect(await rounds(id)).toEqual([]);
    await sendAll();
    expect(allLetters()).toEqual([]);
  });

  it('refuses automatic modes before a test, with the message beside the field', async () => {
    const { id } = await publishedLetter();
    for (const fields of [
      { mode: 'closing' } as Record<string, string>,
      { mode: 'goal' },
      { mode: 'milestones', milestone_every: '10' },
      { mode: 'scheduled', deliver_at: '2026-12-01T09:00' },
    ]) {
      const response = await saveSettings(visitor, id, fields);
      expect(response.status, fields.mode).toBe(422);
      expect(fieldErrors(response.text, 'field-mode')).toEqual([
        'Send a test delivery to your own address first.',
      ]);
    }
    // Manual delivery needs no test, and the reply address is saved with it.
    const saved = await saveSettings(visitor, id, { mode: 'manual', reply_to: REPLY_TO });
    expect(saved.status).toBe(303);
    expect(saved.headers.location).toBe(`${deliveryPath(id)}?done=saved`);
    expect(await savedSettings(id)).toMatchObject({ mode: 'manual', replyTo: REPLY_TO });
  });

  it('delivers a letter without a closing date by hand unless the organizer chooses otherwise, and says so', async () => {
    const { id } = await publishedLetter({ closes_at: '' });
    const page = await visitor.get(deliveryPath(id));
    const checked = startTags(page.text, 'input').find(
      (i) => i.attrs.name === 'mode' && 'checked' in i.attrs,
    );
    // "When the letter closes" would wait for a close nobody scheduled: by hand is the default here.
    expect(checked?.attrs.value).toBe('manual');
    const main = textOf(mainOf(page.text));
    expect(main).toContain(
      'You have not saved a choice yet, so the default is checked below: a letter with a closing date',
    );
    expect(main).not.toContain('This letter has no closing date');
    expect(await savedSettings(id)).toBeUndefined();

    // The same default for a letter that closes by itself is "when it closes".
    const { id: closing } = await publishedLetter({ slug: 'closes-by-itself' });
    const closingChecked = startTags((await visitor.get(deliveryPath(closing))).text, 'input').find(
      (i) => i.attrs.name === 'mode' && 'checked' in i.attrs,
    );
    expect(closingChecked?.attrs.value).toBe('closing');
  });

  it('warns on the delivery page when the chosen mode cannot happen by itself: closing without a date, a goal without one', async () => {
    const { id } = await publishedLetter({ closes_at: '', goal: '' });
    await tested(id);
    expect((await saveSettings(visitor, id, { mode: 'closing' })).status).toBe(303);
    const closing = textOf(mainOf((await visitor.get(deliveryPath(id))).text));
    expect(closing).toContain(
      'This letter has no closing date and does not close at its goal, so "When the letter closes" waits until you close it by hand.',
    );
    expect(closing).not.toContain('You have not saved a choice yet');
    expect((await saveSettings(visitor, id, { mode: 'goal' })).status).toBe(303);
    const goal = textOf(mainOf((await visitor.get(deliveryPath(id))).text));
    expect(goal).toContain('This letter has no goal, so "When the goal is reached" never sends it.');
    expect(goal).not.toContain('This letter has no closing date');
    // A letter with a closing date gets no warning for "when it closes".
    const dated = await publishedLetter({ slug: 'dated-letter' });
    await tested(dated.id);
    expect((await saveSettings(visitor, dated.id, { mode: 'closing' })).status).toBe(303);
    const fine = textOf(mainOf((await visitor.get(deliveryPath(dated.id))).text));
    expect(fine).not.toContain('This letter has no closing date');
    expect(fine).not.toContain('This letter has no goal');
  });

  it('says in the editor when a save takes away the closing date that delivery waits for', async () => {
    const { id } = await publishedLetter();
    await tested(id);
    expect((await saveSettings(visitor, id, { mode: 'closing' })).status).toBe(303);
    const WARNING =
      'Delivery is set to go when the letter closes, but the letter has no closing date and does not close at its goal';
    const editor = await visitor.get(`/admin/letters/${id}`);
    expect(textOf(mainOf(editor.text))).not.toContain(WARNING);
    const fields = withField(
      withField(formFields(editor.text, 'editor-form'), 'closes_at', ''),
      'action',
      null,
    );
    const saved = await postForm(visitor, `/admin/letters/${id}`, `/admin/letters/${id}`, [
      ...fields,
      ['action', 'save'],
    ]);
    expect(saved.status).toBe(303);
    expect((await letter(id)).closesAt).toBeNull();
    const after = await visitor.get(saved.headers.location!);
    expect(textOf(mainOf(after.text))).toContain(WARNING);
    expect(startTags(after.text, 'a').some((a) => a.attrs.href === deliveryPath(id))).toBe(true);
  });

  it('shows bad settings beside their fields and keeps what was typed', async () => {
    const { id } = await publishedLetter();
    await tested(id);
    const response = await saveSettings(visitor, id, {
      mode: 'milestones',
      milestone_every: '0',
      reply_to: 'not an address',
    });
    expect(response.status).toBe(422);
    expect(fieldErrors(response.text, 'field-milestone_every')).toEqual([
      'Enter a whole number of signatures, from 1 up.',
    ]);
    expect(fieldErrors(response.text, 'field-reply_to')).toEqual([
      'Enter an e-mail address in the form name@example.org, or leave it empty.',
    ]);
    const replyTo = startTags(response.text, 'input').find((i) => i.attrs.name === 'reply_to');
    expect(replyTo?.attrs.value).toBe('not an address');
    expect(await savedSettings(id)).toBeUndefined();
    // Nothing saved, nothing audited.
    const audited = await t.platform.db
      .selectFrom('audit_events')
      .select('id')
      .where('action', '=', 'delivery-settings-changed')
      .execute();
    expect(audited).toEqual([]);
  });

  it("sends a test only to the organizer's address, once per recipient language, marked [TEST]", async () => {
    const { id, slug } = await publishedLetter();
    await signAll(slug, [FULL]);
    const response = await press(visitor, id, 'test');
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe(`${deliveryPath(id)}?done=testQueued`);
    await sendAll();

    expect(RECIPIENT_ADDRESSES.flatMap((a) => t.sink.to(a))).toEqual([]);
    const tests = t.sink.to(organizer.email);
    expect(tests).toHaveLength(3);
    expect(allLetters()).toHaveLength(3);
    for (const m of tests) {
      expect(m.envelopeTo).toEqual([organizer.email]);
      expect(m.parsed.subject).toMatch(/^\[(TEST|테스트)\] /);
    }
    const subjects = tests.map((m) => m.parsed.subject).sort();
    expect(subjects).toEqual(
      [
        `[TEST] ${EN_TITLE}: as ${EN_RECIPIENT.name} will receive it`,
        `[TEST] ${EN_TITLE}: as ${UK_RECIPIENT.name} will receive it`,
        `[테스트] ${KO_TITLE}: ${KO_RECIPIENT.name} 수신본`,
      ].sort(),
    );
    const korean = tests.find((m) => m.parsed.subject?.includes(KO_TITLE))!;
    expect(korean.parsed.text).toContain(KO_SENTENCE);
    expect(korean.parsed.text).toContain(`${KO_RECIPIENT.salutation},`);
    // The test banner is in the language of the letter the recipient reads.
    expect(korean.parsed.text).toContain('해당 수신인에게는 발송되지 않았습니다.');

    // A test is no delivery: the public page says nothing was sent, and supporters hear nothing.
    expect(textsByClass((await supporter.get(`/letters/${slug}`)).text, 'sent-record')).toEqual([]);
    await t.platform.supporterNews.notifyPending();
    await t.drainOutbox();
    expect(t.sink.messages.filter(isNotice)).toEqual([]);
    const page = textOf(mainOf((await visitor.get(deliveryPath(id))).text));
    expect(page).toContain('A test has been sent.');
    expect(page).toContain(`to ${organizer.email}`);
  });

  it('says why on the asking page when the letter may not be delivered or updated yet, and offers no button', async () => {
    const { id } = await publishedLetter();
    // No test has been sent: delivering is refused, and the page says so before anyone presses.
    const deliver = await visitor.get(`${deliveryPath(id)}/deliver`);
    expect(deliver.status).toBe(200);
    const deliverPage = textOf(mainOf(deliver.text));
    expect(deliverPage).toContain('Send a test delivery to your own address first.');
    // Nobody has signed: said before anyone sends the officials a letter with no signatures.
    expect(byId(deliver.text, 'no-signatures')).toBeDefined();
    expect(deliverPage).toContain(
      'No confirmed signatures yet: the recipients will get the letter with none.',
    );
    expect(deliver.text).not.toContain(`action="${deliveryPath(id)}/deliver"`);
    const update = await visitor.get(`${deliveryPath(id)}/update`);
    expect(textOf(mainOf(update.text))).toContain('Send a test delivery to your own address first.');
    expect(update.text).not.toContain(`action="${deliveryPath(id)}/update"`);
  });

  it('says on the asking page how many signatures screening holds out of the round, and where an admin reviews them', async () => {
    const { id, slug } = await publishedLetter();
    await signAll(slug);
    await tested(id);
    // Two more signed from one connection too fast: held, counted nowhere until an admin clears them.
    for (const email of ['held-1@example.org', 'held-2@example.org']) {
      await storeSignature(t.platform.db, 'held-secret', id, {
        name: 'Held Person',
        email,
        status: 'pending',
        country: 'KR',
        createdAt: t.clock.now().toISOString(),
      });
    }
    await t.platform.db
      .updateTable('signatures')
      .set({ suspect_reasons: 'rate-burst', confirm_requested_at: t.clock.now().toISOString() })
      .where('email', 'like', 'held-%')
      .execute();
    // A third, held, whose supporter never confirmed: clearing it would not put it in the round.
    await storeSignature(t.platform.db, 'held-secret', id, {
      name: 'Unconfirmed Person',
      email: 'unconfirmed@example.org',
      status: 'pending',
      country: 'KR',
      createdAt: t.clock.now().toISOString(),
    });
    await t.platform.db
      .updateTable('signatures')
      .set({ suspect_reasons: 'rate-burst' })
      .where('email', '=', 'unconfirmed@example.org')
      .execute();
    const asked = mainOf((await visitor.get(`${deliveryPath(id)}/deliver`)).text);
    expect(textOf(asked)).toContain(
      '2 signatures are held by our checks against fake signatures and are not in this count',
    );
    // An organizer cannot clear them: they are told to ask; an admin gets the list to review.
    expect(textOf(asked)).toContain('Ask an admin to review them before you send');
    const admin = await loginAs(t.app, await createAccount(t.platform, 'admin'));
    const asAdmin = mainOf((await admin.get(`${deliveryPath(id)}/deliver`)).text);
    const review = startTags(asAdmin, 'a').find((a) => a.attrs.href?.startsWith('/admin/signatures?'));
    expect(review?.attrs.href).toBe(`/admin/signatures?letter=${slug}&flag=suspect&status=pending`);
    const listed = mainOf((await admin.get(review!.attrs.href!)).text);
    expect(textsByClass(listed, 'wrap-anywhere')).toEqual(
      expect.arrayContaining(['held-1@example.org', 'held-2@example.org']),
    );
  });

  it('says before delivering a new version that its recipients already had an earlier one, and when', async () => {
    const { id, slug } = await publishedLetter();
    expect((await saveSettings(visitor, id, { mode: 'manual' })).status).toBe(303);
    await signAll(slug);
    await tested(id);
    const first = await visitor.get(`${deliveryPath(id)}/deliver`);
    expect(byId(first.text, 'delivered-before')).toBeUndefined();
    expect((await press(visitor, id, 'deliver')).status).toBe(303);
    await sendAll();

    await saveNewVersion(t.platform, organizer, id);
    const again = await visitor.get(`${deliveryPath(id)}/deliver`);
    expect(again.status).toBe(200);
    const warning = byId(again.text, 'delivered-before');
    expect(warning && textOf(innerHtml(again.text, warning))).toMatch(
      /^This letter was already delivered on .+, in an earlier version\. Its recipients get this version as a second letter/,
    );
  });

  it("asks before delivering, then sends one letter per recipient in the recipient's language", async () => {
    const { id, slug } = await publishedLetter();
    expect((await saveSettings(visitor, id, { mode: 'manual', reply_to: REPLY_TO })).status).toBe(303);
    await signAll(slug);
    await tested(id);

    // The link opens a page that asks, listing who will receive what.
    const confirm = await visitor.get(`${deliveryPath(id)}/deliver`);
    expect(confirm.status).toBe(200);
    const asked = textOf(mainOf(confirm.text));
    expect(asked).toContain('Deliver the letter now?');
    // Signed by supporters: no warning that it goes without signatures.
    expect(byId(confirm.text, 'no-signatures')).toBeUndefined();
    for (const r of [KO_RECIPIENT, UK_RECIPIENT, EN_RECIPIENT]) expect(asked).toContain(r.name);
    expect(asked).toContain('(Korean)');
    expect(asked).toContain('Yes, deliver to 3 recipients');
    // Asking sends nothing.
    await sendAll();
    expect(RECIPIENT_ADDRESSES.flatMap(lettersTo)).toEqual([]);

    const delivered = await press(visitor, id, 'deliver');
    expect(delivered.status).toBe(303);
    expect(delivered.headers.location).toBe(`${deliveryPath(id)}?done=deliveryQueued`);
    await sendAll();

    for (const address of RECIPIENT_ADDRESSES) expect(lettersTo(address), address).toHaveLength(1);
    const [korean] = lettersTo(KO_RECIPIENT.email);
    expect(korean!.parsed.subject).toBe(KO_TITLE);
    expect(korean!.parsed.text).toContain(KO_SENTENCE);
    expect(korean!.parsed.text).toContain(`${KO_RECIPIENT.salutation},`);
    expect(korean!.parsed.text).not.toContain('We ask you to protect');
    expect(korean!.parsed.text).toContain('서명자 3명');

    const [ukrainian] = lettersTo(UK_RECIPIENT.email);
    expect(ukrainian!.parsed.subject).toBe(EN_TITLE);
    expect(ukrainian!.parsed.text).toContain('We ask you to protect the captured soldiers');
    // No Ukrainian text: the English one, opening with the English neutral greeting, never the Ukrainian salutation.
    expect(ukrainian!.parsed.text).toContain('Dear Sir or Madam,');
    expect(ukrainian!.parsed.text).not.toContain(UK_RECIPIENT.salutation);
    expect(ukrainian!.parsed.text).not.toContain(KO_SENTENCE);

    const [english] = lettersTo(EN_RECIPIENT.email);
    expect(english!.parsed.text).toContain(`${EN_RECIPIENT.salutation},`);
    expect(english!.parsed.text).toContain('3 people signed');

    // Each goes under the organisation's name, said in the language of its text, from the platform's address.
    expect([korean!, ukrainian!, english!].map((m) => m.parsed.from?.value[0]?.name)).toEqual([
      'Escapees for freedom (Undersigned 경유)',
      'Escapees for freedom via Undersigned',
      'Escapees for freedom via Undersigned',
    ]);
    const outbox = t.platform.repositories.outbox;
    for (const message of [korean!, ukrainian!, english!]) {
      expect(message.parsed.from?.value.map((v) => v.address)).toEqual([MAIL_FROM_ADDRESS]);
      // Replies come to the delivery's own reply address (the organisation's gets them forwarded).
      const replyTo = message.parsed.replyTo?.value.map((v) => v.address) ?? [];
      expect(replyTo).toHaveLength(1);
      expect(replyTo[0]).toMatch(/^replies\+d\d+-[0-9a-f]{16}@undersigned\.example\.org$/);
      expect(t.platform.replies!.accepts(replyTo[0]!)).toBe(true);
      // The envelope sender is this message's own return path (VERP), which the bounce handler accepts.
      const verp = /^bounces\+m(\d+)-[A-Za-z0-9_-]{6,32}@undersigned\.example\.org$/.exec(
        message.envelopeFrom,
      );
      expect(verp, message.envelopeFrom).not.toBeNull();
      expect(t.platform.bounces.accepts(message.envelopeFrom)).toBe(true);
      const queued = await outbox.findById(Number(verp![1]));
      expect(queued?.toAddress).toBe(message.envelopeTo[0]);
      expect(message.parsed.messageId).toBe(queued?.messageId);
    }
    expect(new Set([korean!, ukrainian!, english!].map((m) => m.envelopeFrom)).size).toBe(3);

    // The record shows each recipient's letter as sent, with its Message-ID.
    const record = textOf(mainOf((await visitor.get(deliveryPath(id))).text));
    for (const message of [korean!, ukrainian!, english!]) expect(record).toContain(message.parsed.messageId);
    // Each letter's language named in the page's (English here), as in a sentence.
    expect(record).toContain(`${KO_RECIPIENT.email} · Korean`);
    expect(record).toContain(`${UK_RECIPIENT.email} · English`);
    expect(record).toContain('This version of the letter has been delivered.');
  });

  it('compiles a round for the recipients it was started for and are still listed: none added since', async () => {
    const { id, slug } = await publishedLetter();
    await signAll(slug);
    await tested(id);
    expect((await press(visitor, id, 'deliver')).status).toBe(303);
    // Before the compile job runs: a recipient added to the list, one taken off it, one address corrected.
    const late = {
      name: 'Added after the round started',
      email: 'late-recipient@example.org',
      language: 'en',
    };
    const lateId = await addRecipient(t.platform.db, t.clock.now(), late);
    await t.platform.db
      .insertInto('letter_recipients')
      .values({ letter_id: id, recipient_id: lateId, position: 10 })
      .execute();
    await t.platform.db
      .deleteFrom('letter_recipients')
      .where('letter_id', '=', id)
      .where('recipient_id', '=', recipientIds[1]!)
      .execute();
    await t.platform.db
      .updateTable('recipients')
      .set({ email: 'unhcr-corrected@example.org' })
      .where('id', '=', recipientIds[2]!)
      .execute();
    // The delivery page counts the letters still to prepare for whom the round is compiled for.
    const page = textOf(mainOf((await visitor.get(deliveryPath(id))).text));
    expect(page).toContain('Compiling: 2 letters still to prepare');
    await sendAll();

    // The two still listed of the three it started for got it (the corrected address used); the one
    // taken off the list did not, nor did the one added after it started.
    expect(lettersTo(KO_RECIPIENT.email)).toHaveLength(1);
    expect(lettersTo('unhcr-corrected@example.org')).toHaveLength(1);
    expect(lettersTo(UK_RECIPIENT.email)).toHaveLength(0);
    expect(lettersTo(EN_RECIPIENT.email)).toHaveLength(0);
    expect(lettersTo(late.email)).toHaveLength(0);
    const [round] = (await rounds(id)).filter((r) => r.kind === 'delivery');
    expect(round!.status).toBe('queued');

    // The next round (an update) reaches the list as it is then.
    expect((await press(visitor, id, 'update')).status).toBe(303);
    await sendAll();
    expect(lettersTo(late.email)).toHaveLength(1);
    expect(lettersTo(KO_RECIPIENT.email)).toHaveLength(2);
    expect(lettersTo(UK_RECIPIENT.email)).toHaveLength(0);
  });

  it('folds the record of older rounds whose letters all went, keeping the two newest open', async () => {
    const { id, slug } = await publishedLetter();
    expect((await saveSettings(visitor, id, { mode: 'manual', reply_to: REPLY_TO })).status).toBe(303);
    await signAll(slug);
    await tested(id);
    expect((await press(visitor, id, 'deliver')).status).toBe(303);
    await sendAll();
    for (let update = 0; update < 2; update += 1) {
      expect((await press(visitor, id, 'update')).status).toBe(303);
      await sendAll();
    }
    const page = mainOf((await visitor.get(deliveryPath(id))).text);
    // Newest first: two updates open, then the delivery and the test folded behind what they say.
    const folded = startTags(page, 'details').filter((d) => d.attrs.class === 'round__folded');
    expect(folded).toHaveLength(2);
    // (The test went to the organizer once per language of the recipients.)
    expect(textsByClass(page, 'round__folded').map((text) => text.split(':')[0])).toEqual([
      'Sent to all 3 recipients',
      'Sent to all 3 recipients',
    ]);
    // Every recipient of every round is still on the page, for a search or a screen reader.
    for (const r of [KO_RECIPIENT, UK_RECIPIENT, EN_RECIPIENT])
      expect(textOf(page).split(r.email).length - 1).toBe(3);
  });

  it('gives a round compiled before audiences were kept the audience it reached (the migration)', async () => {
    const { id, slug } = await publishedLetter();
    await signAll(slug);
    await tested(id);
    expect((await press(visitor, id, 'deliver')).status).toBe(303);
    await sendAll();
    // As the rounds of a database from before stand: no audience kept.
    await t.platform.db.deleteFrom('round_audiences').execute();
    await t.platform.db.updateTable('delivery_rounds').set({ audience_kept: 0 }).execute();
    const late = await addRecipient(t.platform.db, t.clock.now(), { email: 'late-recipient@example.org' });
    await t.platform.db
      .insertInto('letter_recipients')
      .values({ letter_id: id, recipient_id: late, position: 10 })
      .execute();

    await keepAudiencesReached(t.platform.db);
    const kept = await rounds(id);
    expect(kept.map((r) => [r.kind, r.audience_kept])).toEqual([
      ['test', 0],
      ['delivery', 1],
    ]);
    const audience = await t.platform.db
      .selectFrom('round_audiences')
      .select(['round_id', 'recipient_id'])
      .orderBy('recipient_id')
      .execute();
    // The three who have its letter, not the one listed since.
    expect(audience).toEqual(recipientIds.map((recipient_id) => ({ round_id: kept[1]!.id, recipient_id })));
    // A test round kept none: it still goes by the list.
    expect(await new DeliveryRepository(t.platform.db).roundAudience(kept[0]!.id)).toBeUndefined();
  });

  it('keeps the Message-ID of a letter when the receiving server asks to try again later', async () => {
    const { id, slug } = await publishedLetter();
    await signAll(slug, [FULL]);
    await tested(id);
    const first = t.sink.attempts.length;
    t.sink.reply = (attempt) =>
      attempt === first ? { code: 451, message: '4.7.1 Greylisted, try again later' } : undefined;
    await press(visitor, id, 'deliver');
    await sendAll();
    const refused = t.sink.attempts[first]!;
    expect(refused.code).toBe(451);
    t.clock.advance(15 * 60_000);
    await t.drainOutbox();
    const retried = t.sink.attempts.filter((a) => a.envelopeTo[0] === refused.envelopeTo[0]);
    expect(retried.map((a) => a.code)).toEqual([451, 250]);
    expect(retried[1]!.messageId).toBe(refused.messageId);
    expect(lettersTo(refused.envelopeTo[0]!)).toHaveLength(1);
  });

  it('makes one round and one e-mail per recipient when "deliver" is pressed twice', async () => {
    const { id, slug } = await publishedLetter();
    await signAll(slug, [FULL]);
    await tested(id);
    const requestKey = key();
    const firstPress = await press(visitor, id, 'deliver', requestKey);
    const samePress = await press(visitor, id, 'deliver', requestKey);
    expect(firstPress.status).toBe(303);
    // The same form sent again (a double click, a reload) lands on the same result.
    expect(samePress.status).toBe(303);
    expect(samePress.headers.location).toBe(firstPress.headers.location);
    // A fresh form for a version whose delivery started is refused: the page says where it stands.
    const freshPress = await press(visitor, id, 'deliver');
    expect(freshPress.status).toBe(409);
    expect(textOf(mainOf(freshPress.text))).toContain('The delivery of this version started on');
    await sendAll();
    await sendAll();

    expect((await rounds(id)).map((r) => r.kind)).toEqual(['test', 'delivery']);
    for (const address of RECIPIENT_ADDRESSES) expect(lettersTo(address), address).toHaveLength(1);
  });

  it('delivers a closed letter once: it becomes delivered and signing is refused', async () => {
    const { id, slug } = await publishedLetter();
    await signAll(slug, [FULL]);
    await tested(id);
    expect(
      (await postForm(visitor, `/admin/letters/${id}/close`, `/admin/letters/${id}/close`, [])).status,
    ).toBe(303);
    expect((await letter(id)).status).toBe('closed');

    const requestKey = key();
    expect((await press(visitor, id, 'deliver', requestKey)).status).toBe(303);
    expect((await letter(id)).status).toBe('delivered');
    // Pressing the same button again is the same delivery, not an error about the letter being delivered.
    const again = await press(visitor, id, 'deliver', requestKey);
    expect(again.status).toBe(303);
    expect(again.headers.location).toBe(`${deliveryPath(id)}?done=deliveryQueued`);
    await sendAll();
    for (const address of RECIPIENT_ADDRESSES) expect(lettersTo(address), address).toHaveLength(1);

    const signing = await supporter.submit(
      `/letters/${slug}`,
      `/letters/${slug}/sign`,
      signingForm({ email: 'late@example.org' }),
    );
    expect(signing.status).toBe(409);
    expect((await letter(id)).signatureCount).toBe(1);
    // A delivered letter gets no new test and no new delivery: the asking page says it went.
    expectErrorPage(await press(visitor, id, 'test'), 409, ERROR_TITLES[409]);
    const delivered = await press(visitor, id, 'deliver');
    expect(delivered.status).toBe(409);
    expect(textOf(mainOf(delivered.text))).toContain('This version has already been delivered');
    expect((await rounds(id)).map((r) => r.kind)).toEqual(['test', 'delivery']);
  });

  it('sends an update only when asked, saying it is an update with the new count', async () => {
    const { id, slug } = await publishedLetter();
    await signAll(slug, [FULL]);
    await tested(id);
    // Before the first delivery there is nothing to update.
    expectErrorPage(await press(visitor, id, 'update'), 409, ERROR_TITLES[409]);
    await press(visitor, id, 'deliver');
    await sendAll();
    await signAll(slug, [INITIALS, HIDDEN]);
    await sendAll();
    // New signatures alone send nothing to the recipients.
    expect(lettersTo(EN_RECIPIENT.email)).toHaveLength(1);

    const confirm = await visitor.get(`${deliveryPath(id)}/update`);
    expect(textOf(mainOf(confirm.text))).toContain('Send an update?');
    expect((await press(visitor, id, 'update')).headers.location).toBe(
      `${deliveryPath(id)}?done=updateQueued`,
    );
    await sendAll();

    const [original, update] = lettersTo(EN_RECIPIENT.email);
    expect(original!.parsed.subject).toBe(EN_TITLE);
    expect(update!.parsed.subject).toBe(`Update: ${EN_TITLE} (3 signatures)`);
    expect(update!.parsed.text).toContain(
      'Update: this open letter, which we sent you earlier, now has 3 signatures.',
    );
    expect(update!.parsed.text).toContain('3 people signed');
    expect(update!.parsed.messageId).not.toBe(original!.parsed.messageId);
    const [, koUpdate] = lettersTo(KO_RECIPIENT.email);
    expect(koUpdate!.parsed.subject).toBe(`업데이트: ${KO_TITLE} (3명 서명)`);
    expect((await rounds(id)).map((r) => [r.kind, r.signature_count])).toEqual([
      ['test', 1],
      ['delivery', 1],
      ['update', 3],
    ]);
  });

  it("honours each supporter's choice in the delivered letter and never shows an e-mail address", async () => {
    const { id, slug } = await publishedLetter();
    await signAll(slug);
    await tested(id);
    await press(visitor, id, 'deliver');
    await sendAll();
    await press(visitor, id, 'update');
    await sendAll();

    const [english] = lettersTo(EN_RECIPIENT.email);
    const text = english!.parsed.text!;
    expect(text).toContain('Kim Ji-hoon, South Korea');
    expect(text).toContain('O. K., Ukraine');
    expect(text).not.toContain('Kovalenko');
    expect(text).not.toContain('Olena');
    expect(text).not.toContain('Park');
    expect(text).not.toContain('Min-su');
    // Counted-only supporters are in the count and said to be there.
    expect(text).toContain('3 people signed');
    expect(text).toContain('1 signatory chose to be counted without their name or country.');
    // Kim is from South Korea, and so is the supporter counted without their name, who is placed in no country.
    expect(text).toMatch(/South Korea: 1/);
    expect(text).not.toMatch(/South Korea: 2/);
    // So the table's heading says whom it counts: those shown (it said "3 in all" above rows adding to 2).
    expect(text).toContain('Named signatures by country\nSouth Korea: 1\nUkraine: 1\n');
    expect(text).not.toContain('in all');
    const [korean] = lettersTo(KO_RECIPIENT.email);
    expect(korean!.parsed.text).toContain('Kim Ji-hoon, 대한민국');
    expect(korean!.parsed.text).toContain('O. K., 우크라이나');

    // Not one delivered message (tests, deliveries, updates) carries a supporter's address or hidden name.
    const delivered = [...allLetters()];
    expect(delivered.length).toBe(3 + 3 + 3);
    for (const message of delivered) {
      const everything = everythingIn(message);
      for (const s of SUPPORTERS) {
        expect(everything, message.parsed.subject).not.toContain(s.email);
        expect(everything, message.parsed.subject).not.toContain(s.email.split('@')[0]);
      }
      expect(everything).not.toContain(HIDDEN.name);
      expect(everything).not.toContain(HIDDEN.organisation);
    }
  });

  it('shows "sent to" each recipient on the public page once the letter was sent, never for a test', async () => {
    const { id, slug } = await publishedLetter();
    await signAll(slug, [FULL, INITIALS]);
    await tested(id);
    expect(textsByClass((await supporter.get(`/letters/${slug}`)).text, 'sent-record')).toEqual([]);

    await press(visitor, id, 'deliver');
    await t.compileDeliveries();
    // Queued is not sent.
    expect(textsByClass((await supporter.get(`/letters/${slug}`)).text, 'sent-record')).toEqual([]);
    await t.drainOutbox();
    // The public page is kept for a count epoch (pages/page-cache.ts): the record shows in the next one.
    t.clock.advance(COUNT_EPOCH_MS);
    const [record] = textsByClass((await supporter.get(`/letters/${slug}`)).text, 'sent-record');
    // One delivery (pages/delivery-record.ts): its date and figure once, then each recipient.
    expect(record).toContain('November 23, 2026 — with 2 signatures');
    for (const r of [KO_RECIPIENT, UK_RECIPIENT, EN_RECIPIENT]) expect(record).toContain(r.name);
  });

  describe("supporters' news", () => {
    async function deliveredWithNews() {
      const { id, slug } = await publishedLetter();
      await signAll(slug);
      await tested(id);
      await press(visitor, id, 'deliver');
      await sendAll();
      await t.platform.supporterNews.notifyPending();
      await t.drainOutbox();
      return { id, slug };
    }

    it('tells those who asked, and only them, once per round, with one-click unsubscribe headers', async () => {
      const { id } = await deliveredWithNews();
      const notices = t.sink.messages.filter(isNotice);
      expect(notices.map((m) => m.envelopeTo[0]).sort()).toEqual([FULL.email, HIDDEN.email].sort());
      expect(t.sink.to(INITIALS.email).filter(isNotice)).toEqual([]);
      const [notice] = t.sink.to(FULL.email).filter(isNotice);
      expect(notice!.parsed.subject).toBe(`Your letter was sent: ${EN_TITLE}`);
      expect(notice!.parsed.text).toContain('Recipients: 3. Confirmed signatures: 3.');
      expect(rawHeader(notice!, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
      const unsubscribe = /^<(https?:\/\/[^>]+)>$/.exec(rawHeader(notice!, 'List-Unsubscribe') ?? '');
      expect(unsubscribe, rawHeader(notice!, 'List-Unsubscribe')).not.toBeNull();
      expect(pathOf(unsubscribe![1]!)).toMatch(/^\/signatures\/unsubscribe\/[A-Za-z0-9_.-]+\?lang=en$/);

      // The job runs again: nothing more.
      expect(await t.platform.supporterNews.notifyPending()).toBe(0);
      await t.drainOutbox();
      expect(t.sink.messages.filter(isNotice)).toHaveLength(2);

      // An update is a new round: one more notice each.
      await press(visitor, id, 'update');
      await sendAll();
      await t.platform.supporterNews.notifyPending();
      await t.platform.supporterNews.notifyPending();
      await t.drainOutbox();
      expect(t.sink.to(FULL.email).filter(isNotice)).toHaveLength(2);
      expect(t.sink.to(HIDDEN.email).filter(isNotice)).toHaveLength(2);
      expect(t.sink.to(INITIALS.email).filter(isNotice)).toHaveLength(0);
      // It says it is an update, not "the letter was sent" a second time.
      const update = t.sink.to(FULL.email).filter(isNotice)[1]!;
      expect(update.parsed.subject).toBe(`News of the letter you signed: ${EN_TITLE}`);
      expect(update.parsed.text).toContain('were sent an update with the signatures so far');
      expect(update.parsed.text).not.toContain('has been sent');
      expect(update.parsed.html).toContain('The recipients were told how many have signed');
    });

    it('stops the news after a one-click POST from a mail program, without a CSRF token', async () => {
      const { id } = await deliveredWithNews();
      const [notice] = t.sink.to(FULL.email).filter(isNotice);
      const link = /^<([^>]+)>$/.exec(rawHeader(notice!, 'List-Unsubscribe')!)![1]!;

      // A mail program has no cookie and no token: just the body RFC 8058 prescribes.
      const response = await request(t.app)
        .post(pathOf(link))
        .type('form')
        .send('List-Unsubscribe=One-Click');
      expect(response.status).toBe(200);
      expect(textOf(mainOf(response.text))).toContain('you will receive no more news about this letter');
      // Harmless to repeat.
      expect(
        (await request(t.app).post(pathOf(link)).type('form').send('List-Unsubscribe=One-Click')).status,
      ).toBe(200);

      await press(visitor, id, 'update');
      await sendAll();
      await t.platform.supporterNews.notifyPending();
      await t.drainOutbox();
      expect(t.sink.to(FULL.email).filter(isNotice)).toHaveLength(1);
      expect(t.sink.to(HIDDEN.email).filter(isNotice)).toHaveLength(2);
      // The signature still counts.
      expect((await letter(id)).signatureCount).toBe(3);
    });

    it('answers a forged unsubscribe link with a 404 page and changes nothing', async () => {
      const { id } = await deliveredWithNews();
      const [notice] = t.sink.to(FULL.email).filter(isNotice);
      const link = pathOf(/^<([^>]+)>$/.exec(rawHeader(notice!, 'List-Unsubscribe')!)![1]!);
      // The genuine link opens a page with the button (opening it unsubscribes nobody).
      const genuine = await supporter.get(link);
      expect(genuine.status).toBe(200);
      expect(startTags(genuine.text, 'form').some((f) => f.attrs.action?.includes('/unsubscribe/'))).toBe(
        true,
      );
      const token = tokenOf(link);
      const forged = `${token.slice(0, -4)}${token.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
      for (const bad of [forged, 'not-a-token', `${'A'.repeat(22)}.${'B'.repeat(32)}`]) {
        const posted = await request(t.app)
          .post(`/signatures/unsubscribe/${bad}`)
          .type('form')
          .send('List-Unsubscribe=One-Click');
        expect(posted.status, bad).toBe(404);
        expect(posted.headers['content-type']).toMatch(/^text\/html/);
        const opened = await supporter.get(`/signatures/unsubscribe/${bad}`);
        expect(opened.status, bad).toBe(404);
        expect(startTags(opened.text, 'form').some((f) => f.attrs.action?.includes('/unsubscribe/'))).toBe(
          false,
        );
      }
      await press(visitor, id, 'update');
      await sendAll();
      await t.platform.supporterNews.notifyPending();
      await t.drainOutbox();
      expect(t.sink.to(FULL.email).filter(isNotice)).toHaveLength(2);
    });
  });

  describe('automatic delivery', () => {
    /** A signed, tested letter closing on 30 November, set to be delivered at closing. */
    async function deliveredAtClosing(): Promise<number> {
      const { id, slug } = await publishedLetter({ closes_at: '2026-11-30' });
      await signAll(slug, [FULL]);
      await tested(id);
      expect((await saveSettings(visitor, id, { mode: 'closing' })).status).toBe(303);
      return id;
    }

    /** Every recipient got the letter once, in the round the closing started. */
    async function expectDeliveredOnceAtClosing(id: number): Promise<void> {
      for (const address of RECIPIENT_ADDRESSES) expect(lettersTo(address), address).toHaveLength(1);
      expect((await rounds(id)).map((r) => [r.kind, r.trigger])).toEqual([
        ['test', 'manual'],
        ['delivery', 'closing'],
      ]);
    }

    it('delivers when the closing date has passed', async () => {
      const id = await deliveredAtClosing();
      await sendAll();
      expect(lettersTo(EN_RECIPIENT.email)).toEqual([]);

      t.clock.set(new Date('2026-12-01T00:00:01.000Z'));
      await sendAll();
      await expectDeliveredOnceAtClosing(id);
      // The letter ends delivered, whichever of the closing and delivery jobs runs first.
      expect((await letter(id)).status).toBe('delivered');
      await t.platform.letterAdmin.workflow.closeDue();
      expect((await letter(id)).status).toBe('delivered');
      await sendAll();
      expect(lettersTo(EN_RECIPIENT.email)).toHaveLength(1);
    });

    it('waits instead of delivering to no one when the recipients were all removed, and says why', async () => {
      const id = await deliveredAtClosing();
      await new LetterRepository(t.platform.db).setRecipients(id, []);
      t.clock.set(new Date('2026-12-01T00:00:01.000Z'));
      await sendAll();
      await sendAll();
      // Before, the round started, went to nobody, and the letter ended "delivered".
      expect((await rounds(id)).map((r) => r.kind)).toEqual(['test']);
      // Operators hear of the wait once, not at every run of the job (every 30 s).
      expect(
        warnings.filter((m) => m === 'automatic delivery waits: it would reach no recipient'),
      ).toHaveLength(1);
      expect((await letter(id)).status).not.toBe('delivered');
      // Logged in again: a week on the clock ended the session.
      const page = textOf(mainOf((await (await loginAs(t.app, organizer)).get(deliveryPath(id))).text));
      expect(page).toContain("Choose at least one recipient in the letter's editor before delivering it.");

      await new LetterRepository(t.platform.db).setRecipients(id, recipientIds);
      await sendAll();
      await expectDeliveredOnceAtClosing(id);
      expect((await letter(id)).status).toBe('delivered');
    });

    it('refuses in the round itself a round whose recipients were removed after its caller looked', async () => {
      const id = await deliveredAtClosing();
      t.clock.set(new Date('2026-12-01T00:00:01.000Z'));
      // As the job would once it had read the list (still full) and before its round began.
      const seen = await letter(id);
      await new LetterRepository(t.platform.db).setRecipients(id, []);
      await expect(t.platform.rounds.start(seen, 'delivery', 'closing', {})).rejects.toMatchObject({
        status: 409,
        code: 'no_recipients',
      });
      // Nothing of the round was kept: no round, the letter not delivered, no audit entry.
      expect((await rounds(id)).map((r) => r.kind)).toEqual(['test']);
      expect((await letter(id)).status).not.toBe('delivered');
      const audited = await auditEntries(t.platform.db, 'delivery');
      // The test round's entry only.
      expect(audited.map((a) => [a.target_id, a.details.kind])).toEqual([[String(id), 'test']]);

      // The automatic mode takes the refusal as a wait, and delivers once recipients are back.
      await sendAll();
      expect(
        warnings.filter((m) => m === 'automatic delivery waits: it would reach no recipient'),
      ).toHaveLength(1);
      await new LetterRepository(t.platform.db).setRecipients(id, recipientIds);
      await sendAll();
      await expectDeliveredOnceAtClosing(id);
    });

    it.runIf(testDialect() === 'postgres')(
      'makes a round and an edit of the recipient list take turns across processes (PostgreSQL)',
      async () => {
        const id = await deliveredAtClosing();
        t.clock.set(new Date('2026-12-01T00:00:01.000Z'));
        const seen = await letter(id);
        // Another process saves the letter with no recipients, as the editor does (the row, then the
        // list), and has not committed yet.
        let commitEdit!: () => void;
        const editDone = new Promise<void>((resolve) => (commitEdit = resolve));
        let editing!: Promise<void>;
        const emptied = new Promise<void>((ready) => {
          editing = t.platform.db.transaction().execute(async (tx) => {
            await tx
              .updateTable('letters')
              .set({ updated_at: t.clock.now().toISOString() })
              .where('id', '=', id)
              .execute();
            await new LetterRepository(tx).setRecipients(id, []);
            ready();
            await editDone;
          });
        });
        await emptied;
        const outcome = t.platform.rounds.start(seen, 'delivery', 'closing', {}).then(
          () => 'started',
          (error: unknown) => error,
        );
        // The round waits for the edit to end (PostgreSQL shows a session of this test's database waiting
        // for a lock); without the lock it would read the list as last committed, still full, and start.
        const waiting = async () =>
          Number(
            (
              await sql<{ n: string }>`select count(*) as n from pg_stat_activity
                where datname = current_database() and wait_event_type = 'Lock'`.execute(t.platform.db)
            ).rows[0]!.n,
          ) > 0;
        const until = Date.now() + 5_000;
        let settled = false;
        void outcome.then(() => (settled = true));
        let sawWaiting = false;
        while (!settled && !(sawWaiting = await waiting()) && Date.now() < until) await sleep(20);
        expect(sawWaiting).toBe(true);
        commitEdit();
        await editing;
        expect(await outcome).toMatchObject({ status: 409, code: 'no_recipients' });
        expect((await rounds(id)).map((r) => r.kind)).toEqual(['test']);
      },
    );

    it('delivers when the goal is reached, not before', async () => {
      const { id, slug } = await publishedLetter({ goal: '2' });
      await tested(id);
      expect((await saveSettings(visitor, id, { mode: 'goal' })).status).toBe(303);
      await signAll(slug, [FULL]);
      await sendAll();
      expect(lettersTo(EN_RECIPIENT.email)).toEqual([]);
      await signAll(slug, [INITIALS]);
      await sendAll();
      const [english] = lettersTo(EN_RECIPIENT.email);
      expect(english!.parsed.text).toContain('2 people signed');
      await signAll(slug, [HIDDEN]);
      await sendAll();
      expect(lettersTo(EN_RECIPIENT.email)).toHaveLength(1);
      expect((await rounds(id)).map((r) => [r.kind, r.trigger])).toEqual([
        ['test', 'manual'],
        ['delivery', 'goal'],
      ]);
    });

    it('sends a milestone update every N signatures, each once, with the new count', async () => {
      const { id, slug } = await publishedLetter();
      await tested(id);
      expect((await saveSettings(visitor, id, { mode: 'milestones', milestone_every: '2' })).status).toBe(
        303,
      );
      const signers = [1, 2, 3, 4, 5].map((n) => ({ email: `signer-${n}@example.org`, name: `Signer ${n}` }));
      await signAll(slug, signers.slice(0, 1));
      await sendAll();
      expect(lettersTo(EN_RECIPIENT.email)).toEqual([]);
      await signAll(slug, signers.slice(1, 2));
      await sendAll();
      await sendAll();
      expect(lettersTo(EN_RECIPIENT.email).map((m) => m.parsed.subject)).toEqual([
        `Update: ${EN_TITLE} (2 signatures)`,
      ]);
      await signAll(slug, signers.slice(2, 3));
      await sendAll();
      expect(lettersTo(EN_RECIPIENT.email)).toHaveLength(1);
      await signAll(slug, signers.slice(3, 4));
      await sendAll();
      await sendAll();
      await signAll(slug, signers.slice(4, 5));
      await sendAll();
      const subjects = lettersTo(EN_RECIPIENT.email).map((m) => m.parsed.subject);
      expect(subjects).toEqual([`Update: ${EN_TITLE} (2 signatures)`, `Update: ${EN_TITLE} (4 signatures)`]);
      expect(lettersTo(EN_RECIPIENT.email)[1]!.parsed.text).toContain(
        'Update: this open letter, which we sent you earlier, now has 4 signatures.',
      );
      expect((await rounds(id)).map((r) => [r.kind, r.milestone])).toEqual([
        ['test', null],
        ['milestone', 2],
        ['milestone', 4],
      ]);
      for (const address of RECIPIENT_ADDRESSES) expect(lettersTo(address), address).toHaveLength(2);
    });

    it('delivers at the set time, not before', async () => {
      const { id, slug } = await publishedLetter();
      await signAll(slug, [FULL]);
      await tested(id);
      expect(
        (await saveSettings(visitor, id, { mode: 'scheduled', deliver_at: '2026-11-24T08:30' })).status,
      ).toBe(303);
      t.clock.set(new Date('2026-11-24T08:29:00.000Z'));
      await sendAll();
      expect(lettersTo(EN_RECIPIENT.email)).toEqual([]);
      t.clock.set(new Date('2026-11-24T08:30:00.000Z'));
      await sendAll();
      await sendAll();
      for (const address of RECIPIENT_ADDRESSES) expect(lettersTo(address), address).toHaveLength(1);
      expect((await rounds(id)).map((r) => [r.kind, r.trigger])).toEqual([
        ['test', 'manual'],
        ['delivery', 'scheduled'],
      ]);
    });

    it('compiles each recipient once when two compile jobs run at the same time', async () => {
      const { id, slug } = await publishedLetter();
      await signAll(slug, [FULL]);
      await tested(id);
      await press(visitor, id, 'deliver');
      await Promise.all([
        t.platform.roundCompiling.compilePending(),
        t.platform.roundCompiling.compilePending(),
      ]);
      await t.drainOutbox();
      for (const address of RECIPIENT_ADDRESSES) expect(lettersTo(address), address).toHaveLength(1);
      const deliveries = await t.platform.db
        .selectFrom('deliveries')
        .innerJoin('delivery_rounds', 'delivery_rounds.id', 'deliveries.delivery_round_id')
        .select(['deliveries.recipient_id'])
        .where('delivery_rounds.kind', '=', 'delivery')
        .execute();
      expect(deliveries.map((d) => d.recipient_id).sort()).toEqual([...recipientIds].sort());
      const queued = await t.platform.db
        .selectFrom('outbox_messages')
        .select('to_address')
        .where('kind', '=', 'letter-delivery')
        .execute();
      expect(queued).toHaveLength(3 + 3);
    });
  });

  it('refuses another organizer on every delivery route of a letter that is not theirs', async () => {
    const { id, slug } = await publishedLetter();
    await signAll(slug, [FULL]);
    const other = await loginAs(t.app, await createAccount(t.platform, 'organizer'));
    for (const path of [deliveryPath(id), `${deliveryPath(id)}/deliver`, `${deliveryPath(id)}/update`]) {
      expectErrorPage(await other.get(path), 403, ERROR_TITLES[403]);
    }
    for (const action of ['test', 'deliver', 'update'] as const) {
      expectErrorPage(await press(other, id, action), 403, ERROR_TITLES[403]);
    }
    expectErrorPage(
      await saveSettings(other, id, { mode: 'manual', reply_to: 'evil@example.org' }),
      403,
      ERROR_TITLES[403],
    );
    expect(await rounds(id)).toEqual([]);
    expect(await savedSettings(id)).toBeUndefined();
    await sendAll();
    expect(allLetters()).toEqual([]);
  });
});
