import { createHash } from 'node:crypto';
import { chmod, mkdir, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { User } from '../accounts/account.js';
import type { CommitmentRepository } from '../commitments/commitment-repository.js';
import { isComplete, isPublic, textIn, type Letter } from '../letters/letter.js';
import type { LetterAccess } from '../letters/letter-access.js';
import type { LetterRepository } from '../letters/letter-repository.js';
import { recipientFields } from '../letters/merge-fields.js';
import { AppError, notFound } from '../lib/errors.js';
import { isLetterLanguage } from '../lib/languages.js';
import type { SignatureRepository } from '../signatures/signature-repository.js';
import type { DeliveryRepository } from './delivery-repository.js';
import type { LetterCompiling } from './letter-compile-worker.js';
import { slugify } from './letter-compiler.js';
import type { PdfRenderer } from './pdf-renderer.js';

export interface DeliveryDownloadsDeps {
  deliveries: DeliveryRepository;
  letters: LetterRepository;
  signatures: SignatureRepository;
  access: LetterAccess;
  /** The compile worker: it reads the round's annex and compiles the print document in its thread. */
  compiler: LetterCompiling;
  /** Renders the print document to PDF (Chromium); unavailable: downloads answer 503. */
  pdf: PdfRenderer;
  /** Where rendered PDFs are kept (DATA_DIR/downloads). */
  dir: string;
  /** The letter's public address in a text language, as the compiled letter names it. */
  letterUrl: (slug: string, text: string) => string;
  /** The round's committed list (printed at the letter's end, as it went) and where to verify it. */
  commitments: CommitmentRepository;
  verifyUrl: (slug: string, roundId: number) => string;
}

/** A PDF ready to send: the kept file and the name it is downloaded under. */
export interface DeliveryPdf {
  file: string;
  fileName: string;
}

/**
 * The delivered letter of a round, with its annex, as a PDF, in one of the languages it went in. Sent
 * mail keeps no body (docs/decisions/2026-12-05-sent-mail-keeps-no-body.md), so the PDF is compiled
 * again from what the round recorded: its letter version, its date and signature figure, and the
 * signatories confirmed up to its creation, read as the compile worker read them (named as each chose;
 * a signature withdrawn or erased since is no longer named). Addressed to the round's first recipient
 * in that language. Kept under DATA_DIR/downloads by round, language and a stamp of those signatures, so
 * a withdrawal or an erasure makes the next download render it again; one rendering per file at a time.
 */
export class DeliveryDownloads {
  private readonly rendering = new Map<string, Promise<void>>();

  constructor(private readonly deps: DeliveryDownloadsDeps) {}

  /** For anyone: a public letter's round that reached recipients, in a language a sent letter had. */
  async publicPdf(slug: string, roundId: number, language: string): Promise<DeliveryPdf> {
    const letter = await this.deps.letters.findBySlug(slug);
    if (!letter || !isPublic(letter)) throw notFound('letter_not_found', 'errors.letter.notFound');
    return this.pdfOf(letter, roundId, language, true);
  }

  /** For the letter's organizers (policy letter.edit): any round of theirs, tests included, sent or not. */
  async organizerPdf(user: User, letterId: number, roundId: number, language: string): Promise<DeliveryPdf> {
    const { letter } = await this.deps.access.forEdit(user, letterId);
    return this.pdfOf(letter, roundId, language, false);
  }

  private async pdfOf(
    letter: Letter,
    roundId: number,
    language: string,
    publicOnly: boolean,
  ): Promise<DeliveryPdf> {
    const missing = () => notFound('delivery_pdf_not_found', 'embed.download.notFound');
    if (!isLetterLanguage(language)) throw missing();
    const round = await this.deps.deliveries.findRound(roundId);
    if (!round || round.letterId !== letter.id || (publicOnly && round.kind === 'test')) throw missing();
    // A correction carries no letter: it is a short message about a delivered list's count.
    if (round.trigger === 'correction') throw missing();
    const first = await this.deps.deliveries.firstDeliveryIn(round.id, language, publicOnly);
    if (!first) throw missing();
    if (!this.deps.pdf.available) throw new AppError(503, 'pdf_unavailable', 'embed.download.unavailable');
    const text = textIn(
      (await this.deps.letters.textsOfVersion(round.letterVersionId)).filter(isComplete),
      language,
      letter.primaryLanguage,
    );
    if (!text || text.language !== language) throw missing();
    const stamp = await this.deps.signatures.annexStamp(letter.id, round.createdAt);
    const prefix = `round-${round.id}-${language}-`;
    const file = path.join(
      this.deps.dir,
      `${prefix}${createHash('sha256').update(stamp).digest('hex').slice(0, 16)}.pdf`,
    );
    const recipients = (await this.deps.letters.recipientsOfLetters([letter.id])).get(letter.id) ?? [];
    // The recipient as the directory has them now; one removed since is greeted neutrally, by name.
    const recipient = recipients.find((r) => r.id === first.recipientId) ?? {
      name: first.recipientName,
      title: '',
      organisation: '',
      salutations: {},
      names: {},
    };
    const commitment = await this.deps.commitments.find(round.id);
    const render = async (): Promise<void> => {
      const compiled = await this.deps.compiler.compile({
        kind: round.kind,
        text,
        recipient: recipientFields(recipient, text.language),
        date: round.createdAt,
        signatureCount: round.signatureCount,
        signatories: { letterId: letter.id, upTo: round.createdAt },
        organisations: letter.organisations,
        sponsor: letter.sponsor,
        letterUrl: this.deps.letterUrl(letter.slug, text.language),
        replyTo: '',
        pdfAttached: true,
        laterCopy: true,
        commitment: commitment && {
          treeSize: commitment.treeSize,
          root: commitment.root,
          verifyUrl: this.deps.verifyUrl(letter.slug, round.id),
        },
      });
      const pdf = await this.deps.pdf.render(compiled.printHtml);
      // It holds supporters' names as printed: for the platform's own account only, like the database.
      await mkdir(this.deps.dir, { recursive: true, mode: 0o700 });
      await chmod(this.deps.dir, 0o700); // One made wider by an older version.
      // Written whole under another name, then renamed: a reader never sees half a file.
      const partial = `${file}.${process.pid}.part`;
      await writeFile(partial, pdf, { mode: 0o600 });
      await rename(partial, file);
      // Earlier copies of this round and language named signatures as they were: gone now.
      for (const old of await readdir(this.deps.dir))
        if (old.startsWith(prefix) && path.join(this.deps.dir, old) !== file)
          await unlink(path.join(this.deps.dir, old)).catch(() => undefined);
    };
    if (!(await exists(file))) {
      let underway = this.rendering.get(file);
      if (!underway) {
        underway = render().finally(() => this.rendering.delete(file));
        this.rendering.set(file, underway);
      }
      await underway;
    }
    const date = round.createdAt.toISOString().slice(0, 10);
    const name = slugify(text.title);
    return { file, fileName: `${round.kind === 'test' ? 'TEST-' : ''}${name}-${date}-${language}.pdf` };
  }
}

/** How long a rendered PDF is kept: a name withdrawn or erased since is on disk no longer than this. */
export const DOWNLOAD_CACHE_MS = 60 * 60_000;

/**
 * Removes the PDFs rendered more than `maxAgeMs` ago (and any half-written one left by a crash): the next
 * download renders its round again, naming signatures as they are now. Returns how many went.
 */
export async function pruneDownloads(
  dir: string,
  now: number,
  maxAgeMs = DOWNLOAD_CACHE_MS,
): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0; // Nothing rendered yet.
  }
  let removed = 0;
  for (const name of names) {
    const file = path.join(dir, name);
    try {
      if ((await stat(file)).mtimeMs > now - maxAgeMs) continue;
      await unlink(file);
      removed += 1;
    } catch {
      // Renamed or removed meanwhile by another process: nothing to do.
    }
  }
  return removed;
}

async function exists(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}
