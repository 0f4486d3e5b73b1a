import { refFromToken, signatureToken, type TokenPurpose } from './signature-tokens.js';

/** The links a supporter's e-mail carries in its footer (templates/emails/layout.*.hbs). */
export interface SupporterFooterLinks {
  withdrawUrl: string;
  eraseUrl: string;
  privacyUrl: string;
}

/**
 * Every link the platform puts in its own e-mails, built in one place from the public URL and the
 * secret: a signed link to a signature is `<ref>.<mac>` for one purpose (signature-tokens.ts), so the
 * services that send mail never see the secret's use or spell a path.
 */
export class MailLinks {
  constructor(
    private readonly publicUrl: string,
    private readonly secret: string,
  ) {}

  /** The link that confirms a signature. */
  confirmUrl(ref: string): string {
    return `${this.publicUrl}/signatures/confirm/${this.token(ref, 'confirm')}`;
  }

  /** The link that withdraws a signature. */
  withdrawUrl(ref: string): string {
    return `${this.publicUrl}/signatures/withdraw/${this.token(ref, 'withdraw')}`;
  }

  /** The link that erases the person behind a signature. */
  eraseUrl(ref: string): string {
    return `${this.publicUrl}/privacy/erase/${this.token(ref, 'erase')}`;
  }

  /** The one-click link that stops news about a letter for this signature. */
  unsubscribeUrl(ref: string): string {
    return `${this.publicUrl}/signatures/unsubscribe/${this.token(ref, 'unsubscribe')}`;
  }

  /** The public page of a letter. */
  letterUrl(slug: string): string {
    return `${this.publicUrl}/letters/${slug}`;
  }

  /** A letter in the editor (for its organizers and reviewing admins). */
  editorUrl(letterId: number): string {
    return `${this.publicUrl}/admin/letters/${letterId}`;
  }

  /** How the platform handles personal data. */
  privacyUrl(): string {
    return `${this.publicUrl}/privacy`;
  }

  /** Where an invited person sets their password. */
  invitationUrl(token: string): string {
    return `${this.publicUrl}/account/invite/${token}`;
  }

  /** Where a person who forgot their password chooses a new one. */
  passwordResetUrl(token: string): string {
    return `${this.publicUrl}/account/reset/${token}`;
  }

  /** The footer links of every e-mail to a supporter about this signature. */
  supporterFooter(ref: string): SupporterFooterLinks {
    return {
      withdrawUrl: this.withdrawUrl(ref),
      eraseUrl: this.eraseUrl(ref),
      privacyUrl: this.privacyUrl(),
    };
  }

  /** The signature reference a link's token stands for, or null when it is malformed or forged. */
  refFrom(token: string, purpose: TokenPurpose): string | null {
    return refFromToken(this.secret, token, purpose);
  }

  private token(ref: string, purpose: TokenPurpose): string {
    return signatureToken(this.secret, ref, purpose);
  }
}
