import type { LetterRepository } from '../letters/letter-repository.js';
import type { EmailTemplates } from '../mail/email-templates.js';
import type { OutboxMessage, RenderedContent } from '../outbox/outbox.js';
import type { SignatureRepository } from './signature-repository.js';
import { signatureToken } from './signature-tokens.js';

export interface ConfirmationEmailDeps {
  signatures: SignatureRepository;
  letters: LetterRepository;
  emails: EmailTemplates;
  secret: string;
  publicUrl: string;
}

/**
 * Renders a supporter's confirmation e-mail from its signature, in the mail worker just before it is
 * sent. The signing request only queues "confirmation for signature N in language L": a new address
 * and a known one cost the request the same, and no rendered body sits in the queue.
 */
export class ConfirmationEmail {
  constructor(private readonly deps: ConfirmationEmailDeps) {}

  /** Renders a queued message the worker holds, when it is a confirmation (the worker's OutboxRenderer). */
  async forMessage(message: OutboxMessage): Promise<RenderedContent | undefined> {
    if (message.kind !== 'signature-confirmation' || message.signatureId === null) return undefined;
    return this.render(message.signatureId, message.renderLanguage ?? 'en');
  }

  /** The e-mail for this signature, or undefined when its person is gone (erased, or no such signature). */
  async render(signatureId: number, language: string): Promise<RenderedContent | undefined> {
    const { publicUrl, secret, emails } = this.deps;
    const signature = await this.deps.signatures.findById(signatureId);
    if (!signature || signature.email === '') return undefined;
    const letter = await this.deps.letters.findById(signature.letterId);
    if (!letter) return undefined;
    const texts = await this.deps.letters.textsOfVersion(letter.currentVersionId);
    const title =
      (
        texts.find((t) => t.language === language) ??
        texts.find((t) => t.language === letter.primaryLanguage) ??
        texts[0]
      )?.title ?? letter.slug;
    const email = emails.render('signature-confirmation', language, {
      name: signature.fullName,
      letterTitle: title,
      letterUrl: `${publicUrl}/letters/${letter.slug}`,
      confirmUrl: `${publicUrl}/signatures/confirm/${signatureToken(secret, signature.ref, 'confirm')}`,
      withdrawUrl: `${publicUrl}/signatures/withdraw/${signatureToken(secret, signature.ref, 'withdraw')}`,
      privacyUrl: `${publicUrl}/privacy`,
      eraseUrl: `${publicUrl}/privacy/erase/${signatureToken(secret, signature.ref, 'erase')}`,
    });
    return {
      subject: email.subject,
      textBody: email.text,
      htmlBody: email.html,
      headers: { 'Auto-Submitted': 'auto-generated' },
    };
  }
}
