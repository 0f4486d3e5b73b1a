import { readdir, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { simpleParser } from 'mailparser';

/** One message the embedded capture server stored. */
export interface CapturedMessage {
  name: string;
  subject: string;
  to: string;
  from: string;
  date: Date | null;
  messageId: string;
  text: string;
  html: string | null;
  links: string[];
}

const NAME = /^[0-9A-Za-z-]+\.eml$/;
const LIST_LIMIT = 200;

/** Reads the captured mailbox (DATA_DIR/mailbox), newest first. */
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
    if (!NAME.test(name)) return undefined;
    let raw: Buffer;
    try {
      raw = await readFile(path.join(this.dir, name));
    } catch {
      return undefined;
    }
    const parsed = await simpleParser(raw);
    const html = typeof parsed.html === 'string' ? parsed.html : null;
    const text = parsed.text ?? '';
    return {
      name,
      subject: parsed.subject ?? '',
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
    };
  }

  /**
   * Deletes every captured message that mentions `address` (in any header or body, any letter case):
   * part of erasing a person's data. Returns how many files were removed.
   */
  async eraseMentionsOf(address: string): Promise<number> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((n) => NAME.test(n));
    } catch {
      return 0;
    }
    const needle = address.trim().toLowerCase();
    let removed = 0;
    for (const name of names) {
      const file = path.join(this.dir, name);
      // Quoted-printable and base64 bodies may hide the address; the decoded text is searched as well.
      const raw = await readFile(file);
      const parsed = await simpleParser(raw);
      const haystack = [
        raw.toString('utf8'),
        parsed.text ?? '',
        typeof parsed.html === 'string' ? parsed.html : '',
      ]
        .join('\n')
        .toLowerCase();
      if (haystack.includes(needle)) {
        await unlink(file);
        removed += 1;
      }
    }
    return removed;
  }
}

/** Every distinct http(s) link in a message, in order of appearance. */
export function extractLinks(content: string): string[] {
  const found = content.match(/https?:\/\/[^\s"'<>]+/g) ?? [];
  return [...new Set(found.map((link) => link.replace(/&amp;/g, '&').replace(/[.,;)]+$/, '')))];
}
