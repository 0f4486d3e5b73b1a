import { isComplete, textIn } from '../letters/letter.js';
import { countryName } from '../lib/countries.js';
import type { LetterRepository } from '../letters/letter-repository.js';
import type { PlatformMail, SigningMailKind } from '../mail/platform-mail.js';
import type { OutboxMessage, RenderedContent } from '../outbox/outbox.js';
import { publicDetails } from './signature.js';
import type { SignatureRepository } from './signature-repository.js';

export interface ConfirmationEmailDeps {
  signatures: SignatureRepository;
  letters: LetterRepository;
  mail: PlatformMail;
}

const isSigningMail = (kind: string): kind is SigningMailKind =>
  kind === 'signature-confirmation' || kind === 'signature-already-signed';

/**
 * Renders the e-mail a signing queued (a confirmation, or the notice that the signature already counts)
 * from its signature, in the mail worker just before it is sent. The signing request only queues "this
 * e-mail for signature N in language L": a new address and a known one cost the request the same, and
 * no rendered body sits in the queue.
 */
export class ConfirmationEmail {
  constructor(private readonly deps: ConfirmationEmailDeps) {}

  /** Renders a queued message the worker holds, when a signing queued it (the worker's OutboxRenderer). */
  async forMessage(message: OutboxMessage): Promise<RenderedContent | undefined> {
    if (!isSigningMail(message.kind) || message.signatureId === null) return undefined;
    return this.render(message.signatureId, message.renderLanguage ?? 'en', message.kind);
  }

  /**
   * The e-mail for this signature, or undefined when its person is gone (erased, or no such signature):
   * written in `language` (the interface language they signed in, queued with it), the letter's title in
   * the text they read, every link keeping both. The notice that a signature already counts is not
   * sent once it no longer does (withdrawn or removed since).
   */
  async render(
    signatureId: number,
    language: string,
    kind: SigningMailKind = 'signature-confirmation',
  ): Promise<RenderedContent | undefined> {
    const { mail } = this.deps;
    const signature = await this.deps.signatures.findById(signatureId);
    if (!signature || signature.email === '') return undefined;
    if (kind === 'signature-already-signed' && signature.status !== 'confirmed') return undefined;
    const letter = await this.deps.letters.findById(signature.letterId);
    if (!letter) return undefined;
    const texts = await this.deps.letters.textsOfVersion(letter.currentVersionId);
    // The notice answers a later attempt, written in that attempt's language: the letter is named in it
    // too when it has a text in it, not in the first signature's (which mixed two languages in one subject).
    const textLanguage =
      kind === 'signature-already-signed' && texts.some((t) => t.language === language && isComplete(t))
        ? language
        : signature.language;
    const text = textIn(texts, textLanguage, letter.primaryLanguage);
    const title = text?.title ?? letter.slug;
    const languages = { interface: language, text: textLanguage };
    const shown = publicDetails(signature);
    return mail.renderForSupporter(kind, languages, signature.ref, {
      name: signature.fullName,
      // How the signature appears in public, so a supporter sees what they confirm (or already did):
      // signing again changes none of it, and the e-mail says how to (withdraw, then sign again).
      appearsAs: shown === null ? null : `${shown}, ${countryName(signature.country, language)}`,
      letterTitle: title,
      // The title is in the text's language, which the HTML marks on it.
      letterLanguage: text?.language ?? letter.primaryLanguage,
      letterUrl: mail.links.letterUrl(letter.slug, languages),
      confirmUrl: mail.links.confirmUrl(signature.ref, languages),
      receiptsUrl: mail.links.receiptsUrl(signature.ref, languages),
    });
  }
}
