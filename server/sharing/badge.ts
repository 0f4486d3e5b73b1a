/**
 * A letter's count badge (badge.svg): a small two-part label, "signatures | 1,234 / 5,000", for
 * organisations to put on their own pages. Pure; every text escaped (svg-text.ts).
 */

import { escapeXml } from './svg-text.js';
import { textWidth } from './card.js';

const HEIGHT = 20;
const FONT_SIZE = 11;
const PADDING = 7;
/** Widths are estimated for bold card text (card.ts); the badge's regular 11 px text needs a little less. */
const REGULAR = 0.9;

function width(text: string): number {
  return Math.ceil(textWidth(text, FONT_SIZE) * REGULAR) + 2 * PADDING;
}

/** What a badge says. */
export interface BadgeFacts {
  /** The left part ("signatures"), in the interface language. */
  label: string;
  /** The right part ("1,234 / 5,000"), numbers formatted in the interface language. */
  value: string;
  /** What it says in words, for screen readers and as a tooltip (the letter's title and the count). */
  description: string;
}

/** The badge's SVG document. */
export function badgeSvg(facts: BadgeFacts): string {
  const left = width(facts.label);
  const right = width(facts.value);
  const total = left + right;
  const description = escapeXml(facts.description);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${total}" height="${HEIGHT}" viewBox="0 0 ${total} ${HEIGHT}" role="img" aria-label="${description}">` +
    `<title>${description}</title>` +
    `<rect width="${left}" height="${HEIGHT}" fill="#55554f"/>` +
    `<rect x="${left}" width="${right}" height="${HEIGHT}" fill="#276749"/>` +
    `<g fill="#ffffff" text-anchor="middle" font-family="DejaVu Sans,Verdana,Geneva,'Noto Sans KR','Malgun Gothic','Apple SD Gothic Neo',NanumGothic,sans-serif" font-size="${FONT_SIZE}">` +
    `<text x="${left / 2}" y="14">${escapeXml(facts.label)}</text>` +
    `<text x="${left + right / 2}" y="14">${escapeXml(facts.value)}</text>` +
    `</g></svg>`
  );
}
