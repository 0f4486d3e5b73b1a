import type { User } from '../accounts/account.js';
import type { Clock } from '../lib/clock.js';
import type { Recipient } from '../recipients/recipient.js';
import type { RecipientRepository } from '../recipients/recipient-repository.js';
import { pickLanguage } from '../lib/languages.js';
import type { LetterAccess } from './letter-access.js';
import type { EditorContext, EditorStates } from './letter-editor-state.js';
import type { EditorValues, PreviewChoice } from './letter-input.js';
import type { LetterRepository } from './letter-repository.js';
import { renderLetter, type RenderedLetter } from './letter-text.js';
import { checkLetterSizeForSave, checkLetterText, type LetterTextProblem } from './letter-text-check.js';
import { buildMergeFields, recipientFields, SAMPLE_COUNTRIES, SAMPLE_SIGNATORIES } from './merge-fields.js';
import type { PublicSignatories } from './public-signatories.js';

export interface LetterPreviewServiceDeps {
  letters: LetterRepository;
  recipients: RecipientRepository;
  access: LetterAccess;
  states: EditorStates;
  signatories: PublicSignatories;
  clock: Clock;
  countryName: (code: string, language: string) => string;
}

export type PreviewOutcome =
  | { kind: 'rendered'; rendered: RenderedLetter; recipient: Recipient | null; language: string }
  | { kind: 'problems'; problems: LetterTextProblem[]; language: string };

/** Renders the text being edited, saved or not, as a recipient would receive it. Nothing is saved. */
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
   * Renders the text being edited (saved or not) for one recipient in one language, with sample
   * signatories or the letter's real public ones. Nothing is saved.
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
    letter: { id: number; signatureCount: number; goal: number | null } | undefined,
    values: EditorValues,
    choice: PreviewChoice,
  ): Promise<PreviewOutcome> {
    const chosen =
      choice.recipientId !== undefined && values.recipientIds.includes(choice.recipientId)
        ? choice.recipientId
        : values.recipientIds[0];
    const recipient = chosen === undefined ? null : ((await this.deps.recipients.findById(chosen)) ?? null);
    const language = pickLanguage(
      values.languages,
      choice.language ?? recipient?.language,
      values.primaryLanguage,
    );
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

    let signatories: readonly { name: string; country: string }[] = SAMPLE_SIGNATORIES;
    let countries: readonly { code: string; count: number }[] = SAMPLE_COUNTRIES;
    let count = SAMPLE_COUNTRIES.reduce((sum, c) => sum + c.count, 0);
    if (choice.signatories === 'real' && letter) {
      signatories = await this.deps.signatories.recent(letter.id, 50);
      countries = await this.deps.letters.countryCounts(letter.id);
      count = letter.signatureCount;
    }
    const organisations = values.organisations
      .split(/\r?\n/)
      .map((o) => o.trim())
      .filter((o) => o !== '');
    const rendered = renderLetter(
      text.body,
      buildMergeFields(
        {
          recipient: recipientFields(recipient, language),
          letterTitle: text.title,
          language,
          date: this.deps.clock.now(),
          signatureCount: count,
          countries,
          signatories,
          organisations,
        },
        this.deps.countryName,
      ),
    );
    return { kind: 'rendered', rendered, recipient, language };
  }
}
