import type { Worker } from 'node:worker_threads';
import type { DatabaseLocation } from '../config.js';
import type { Logger } from '../lib/logger.js';
import { startWorkerFile } from '../lib/worker-file.js';
import { LetterTooLong, type CompiledLetter, type CompileInput } from './letter-compiler.js';

/**
 * A round's letter as the compile worker is asked for it: everything but the signatories, which the
 * thread reads itself (signatories confirmed up to `upTo`), so the annex never passes through the web
 * process's thread.
 */
export type RoundLetterInput = Omit<CompileInput, 'annex' | 'countries'> & {
  signatories: { letterId: number; upTo: Date };
};

/** A request to the compile worker for a compiled letter, returned. */
export interface CompileRequest {
  id: number;
  input: RoundLetterInput;
}

/**
 * A compiled letter to queue: the outbox message and the delivery record, apart from what compiling
 * gives (subject, bodies, file name). With `input.pdfAttached`, the thread renders the PDF itself
 * (its own Chromium), so neither the print document nor the PDF reaches the web process's thread.
 */
export interface LetterToQueue {
  input: RoundLetterInput;
  message: {
    toAddress: string;
    replyTo: string | null;
    deliveryRoundId: number;
    headers: Record<string, string>;
    messageId: string;
  };
  delivery: { roundId: number; recipientId: number; recipientName: string; language: string };
  now: Date;
}

/** What became of a letter to queue. */
export type QueueResult =
  /** `pdfError`: the PDF was asked for but could not be rendered, and the letter went without it. */
  | { kind: 'queued'; outboxMessageId: number; pdfError?: string }
  /** Another process recorded this recipient's letter first: nothing was written. */
  | { kind: 'duplicate' }
  /** Larger than a relay accepts: nothing was written. */
  | { kind: 'tooLarge'; bytes: number; pdfBytes: number };

/** A request to compile a letter and write it to the outbox, from the thread. */
export interface QueueRequest {
  id: number;
  queue: LetterToQueue;
}

/** A request to the thread to close its Chromium (at shutdown), answered once it is closed. */
export interface CloseRequest {
  id: number;
  close: true;
}

/** The compile worker's answer: the compiled letter (or what became of a letter to queue), or why not. */
export type CompileReply =
  | { id: number; ok: true; letter: CompiledLetter; threadId: number }
  | { id: number; ok: true; queued: QueueResult; threadId: number }
  | { id: number; ok: true; closed: true; threadId: number }
  | { id: number; ok: false; tooLong: { line: number; block: string; signatures: number } }
  | { id: number; ok: false; error: string };

/** What compiles letters for deliveries: in a worker thread in the platform, in-process where that is fine. */
export interface LetterCompiling {
  /** The compiled letter, returned to this thread. */
  compile(input: RoundLetterInput): Promise<CompiledLetter>;
  /**
   * Compiles a letter, renders its PDF when asked, and writes it with its delivery record to the outbox
   * in one transaction, all in the worker thread: the megabytes of a long letter, its print document
   * and its PDF never reach the web process's thread.
   */
  queue(letter: LetterToQueue): Promise<QueueResult>;
}

type Answer = CompiledLetter | QueueResult | true;

interface Waiting {
  resolve: (reply: Answer) => void;
  reject: (error: Error) => void;
}

/** The compile thread (compile-worker.ts next to this file). */
function startWorker(workerData: CompileWorkerData): Worker {
  return startWorkerFile(import.meta.url, 'compile-worker', 'letter-compiler', workerData);
}

/**
 * What the thread is started with: the database file it opens (its own connection) to queue letters,
 * and the Chromium it renders PDFs with (none: letters are queued without a PDF).
 */
export interface CompileWorkerData {
  database: DatabaseLocation;
  chromiumPath?: string;
  /** Each letter's Reply-To becomes its delivery's own reply address (REPLY_ADDRESS), tagged with the secret. */
  replies?: ReplyAddressing;
}

/** What the thread needs to give each delivery its reply address: the base, and the key of the tags. */
export interface ReplyAddressing {
  base: string;
  secret: string;
}

/**
 * Compiles delivery letters in one worker thread, so a letter with tens of thousands of signatories
 * never holds up the web process: /healthz and every request go on while it renders. The thread starts
 * on the first letter, does not keep the process alive, and is started again if it dies.
 */
export class LetterCompileWorker implements LetterCompiling {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  /** The thread that compiled the last letter (tests check it is not the main thread). */
  lastThreadId: number | undefined;

  /**
   * `database`: the platform's database, which the thread opens too: SQLite's file (WAL lets both write
   * in turn), or PostgreSQL through a pool of its own of at most two connections.
   * `chromiumPath`: the Chromium the thread renders delivery PDFs with; without it no PDF is rendered.
   * `replies`: when given, each letter is queued with its delivery's own reply address as Reply-To.
   */
  constructor(
    private readonly logger: Logger,
    private readonly database: DatabaseLocation,
    private readonly chromiumPath?: string,
    private readonly replies?: ReplyAddressing,
  ) {
    if (database.dialect === 'sqlite' && database.path === ':memory:')
      throw new Error('the compile worker needs a database file, not :memory:');
  }

  compile(input: RoundLetterInput): Promise<CompiledLetter> {
    return this.send<CompiledLetter>((id) => ({ id, input }));
  }

  queue(letter: LetterToQueue): Promise<QueueResult> {
    return this.send<QueueResult>((id) => ({ id, queue: letter }));
  }

  private send<T extends Answer>(
    request: (id: number) => CompileRequest | QueueRequest | CloseRequest,
    worker = this.start(),
  ): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (reply: Answer) => void, reject });
      worker.postMessage(request(id));
      // Kept alive only while a letter is being compiled.
      worker.ref();
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorker({
      // The thread reads an annex and writes one letter at a time: two connections are plenty.
      database:
        this.database.dialect === 'postgres'
          ? { ...this.database, poolSize: Math.min(this.database.poolSize, 2) }
          : this.database,
      ...(this.chromiumPath ? { chromiumPath: this.chromiumPath } : {}),
      ...(this.replies ? { replies: this.replies } : {}),
    });
    worker.unref();
    worker.on('message', (reply: CompileReply) => this.answer(reply));
    worker.on('error', (error) => this.stop(error));
    worker.on('exit', (code) => this.stop(new Error(`the compile worker stopped (exit code ${code})`)));
    this.worker = worker;
    return worker;
  }

  private answer(reply: CompileReply): void {
    const waiting = this.waiting.get(reply.id);
    this.waiting.delete(reply.id);
    if (this.waiting.size === 0) this.worker?.unref();
    if (!waiting) return;
    if (reply.ok) {
      this.lastThreadId = reply.threadId;
      waiting.resolve('letter' in reply ? reply.letter : 'queued' in reply ? reply.queued : true);
    } else if ('tooLong' in reply) {
      waiting.reject(new LetterTooLong(reply.tooLong.line, reply.tooLong.block, reply.tooLong.signatures));
    } else {
      waiting.reject(new Error(`compiling the letter failed: ${reply.error}`));
    }
  }

  /** The thread ended or failed: what waited for it fails, and the next letter starts a new one. */
  private stop(error: Error): void {
    if (!this.worker) return;
    this.worker = undefined;
    if (this.waiting.size > 0) this.logger.error({ err: error }, 'the compile worker failed');
    for (const waiting of this.waiting.values()) waiting.reject(error);
    this.waiting.clear();
  }

  /**
   * Ends the thread (at shutdown); letters still waiting fail. The thread first closes its Chromium
   * (after the letter it is on, waited for up to 10 s), which ending the thread would leave running.
   */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    if (this.chromiumPath) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.send<true>((id) => ({ id, close: true }), worker).catch(() => true),
        new Promise((resolve) => (timer = setTimeout(resolve, 10_000))),
      ]);
      clearTimeout(timer);
    }
    this.stop(new Error('the platform is shutting down'));
    await worker.terminate();
  }
}
