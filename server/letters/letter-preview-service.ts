import type { User } from '../accounts/account.js';
import type { Recipient } from '../recipients/recipient.js';
import type { RecipientRepository } from '../recipients/recipient-repository.js';
import { pickLanguage } from '../lib/languages.js';
import type { LetterAccess } from './letter-access.js';
import type { EditorContext, EditorStates } from './letter-editor-state.js';
import { textLanguageFor, type EditorValues, type PreviewChoice } from './letter-input.js';
import type { Letter, LetterText } from './letter.js';
import { checkLetterSizeForSave, checkLetterText, type LetterTextProblem } from './letter-text-check.js';

/** What the preview asks a delivery's composition for: the text being edited, for one recipient. */
export interface EmailPreviewRequest {
  /** The saved letter (its signatures, delivery settings and address); undefined for a letter not created yet. */
  letter: Letter | undefined;
  /** The letter's address as typed, for a letter not created yet. */
  slug: string;
  text: LetterText;
  recipient: Recipient | null;
  sponsor: string;
  organisations: readonly string[];
  /** The letter's confirmed signatures as a round would count them now, or invented ones. */
  signatories: 'sample' | 'real';
}

/** The e-mail a delivery round would send, as the preview shows it. */
export interface EmailPreview {
  subject: string;
  /** The name in its From: the organisation's "… via Undersigned", else the platform's own. */
  fromName: string;
  /** The HTML part: a whole document with its own styles, shown only in a sandboxed frame. */
  html: string;
  text: string;
  signatories: 'sample' | 'real';
  /** Named signatories in all, and how many of them the letter's list of names holds here. */
  named: number;
  listed: number;
  /** Whether a delivery would attach the PDF annex (which the preview does not make). */
  pdfAttached: boolean;
}

/**
 * The delivery's own composition of a recipient's e-mail (deliveries/delivery-email-preview.ts, over
 * LetterCompiler): letters do not import deliveries, so wiring.ts passes it in.
 */
export interface DeliveryEmailPreviews {
  compose(request: EmailPreviewRequest): Promise<EmailPreview>;
}

export interface LetterPreviewServiceDeps {
  recipients: RecipientRepository;
  access: LetterAccess;
  states: EditorStates;
  emails: DeliveryEmailPreviews;
  countryName: (code: string, language: string) => string;
}

export type PreviewOutcome =
  | { kind: 'rendered'; email: EmailPreview; recipient: Recipient | null; language: string }
  | { kind: 'problems'; problems: LetterTextProblem[]; language: string };

/**
 * Composes the text being edited, saved or not, into the e-mail a recipient would receive, by the
 * delivery's own composition. Nothing is saved, and nothing is sent.
 */
export class LetterPreviewService {
  constructor(private readonly deps: LetterPreviewServiceDeps) {}

  /** The preview, and what the editor form is shown again with (the Preview button, without JavaScript). */
  async inEditor(
    user: User,
    letterId: number | undefined,
    values: EditorValues,
    choice: PreviewChoice,
  ): Promise<{ preview: PreviewOutcome; context: EditorContext }> {
    if (letterId === undefined)
      return {
        preview: await this.preview(user, undefined, values, choice),
        context: { directory: await this.deps.recipients.listAll(), state: null },
      };
    const accessed = await this.deps.access.forEdit(user, letterId);
    const state = await this.deps.states.read(user, accessed);
    return {
      preview: await this.render(accessed.letter, values, choice),
      context: { directory: state.directory, state },
    };
  }

  /**
   * The e-mail of the text being edited (saved or not) for one recipient in one language, with sample
   * signatories or the letter's real ones. Nothing is saved.
   */
  async preview(
    user: User,
    letterId: number | undefined,
    values: EditorValues,
    choice: PreviewChoice,
  ): Promise<PreviewOutcome> {
    const letter =
      letterId === undefined ? undefined : (await this.deps.access.forEdit(user, letterId)).letter;
    return this.render(letter, values, choice);
  }

  private async render(
    letter: Letter | undefined,
    values: EditorValues,
    choice: PreviewChoice,
  ): Promise<PreviewOutcome> {
    const chosen =
      choice.recipientId !== undefined && values.recipientIds.includes(choice.recipientId)
        ? choice.recipientId
        : values.recipientIds[0];
    const recipient = chosen === undefined ? null : ((await this.deps.recipients.findById(chosen)) ?? null);
    // A language chosen in the preview is shown as chosen; else the text this recipient will get, by
    // the delivery's rule (the first preview said "in English" to a Ukrainian ministry sent the Ukrainian text).
    const language =
      choice.language !== undefined
        ? pickLanguage(values.languages, choice.language, values.primaryLanguage)
        : textLanguageFor(values, recipient?.language);
    const text = values.texts[language] ?? { title: '', summary: '', body: '' };
    const checked = checkLetterText(text.body);
    if (!checked.ok) return { kind: 'problems', problems: checked.problems, language };
    const tooLarge = checkLetterSizeForSave(
      text.body,
      language,
      Math.max(letter?.signatureCount ?? 0, letter?.goal ?? 0, Number(values.goal) || 0),
      this.deps.countryName,
    );
    if (tooLarge) return { kind: 'problems', problems: [tooLarge], language };

    const email = await this.deps.emails.compose({
      letter,
      slug: values.slug,
      text: { language, ...text },
      recipient,
      sponsor: values.sponsor,
      organisations: values.organisations
        .split(/\r?\n/)
        .map((o) => o.trim())
        .filter((o) => o !== ''),
      // A letter not created yet has no signatures: its preview shows invented ones.
      signatories: letter ? choice.signatories : 'sample',
    });
    return { kind: 'rendered', email, recipient, language };
  }
}
