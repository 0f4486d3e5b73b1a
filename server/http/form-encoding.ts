import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError } from '../lib/errors.js';

/**
 * The form parsers' `verify` hook: refuses a form body whose %-escapes do not decode to text (`%ZZ`, a
 * cut-off `%E0%A4%A`, bytes that are not UTF-8). The parser would otherwise keep such a value as typed,
 * and a name would be stored with stray escapes in it. Answered 400 before any route reads the form.
 */
export function refuseMalformedForm(_req: IncomingMessage, _res: ServerResponse, body: Buffer): void {
  // Escapes are ASCII; latin1 maps every byte to one character, so no byte is lost to decoding here.
  const text = body.toString('latin1');
  if (!text.includes('%')) return;
  for (const pair of text.split('&')) {
    if (!pair.includes('%')) continue;
    try {
      decodeURIComponent(pair.replace(/\+/g, ' '));
    } catch {
      throw new AppError(400, 'malformed_form', 'errors.formEncoding');
    }
  }
}
