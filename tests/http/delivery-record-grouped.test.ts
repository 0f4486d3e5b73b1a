import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COUNT_EPOCH_MS } from '../../server/pages/page-cache.js';
import { commitList } from '../support/committed-lists.js';
import { createLetter } from '../support/factories.js';
import { byClass, innerHtml, mainOf, textOf, textsByClass } from '../support/html.js';
import { Visitor } from '../support/http.js';
import { recordSentRound, type SentRecipient } from '../support/sent-deliveries.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

const DAY = 86_400_000;

/** 200 recipients: 20 ministries with 9 offices each, then 20 embassies reached once each. */
function twoHundredRecipients(): SentRecipient[] {
  const list: SentRecipient[] = [];
  for (let m = 1; m <= 20; m++)
    for (let o = 1; o <= 9; o++)
      list.push({ name: `Office ${o} of ministry ${m}`, organisation: `Ministry of Foreign Affairs ${m}` });
  for (let e = 1; e <= 20; e++) list.push({ name: `Embassy ${e}`, organisation: '' });
  return list;
}

describe('the public delivery record', () => {
  let t: TestPlatform;
  let slug: string;
  let visitor: Visitor;
  beforeAll(async () => {
    t = await createTestPlatform();
    const now = t.clock.now();
    const letter = await createLetter(t.platform.db, now, { status: 'closed' });
    slug = letter.slug;
    // Four earlier updates, one a day, to one ministry office each; then the big delivery today.
    for (let d = 5; d >= 2; d--)
      await recordSentRound(
        t.platform.db,
        letter.id,
        [{ name: `Desk officer ${d}`, organisation: 'Ministry of Unification' }],
        {
          createdAt: new Date(now.getTime() - d * DAY),
          sentAt: new Date(now.getTime() - d * DAY),
          signatureCount: 10 - d,
          kind: 'update',
        },
      );
    await recordSentRound(t.platform.db, letter.id, twoHundredRecipients(), {
      createdAt: now,
      sentAt: now,
      signatureCount: 1234,
    });
    t.clock.advance(COUNT_EPOCH_MS);
    visitor = new Visitor(t.app);
  });
  afterAll(async () => {
    await t.close();
  });

  it('groups 200 recipients by institution under their delivery date, folding the long tail', async () => {
    const html = mainOf((await visitor.get(`/letters/${slug}`)).text);
    expect(textsByClass(html, 'sent-record__total')).toEqual(['Sent to 204 recipients.']);
    const [today] = byClass(html, 'sent-record__delivery');
    const first = innerHtml(html, today!);
    expect(textsByClass(first, 'sent-record__when')[0]).toBe(
      'November 23, 2026 — with 1,234 signatures · Letter as sent, PDF (English)',
    );
    // The date links the delivered letter's PDF in the language it went in.
    expect(first).toContain(`href="/letters/${slug}/deliveries/5/en.pdf"`);
    // Each ministry is one line with its count (largest first, then by name); each embassy is one line.
    const lines = [...first.matchAll(/<li>([^<]*)<\/li>/g)].map((m) => textOf(m[1]!));
    expect(lines).toHaveLength(40);
    expect(lines[0]).toBe('Ministry of Foreign Affairs 1 (9 recipients)');
    expect(lines).toContain('Ministry of Foreign Affairs 20 (9 recipients)');
    expect(lines).toContain('Embassy 7');
    // Six open, the other 34 behind one summary; no office is listed one by one.
    expect(first).toContain('<summary>34 more institutions</summary>');
    expect(first).not.toContain('Office 3 of ministry 4');
  });

  it('shows the three latest deliveries and folds the earlier ones', async () => {
    const html = mainOf((await visitor.get(`/letters/${slug}`)).text);
    const record = innerHtml(html, byClass(html, 'sent-record')[0]!);
    expect(byClass(record, 'sent-record__delivery')).toHaveLength(5);
    expect(record).toContain('<summary>2 earlier deliveries</summary>');
    const earlier = innerHtml(record, byClass(record, 'sent-record__earlier')[0]!);
    expect(textOf(earlier)).toContain('November 18, 2026');
    // A lone recipient is named with its institution.
    expect(textOf(earlier)).toContain('Desk officer 5, Ministry of Unification');
    // The record never shows a recipient's address.
    expect(html).not.toContain('@example.org');
  });

  it("names a lone recipient beside its institution only when the name says more than the institution's", async () => {
    const other = await createLetter(t.platform.db, t.clock.now(), {
      status: 'closed',
      slug: 'one-headquarters',
    });
    const office = 'Coordination Headquarters for the Treatment of Prisoners of War';
    await recordSentRound(
      t.platform.db,
      other.id,
      [
        { name: office, organisation: `${office} (Ukraine)` },
        { name: 'Desk officer 9', organisation: 'Ministry of Defence' },
      ],
      { createdAt: t.clock.now(), sentAt: t.clock.now(), signatureCount: 3 },
    );
    const html = mainOf((await visitor.get('/letters/one-headquarters')).text);
    const lines = [...html.matchAll(/<li>([^<]*)<\/li>/g)].map((m) => textOf(m[1]!));
    expect(lines).toEqual([
      'Coordination Headquarters for the Treatment of Prisoners of War (Ukraine)',
      'Desk officer 9, Ministry of Defence',
    ]);
  });

  it('shows the root of a delivered list only when the list holds a signature (an empty one proves nothing)', async () => {
    const commitments = async (slugOfLetter: string, leaves: number) => {
      const other = await createLetter(t.platform.db, t.clock.now(), {
        status: 'closed',
        slug: slugOfLetter,
      });
      const round = await recordSentRound(
        t.platform.db,
        other.id,
        [{ name: 'Embassy 1', organisation: '' }],
        {
          createdAt: t.clock.now(),
          sentAt: t.clock.now(),
          signatureCount: leaves,
        },
      );
      const hashes = Array.from({ length: leaves }, (_, i) => ({
        signatureId: null,
        leafHash: String(i).repeat(64),
      }));
      await commitList(t.platform.db, round, hashes, t.clock.now());
      const html = mainOf((await visitor.get(`/letters/${slugOfLetter}`)).text);
      return textsByClass(html, 'sent-record__commitment');
    };
    expect(await commitments('list-of-none', 0)).toEqual([]);
    expect(await commitments('list-of-one', 1)).toEqual([
      expect.stringMatching(
        /^Receipts for this list of 1 signature are checked against its published root: [0-9a-f]{64} · check a receipt$/,
      ),
    ]);
  });

  it('says it with the plural rules of Korean and Ukrainian', async () => {
    const ko = mainOf((await visitor.get(`/letters/${slug}?lang=ko`)).text);
    expect(textsByClass(ko, 'sent-record__total')).toEqual(['수신처 204곳에 발송되었습니다.']);
    expect(ko).toContain('Ministry of Foreign Affairs 1 (수신처 9곳)');
    expect(ko).toContain('<summary>기관 34곳 더 보기</summary>');
    // The PDF's language named in Korean inside the sentence, not in itself ("English").
    expect(textsByClass(ko, 'sent-record__when')[0]).toMatch(/PDF \(영어\)$/);
    const uk = mainOf((await visitor.get(`/letters/${slug}?lang=uk`)).text);
    expect(textsByClass(uk, 'sent-record__total')).toEqual(['Надіслано 204 адресатам.']);
    expect(uk).toContain('Ministry of Foreign Affairs 1 (9 адресатів)');
    expect(uk).toContain('<summary>Ще 34 установи</summary>');
    expect(uk).toContain('<summary>2 попередні надсилання</summary>');
  });
});
