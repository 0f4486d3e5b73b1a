import { PDFParse } from 'pdf-parse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../../server/accounts/account.js';
import { chromiumAt } from '../../../server/deliveries/pdf-renderer.js';
import { createI18n } from '../../../server/lib/i18n.js';
import { signedIn } from '../../support/accounts.js';
import { addRecipient, createDraft, postForm } from '../../support/admin-forms.js';
import { mainOf, textOf } from '../../support/html.js';
import { Visitor } from '../../support/http.js';
import type { SinkMessage } from '../../support/smtp-sink.js';
import { signAndConfirm } from '../../support/signing.js';
import { createTestPlatform, type TestPlatform } from '../../support/test-platform.js';

// The recipient reads Korean: the e-mail and the PDF around the letter speak it too.
const i18n = createI18n();
const KOREAN = i18n.getFixedT('ko');
const ENGLISH = i18n.getFixedT('en');

const CHROMIUM = '/usr/bin/chromium';
const HAS_CHROMIUM = chromiumAt(CHROMIUM);

const KO_TITLE = '포로가 된 병사들에게 선택의 자유를';
const KO_SENTENCE = '우리는 포로가 된 병사들이 강제로 송환되지 않도록 보호해 주실 것을 요청합니다.';
const KO_SALUTATION = '존경하는 대사님께';
const KO_BODY = `{{date}}

{{recipient.salutation}},

${KO_SENTENCE}

서명자 {{signatureCount}}명`;

const KO_RECIPIENT = {
  name: 'Embassy of Ukraine in Seoul',
  email: 'seoul-embassy@example.org',
  language: 'ko',
  salutation: KO_SALUTATION,
};

const SIGNERS: Record<string, string>[] = [
  {
    name: 'Олена Коваленко',
    email: 'olena.kovalenko@example.org',
    country: 'UA',
    organisation: 'Правова допомога',
    title: 'Юристка',
    display: 'full',
  },
  {
    name: '김지훈',
    email: 'jihoon.kim@example.org',
    country: 'KR',
    organisation: '',
    title: '',
    display: 'full',
  },
  { name: 'Taras Shevchuk', email: 'taras.shevchuk@example.org', country: 'UA', display: 'initials' },
  { name: 'Park Min-su', email: 'min-su.park@example.org', country: 'KR', display: 'hidden' },
];

/** The text a PDF reader extracts from a PDF. */
async function pdfText(pdf: Buffer): Promise<string> {
  const parser = new PDFParse({ data: new Uint8Array(pdf) });
  try {
    return (await parser.getText()).text;
  } finally {
    await parser.destroy();
  }
}

/** Text with all white space removed, so a line break the layout chose cannot split a phrase. */
const squeezed = (text: string) => text.replace(/\s+/g, '');

/**
 * Publishes a letter in English and Korean to a Korean-reading recipient, collects the signatures,
 * sends the test and delivers it; returns what the recipient received.
 */
async function deliverKoreanLetter(
  t: TestPlatform,
): Promise<{ user: User; visitor: Visitor; id: number; letter: SinkMessage }> {
  const { user, visitor } = await signedIn(t.app, t.platform, 'organizer');
  const recipientId = await addRecipient(t.platform.db, t.clock.now(), KO_RECIPIENT);
  const id = await createDraft(visitor, [recipientId], {
    languages: ['en', 'ko'],
    title_ko: KO_TITLE,
    summary_ko: '두 병사는 한국으로 가기를 원합니다.',
    body_ko: KO_BODY,
  });
  expect((await postForm(visitor, `/admin/letters/${id}`, `/admin/letters/${id}/publish`, [])).status).toBe(
    303,
  );
  const slug = (await t.platform.repositories.letters.findById(id))!.slug;
  const supporter = new Visitor(t.app);
  for (const signer of SIGNERS) await signAndConfirm(t, supporter, slug, signer);
  const delivery = `/admin/letters/${id}/delivery`;
  for (const action of ['test', 'deliver']) {
    const response = await postForm(visitor, delivery, `${delivery}/${action}`, [
      ['request_key', `${action}-pdf-key`],
    ]);
    expect(response.status, action).toBe(303);
    await t.compileDeliveries();
    await t.drainOutbox();
  }
  const [letter] = t.sink.to(KO_RECIPIENT.email);
  expect(letter, 'the letter reached the recipient').toBeDefined();
  return { user, visitor, id, letter: letter! };
}

describe.skipIf(!HAS_CHROMIUM)(`the PDF of a delivered letter (needs Chromium at ${CHROMIUM})`, () => {
  let t: TestPlatform;
  let delivered: Awaited<ReturnType<typeof deliverKoreanLetter>>;
  let text: string;

  beforeAll(async () => {
    t = await createTestPlatform({ pdf: true });
    expect(t.platform.pdf.available).toBe(true);
    delivered = await deliverKoreanLetter(t);
    const pdf = delivered.letter.parsed.attachments.find((a) => a.contentType === 'application/pdf');
    expect(pdf, 'the letter carries a PDF').toBeDefined();
    text = await pdfText(pdf!.content);
  }, 90_000);
  afterAll(async () => {
    await t?.close();
  });

  it('is attached to the letter, under the title, and the e-mail says so', () => {
    const attachments = delivered.letter.parsed.attachments;
    expect(attachments.map((a) => a.contentType)).toEqual(['application/pdf']);
    expect(attachments[0]!.filename).toBe('포로가-된-병사들에게-선택의-자유를.pdf');
    expect(attachments[0]!.content.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    // In the recipient's language, as the whole e-mail is.
    expect(KOREAN('emails.letter-delivery.annexAttached')).not.toBe(
      ENGLISH('emails.letter-delivery.annexAttached'),
    );
    expect(delivered.letter.parsed.text).toContain(KOREAN('emails.letter-delivery.annexAttached'));
  });

  it('is tagged for screen readers, in the language of its text', () => {
    const pdf = delivered.letter.parsed.attachments[0]!.content.toString('latin1');
    expect(pdf).toContain('/StructTreeRoot');
    expect(pdf).toMatch(/\/MarkInfo <<[^>]*\/Marked true/);
    expect(pdf).toMatch(/\/Lang \(ko\)/);
  });

  it('holds the Korean text of the letter, with the salutation, as extractable text', () => {
    const flat = squeezed(text);
    expect(flat).toContain(squeezed(KO_TITLE));
    expect(flat).toContain(squeezed(KO_SENTENCE));
    expect(flat).toContain(squeezed(KO_SALUTATION));
    expect(flat).toContain('서명자4명');
  });

  it('lists the named signatories in the annex as each chose, in Ukrainian and Korean script', () => {
    expect(text).toContain('Олена Коваленко');
    expect(text).toContain('Правова допомога');
    expect(text).toContain('김지훈');
    expect(squeezed(text)).toContain('T.S.');
    expect(text).not.toContain('Shevchuk');
    expect(text).not.toContain('Park');
    expect(text).not.toContain('Min-su');
    // The country breakdown is in the recipient's language.
    expect(text).toContain('우크라이나');
    expect(text).toContain('대한민국');
  });

  it('never holds an e-mail address', () => {
    expect(text).not.toContain('@');
    for (const signer of SIGNERS) expect(squeezed(text)).not.toContain(signer.email!.split('@')[0]);
  });

  it('was also attached to the test the organizer received', async () => {
    const tests = t.sink.to(delivered.user.email);
    expect(tests).toHaveLength(1);
    const pdf = tests[0]!.parsed.attachments.find((a) => a.contentType === 'application/pdf');
    expect(pdf).toBeDefined();
    expect(squeezed(await pdfText(pdf!.content))).toContain(squeezed(KO_SENTENCE));
  });

  it("marks the test's PDF as a test, in its file name and on the page, and never the delivered letter's", async () => {
    const [test] = t.sink.to(delivered.user.email);
    const pdf = test!.parsed.attachments.find((a) => a.contentType === 'application/pdf')!;
    expect(pdf.filename).toBe('TEST-포로가-된-병사들에게-선택의-자유를.pdf');
    const testText = squeezed(await pdfText(pdf.content));
    const banner = KOREAN('documents.annex.testBanner', { recipient: KO_RECIPIENT.name });
    expect(banner).not.toBe(ENGLISH('documents.annex.testBanner', { recipient: KO_RECIPIENT.name }));
    expect(testText).toContain(squeezed(banner));
    expect(squeezed(text)).not.toContain(squeezed(banner));
    expect(squeezed(text)).not.toContain(squeezed(KOREAN('documents.annex.testMark')));
    expect(delivered.letter.parsed.attachments[0]!.filename).not.toMatch(/^TEST/);
  });

  it('leaves the delivery page without the "PDFs are off" warning', async () => {
    const response = await delivered.visitor.get(`/admin/letters/${delivered.id}/delivery`);
    expect(response.status).toBe(200);
    const page = textOf(mainOf(response.text));
    // The delivery page itself, with the letter's record on it (where the warning would be).
    expect(page).toContain('Sent');
    expect(page).not.toContain('PDF attachments are off');
  });
});

describe('a delivered letter when PDF rendering is off', () => {
  let t: TestPlatform;

  beforeAll(async () => {
    t = await createTestPlatform();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('goes without the attachment, and the delivery page says PDFs are off', async () => {
    expect(t.platform.pdf.available).toBe(false);
    const { visitor, id, letter } = await deliverKoreanLetter(t);
    expect(letter.parsed.attachments).toEqual([]);
    expect(letter.parsed.text).toContain(KO_SENTENCE);
    // Its footer links to the letter's page in the text the recipient got, not the reader's default one.
    const slug = (await t.platform.repositories.letters.findById(id))!.slug;
    expect(letter.parsed.text).toContain(`/letters/${slug}?text=ko`);
    expect(letter.parsed.text).not.toContain('attached as a PDF');
    const page = textOf(mainOf((await visitor.get(`/admin/letters/${id}/delivery`)).text));
    expect(page).toContain('PDF attachments are off');
    // The letter went all the same.
    expect(page).toContain('Sent');
  });
});
