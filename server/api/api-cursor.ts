import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { AppError } from '../lib/errors.js';
import type { SignatoryPosition } from '../signatures/public-signatories.js';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The signatures' page cursor: where the page before ended (a confirmation time and a row id), sealed
 * with AES-256-GCM under a key derived from SECRET_KEY. Sealed because the letter page never shows when
 * a supporter confirmed, and a readable cursor would say it to the second for every listed name; sealed
 * rather than signed because it also keeps row ids out of sight. The IV is derived from the position
 * (an HMAC under another derived key), so one position always gives one cursor: a page's links, and so
 * its ETag, stay the same from one count epoch to the next. Equal cursors reveal only equal positions.
 */
export class ApiCursor {
  private readonly key: Buffer;
  private readonly ivKey: Buffer;

  constructor(secret: string) {
    this.key = createHmac('sha256', secret).update('public-api-cursor:key').digest();
    this.ivKey = createHmac('sha256', secret).update('public-api-cursor:iv').digest();
  }

  /** The cursor of the page that starts after `position`. */
  seal(position: SignatoryPosition): string {
    const plain = Buffer.from(JSON.stringify([position.confirmedAt, position.id]));
    const iv = createHmac('sha256', this.ivKey).update(plain).digest().subarray(0, IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const sealed = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64url');
  }

  /** The position a cursor names; anything this API did not give (altered, made up) is a 400. */
  open(cursor: string): SignatoryPosition {
    const refused = new AppError(400, 'invalid_parameter', 'api.errors.cursor', { name: 'cursor' });
    const bytes = Buffer.from(cursor, 'base64url');
    if (bytes.length <= IV_BYTES + TAG_BYTES) throw refused;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, IV_BYTES));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)),
        decipher.final(),
      ]);
      const [confirmedAt, id] = JSON.parse(plain.toString('utf8')) as unknown[];
      if (typeof confirmedAt !== 'string' || !Number.isSafeInteger(id)) throw refused;
      return { confirmedAt, id: id as number };
    } catch {
      throw refused;
    }
  }
}
