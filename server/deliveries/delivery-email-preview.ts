import type {
  DeliveryEmailPreviews,
  EmailPreview,
  EmailPreviewRequest,
} from '../letters/letter-preview-service.js';
import type { LetterRepository } from '../letters/letter-repository.js';
import { recipientFields, SAMPLE_COUNTRIES, SAMPLE_SIGNATORIES } from '../letters/merge-fields.js';
import type { Clock } from '../lib/clock.js';
import { fixedT, type i18n } from '../lib/i18n.js';
import type { MailLinks } from '../mail/mail-links.js';
import { senderDisplayName } from '../mail/sender-address.js';
import type { SignatureRepository } from '../signatures/signature-repository.js';
import { deliverySettingsOf } from './delivery.js';
import type { DeliveryRepository } from './delivery-repository.js';
import type { CompileInput, LetterCompiler } from './letter-compiler.js';
import { readAnnexStart } from './round-annex.js';

/**
 * How many named signatories a preview reads: a round reads them all (a page at a time, in the compile
 * worker), which for a letter with a million signatures is not something to do at each keystroke. The
 * letter's list of names shows these, and the page says how many more a delivery would list.
 */
export const PREVIEW_NAMES = 100;

/** Counted without a name in the sample figures, so the preview shows the line that says so. */
const SAMPLE_UNNAMED = 37;

export interface DeliveryEmailPreviewDeps {
  letters: LetterRepository;
  signatures: SignatureRepository;
  deliveries: DeliveryRepository;
  /** The compiler the compile worker uses, here in-process: a preview's annex is PREVIEW_NAMES at most. */
  compiler: LetterCompiler;
  /** Whether a delivery attaches the PDF (the compile worker renders it when Chromium is here). */
  pdf: { available: boolean };
  links: MailLinks;
  /** REPLY_ADDRESS, when letters carry their delivery's own reply address. */
  replyAddress?: string | undefined;
  /** MAIL_FROM: the From of a letter without an organisation. */
  mailFrom: string;
  i18n: i18n;
  clock: Clock;
}

/**
 * The e-mail a delivery round would send a recipient now, for the text being edited: the input is made
 * as RoundCompileService makes it and composed by the same LetterCompiler.compile, so the title, the
 * figures by country, the count-only line, the PDF notice, the verifiable list and the footer are the
 * delivery's own. Two things a round alone has are stood in for, and the editor says so: the root of
 * the list's commitment (made when a round starts) and names past the first PREVIEW_NAMES.
 */
export class DeliveryEmailPreview implements DeliveryEmailPreviews {
  constructor(private readonly deps: DeliveryEmailPreviewDeps) {}

  async compose(request: EmailPreviewRequest): Promise<EmailPreview> {
    const { letter, text } = request;
    const now = this.deps.clock.now();
    const figures =
      request.signatories === 'real' && letter
        ? await this.realFigures(letter.id, letter.signatureCount, now)
        : sampleFigures();
    const slug = letter?.slug ?? request.slug;
    const settings = letter
      ? deliverySettingsOf(await this.deps.deliveries.settingsOf(letter.id), letter)
      : undefined;
    const t = fixedT(this.deps.i18n, text.language);
    const input: CompileInput = {
      kind: 'delivery',
      text,
      recipient: recipientFields(request.recipient, text.language),
      date: now,
      signatureCount: figures.signatureCount,
      countries: figures.countries,
      annex: figures.annex,
      organisations: request.organisations,
      sponsor: request.sponsor,
      letterUrl: this.deps.links.letterUrl(slug, { text: text.language }),
      replyTo: settings?.replyTo || (this.deps.replyAddress ?? ''),
      pdfAttached: this.deps.pdf.available,
      // The round's list is committed to when the round starts: its size is known now, its root is not.
      commitment: {
        treeSize: figures.signatureCount,
        root: t('commitments.letter.previewRoot'),
        verifyUrl: this.deps.links.verifyLetterUrl(slug),
      },
    };
    const compiled = this.deps.compiler.compile(input);
    return {
      subject: compiled.email.subject,
      fromName: compiled.fromName ?? senderDisplayName(this.deps.mailFrom),
      html: compiled.email.html,
      text: compiled.email.text,
      signatories: figures.sample ? 'sample' : 'real',
      named: figures.annex.entries.length + (figures.annex.unread ?? 0),
      listed: figures.annex.entries.length,
      pdfAttached: input.pdfAttached,
    };
  }

  /**
   * The letter's confirmed signatures as a round started now would count them (readRoundAnnex), from
   * one page of them: when there are more, the figures come from the letter's counters, which move
   * with every signature (signature-moves.ts) by the same rule as the annex (countedCountry).
   */
  private async realFigures(letterId: number, signatureCount: number, now: Date): Promise<Figures> {
    const start = await readAnnexStart(this.deps.signatures, letterId, now, PREVIEW_NAMES);
    if (start.complete) return { ...start, signatureCount, sample: false };
    const countries = await this.deps.letters.countryCounts(letterId);
    // Signatures shown with a country are the named ones; the others chose to be counted only (or
    // their person was erased), which the annex counts as unnamed.
    const named = countries.reduce((sum, c) => sum + c.count, 0);
    const unread = Math.max(0, named - start.annex.entries.length);
    return {
      annex: {
        entries: start.annex.entries,
        unnamed: Math.max(0, signatureCount - named),
        unread,
      },
      countries,
      signatureCount,
      sample: false,
    };
  }
}

/** The figures and annex a preview is compiled with, and whether they are invented. */
interface Figures {
  annex: CompileInput['annex'];
  countries: CompileInput['countries'];
  signatureCount: number;
  sample: boolean;
}

/** The invented signatories the editor offers before there are real ones (merge-fields.ts). */
function sampleFigures(): Figures {
  const named = SAMPLE_COUNTRIES.reduce((sum, c) => sum + c.count, 0);
  return {
    annex: {
      entries: SAMPLE_SIGNATORIES.map((s) => ({ ...s, affiliation: '' })),
      unnamed: SAMPLE_UNNAMED,
      unread: named - SAMPLE_SIGNATORIES.length,
    },
    countries: SAMPLE_COUNTRIES,
    signatureCount: named + SAMPLE_UNNAMED,
    sample: true,
  };
}
