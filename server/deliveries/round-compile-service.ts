import type { AuditRepository } from '../audit/audit-repository.js';
import type { CommitmentService } from '../commitments/commitment-service.js';
import type { Db } from '../db/database.js';
import { isComplete, textIn } from '../letters/letter.js';
import { recipientFields } from '../letters/merge-fields.js';
import type { LetterRepository } from '../letters/letter-repository.js';
import { MAX_LETTER_TEXT_LENGTH, MAX_MESSAGE_BYTES } from '../letters/letter-size.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { automaticIn, type PlatformMail } from '../mail/platform-mail.js';
import type { DeliveryRound, RoundFailure } from './delivery.js';
import type { DeliveryRepository } from './delivery-repository.js';
import { deliverySettingsOf, reachesRecipients } from './delivery.js';
import { inTiers } from './escalation.js';
import type { LetterCompiling, QueueResult } from './letter-compile-worker.js';
import { LetterTooLong } from './letter-compiler.js';
import type { PdfRenderer } from './pdf-renderer.js';
import type { RecipientsOfRound } from './delivery-recipients.js';

export interface RoundCompileServiceDeps {
  db: Db;
  audit: AuditRepository;
  letters: LetterRepository;
  deliveries: DeliveryRepository;
  /** Renders compiled letters: in a worker thread in the platform (letter-compile-worker.ts). */
  compiler: LetterCompiling;
  /** Whether letters carry a PDF (`available`); the compile worker renders it with its own Chromium. */
  pdf: PdfRenderer;
  /** Whom a round is compiled for: the audience it kept when it started (delivery-recipients.ts). */
  recipientsOfRound: RecipientsOfRound;
  clock: Clock;
  /** The letter's public link and each message's Message-ID; wakes the worker once a letter is queued. */
  mail: PlatformMail;
  /** REPLY_ADDRESS when letters carry their delivery's own reply address: replies then reach the organizer here. */
  replyAddress?: string | undefined;
  logger: Logger;
  /** Builds and stores the commitment to a round's list before its first letter is compiled. */
  commitments: CommitmentService;
}

/** Compiling the rounds that wait: one letter per recipient (or per language, for a test), queued for sending. */
export class RoundCompileService {
  constructor(private readonly deps: RoundCompileServiceDeps) {}

  /** Compiles every round that is waiting; the scheduler calls it, and a cut-off run resumes where it stopped. */
  async compilePending(): Promise<number> {
    let compiled = 0;
    for (const round of await this.deps.deliveries.roundsCompiling())
      compiled += await this.compileRound(round);
    return compiled;
  }

  private async compileRound(round: DeliveryRound): Promise<number> {
    const letter = await this.deps.letters.findById(round.letterId);
    if (!letter) return 0;
    const { replyTo } = deliverySettingsOf(await this.deps.deliveries.settingsOf(letter.id), letter);
    const texts = await this.deps.letters.textsOfVersion(round.letterVersionId);
    const listed = await this.deps.recipientsOfRound(round);
    // A test goes to the organizer once per language the recipients read, rendered as for the first of
    // them; a round of a letter with an escalation schedule goes to the tiers it names (escalation.ts).
    const all = round.kind === 'test' ? listed : listed.filter((r) => inTiers(r.tier, round));
    const targets =
      round.kind === 'test'
        ? all.filter((r, i) => all.findIndex((o) => o.language === r.language) === i)
        : all;
    const done = await this.deps.deliveries.compiledRecipientIds(round.id);
    // The list's tree is built (or found, when a pass was cut off) before any letter of the round is
    // compiled, so every recipient's letter prints the same root. A test commits to nothing.
    const commitment = reachesRecipients(round.kind)
      ? await this.deps.commitments.commitRound(round)
      : undefined;
    let compiled = 0;
    for (const recipient of targets) {
      if (done.has(recipient.id)) continue;
      // Complete translations only: a draft's unfinished one is never sent, even in a test.
      const text = textIn(texts.filter(isComplete), recipient.language, letter.primaryLanguage);
      if (!text) {
        // No complete text to send: the round ends with what it has.
        await this.deps.deliveries.setRoundStatus(round.id, 'compiling', 'queued', this.deps.clock.now());
        return compiled;
      }
      const input = {
        // An escalation reaches its tier for the first time: for them it is the letter, not an update.
        kind: round.trigger === 'escalation' ? ('delivery' as const) : round.kind,
        text,
        // Greeted in the language of the text they get: their salutation in it, or that language's neutral one.
        recipient: recipientFields(recipient, text.language),
        date: round.createdAt,
        signatureCount: round.signatureCount,
        // Read by the compile worker for each letter: one compiled after an erasure no longer names the person.
        signatories: { letterId: letter.id, upTo: round.createdAt },
        organisations: letter.organisations,
        sponsor: letter.sponsor,
        // The letter's page in the text this recipient got (the interface follows their own browser).
        letterUrl: this.deps.mail.links.letterUrl(letter.slug, { text: text.language }),
        // The letter says replies reach the organizers: through the organisation's address, or the
        // delivery's own reply address, whose replies the organizer reads here (and gets forwarded).
        replyTo: replyTo || (this.deps.replyAddress ?? ''),
        commitment: commitment
          ? {
              treeSize: commitment.treeSize,
              root: commitment.root,
              verifyUrl: this.deps.mail.links.verifyUrl(letter.slug, round.id),
            }
          : null,
      };
      const toQueue = {
        message: {
          toAddress: round.kind === 'test' ? round.testAddress! : recipient.email,
          replyTo: replyTo || null,
          deliveryRoundId: round.id,
          headers: { ...automaticIn(text.language), 'X-Undersigned-Letter': letter.slug },
          messageId: this.deps.mail.messageId(),
        },
        delivery: {
          roundId: round.id,
          recipientId: recipient.id,
          recipientName: recipient.name,
          language: text.language,
        },
      };
      let result: QueueResult;
      try {
        // Compiled, rendered to PDF and written in the worker thread: nothing of the letter comes back here.
        result = await this.deps.compiler.queue({
          ...toQueue,
          input: { ...input, pdfAttached: this.deps.pdf.available },
          now: this.deps.clock.now(),
        });
        if (result.kind === 'queued' && result.pdfError)
          this.deps.logger.error(
            { err: new Error(result.pdfError), roundId: round.id },
            'PDF rendering failed; the letter goes without it',
          );
      } catch (error) {
        if (!(error instanceof LetterTooLong)) throw error;
        await this.failRound(round, {
          code: 'letter_too_long',
          params: {
            line: String(error.line),
            block: error.block,
            signatures: String(error.signatures),
            max: String(MAX_LETTER_TEXT_LENGTH),
          },
        });
        return compiled;
      }
      // Never queue a message larger than a relay accepts: the round fails and says so instead.
      if (result.kind === 'tooLarge') {
        await this.failRound(round, {
          code: 'message_too_large',
          params: {
            size: (result.bytes / 1024 / 1024).toFixed(1),
            max: String(MAX_MESSAGE_BYTES / 1024 / 1024),
            pdf: (result.pdfBytes / 1024 / 1024).toFixed(1),
          },
        });
        return compiled;
      }
      // 'duplicate': another process compiled this recipient first, and its copy goes.
      if (result.kind === 'queued') {
        compiled += 1;
        this.deps.mail.wake();
      }
    }
    // An erasure during this pass cancels letters already compiled (they named the erased person) and
    // removes their records, but cannot reopen a round still compiling: read again which recipients have
    // their letter, and leave the round compiling while one is missing, so the next pass redoes it.
    // Read and marked in one transaction, so an erasure cannot land between the two.
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (tx) => {
      const deliveries = this.deps.deliveries.with(tx);
      const have = await deliveries.compiledRecipientIds(round.id);
      if (targets.some((r) => !have.has(r.id))) return;
      await deliveries.setRoundStatus(round.id, 'compiling', 'queued', now);
    });
    return compiled;
  }

  /**
   * A round whose compiled letter is over the size budget fails, with its reason on the round (the
   * delivery page shows it) and in the audit log; letters already queued for it still go, each within the budget.
   */
  private async failRound(round: DeliveryRound, failure: RoundFailure): Promise<void> {
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (tx) => {
      if (!(await this.deps.deliveries.with(tx).failRound(round.id, failure, now))) return;
      await this.deps.audit.with(tx).record(
        {
          actor: 'platform',
          action: 'delivery',
          targetType: 'letter',
          targetId: round.letterId,
          details: { round: round.id, kind: round.kind, failed: failure.code, ...failure.params },
        },
        now,
      );
    });
    this.deps.logger.warn({ roundId: round.id, failure: failure.code }, 'delivery round failed');
  }
}
