import { parentPort, threadId } from 'node:worker_threads';
import { countryName } from '../lib/countries.js';
import { createI18n } from '../lib/i18n.js';
import { EmailTemplates } from '../mail/email-templates.js';
import { LetterCompiler, LetterTooLong, type CompileInput } from './letter-compiler.js';
import { unpackAnnex, type CompileReply, type CompileRequest } from './letter-compile-worker.js';

/**
 * The compile worker's thread: renders compiled letters (the letter text with thousands of signatories,
 * the e-mail, the print document) away from the web process's event loop. It reads templates and
 * locales once, holds no database and no network, and answers one request at a time, in order.
 */
if (!parentPort) throw new Error('compile-worker.ts runs as a worker thread (see letter-compile-worker.ts)');
const port = parentPort;
const i18n = createI18n();
const compiler = new LetterCompiler(new EmailTemplates(i18n), i18n, countryName);

port.on('message', (request: CompileRequest) => {
  let reply: CompileReply;
  try {
    const input: CompileInput = { ...request.input, annex: unpackAnnex(request.annex) };
    const letter = compiler.compile(input);
    // The print document (megabytes with a long annex) is only needed for the PDF: not copied back otherwise.
    reply = {
      id: request.id,
      ok: true,
      letter: input.pdfAttached ? letter : { ...letter, printHtml: '' },
      threadId,
    };
  } catch (error) {
    reply =
      error instanceof LetterTooLong
        ? {
            id: request.id,
            ok: false,
            tooLong: { line: error.line, block: error.block, signatures: error.signatures },
          }
        : { id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
});
