import type { Tx } from '../db/database.js';
import { newMessageId } from '../lib/ids.js';
import { PRIORITY, type OutboxAttachment, type OutboxKind, type RenderedContent } from '../outbox/outbox.js';
import type { OutboxRepository } from '../outbox/outbox-repository.js';
import type { EmailName, EmailTemplates } from './email-templates.js';
import type { MailLanguages, MailLinks } from './mail-links.js';

export interface PlatformMailDeps {
  outbox: OutboxRepository;
  emails: EmailTemplates;
  links: MailLinks;
  /** The domain of MAIL_FROM: every Message-ID the platform makes is in it. */
  messageIdDomain: string;
  /** Wakes the mail worker; absent in a process that runs none (its worker polls the queue). */
  wakeWorker?: (() => void) | undefined;
}

/**
 * The supporter an e-mail is about: their signature's id, reference (for its links), address, the
 * language of the letter text they read (`language`, the signature's) and the interface language they
 * signed in (`interfaceLanguage`), which every e-mail to them is written in.
 */
export interface Supporter {
  id: number;
  ref: string;
  email: string;
  language: string;
  interfaceLanguage: string;
}

/** The languages of a supporter's e-mail and its links: written in their interface language, letters in their text. */
export function supporterLanguages(
  supporter: Pick<Supporter, 'language' | 'interfaceLanguage'>,
): MailLanguages {
  return { interface: supporter.interfaceLanguage, text: supporter.language };
}

/** An e-mail to a supporter about one of their signatures, rendered when it is queued. */
export interface SupporterMail {
  template: Extract<EmailName, 'letter-sent' | 'data-access'>;
  supporter: Supporter;
  /** What the template reads besides the footer links (added here). */
  context: Record<string, unknown>;
  priority: number;
  deliveryRoundId?: number;
  attachments?: OutboxAttachment[];
  /** News a supporter asked for: carries the one-click unsubscribe link (RFC 8058) in the body and headers. */
  unsubscribe?: boolean;
  /** Queue it only if the queue does not hold its twin already (a job that was cut off runs again). */
  once?: boolean;
  /** The subject's key under `emails.<template>.` when the template has several (default `subject`). */
  subjectKey?: string;
}

/** An e-mail to a user's account address (an organizer or admin), never to a supporter. */
export interface AccountMail {
  template: Extract<
    EmailName,
    | 'account-invitation'
    | 'password-reset'
    | 'letter-review-requested'
    | 'letter-review-withdrawn'
    | 'letter-review-outcome'
    | 'letter-shared'
  >;
  to: string;
  /** The account's language (users.language): the e-mail is written in it, whatever language asked for it. */
  language: string;
  context: Record<string, unknown>;
  priority: number;
  /** The subject's key under `emails.<template>.` when the template has several (default `subject`). */
  subjectKey?: string;
}

/**
 * An e-mail to a letter's recipient about a delivery they received (a correction of its count), in the
 * language of the letter they got. Queued as part of the round it belongs to, as its compiled letters are.
 */
export interface RecipientMail {
  template: Extract<EmailName, 'letter-erratum'>;
  to: string;
  language: string;
  context: Record<string, unknown>;
  deliveryRoundId: number;
  replyTo: string | null;
  /** Headers besides Auto-Submitted (the letter's slug, as its compiled letters carry it). */
  headers: Record<string, string>;
  /** The name it is sent under, as the letter it is about was (LetterCompiler's senderName). */
  fromName: string | null;
}

/**
 * An e-mail to the organisation behind a letter (its address for replies): an official's reply to a
 * delivery, forwarded. Written in the letter's primary language.
 */
export interface OrganisationMail {
  template: Extract<EmailName, 'reply-forwarded'>;
  to: string;
  language: string;
  /** Who answering it reaches (the official who replied); null: the platform's From. */
  replyTo: string | null;
  /** Added to the rendered e-mail's (Auto-Submitted: auto-forwarded for a forward). */
  headers: Record<string, string>;
  context: Record<string, unknown>;
  priority: number;
}

/** The e-mails a signing queues, rendered by the worker. */
export type SigningMailKind = Extract<OutboxKind, 'signature-confirmation' | 'signature-already-signed'>;

/** Every e-mail the platform sends of its own is machine-made: auto-responders must not answer it. */
const AUTOMATIC = { 'Auto-Submitted': 'auto-generated' } as const;

/**
 * The headers of an e-mail the platform writes in `language`: machine-made, and in that language
 * (Content-Language, RFC 3282), so a mail program or screen reader reads it in the right voice.
 */
export function automaticIn(language: string): Record<string, string> {
  return { ...AUTOMATIC, 'Content-Language': language };
}

/**
 * The platform's own e-mails, in one place (DESIGN convention 16): builds their links, renders them,
 * queues them in the caller's transaction with a fresh Message-ID, and wakes the worker. The caller
 * owns the transaction, so it calls `wake()` once that transaction has committed: a worker woken
 * earlier would look before the message exists. Nothing here sends: the worker does (convention 6).
 */
export class PlatformMail {
  /** The links of every e-mail (and the reading of a link's token back). */
  readonly links: MailLinks;

  constructor(private readonly deps: PlatformMailDeps) {
    this.links = deps.links;
  }

  /** Renders a supporter's e-mail about this signature now and queues it in `tx`; undefined when `once` found its twin. */
  async toSupporter(tx: Tx, mail: SupporterMail, now: Date): Promise<number | undefined> {
    const { supporter } = mail;
    const languages = supporterLanguages(supporter);
    const unsubscribeUrl = mail.unsubscribe ? this.links.unsubscribeUrl(supporter.ref, languages) : undefined;
    const content = this.renderForSupporter(
      mail.template,
      languages,
      supporter.ref,
      { ...mail.context, ...(unsubscribeUrl ? { unsubscribeUrl } : {}) },
      mail.subjectKey,
    );
    const message = {
      kind: mail.template,
      priority: mail.priority,
      signatureId: supporter.id,
      toAddress: supporter.email,
      subject: content.subject,
      textBody: content.textBody,
      htmlBody: content.htmlBody,
      deliveryRoundId: mail.deliveryRoundId ?? null,
      headers: unsubscribeUrl
        ? {
            ...content.headers,
            // Mail programs show an unsubscribe button that POSTs to the link.
            'List-Unsubscribe': `<${unsubscribeUrl}>`,
            'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
          }
        : content.headers,
      ...(mail.attachments ? { attachments: mail.attachments } : {}),
    };
    const outbox = this.deps.outbox.with(tx);
    return mail.once
      ? outbox.enqueueOnce(message, this.messageId(), now)
      : outbox.enqueue(message, this.messageId(), now);
  }

  /**
   * Queues the e-mail a signing sends (its confirmation, or the notice that the address's signature
   * already counts) in `tx` without rendering it: the worker renders it just before sending
   * (signatures/confirmation-email.ts), so a signing request does no rendering whatever the address's
   * history, and no body waits in the queue. It is rendered in the interface language the supporter
   * signed in (the letter's title in the text they read).
   */
  async signingMailFor(
    tx: Tx,
    signature: { id: number; email: string; interfaceLanguage: string },
    kind: SigningMailKind,
    now: Date,
  ): Promise<void> {
    await this.deps.outbox.with(tx).enqueue(
      {
        kind,
        priority: PRIORITY.confirmation,
        signatureId: signature.id,
        toAddress: signature.email,
        renderLanguage: signature.interfaceLanguage,
      },
      this.messageId(),
      now,
    );
  }

  /** Renders an e-mail to a user's account address in the account's language and queues it in `tx`. */
  async toAccount(tx: Tx, mail: AccountMail, now: Date): Promise<number> {
    const email = this.deps.emails.render(mail.template, mail.language, mail.context, mail.subjectKey);
    return this.deps.outbox.with(tx).enqueue(
      {
        kind: mail.template,
        priority: mail.priority,
        signatureId: null,
        toAddress: mail.to,
        subject: email.subject,
        textBody: email.text,
        htmlBody: email.html,
        headers: automaticIn(mail.language),
      },
      this.messageId(),
      now,
    );
  }

  /** Renders an e-mail to a letter's recipient in `mail.language` and queues it in `tx` as a letter of its round. */
  async toRecipient(tx: Tx, mail: RecipientMail, now: Date): Promise<number> {
    const email = this.deps.emails.render(mail.template, mail.language, mail.context);
    return this.deps.outbox.with(tx).enqueue(
      {
        // A letter of its round: bounces, the queue's politeness and the delivery record treat it as one.
        kind: 'letter-delivery',
        priority: PRIORITY.letter,
        signatureId: null,
        toAddress: mail.to,
        subject: email.subject,
        textBody: email.text,
        htmlBody: email.html,
        replyTo: mail.replyTo,
        deliveryRoundId: mail.deliveryRoundId,
        headers: { ...mail.headers, ...automaticIn(mail.language) },
        fromName: mail.fromName,
      },
      this.messageId(),
      now,
    );
  }

  /** Renders an e-mail to an organisation's address in `mail.language` and queues it in `tx`. */
  async toOrganisation(tx: Tx, mail: OrganisationMail, now: Date): Promise<number> {
    const email = this.deps.emails.render(mail.template, mail.language, mail.context);
    return this.deps.outbox.with(tx).enqueue(
      {
        kind: mail.template,
        priority: mail.priority,
        signatureId: null,
        toAddress: mail.to,
        replyTo: mail.replyTo,
        subject: email.subject,
        textBody: email.text,
        htmlBody: email.html,
        headers: { ...automaticIn(mail.language), ...mail.headers },
      },
      this.messageId(),
      now,
    );
  }

  /**
   * A supporter's e-mail, written in their interface language, with the footer links of this signature
   * (withdraw, erase, privacy) keeping both their languages.
   */
  renderForSupporter(
    template: Extract<EmailName, SigningMailKind | 'letter-sent' | 'data-access'>,
    languages: MailLanguages,
    ref: string,
    context: Record<string, unknown>,
    subjectKey?: string,
  ): RenderedContent {
    const email = this.deps.emails.render(
      template,
      languages.interface,
      { ...context, ...this.links.supporterFooter(ref, languages) },
      subjectKey,
    );
    return {
      subject: email.subject,
      textBody: email.text,
      htmlBody: email.html,
      headers: automaticIn(languages.interface),
    };
  }

  /** A new Message-ID in the platform's domain. */
  messageId(): string {
    return newMessageId(this.deps.messageIdDomain);
  }

  /** Wakes the worker: call it after the transaction that queued mail has committed. */
  wake(): void {
    this.deps.wakeWorker?.();
  }

  /**
   * For mail queued in a transaction someone else ends (a port such as letters' ReviewNotices): wakes
   * the worker once the message can be seen from outside it. The read goes through the root
   * connection, which SQLite gives out only after the caller's transaction has ended, so a rolled-back
   * message wakes nothing. Not awaited inside the transaction (it would wait for itself); where a read
   * runs earlier (PostgreSQL), it sees nothing and the worker's next poll sends the message.
   */
  wakeOnceCommitted(outboxId: number): void {
    if (!this.deps.wakeWorker) return;
    void this.deps.outbox.findById(outboxId).then(
      (message) => {
        if (message) this.wake();
      },
      // Shutting down, the database may be gone: the message waits for the next start.
      () => undefined,
    );
  }
}
