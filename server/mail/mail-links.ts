import { refFromToken, signatureToken, type TokenPurpose } from './signature-tokens.js';

/**
 * The languages a supporter's e-mail keeps in its links: the interface language they signed in (the
 * e-mail's own, `?lang=`) and the language of the letter text they read (`?text=`), so every page a link
 * opens speaks to them as the e-mail did and shows the letter as they read it.
 */
export interface MailLanguages {
  interface: string;
  text: string;
}

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

  /** The link that confirms a signature; the thank-you page it leads to keeps both languages. */
  confirmUrl(ref: string, languages?: MailLanguages): string {
    return this.url(`/signatures/confirm/${this.token(ref, 'confirm')}`, languages);
  }

  /** The link that withdraws a signature. */
  withdrawUrl(ref: string, languages?: MailLanguages): string {
    return this.url(`/signatures/withdraw/${this.token(ref, 'withdraw')}`, languages);
  }

  /** The link that erases the person behind a signature (its page shows no letter: the interface language only). */
  eraseUrl(ref: string, languages?: MailLanguages): string {
    return this.url(this.erasePath(ref), languages && { interface: languages.interface });
  }

  /** The erase link's path on this site, for a page that offers it beside another step. */
  erasePath(ref: string): string {
    return `/privacy/erase/${this.token(ref, 'erase')}`;
  }

  /**
   * The one-click link that stops news about a letter for this signature: the interface language only; the
   * page after it links back to the letter in the signature's own text.
   */
  unsubscribeUrl(ref: string, languages?: MailLanguages): string {
    return this.url(
      `/signatures/unsubscribe/${this.token(ref, 'unsubscribe')}`,
      languages && { interface: languages.interface },
    );
  }

  /** The public page of a letter, in the reader's languages when given (an account's: the interface only). */
  letterUrl(slug: string, languages?: Partial<MailLanguages>): string {
    return this.url(`/letters/${encodeURIComponent(slug)}`, languages);
  }

  /** The supporter's receipts: the delivered lists their signature is in, each with its receipt. */
  receiptsUrl(ref: string, languages?: MailLanguages): string {
    return this.url(`/signatures/receipts/${this.token(ref, 'receipt')}`, languages);
  }

  /** Where anyone checks a delivered list's commitment (and a signatory their receipt): /verify for a letter's round. */
  verifyUrl(slug: string, roundId: number): string {
    const query = new URLSearchParams({ letter: slug, round: String(roundId) });
    return `${this.publicUrl}/verify?${query.toString()}`;
  }

  /**
   * The verification page for a letter's lists, before a round exists to name (an editor's preview of
   * the e-mail): a delivered letter names its round (verifyUrl).
   */
  verifyLetterUrl(slug: string): string {
    return `${this.publicUrl}/verify?${new URLSearchParams({ letter: slug }).toString()}`;
  }

  /** A letter in the editor (for its organizers and reviewing admins), in the account's language when given. */
  editorUrl(letterId: number, language?: string): string {
    return this.url(
      `/admin/letters/${letterId}`,
      language === undefined ? undefined : { interface: language },
    );
  }

  /** How the platform handles personal data. */
  privacyUrl(languages?: Pick<MailLanguages, 'interface'>): string {
    return this.url('/privacy', languages && { interface: languages.interface });
  }

  /** Where an invited person sets their password, in the language of their new account when given. */
  invitationUrl(token: string, language?: string): string {
    return this.url(`/account/invite/${token}`, language === undefined ? undefined : { interface: language });
  }

  /** Where a person who forgot their password chooses a new one, in their account's language when given. */
  passwordResetUrl(token: string, language?: string): string {
    return this.url(`/account/reset/${token}`, language === undefined ? undefined : { interface: language });
  }

  /** The footer links of every e-mail to a supporter about this signature. */
  supporterFooter(ref: string, languages?: MailLanguages): SupporterFooterLinks {
    return {
      withdrawUrl: this.withdrawUrl(ref, languages),
      eraseUrl: this.eraseUrl(ref, languages),
      privacyUrl: this.privacyUrl(languages),
    };
  }

  /** The signature reference a link's token stands for, or null when it is malformed or forged. */
  refFrom(token: string, purpose: TokenPurpose): string | null {
    return refFromToken(this.secret, token, purpose);
  }

  /**
   * A link on the platform: `?lang=` opens the page in the e-mail's language whatever the reader's
   * cookie or browser say, `?text=` opens a letter in the text they read (server/letters/text-language.ts).
   */
  private url(path: string, languages?: Partial<MailLanguages>): string {
    const query = new URLSearchParams();
    if (languages?.interface) query.set('lang', languages.interface);
    if (languages?.text) query.set('text', languages.text);
    const search = query.toString();
    return `${this.publicUrl}${path}${search ? `?${search}` : ''}`;
  }

  private token(ref: string, purpose: TokenPurpose): string {
    return signatureToken(this.secret, ref, purpose);
  }
}
