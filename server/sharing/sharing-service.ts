import type { Clock } from '../lib/clock.js';
import type { TFunction } from '../lib/i18n.js';
import { formatsFor } from '../lib/format.js';
import { progressPercent, type Letter, type LetterHeading } from '../letters/letter.js';
import type { LetterService } from '../letters/letter-service.js';
import { badgeSvg } from './badge.js';
import { cardSvg, homeCardSvg, type CardFacts } from './card.js';
import { cardRenderOptions, findCardFonts } from './card-fonts.js';
import { CardRenderer, type DrawnCard } from './card-renderer.js';
import { QrCodes } from './qr.js';
import { sharedLetterUrl } from './share-links.js';

/** The interface language of a request (its labels, numbers) and the text language it asked for. */
export interface SharingRequest {
  t: TFunction;
  interfaceLanguage: string;
  /** The language of the letter's text asked for; the letter's own is used where it lacks it. */
  textLanguage: string;
}

export interface SharingServiceDeps {
  /** Public letters only: a draft or an unknown slug is a 404 there (findPublished). */
  letters: Pick<LetterService, 'heading'>;
  cards: CardRenderer;
  qrCodes: QrCodes;
  publicUrl: string;
}

/** Who started a letter and who co-signs it, said once each, in the organizer's order. */
function organisationNames(letter: Letter): string[] {
  return [...new Set([letter.sponsor, ...letter.organisations].map((n) => n.trim()).filter((n) => n !== ''))];
}

/** The count said in words and the goal, numbers in the interface language. */
function countWords(letter: Letter, t: TFunction, language: string) {
  const number = formatsFor(language).number;
  const count = letter.signatureCount;
  return {
    countText: t('share.card.count', { count, formatted: number(count) }),
    goalText: letter.goal && letter.goal > 0 ? t('share.card.goal', { goal: number(letter.goal) }) : null,
    value: letter.goal && letter.goal > 0 ? `${number(count)} / ${number(letter.goal)}` : number(count),
  };
}

/** A public letter's share card, QR code and count badge. */
export class SharingService {
  constructor(private readonly deps: SharingServiceDeps) {}

  /** What a card of `letter` shows in `request`'s languages. */
  cardFacts(letter: Letter, text: LetterHeading, request: SharingRequest): CardFacts {
    const { t, interfaceLanguage } = request;
    const names = organisationNames(letter);
    const { countText, goalText } = countWords(letter, t, interfaceLanguage);
    return {
      title: text.title,
      textLanguage: text.language,
      siteName: t('site.name'),
      organisation: names.length > 0 ? t('share.card.by', { names: names.join(', ') }) : '',
      countText,
      goalText,
      percent: progressPercent(letter.signatureCount, letter.goal),
    };
  }

  /** The share card (PNG) of a public letter. */
  async card(slug: string, request: SharingRequest): Promise<DrawnCard> {
    const { letter, text } = await this.deps.letters.heading(slug, request.textLanguage);
    const facts = this.cardFacts(letter, text, request);
    // Everything drawn but the count names the card: an edit, a new goal or a closed letter is a new card
    // at once; a moving count redraws the same card at most every CARD_REDRAW_MS.
    const key = JSON.stringify([
      letter.id,
      letter.currentVersionId,
      request.interfaceLanguage,
      { ...facts, countText: undefined, percent: undefined },
    ]);
    return this.deps.cards.card(key, letter.signatureCount, () => cardSvg(facts));
  }

  /**
   * The site's own card (PNG), which a link to the home page unfolds into: its name, tagline and what it
   * is for, in the interface language. Nothing on it moves, so it is drawn once per language.
   */
  async homeCard(request: Pick<SharingRequest, 't' | 'interfaceLanguage'>): Promise<DrawnCard> {
    const { t, interfaceLanguage } = request;
    const facts = {
      siteName: t('site.name'),
      tagline: t('site.tagline'),
      description: t('share.meta.homeDescription'),
      language: interfaceLanguage,
      host: new URL(this.deps.publicUrl).host,
    };
    return this.deps.cards.card(JSON.stringify(['home', facts]), 0, () => homeCardSvg(facts));
  }

  /** The count badge (SVG) of a public letter. */
  async badge(slug: string, request: SharingRequest): Promise<string> {
    const { letter, text } = await this.deps.letters.heading(slug, request.textLanguage);
    const { t, interfaceLanguage } = request;
    const { countText, value } = countWords(letter, t, interfaceLanguage);
    return badgeSvg({
      label: t('share.badge.label', { count: letter.signatureCount }),
      value,
      description: t('share.badge.description', { title: text.title, count: countText }),
    });
  }

  /** The QR code (SVG) of a public letter's shared link in `request`'s languages. */
  async qr(slug: string, request: SharingRequest): Promise<string> {
    const { letter, text } = await this.deps.letters.heading(slug, request.textLanguage);
    return this.deps.qrCodes.svg(
      sharedLetterUrl(this.deps.publicUrl, letter.slug, request.interfaceLanguage, text.language),
    );
  }
}

/** The sharing service with its card renderer (fonts found once, here) and QR codes. */
export function createSharing(deps: {
  letters: Pick<LetterService, 'heading'>;
  clock: Clock;
  publicUrl: string;
}): SharingService {
  return new SharingService({
    letters: deps.letters,
    cards: new CardRenderer({ clock: deps.clock, options: cardRenderOptions(findCardFonts()) }),
    qrCodes: new QrCodes(),
    publicUrl: deps.publicUrl,
  });
}
