/**
 * The share card of a letter (card.png) as SVG: its title wrapped on up to four lines, the organisation,
 * the count, the goal and a progress bar, 1200×630. Pure: card-renderer.ts turns it into a PNG.
 *
 * Text is laid out here, so widths are estimated from each character's class (the renderer has no text
 * wrapping of its own). The estimates are a little wide on purpose: a line ends early rather than
 * running off the card.
 */

import { CARD_HEIGHT, CARD_WIDTH } from './page-meta.js';
import { escapeXml, xmlSafe } from './svg-text.js';

/** What a card shows, every text already in its language and numbers formatted. */
export interface CardFacts {
  /** The letter's title, in the text language. */
  title: string;
  /** The language of the title (its `lang`, and which font draws it). */
  textLanguage: string;
  siteName: string;
  /** Who started the letter and the co-signing organisations, said in a line ("Started by …"); may be ''. */
  organisation: string;
  /** The count, said in words ("1,234 signatures"). */
  countText: string;
  /** The goal, said in words ("Goal: 5,000"); null when the letter has none. */
  goalText: string | null;
  /** Progress toward the goal, 0 to 100; null without a goal. */
  percent: number | null;
}

/** The fonts a card names: files found at start (card-fonts.ts), the renderer's fallback otherwise. */
export const LATIN_FAMILY = 'DejaVu Sans';
export const HANGUL_FAMILY = 'NanumGothic';

const HANGUL_OR_CJK =
  /[\u1100-\u11FF\u3000-\u303F\u3130-\u318F\u3400-\u4DBF\u4E00-\u9FFF\uAC00-\uD7AF\uF900-\uFAFF\uFF00-\uFFEF]/;

/**
 * The family that draws `text`: a Hangul font for text with Hangul (or other CJK) in it, which also has
 * Latin and Cyrillic letters, else DejaVu Sans, whose Latin and Cyrillic are the better ones. One family
 * per line: the renderer's own fallback switches a whole line's font and loses its weight.
 */
export function familyFor(text: string): string {
  return HANGUL_OR_CJK.test(text) ? HANGUL_FAMILY : LATIN_FAMILY;
}

/** A character's estimated advance in em, for bold text; generous (see above). */
function advance(char: string): number {
  if (HANGUL_OR_CJK.test(char)) return 1.0;
  if (char === ' ') return 0.36;
  if (/[iljI.,:;'!|]/.test(char)) return 0.38;
  if (/[mwMW]/.test(char)) return 1.02;
  if (/[A-Z]/.test(char)) return 0.8;
  if (/[0-9]/.test(char)) return 0.72;
  if (/[a-z]/.test(char)) return 0.7;
  if (/[\u0400-\u04FF]/.test(char)) return /[ЖШЩЮжшщюМм]/.test(char) ? 1.05 : 0.76;
  return 0.8;
}

/** The estimated width of `text` at `size` px. */
export function textWidth(text: string, size: number): number {
  let em = 0;
  for (const char of text) em += advance(char);
  return em * size;
}

const ELLIPSIS = '…';

/** `text` cut to fit `width` at `size`, with an ellipsis when anything was cut. */
function fitLine(text: string, width: number, size: number): string {
  if (textWidth(text, size) <= width) return text;
  const chars = Array.from(text);
  while (chars.length > 0 && textWidth(`${chars.join('')}${ELLIPSIS}`, size) > width) chars.pop();
  return `${chars.join('').trimEnd()}${ELLIPSIS}`;
}

/**
 * `text` broken into lines that fit `width` at `size`: between words (Korean too, as its pages break,
 * `word-break: keep-all`), and inside a word only when the word alone is wider than a line. At most
 * `maxLines`; the last line of a longer text ends with an ellipsis.
 */
export function wrapText(text: string, width: number, size: number, maxLines: number): string[] {
  const words = text.replace(/\s+/g, ' ').trim().split(' ');
  const lines: string[] = [];
  let line = '';
  const push = (word: string) => {
    const candidate = line === '' ? word : `${line} ${word}`;
    if (textWidth(candidate, size) <= width) {
      line = candidate;
      return;
    }
    if (line !== '') lines.push(line);
    line = '';
    // A word wider than a line is broken where it must be.
    let rest = Array.from(word);
    while (textWidth(rest.join(''), size) > width) {
      let take = rest.length - 1;
      while (take > 1 && textWidth(rest.slice(0, take).join(''), size) > width) take--;
      lines.push(rest.slice(0, take).join(''));
      rest = rest.slice(take);
    }
    line = rest.join('');
  };
  for (const word of words) if (word !== '') push(word);
  if (line !== '') lines.push(line);
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, maxLines);
  const last = fitLine(`${kept[maxLines - 1]} ${lines[maxLines]}`, width, size);
  // The rest may have fit beside the last line only because a long word was broken before it.
  kept[maxLines - 1] = last.endsWith(ELLIPSIS) ? last : fitLine(`${last}${ELLIPSIS}`, width, size);
  return kept;
}

const MARGIN = 64;
const INNER = CARD_WIDTH - 2 * MARGIN;
const COLOURS = {
  paper: '#fbfaf7',
  ink: '#1d1d1b',
  muted: '#55554f',
  accent: '#1d4e89',
  track: '#e4e2dc',
  ok: '#276749',
};

/** The title's lines and size: large when it fits on three lines, smaller on up to four otherwise. */
export function titleLayout(title: string): { size: number; lineHeight: number; lines: string[] } {
  const clean = xmlSafe(title);
  const large = wrapText(clean, INNER, 64, 4);
  if (large.length <= 3 && !large.at(-1)!.endsWith(ELLIPSIS))
    return { size: 64, lineHeight: 76, lines: large };
  return { size: 52, lineHeight: 62, lines: wrapText(clean, INNER, 52, 4) };
}

function text(x: number, y: number, size: number, content: string, attrs: string): string {
  return `<text x="${x}" y="${y}" font-size="${size}" font-family="${familyFor(content)}" ${attrs}>${escapeXml(content)}</text>`;
}

/** A title's lines, in bold ink, the first baseline at `top`. */
function titleText(title: ReturnType<typeof titleLayout>, top: number): string {
  return title.lines
    .map((line, i) =>
      text(MARGIN, top + i * title.lineHeight, title.size, line, `font-weight="bold" fill="${COLOURS.ink}"`),
    )
    .join('');
}

/** Every card's frame: the paper, the accent bar and the site's name above `body`. */
function cardFrame(siteName: string, body: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${CARD_WIDTH}" height="${CARD_HEIGHT}" viewBox="0 0 ${CARD_WIDTH} ${CARD_HEIGHT}">` +
    `<rect width="${CARD_WIDTH}" height="${CARD_HEIGHT}" fill="${COLOURS.paper}"/>` +
    `<rect width="${CARD_WIDTH}" height="12" fill="${COLOURS.accent}"/>` +
    text(MARGIN, 84, 28, siteName, `font-weight="bold" fill="${COLOURS.accent}"`) +
    body +
    `</svg>`
  );
}

/** The card's SVG document. */
export function cardSvg(facts: CardFacts): string {
  const title = titleLayout(facts.title);
  const titleLines = titleText(title, 150 + (title.size === 64 ? 10 : 0));
  const organisation =
    facts.organisation === ''
      ? ''
      : text(MARGIN, 468, 28, fitLine(xmlSafe(facts.organisation), INNER, 28), `fill="${COLOURS.muted}"`);
  const goalWidth = facts.goalText === null ? 0 : textWidth(facts.goalText, 30) + 32;
  const count = text(
    MARGIN,
    540,
    44,
    fitLine(facts.countText, INNER - goalWidth, 44),
    `font-weight="bold" fill="${COLOURS.ink}"`,
  );
  const goal =
    facts.goalText === null
      ? ''
      : text(CARD_WIDTH - MARGIN, 540, 30, facts.goalText, `text-anchor="end" fill="${COLOURS.muted}"`);
  const bar =
    facts.percent === null
      ? ''
      : `<rect x="${MARGIN}" y="566" width="${INNER}" height="20" rx="10" fill="${COLOURS.track}"/>` +
        (facts.percent > 0
          ? `<rect x="${MARGIN}" y="566" width="${Math.max(20, Math.round((INNER * Math.min(100, facts.percent)) / 100))}" height="20" rx="10" fill="${COLOURS.ok}"/>`
          : '');
  return cardFrame(
    facts.siteName,
    `<g lang="${escapeXml(facts.textLanguage)}">${titleLines}</g>` + organisation + count + goal + bar,
  );
}

/** What the site's own card (the home page's card.png) shows, every text in one interface language. */
export interface HomeCardFacts {
  siteName: string;
  /** The site's tagline, drawn as the card's title. */
  tagline: string;
  /** What the site is for, in a sentence or two. */
  description: string;
  /** The interface language (the texts' `lang`). */
  language: string;
  /** Where the site is ("letters.example.org"), so a preview says whose site it is. */
  host: string;
}

/** The home page's card: the site's name, its tagline as the title, what it is for and where it is. */
export function homeCardSvg(facts: HomeCardFacts): string {
  const title = titleLayout(facts.tagline);
  const descriptionTop = 170 + title.lines.length * title.lineHeight + 20;
  // As many lines of the description as fit above the address's rule (its last baseline by y 540).
  const descriptionLines = wrapText(
    xmlSafe(facts.description),
    INNER,
    30,
    Math.max(1, Math.floor((540 - descriptionTop) / 40) + 1),
  ).map((line, i) => text(MARGIN, descriptionTop + i * 40, 30, line, `fill="${COLOURS.muted}"`));
  return cardFrame(
    facts.siteName,
    `<g lang="${escapeXml(facts.language)}">${titleText(title, 170)}${descriptionLines.join('')}</g>` +
      `<rect x="${MARGIN}" y="${CARD_HEIGHT - 62}" width="${INNER}" height="2" fill="${COLOURS.track}"/>` +
      text(MARGIN, CARD_HEIGHT - 24, 26, fitLine(xmlSafe(facts.host), INNER, 26), `fill="${COLOURS.accent}"`),
  );
}
