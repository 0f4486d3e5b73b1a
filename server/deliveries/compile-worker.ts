import { parentPort, threadId, workerData } from 'node:worker_threads';
import { openDatabase, type DatabaseHandle, type Db } from '../db/database.js';
import { encodedMessageBytes, MAX_MESSAGE_BYTES } from '../letters/letter-size.js';
import { countryName } from '../lib/countries.js';
import { createI18n } from '../lib/i18n.js';
import { EmailTemplates } from '../mail/email-templates.js';
import { PRIORITY } from '../outbox/outbox.js';
import { OutboxRepository } from '../outbox/outbox-repository.js';
import { DeliveryRepository } from './delivery-repository.js';
import { replyAddressOf } from './delivery-reply.js';
import { LetterCompiler, LetterTooLong, type CompiledLetter, type CompileInput } from './letter-compiler.js';
import { ChromiumPdfRenderer } from './pdf-renderer.js';
import { createLogger } from '../lib/logger.js';
import { SignatureRepository } from '../signatures/signature-repository.js';
import type {
  CloseRequest,
  CompileReply,
  CompileRequest,
  CompileWorkerData,
  QueueRequest,
  QueueResult,
  RoundLetterInput,
} from './letter-compile-worker.js';
import { readRoundAnnex } from './round-annex.js';

/**
 * The compile worker's thread: renders compiled letters (the letter text with thousands of signatories,
 * the e-mail, the print document and its PDF) away from the web process's event loop. Through its own
 * connection to the database file it reads the signatories and writes the letters to the outbox, so
 * neither the annex nor the megabytes of a long letter or its PDF are read, copied, written or collected
 * on the web process's thread. It reads templates and locales once, drives its own Chromium (started on
 * the first PDF, with JavaScript and network off as in ChromiumPdfRenderer), and answers one request at
 * a time, in order.
 */
if (!parentPort) throw new Error('compile-worker.ts runs as a worker thread (see letter-compile-worker.ts)');
const port = parentPort;
const { database: location, chromiumPath, replies } = workerData as CompileWorkerData;
// The web process logs what the thread reports (pdfError): the renderer's own logging stays silent here.
const pdf = chromiumPath ? new ChromiumPdfRenderer(chromiumPath, createLogger('silent')) : undefined;
const i18n = createI18n();
const compiler = new LetterCompiler(new EmailTemplates(i18n), i18n, countryName);
let opened: DatabaseHandle | undefined;
const database = (): Db => (opened ??= openDatabase(location)).db;

/** The letter with its signatories, read now through the thread's own connection. */
async function withSignatories({ signatories, ...input }: RoundLetterInput): Promise<CompileInput> {
  const { annex, countries } = await readRoundAnnex(
    new SignatureRepository(database()),
    signatories.letterId,
    signatories.upTo,
  );
  return { ...input, annex, countries };
}

/**
 * The compiled letter and, when asked for and Chromium is here, its PDF rendered from the print
 * document. A PDF that cannot be rendered leaves the letter to go without it, compiled again so that it
 * does not mention an attachment, and says why.
 */
async function withPdf(
  input: CompileInput,
): Promise<{ compiled: CompiledLetter; pdf?: Buffer; pdfError?: string }> {
  if (!input.pdfAttached || !pdf?.available)
    return { compiled: compiler.compile({ ...input, pdfAttached: false }) };
  const compiled = compiler.compile(input);
  try {
    return { compiled, pdf: await pdf.render(compiled.printHtml) };
  } catch (error) {
    return {
      compiled: compiler.compile({ ...input, pdfAttached: false }),
      pdfError: error instanceof Error ? error.message : String(error),
    };
  }
}

/** Thrown inside the transaction to undo a letter another process recorded first. */
class DuplicateDelivery extends Error {}

/**
 * Compiles the letter, refuses it when larger than a relay accepts, and writes the outbox message, its
 * content and the delivery record in one transaction (the outbox rule: a letter is queued with its record or not at all).
 */
async function queue(request: QueueRequest): Promise<QueueResult> {
  const { queue: letter } = request;
  const input = await withSignatories(letter.input);
  const { compiled, pdf, pdfError } = await withPdf(input);
  const bytes = encodedMessageBytes({ ...compiled.email, attachments: pdf ? [{ content: pdf }] : [] });
  if (bytes > MAX_MESSAGE_BYTES) return { kind: 'tooLarge', bytes, pdfBytes: pdf?.byteLength ?? 0 };
  return database()
    .transaction()
    .execute(async (tx): Promise<QueueResult> => {
      const outboxMessageId = await new OutboxRepository(tx).enqueue(
        {
          kind: 'letter-delivery',
          priority: PRIORITY.letter,
          signatureId: null,
          toAddress: letter.message.toAddress,
          subject: compiled.email.subject,
          textBody: compiled.email.text,
          htmlBody: compiled.email.html,
          fromName: compiled.fromName,
          replyTo: letter.message.replyTo,
          deliveryRoundId: letter.message.deliveryRoundId,
          headers: letter.message.headers,
          attachments: pdf
            ? [{ fileName: compiled.fileName, contentType: 'application/pdf', content: pdf }]
            : [],
        },
        letter.message.messageId,
        letter.now,
      );
      const deliveryId = await new DeliveryRepository(tx).addDelivery(
        { ...letter.delivery, outboxMessageId },
        letter.now,
      );
      if (deliveryId === undefined) throw new DuplicateDelivery();
      // Known only now: the letter is queued with its delivery's own reply address, in the same transaction.
      if (replies)
        await new OutboxRepository(tx).setReplyTo(
          outboxMessageId,
          replyAddressOf(replies.secret, replies.base, deliveryId),
        );
      return { kind: 'queued', outboxMessageId, ...(pdfError ? { pdfError } : {}) };
    })
    .catch((error: unknown) => {
      if (error instanceof DuplicateDelivery) return { kind: 'duplicate' };
      throw error;
    });
}

async function answer(request: CompileRequest | QueueRequest | CloseRequest): Promise<CompileReply> {
  try {
    if ('close' in request) {
      await pdf?.close();
      // PostgreSQL's connections end with a goodbye here rather than a dropped socket.
      await opened?.close();
      opened = undefined;
      return { id: request.id, ok: true, closed: true, threadId };
    }
    if ('queue' in request) return { id: request.id, ok: true, queued: await queue(request), threadId };
    const input = await withSignatories(request.input);
    const letter = compiler.compile(input);
    // The print document (megabytes with a long annex) is only needed for the PDF: not copied back otherwise.
    return {
      id: request.id,
      ok: true,
      letter: input.pdfAttached ? letter : { ...letter, printHtml: '' },
      threadId,
    };
  } catch (error) {
    return error instanceof LetterTooLong
      ? {
          id: request.id,
          ok: false,
          tooLong: { line: error.line, block: error.block, signatures: error.signatures },
        }
      : { id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

// One request at a time, in order: a letter is written before the next one is compiled.
let turn = Promise.resolve();
port.on('message', (request: CompileRequest | QueueRequest | CloseRequest) => {
  turn = turn.then(async () => port.postMessage(await answer(request)));
});
