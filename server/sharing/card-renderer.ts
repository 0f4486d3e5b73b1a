import { createHash } from 'node:crypto';
import { renderAsync, type ResvgRenderOptions } from '@resvg/resvg-js';
import type { Clock } from '../lib/clock.js';
import { encodePng } from './png.js';

/** A drawn card: the PNG, its ETag, and the count it shows. */
export interface DrawnCard {
  png: Buffer;
  etag: string;
  count: number;
  drawnAt: number;
}

/** How often one card may be drawn again while its count moves: a surge redraws it every 10 s at most. */
export const CARD_REDRAW_MS = 10_000;
/** Cards kept: a card is ~20-60 kB, so ~15 MB at most. */
const MAX_CARDS = 256;
/**
 * Drawings under way at once (different cards); the others wait their turn. A platform with more cards
 * than it keeps (a few dozen letters, each in three interface languages times its translations) would
 * otherwise let anyone who asks for them in turn draw one per request, as many at once as they send,
 * every core and libuv's whole thread pool (files, DNS, zlib) busy with drawing.
 */
const MAX_DRAWING = 1;

/**
 * Draws share cards (SVG → PNG with resvg) and keeps them. A card is ~30-60 ms of rendering plus
 * ~50 ms of loading its fonts, too much for every request of a crawler or a surge, so:
 * - a card is kept per `key` (the letter, its version, both languages and everything drawn but the
 *   count) and drawn again when its count has moved, but not before CARD_REDRAW_MS since the last drawing;
 * - one drawing per key at a time: requests for a card being drawn wait for that drawing;
 * - MAX_DRAWING drawings at once over all keys: the rest wait their turn, so that asking for many
 *   cards in turn costs a core at most, whatever the cache keeps;
 * - drawing and compressing run on libuv's thread pool (resvg's renderAsync, zlib's deflate): the
 *   event loop only copies the pixels' rows.
 * docs/decisions/2026-12-05-share-cards.md.
 */
export class CardRenderer {
  private readonly cards = new Map<string, DrawnCard>();
  private readonly drawing = new Map<string, Promise<DrawnCard>>();
  /** How many cards were drawn (for tests and operators). */
  drawn = 0;
  /** The most drawings that were under way at once (for tests and operators). */
  peakDrawing = 0;
  private underway = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly deps: {
      clock: Clock;
      options: ResvgRenderOptions;
      redrawMs?: number;
      maxCards?: number;
      maxDrawing?: number;
    },
  ) {}

  /**
   * The card under `key` showing `count`, drawn now from the SVG `svg` makes (only when it must be drawn)
   * or kept from before (see the class).
   */
  async card(key: string, count: number, svg: () => string): Promise<DrawnCard> {
    const now = this.deps.clock.now().getTime();
    const kept = this.cards.get(key);
    if (kept && (kept.count === count || now - kept.drawnAt < (this.deps.redrawMs ?? CARD_REDRAW_MS))) {
      // Least recently used goes first: a card asked for all the time is not dropped for one drawn later.
      this.cards.delete(key);
      this.cards.set(key, kept);
      return kept;
    }
    const underway = this.drawing.get(key);
    if (underway) return underway;
    const drawing = this.draw(svg, count, now).finally(() => this.drawing.delete(key));
    this.drawing.set(key, drawing);
    const card = await drawing;
    this.keep(key, card);
    return card;
  }

  private async draw(svg: () => string, count: number, now: number): Promise<DrawnCard> {
    // A finished drawing hands its turn to the next waiting one directly, so no newcomer slips in between.
    if (this.underway < (this.deps.maxDrawing ?? MAX_DRAWING)) this.underway += 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.peakDrawing = Math.max(this.peakDrawing, this.underway);
    try {
      const image = await renderAsync(svg(), this.deps.options);
      const png = await encodePng(image.width, image.height, image.pixels);
      this.drawn += 1;
      return { png, etag: `"${createHash('sha1').update(png).digest('base64url')}"`, count, drawnAt: now };
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.underway -= 1;
    }
  }

  /** Keeps `card`, dropping the least recently used past the bound. */
  private keep(key: string, card: DrawnCard): void {
    this.cards.delete(key);
    this.cards.set(key, card);
    const max = this.deps.maxCards ?? MAX_CARDS;
    for (const oldest of this.cards.keys()) {
      if (this.cards.size <= max) break;
      this.cards.delete(oldest);
    }
  }
}
