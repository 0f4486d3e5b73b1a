import { notFound } from '../lib/errors.js';
import { authorize, type Actor } from '../policy/policy.js';
import { previewDocument, type AttachmentFile, type CapturedMessage, type Mailbox } from './mailbox.js';

/**
 * The captured mailbox as people read it. It holds admin invitations, supporters' addresses and hidden
 * names, so every use asserts 'mailbox.read' here, whichever route called.
 */
export class MailboxReader {
  constructor(private readonly mailbox: Mailbox) {}

  /** The captured messages, newest first. */
  async list(actor: Actor): Promise<CapturedMessage[]> {
    authorize(actor, 'mailbox.read');
    return this.mailbox.list();
  }

  /** One message; 404 for a name that is not a stored message. */
  async message(actor: Actor, name: string): Promise<CapturedMessage> {
    authorize(actor, 'mailbox.read');
    const message = await this.mailbox.read(name);
    if (!message) throw notFound('message_not_found');
    return message;
  }

  /** The message's HTML as the preview frame shows it; 404 when it has none. */
  async preview(actor: Actor, name: string): Promise<string> {
    authorize(actor, 'mailbox.read');
    const message = await this.mailbox.read(name);
    if (!message?.html) throw notFound('message_not_found');
    return previewDocument(message.html);
  }

  /** One attachment with its bytes; 404 when the message or the attachment is not there. */
  async attachment(actor: Actor, name: string, number: number): Promise<AttachmentFile> {
    authorize(actor, 'mailbox.read');
    const file = await this.mailbox.attachment(name, number);
    if (!file) throw notFound('attachment_not_found');
    return file;
  }
}
