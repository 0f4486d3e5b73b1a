import { Resvg } from '@resvg/resvg-js';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../server/lib/clock.js';
import { cardSvg, titleLayout, wrapText, type CardFacts } from '../../../server/sharing/card.js';
import { cardRenderOptions, findCardFonts } from '../../../server/sharing/card-fonts.js';
import { CardRenderer } from '../../../server/sharing/card-renderer.js';
import { escapeXml } from '../../../server/sharing/svg-text.js';

const fonts = findCardFonts();
const FULL = cardRenderOptions(fonts);
/** DejaVu Sans alone: what a card would be without the Hangul font. */
const LATIN_ONLY = cardRenderOptions({ files: fonts.files.filter((f) => f.includes('DejaVu')), missing: [] });

const FACTS: CardFacts = {
  title: '포로가 된 북한군 병사들을 강제로 북송하지 마십시오',
  textLanguage: 'ko',
  siteName: 'Undersigned',
  organisation: '북한인권시민연합',
  countText: '1,234명 서명',
  goalText: '목표 5,000명',
  percent: 24,
};

/** The RGBA pixels of a rendering. */
function pixelsOf(svg: string, options: object): { pixels: Buffer; width: number } {
  const image = new Resvg(svg, options).render();
  return { pixels: image.pixels, width: image.width };
}

/** Dark pixels (ink) in a band of rows and columns of a rendering. */
function inkIn(
  svg: string,
  options: object,
  rows: [number, number],
  columns: [number, number] = [0, 1200],
): number {
  const { pixels, width } = pixelsOf(svg, options);
  let ink = 0;
  for (let y = rows[0]; y < rows[1]; y++)
    for (let x = columns[0]; x < columns[1]; x++) {
      const i = (y * width + x) * 4;
      if (pixels[i]! < 128 && pixels[i + 1]! < 128 && pixels[i + 2]! < 128) ink++;
    }
  return ink;
}

describe('the share card', () => {
  it('finds the Latin, Cyrillic and Hangul fonts it is drawn with', () => {
    expect(fonts.missing).toEqual([]);
  });

  it('draws a Korean title in Hangul, not in a Latin font’s empty boxes', () => {
    const svg = cardSvg(FACTS);
    // The title's rows: below the site's name, above the organisation. A Latin font draws each Hangul
    // syllable as the same empty box: far less ink, and in other places than the syllables'.
    const withHangul = inkIn(svg, FULL, [100, 420]);
    const latinOnly = inkIn(svg, LATIN_ONLY, [100, 420]);
    expect(withHangul).toBeGreaterThan(20_000);
    expect(withHangul).toBeGreaterThan(latinOnly * 2);
    const full = pixelsOf(svg, FULL).pixels;
    const boxes = pixelsOf(svg, LATIN_ONLY).pixels;
    let differing = 0;
    for (let i = 100 * 1200 * 4; i < 420 * 1200 * 4; i += 4) if (full[i] !== boxes[i]) differing++;
    expect(differing).toBeGreaterThan(20_000);
  });

  it.each([
    [
      'en',
      'We ask the governments concerned not to return the captured soldiers by force and to let each of them choose the country where they will seek asylum, with the protection international law gives them',
    ],
    [
      'ko',
      '러시아-우크라이나 전쟁에서 포로가 된 북한군 병사들을 강제로 북송하지 말고 본인이 원하는 나라에서 망명을 신청할 수 있도록 국제법이 보장하는 보호를 제공해 주십시오',
    ],
    [
      'uk',
      'Просимо уряди не повертати полонених північнокорейських військовослужбовців силоміць і дозволити кожному з них обрати країну притулку під захистом міжнародного права',
    ],
    [
      'en',
      'Averyveryveryverylongwordwithoutanyspacesthatcannotbebrokenbetweenwordsatallbutmuststillfitonthecard',
    ],
  ])(
    'keeps a long %s title inside the card: at most four lines, nothing past the right margin',
    (textLanguage, title) => {
      const layout = titleLayout(title);
      expect(layout.lines.length).toBeLessThanOrEqual(4);
      // Titles of words longer than four lines end in an ellipsis; the one long word fits in four.
      if (title.includes(' ')) expect(layout.lines.at(-1)).toMatch(/…$/);
      const svg = cardSvg({ ...FACTS, title, textLanguage });
      expect(inkIn(svg, FULL, [100, 420], [1136, 1200])).toBe(0);
      expect(inkIn(svg, FULL, [100, 420], [64, 1136])).toBeGreaterThan(10_000);
    },
  );

  it('breaks Korean between words, as its pages do', () => {
    const lines = wrapText('포로가 된 북한군 병사들을 강제로 북송하지 마십시오', 500, 64, 4);
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) expect(line.startsWith(' ') || line.endsWith(' ')).toBe(false);
    expect(lines.join(' ')).toBe('포로가 된 북한군 병사들을 강제로 북송하지 마십시오');
  });

  it('escapes a title into the SVG and drops what XML cannot carry', () => {
    const title = `</text><script>alert(1)</script> & "q" 'a' \u0000\u0007\uFFFF\uD800`;
    const svg = cardSvg({ ...FACTS, title });
    expect(svg).not.toMatch(/<script/);
    for (const dropped of ['\u0000', '\u0007', '\uFFFF', '\uD800']) expect(svg).not.toContain(dropped);
    expect(svg).toContain('&lt;/text&gt;&lt;script&gt;');
    expect(() => new Resvg(svg, FULL)).not.toThrow();
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
  });
});

describe('drawing cards under load', () => {
  // Without fonts (no text drawn): these tests count drawings, and loading fonts is most of one's time.
  const BARE = { font: { loadSystemFonts: false } };
  const renderer = (clock: ManualClock) => new CardRenderer({ clock, options: BARE, redrawMs: 10_000 });

  it('draws a card once for requests that arrive while it is being drawn', async () => {
    const cards = renderer(new ManualClock());
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => cards.card('letter-1', 7, () => cardSvg(FACTS))));
    expect(cards.drawn).toBe(1);
    expect(a).toBe(b);
    expect(b).toBe(c);
  });

  it('redraws a card whose count moved, but not before the pause has passed since it was drawn', async () => {
    const clock = new ManualClock();
    const cards = renderer(clock);
    const first = await cards.card('letter-2', 1, () => cardSvg(FACTS));
    clock.advance(5_000);
    expect(await cards.card('letter-2', 2, () => cardSvg({ ...FACTS, countText: '2명 서명' }))).toBe(first);
    expect(cards.drawn).toBe(1);
    clock.advance(5_000);
    const second = await cards.card('letter-2', 2, () => cardSvg({ ...FACTS, countText: '2명 서명' }));
    expect(cards.drawn).toBe(2);
    expect(second.count).toBe(2);
    expect(first.count).toBe(1);
    // The same count is never drawn again, however long it stands.
    clock.advance(60_000);
    expect(await cards.card('letter-2', 2, () => cardSvg(FACTS))).toBe(second);
  });

  it('draws one card at a time however many different cards are asked for at once', async () => {
    const cards = new CardRenderer({ clock: new ManualClock(), options: BARE, maxDrawing: 1 });
    const drawn = await Promise.all(
      ['a', 'b', 'c', 'd'].map((key) => cards.card(key, 1, () => cardSvg(FACTS))),
    );
    expect(cards.drawn).toBe(4);
    expect(new Set(drawn).size).toBe(4);
    expect(cards.peakDrawing).toBe(1);
  });

  it('drops the card asked for least recently, not one asked for all the time', async () => {
    const cards = new CardRenderer({ clock: new ManualClock(), options: BARE, maxCards: 2 });
    await cards.card('hot', 1, () => cardSvg(FACTS));
    await cards.card('b', 1, () => cardSvg(FACTS));
    await cards.card('hot', 1, () => cardSvg(FACTS));
    await cards.card('c', 1, () => cardSvg(FACTS));
    await cards.card('hot', 1, () => cardSvg(FACTS));
    expect(cards.drawn).toBe(3);
  });

  it('keeps a bounded number of cards', async () => {
    const cards = new CardRenderer({ clock: new ManualClock(), options: BARE, maxCards: 2 });
    for (const key of ['a', 'b', 'c']) await cards.card(key, 1, () => cardSvg(FACTS));
    await cards.card('a', 1, () => cardSvg(FACTS));
    expect(cards.drawn).toBe(4);
  });
});
