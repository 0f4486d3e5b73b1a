import { readdir, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { simpleParser } from 'mailparser';

/** What marks a captured message for erasure: any of these Message-IDs, or any of these texts. */
export interface CapturedMailMatch {
  /** Message-IDs as the queue holds them (`<…@…>`); the header is compared whole. */
  messageIds: readonly string[];
  /** Texts (addresses) searched in every header and decoded body, in any letter case. */
  texts: readonly string[];
}

const NAME = /^[0-9A-Za-z-]+\.eml$/;

/** The Message-ID header of a raw message, normalised for comparison. */
function messageIdOf(raw: Buffer): string | undefined {
  const end = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, end < 0 ? raw.length : end).toString('latin1');
  const match = /^message-id:[ \t]*(?:\r\n[ \t]+)?(<[^>\r\n]+>)/im.exec(head);
  return match?.[1]?.toLowerCase();
}

/**
 * Deletes captured messages (DATA_DIR/mailbox/*.eml) that carry a person: erasure and retention call
 * it with the Message-IDs of the mail that named them (compiled letters with their name in the annex,
 * their own confirmations) and their addresses. One pass over the folder, however many marks.
 */
export class CapturedMailEraser {
  constructor(private readonly dir: string) {}

  /** Deletes every captured message that matches; returns how many files it removed. */
  async erase(match: CapturedMailMatch): Promise<number> {
    return this.remove(await this.matching(match));
  }

  /** The files of the captured messages that match (read only: nothing is deleted). */
  async matching(match: CapturedMailMatch): Promise<string[]> {
    const ids = new Set(match.messageIds.map((id) => id.trim().toLowerCase()));
    const texts = match.texts.map((t) => t.trim().toLowerCase()).filter((t) => t !== '');
    if (ids.size === 0 && texts.length === 0) return [];
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((n) => NAME.test(n));
    } catch {
      return [];
    }
    const found: string[] = [];
    for (const name of names) {
      const file = path.join(this.dir, name);
      let raw: Buffer;
      try {
        raw = await readFile(file);
      } catch {
        continue; // removed meanwhile
      }
      const id = messageIdOf(raw);
      let hit = id !== undefined && ids.has(id);
      if (!hit && texts.length > 0) {
        // Quoted-printable and base64 bodies may hide an address; the decoded text is searched as well.
        const parsed = await simpleParser(raw);
        const haystack = [
          raw.toString('utf8'),
          parsed.text ?? '',
          typeof parsed.html === 'string' ? parsed.html : '',
        ]
          .join('\n')
          .toLowerCase();
        hit = texts.some((t) => haystack.includes(t));
      }
      if (hit) found.push(file);
    }
    return found;
  }

  /** Deletes these files (as `matching` returned them); returns how many it removed. */
  async remove(files: readonly string[]): Promise<number> {
    let removed = 0;
    for (const file of files) {
      try {
        await unlink(file);
        removed += 1;
      } catch (error) {
        // Another erasure removed it first.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    return removed;
  }
}
