import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';

/** A file attached to a captured message (the delivered PDF annex, for one), without its bytes. */
export interface CapturedAttachment {
  /** Its place among the message's attachments, from 1: the attachment's address in the viewer. */
  number: number;
  filename: string;
  contentType: string;
  size: number;
}

/** An attachment with its bytes, to be downloaded. */
export interface AttachmentFile extends Omit<CapturedAttachment, 'number'> {
  content: Buffer;
}

/** One message the embedded capture server stored. */
export interface CapturedMessage {
  name: string;
  subject: string;
  /** The language it is written in (its Content-Language), for the viewer's `lang`; null when it names none. */
  language: string | null;
  to: string;
  from: string;
  date: Date | null;
  messageId: string;
  text: string;
  html: string | null;
  links: string[];
  attachments: CapturedAttachment[];
}

const NAME = /^[0-9A-Za-z-]+\.eml$/;
const LIST_LIMIT = 200;

/**
 * The captured mailbox (DATA_DIR/mailbox) as files: read newest first, and erased from. It checks no
 * access itself, like a repository: people reach it only through MailboxReader, which asserts the policy.
 */
export class Mailbox {
  constructor(private readonly dir: string) {}

  async list(): Promise<CapturedMessage[]> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((n) => NAME.test(n));
    } catch {
      return [];
    }
    names.sort().reverse();
    const messages = await Promise.all(names.slice(0, LIST_LIMIT).map((n) => this.read(n)));
    return messages.filter((m): m is CapturedMessage => m !== undefined);
  }

  /** One message by file name; undefined for a name that is not a stored message. */
  async read(name: string): Promise<CapturedMessage | undefined> {
    const parsed = await this.parse(name);
    if (!parsed) return undefined;
    const html = typeof parsed.html === 'string' ? parsed.html : null;
    const text = parsed.text ?? '';
    return {
      name,
      subject: parsed.subject ?? '',
      language: languageOf(parsed.headers.get('content-language')),
      to: [parsed.to]
        .flat()
        .map((a) => a?.text ?? '')
        .join(', '),
      from: parsed.from?.text ?? '',
      date: parsed.date ?? null,
      messageId: parsed.messageId ?? '',
      text,
      html,
      links: extractLinks(`${html ?? ''}\n${text}`),
      attachments: parsed.attachments.map((a, index) => ({
        number: index + 1,
        filename: attachmentName(a.filename, a.contentType, index + 1),
        contentType: a.contentType,
        size: a.size,
      })),
    };
  }

  /** One attachment of a message with its bytes; undefined when the message or the attachment is not there. */
  async attachment(name: string, number: number): Promise<AttachmentFile | undefined> {
    const parsed = await this.parse(name);
    const found = parsed?.attachments[number - 1];
    if (!found) return undefined;
    return {
      filename: attachmentName(found.filename, found.contentType, number),
      contentType: found.contentType,
      size: found.size,
      content: found.content,
    };
  }

  /** The parsed message stored under a file name; undefined for a name that is not a stored message. */
  private async parse(name: string): Promise<ParsedMail | undefined> {
    if (!NAME.test(name)) return undefined;
    let raw: Buffer;
    try {
      raw = await readFile(path.join(this.dir, name));
    } catch {
      return undefined;
    }
    return simpleParser(raw);
  }
}

/**
 * A link as written in HTML, read back: Handlebars writes `=` in an attribute as `&#x3D;` and `&` as
 * `&amp;` (a query such as `?lang=ko&text=uk`), the text part writes it plain; both are the same link.
 */
function unescapeLink(link: string): string {
  return link
    .replace(/&#x([0-9a-f]{1,6});/gi, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#([0-9]{1,7});/g, (_, decimal: string) => String.fromCodePoint(Number(decimal)))
    .replace(/&amp;/g, '&');
}

/** Every distinct http(s) link in a message, in order of appearance. */
export function extractLinks(content: string): string[] {
  const found = content.match(/https?:\/\/[^\s"'<>]+/g) ?? [];
  return [...new Set(found.map((link) => unescapeLink(link).replace(/[.,;)]+$/, '')))];
}

/** A Content-Language value as a `lang` attribute: its first tag, when it looks like one (BCP 47). */
function languageOf(header: unknown): string | null {
  const first = typeof header === 'string' ? header.split(',')[0]!.trim() : '';
  return /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(first) ? first : null;
}

/** A file name to save an attachment under: its own when it has one, else one made from its type. */
function attachmentName(filename: string | undefined, contentType: string, number: number): string {
  if (filename && filename.trim() !== '') return filename.trim();
  return contentType === 'application/pdf' ? `attachment-${number}.pdf` : `attachment-${number}`;
}

/**
 * The message's HTML as the preview frame shows it: every link and form opens in a new browsing context
 * (the frame's sandbox lets that one escape), so a confirmation button leads to the page it names
 * instead of trying to load a page that refuses to be framed.
 */
export function previewDocument(html: string): string {
  const base = '<base target="_blank">';
  const head = /<head(\s[^>]*)?>/i.exec(html);
  if (head)
    return html.slice(0, head.index + head[0].length) + base + html.slice(head.index + head[0].length);
  return base + html;
}

/** Types an attachment keeps when downloaded: none of them can run script in the site's origin. */
const PASSIVE_TYPES = ['text/plain', 'text/csv', 'image/png', 'image/jpeg', 'image/gif'];

/**
 * How the viewer hands out an attachment: a PDF (the delivered letter) opens in the browser; anything
 * else is downloaded, and a type that a browser could run (HTML, SVG…) goes as plain bytes.
 */
export function attachmentDelivery(contentType: string): { contentType: string; inline: boolean } {
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  if (type === 'application/pdf') return { contentType: type, inline: true };
  return { contentType: PASSIVE_TYPES.includes(type) ? type : 'application/octet-stream', inline: false };
}
