import type { SentDelivery } from '../deliveries/delivery-repository.js';
import type { Clock } from '../lib/clock.js';
import { countryName } from '../lib/countries.js';
import { notFound } from '../lib/errors.js';
import type { SignatureRepository } from '../signatures/signature-repository.js';
import { publicName } from '../signatures/signature.js';
import {
  daysLeft,
  isComplete,
  isPublic,
  pickLanguage,
  progressPercent,
  signingState,
  type Letter,
  type LetterRecipient,
  type LetterText,
  type SigningState,
} from './letter.js';
import type { LetterRepository } from './letter-repository.js';
import { renderLetter, type RenderedLetter } from './letter-text.js';
import { buildMergeFields, recipientFields } from './merge-fields.js';

export interface LetterSummary {
  letter: Letter;
  text: LetterText;
  languages: string[];
  recipients: LetterRecipient[];
  state: SigningState;
  percent: number | null;
  daysLeft: number | null;
}

export interface PublicSignatory {
  name: string;
  country: string;
  organisation: string;
}

export interface LetterPage extends LetterSummary {
  rendered: RenderedLetter;
  recentSignatories: PublicSignatory[];
  /** When the text last changed, if it has changed since the letter was first published. */
  textChangedAt: Date | null;
  versionNumber: number;
  /** Recipients the compiled letter reached, with when and with how many signatures. */
  sent: SentDelivery[];
}

/** How many recent signatories a letter page lists. */
const RECENT_SIGNATORIES = 20;

/** Reads letters for the public pages. */
export class LetterService {
  constructor(
    private readonly letters: LetterRepository,
    private readonly signatures: SignatureRepository,
    private readonly clock: Clock,
    /** Whom the letter has reached (deliveries), for the public record. */
    private readonly sentTo: (letterId: number) => Promise<SentDelivery[]> = async () => [],
  ) {}

  /** The letters on the home page, in the reader's language where the letter has it. */
  async listPublic(language: string): Promise<LetterSummary[]> {
    const letters = await this.letters.listPublic();
    const texts = await this.letters.textsOfVersions(letters.map((l) => l.currentVersionId));
    const recipients = await this.letters.recipientsOfLetters(letters.map((l) => l.id));
    const now = this.clock.now();
    return letters.map((letter) =>
      this.summarise(
        letter,
        texts.get(letter.currentVersionId) ?? [],
        recipients.get(letter.id) ?? [],
        language,
        now,
      ),
    );
  }

  /** A published letter by slug, or a 404. */
  async findPublished(slug: string): Promise<Letter> {
    const letter = await this.letters.findBySlug(slug);
    if (!letter || !isPublic(letter)) throw notFound('letter_not_found', 'errors.letter.notFound');
    return letter;
  }

  /** Everything the letter page shows: the letter as it will be sent, its progress and recent signatories. */
  async page(slug: string, language: string): Promise<LetterPage> {
    const letter = await this.findPublished(slug);
    const texts = await this.letters.textsOfVersion(letter.currentVersionId);
    const recipients = (await this.letters.recipientsOfLetters([letter.id])).get(letter.id) ?? [];
    const now = this.clock.now();
    const summary = this.summarise(letter, texts, recipients, language, now);
    const recent = await this.signatures.recentPublic(letter.id, RECENT_SIGNATORIES);
    const recentSignatories = recent.map((s) => ({
      name: publicName(s) ?? '',
      country: countryName(s.country, summary.text.language),
      organisation: s.display === 'full' ? s.organisation : '',
    }));
    const first = recipients[0];
    const rendered = renderLetter(
      summary.text.body,
      buildMergeFields(
        {
          recipient: recipientFields(first),
          letterTitle: summary.text.title,
          language: summary.text.language,
          date: now,
          signatureCount: letter.signatureCount,
          countries: await this.letters.countryCounts(letter.id),
          signatories: recent
            .map((s) => ({ name: publicName(s) ?? '', country: s.country }))
            .filter((s) => s.name !== ''),
          organisations: letter.organisations,
        },
        countryName,
      ),
    );
    const version = await this.letters.findVersion(letter.currentVersionId);
    const versionNumber = version?.number ?? 1;
    return {
      ...summary,
      rendered,
      recentSignatories,
      versionNumber,
      textChangedAt: version && versionNumber > 1 ? version.createdAt : null,
      sent: await this.sentTo(letter.id),
    };
  }

  private summarise(
    letter: Letter,
    texts: LetterText[],
    recipients: LetterRecipient[],
    language: string,
    now: Date,
  ): LetterSummary {
    // Only complete translations are published; a half-written one stays in the editor.
    const complete = texts.filter(isComplete);
    const languages = complete.map((t) => t.language);
    const chosen = pickLanguage(languages, language, letter.primaryLanguage);
    const text = complete.find((t) => t.language === chosen) ?? texts.find((t) => t.language === chosen);
    if (!text) throw new Error(`letter ${letter.id} has no text`);
    return {
      letter,
      text,
      languages,
      recipients,
      state: signingState(letter, now),
      percent: progressPercent(letter.signatureCount, letter.goal),
      daysLeft: daysLeft(letter.closesAt, now),
    };
  }
}
