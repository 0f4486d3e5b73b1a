import type { User } from '../accounts/account.js';
import type { AuditRepository } from '../audit/audit-repository.js';
import type { Db } from '../db/database.js';
import { isComplete, pickLanguage, type Letter, type LetterText } from '../letters/letter.js';
import type { LetterRepository } from '../letters/letter-repository.js';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import { newMessageId } from '../lib/ids.js';
import type { Logger } from '../lib/logger.js';
import type { EmailTemplates } from '../mail/email-templates.js';
import { PRIORITY } from '../outbox/outbox.js';
import type { OutboxRepository } from '../outbox/outbox-repository.js';
import type { Recipient } from '../recipients/recipient.js';
import type { RecipientRepository } from '../recipients/recipient-repository.js';
import type { SignatureRepository } from '../signatures/signature-repository.js';
import { refFromToken, signatureToken } from '../signatures/signature-tokens.js';
import {
  dueRound,
  notifiesSupporters,
  type DeliveryMode,
  type DeliveryRound,
  type RoundFailure,
  type RoundKind,
} from './delivery.js';
import { parseDeliverySettings, type DeliverySettingsValues } from './delivery-input.js';
import type { DeliveryRecord, DeliveryRepository, SentDelivery } from './delivery-repository.js';
import { MAX_LETTER_TEXT_LENGTH, MAX_MESSAGE_BYTES } from '../letters/letter-size.js';
import { checkLetterSize } from '../letters/letter-text-check.js';
import { buildMergeFields, recipientFields } from '../letters/merge-fields.js';
import type { LetterCompiling, QueueResult } from './letter-compile-worker.js';
import { LetterTooLong } from './letter-compiler.js';
import { readRoundAnnex } from './round-annex.js';
import type { PdfRenderer } from './pdf-renderer.js';

export interface DeliveryServiceDeps {
  db: Db;
  audit: AuditRepository;
  letters: LetterRepository;
  signatures: SignatureRepository;
  recipients: RecipientRepository;
  deliveries: DeliveryRepository;
  outbox: OutboxRepository;
  /** Renders compiled letters: in a worker thread in the platform (letter-compile-worker.ts). */
  compiler: LetterCompiling;
  /** Whether letters carry a PDF (`available`); the compile worker renders it with its own Chromium. */
  pdf: PdfRenderer;
  emails: EmailTemplates;
  clock: Clock;
  secret: string;
  publicUrl: string;
  messageIdDomain: string;
  logger: Logger;
  /** The editor's access rule: the letter if the user may work on it, else a 403/404. */
  access: (user: User, letterId: number) => Promise<{ letter: Letter }>;
  /** A country's name in a language, as compiled letters show it (for measuring a letter before a round). */
  countryName: (code: string, language: string) => string;
  /** Called after mail was queued, to wake the worker. */
  onMailQueued?: () => void;
}

/** A round as the organizer's delivery page shows it. */
export interface RoundView {
  round: DeliveryRound;
  records: DeliveryRecord[];
  /** Recipients still waiting for their compiled letter, while the round compiles. */
  pending: number;
}

export interface DeliveryOverview {
  letter: Letter;
  recipients: Recipient[];
  pdfAvailable: boolean;
  tested: boolean;
  delivered: boolean;
  rounds: RoundView[];
}

/** How many supporters' notices are queued per transaction. */
const NOTICE_BATCH = 200;

/** Delivering compiled letters: settings, test and real rounds, compiling, supporters' notices, the public record. */
export class DeliveryService {
  constructor(private readonly deps: DeliveryServiceDeps) {}

  /** Everything the delivery page shows. */
  async overview(user: User, letterId: number): Promise<DeliveryOverview> {
    const { letter } = await this.deps.access(user, letterId);
    const [recipients, rounds, records, tested, delivered] = await Promise.all([
      this.recipientsOf(letter),
      this.deps.deliveries.roundsOf(letter.id),
      this.deps.deliveries.recordsOf(letter.id),
      this.deps.deliveries.hasRound(letter.id, 'test'),
      this.deps.deliveries.hasRound(letter.id, 'delivery', letter.currentVersionId),
    ]);
    return {
      letter,
      recipients,
      pdfAvailable: this.deps.pdf.available,
      tested,
      delivered,
      rounds: rounds.map((round) => {
        const mine = records.filter((r) => r.roundId === round.id);
        const expected =
          round.kind === 'test' ? new Set(recipients.map((r) => r.language)).size || 1 : recipients.length;
        return {
          round,
          records: mine,
          pending: round.status === 'compiling' ? Math.max(0, expected - mine.length) : 0,
        };
      }),
    };
  }

  /** Saves when the letter goes. Automatic sending is allowed only once a test delivery has been sent. */
  async saveSettings(
    user: User,
    letterId: number,
    values: DeliverySettingsValues,
  ): Promise<{ kind: 'saved' } | { kind: 'invalid'; errors: Record<string, string> }> {
    const { letter } = await this.deps.access(user, letterId);
    const now = this.deps.clock.now();
    const parsed = parseDeliverySettings(values, now);
    if (!parsed.ok) return { kind: 'invalid', errors: parsed.errors };
    if (parsed.settings.mode !== 'manual' && !(await this.deps.deliveries.hasRound(letter.id, 'test'))) {
      return { kind: 'invalid', errors: { mode: 'deliveries.errors.testFirst' } };
    }
    await this.deps.letters.updateDeliverySettings(letter.id, parsed.settings, now);
    return { kind: 'saved' };
  }

  /** Sends the letter to the organizer's own address, once per recipient language, marked as a test. */
  async sendTest(user: User, letterId: number, requestKey: string): Promise<DeliveryRound> {
    const { letter } = await this.deps.access(user, letterId);
    // A draft can be tested too: the organizer checks the letter before publishing it.
    if (letter.status === 'delivered') throw new AppError(409, 'letter_delivered', 'errors.letterDelivered');
    if ((await this.recipientsOf(letter)).length === 0)
      throw new AppError(409, 'no_recipients', 'editor.publish.problems.noRecipients');
    return this.createRound(letter, 'test', 'manual', {
      requestKey,
      requestedBy: user.id,
      testAddress: user.email,
      actor: user,
    });
  }

  /** Delivers the current version to every recipient now; a closed letter becomes delivered. */
  async deliverNow(user: User, letterId: number, requestKey: string): Promise<DeliveryRound> {
    const { letter } = await this.deps.access(user, letterId);
    // The same form sent again (a double click, a reload) is the same delivery, even once the letter
    // it made delivered would refuse a new one.
    const earlier = await this.deps.deliveries.findRoundByRequestKey(requestKey);
    if (earlier && earlier.letterId === letter.id && earlier.kind === 'delivery') return earlier;
    await this.checkDeliverable(letter);
    // A second delivery of the same version is refused by the unique index, in createRound.
    return this.createRound(letter, 'delivery', 'manual', { requestKey, requestedBy: user.id, actor: user });
  }

  /** Sends the letter again with today's figures, saying it is an update. */
  async sendUpdate(user: User, letterId: number, requestKey: string): Promise<DeliveryRound> {
    const { letter } = await this.deps.access(user, letterId);
    await this.checkDeliverable(letter, true);
    const rounds = await this.deps.deliveries.roundsOf(letter.id);
    if (!rounds.some((r) => r.kind !== 'test'))
      throw new AppError(409, 'not_delivered_yet', 'deliveries.errors.notDeliveredYet');
    return this.createRound(letter, 'update', 'manual', { requestKey, requestedBy: user.id, actor: user });
  }

  private async checkDeliverable(letter: Letter, allowDelivered = false): Promise<void> {
    if (letter.status === 'draft')
      throw new AppError(409, 'letter_not_published', 'deliveries.errors.notPublished');
    if (letter.status === 'delivered' && !allowDelivered)
      throw new AppError(409, 'letter_delivered', 'errors.letterDelivered');
    if (!(await this.deps.deliveries.hasRound(letter.id, 'test')))
      throw new AppError(409, 'test_first', 'deliveries.errors.testFirst');
    if ((await this.recipientsOf(letter)).length === 0)
      throw new AppError(409, 'no_recipients', 'editor.publish.problems.noRecipients');
  }

  /**
   * Creates a round in one transaction with its consequences: the figures are frozen now, a closed
   * letter's delivery marks it delivered, a milestone is recorded as reached. A second request with
   * the same key, or a second delivery of the same version, returns the first round instead.
   */
  private async createRound(
    letter: Letter,
    kind: RoundKind,
    trigger: DeliveryRound['trigger'],
    extra: {
      requestKey?: string;
      requestedBy?: number;
      testAddress?: string;
      milestone?: number;
      actor?: { id: number; email: string };
    },
  ): Promise<DeliveryRound> {
    await this.refuseTooLarge(letter);
    const now = this.deps.clock.now();
    const round = await this.deps.db.transaction().execute(async (tx) => {
      const letters = this.deps.letters.with(tx);
      const deliveries = this.deps.deliveries.with(tx);
      const current = (await letters.findById(letter.id)) ?? letter;
      const created = await deliveries.createRound(
        {
          letterId: current.id,
          letterVersionId: current.currentVersionId,
          kind,
          trigger,
          signatureCount: current.signatureCount,
          milestone: extra.milestone ?? null,
          testAddress: extra.testAddress ?? null,
          requestedBy: extra.requestedBy ?? null,
          requestKey: extra.requestKey ?? null,
        },
        now,
      );
      if (!created) return undefined;
      let status = current.status;
      // Past its closing date but not closed yet (the closing job runs on its own schedule): close it
      // here, so a letter delivered at closing ends delivered whichever job runs first.
      if (kind === 'delivery' && status === 'open' && current.closesAt !== null && current.closesAt <= now) {
        if (await letters.transition(current.id, 'open', 'closed', { closedAt: now }, now)) status = 'closed';
      }
      if (kind === 'delivery' && status === 'closed') {
        await letters.transition(current.id, 'closed', 'delivered', {}, now);
      }
      if (kind === 'milestone' && extra.milestone !== undefined)
        await letters.advanceMilestone(current.id, extra.milestone);
      await this.deps.audit.with(tx).record(
        {
          actor: extra.actor ?? 'platform',
          action: 'delivery',
          targetType: 'letter',
          targetId: current.id,
          details: { round: created.id, kind, trigger, signatures: current.signatureCount },
        },
        now,
      );
      return created;
    });
    if (round) {
      this.deps.logger.info(
        { letterId: letter.id, roundId: round.id, kind, trigger },
        'delivery round created',
      );
      return round;
    }
    const twin = extra.requestKey
      ? await this.deps.deliveries.findRoundByRequestKey(extra.requestKey)
      : undefined;
    if (twin) return twin;
    throw new AppError(409, 'already_delivered', 'deliveries.errors.alreadyDelivered');
  }

  /** Creates the rounds that automatic settings call for (at closing, at the goal, at a time, at milestones). */
  async triggerDue(): Promise<number> {
    const now = this.deps.clock.now();
    let created = 0;
    for (const letter of await this.deps.letters.listWithAutomaticDelivery()) {
      const due = dueRound(
        {
          status: letter.status,
          mode: letter.deliveryMode,
          goal: letter.goal,
          milestoneEvery: letter.milestoneEvery,
          deliverAt: letter.deliverAt,
          closesAt: letter.closesAt,
          signatureCount: letter.signatureCount,
          lastMilestone: letter.lastMilestone,
          delivered: await this.deps.deliveries.hasRound(letter.id, 'delivery', letter.currentVersionId),
          tested: await this.deps.deliveries.hasRound(letter.id, 'test'),
        },
        now,
      );
      if (!due) continue;
      try {
        if (due.kind === 'milestone')
          await this.createRound(letter, 'milestone', 'milestone', { milestone: due.milestone });
        else await this.createRound(letter, 'delivery', due.trigger, {});
        created += 1;
      } catch (error) {
        // Another process created it first: the unique indexes keep it to one.
        if (!(error instanceof AppError)) throw error;
        // Too large to send: the organizer sees why at the delivery button; operators see it here.
        if (error.code === 'letter_too_large')
          this.deps.logger.warn(
            { letterId: letter.id, ...error.params },
            'automatic delivery refused: letter too large',
          );
      }
    }
    return created;
  }

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
    const texts = (await this.deps.letters.textsOfVersion(round.letterVersionId)).filter(isComplete);
    const all = await this.recipientsOf(letter);
    // A test goes to the organizer once per language the recipients read, rendered as for the first of them.
    const targets =
      round.kind === 'test'
        ? all.filter((r, i) => all.findIndex((o) => o.language === r.language) === i)
        : all;
    const done = await this.deps.deliveries.compiledRecipientIds(round.id);
    let compiled = 0;
    for (const recipient of targets) {
      if (done.has(recipient.id)) continue;
      const text = this.textFor(texts, recipient.language, letter.primaryLanguage);
      if (!text) {
        // No complete text to send (as before: the round ends with what it has).
        await this.deps.deliveries.setRoundStatus(round.id, 'compiling', 'queued', this.deps.clock.now());
        return compiled;
      }
      const input = {
        kind: round.kind,
        text,
        recipient,
        date: round.createdAt,
        signatureCount: round.signatureCount,
        // Read by the compile worker for each letter: one compiled after an erasure no longer names the person.
        signatories: { letterId: letter.id, upTo: round.createdAt },
        organisations: letter.organisations,
        sponsor: letter.sponsor,
        letterUrl: `${this.deps.publicUrl}/letters/${letter.slug}`,
        replyTo: letter.replyTo,
      };
      const toQueue = {
        message: {
          toAddress: round.kind === 'test' ? round.testAddress! : recipient.email,
          replyTo: letter.replyTo || null,
          deliveryRoundId: round.id,
          headers: { 'Auto-Submitted': 'auto-generated', 'X-Undersigned-Letter': letter.slug },
          messageId: newMessageId(this.deps.messageIdDomain),
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
        this.deps.onMailQueued?.();
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
   * Refuses a round whose letter text would pass the size limit with the signatories of this moment:
   * said at the button (or skipped by the scheduler), before a closed letter is marked delivered. The
   * compile worker measures again, and cancels the round if the letter has grown since.
   */
  private async refuseTooLarge(letter: Letter): Promise<void> {
    const texts = (await this.deps.letters.textsOfVersion(letter.currentVersionId)).filter(isComplete);
    // Only a text that goes through the signatories needs them read.
    if (!texts.some((text) => text.body.includes('signatories'))) return;
    const now = this.deps.clock.now();
    const { annex, countries } = await readRoundAnnex(this.deps.signatures, letter.id, now);
    for (const text of texts) {
      const fields = buildMergeFields(
        {
          recipient: recipientFields(null),
          letterTitle: text.title,
          language: text.language,
          date: now,
          signatureCount: letter.signatureCount,
          countries,
          signatories: annex.entries.map((e) => ({ name: e.name, country: e.country })),
          organisations: letter.organisations,
        },
        this.deps.countryName,
      );
      const problem = checkLetterSize(text.body, fields, annex.entries.length);
      if (!problem) continue;
      throw new AppError(409, 'letter_too_large', 'limits.deliveryRefused', {
        language: text.language,
        line: problem.line,
        block: problem.params.name ?? '',
        count: problem.params.count ?? '',
        max: problem.params.max ?? '',
      });
    }
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

  private textFor(texts: LetterText[], language: string, primary: string): LetterText | undefined {
    const chosen = pickLanguage(
      texts.map((t) => t.language),
      language,
      primary,
    );
    return texts.find((t) => t.language === chosen);
  }

  /** Tells supporters who asked for news that the letter went out, once each per round, in batches. */
  async notifyPending(): Promise<number> {
    let queued = 0;
    for (const round of await this.deps.deliveries.roundsToNotify()) {
      if (!notifiesSupporters(round.kind)) continue;
      const letter = await this.deps.letters.findById(round.letterId);
      if (!letter) continue;
      const records = (await this.deps.deliveries.recordsOf(letter.id)).filter((r) => r.roundId === round.id);
      // Nothing reached anyone (every delivery failed): there is nothing to announce.
      if (records.some((r) => r.status === 'sent')) {
        const texts = await this.deps.letters.textsOfVersion(round.letterVersionId);
        for (;;) {
          const batch = await this.deps.signatures.awaitingRoundNotice(letter.id, round.id, NOTICE_BATCH);
          if (batch.length === 0) break;
          const now = this.deps.clock.now();
          await this.deps.db.transaction().execute(async (tx) => {
            const outbox = this.deps.outbox.with(tx);
            for (const supporter of batch) {
              const text = this.textFor(texts.filter(isComplete), supporter.language, letter.primaryLanguage);
              const unsubscribeUrl = `${this.deps.publicUrl}/signatures/unsubscribe/${signatureToken(this.deps.secret, supporter.ref, 'unsubscribe')}`;
              const email = this.deps.emails.render('letter-sent', supporter.language, {
                name: supporter.fullName,
                letterTitle: text?.title ?? letter.slug,
                signatureCount: new Intl.NumberFormat(supporter.language).format(round.signatureCount),
                recipientCount: records.filter((r) => r.status === 'sent').length,
                letterUrl: `${this.deps.publicUrl}/letters/${letter.slug}`,
                unsubscribeUrl,
                withdrawUrl: `${this.deps.publicUrl}/signatures/withdraw/${signatureToken(this.deps.secret, supporter.ref, 'withdraw')}`,
                eraseUrl: `${this.deps.publicUrl}/privacy/erase/${signatureToken(this.deps.secret, supporter.ref, 'erase')}`,
                privacyUrl: `${this.deps.publicUrl}/privacy`,
              });
              const id = await outbox.enqueueOnce(
                {
                  kind: 'letter-sent',
                  priority: PRIORITY.notification,
                  signatureId: supporter.id,
                  toAddress: supporter.email,
                  subject: email.subject,
                  textBody: email.text,
                  htmlBody: email.html,
                  deliveryRoundId: round.id,
                  // RFC 8058 one-click unsubscribe: mail programs show a button that POSTs to the link.
                  headers: {
                    'Auto-Submitted': 'auto-generated',
                    'List-Unsubscribe': `<${unsubscribeUrl}>`,
                    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
                  },
                },
                newMessageId(this.deps.messageIdDomain),
                now,
              );
              if (id !== undefined) queued += 1;
            }
          });
          this.deps.onMailQueued?.();
        }
      }
      await this.deps.deliveries.markNotified(round.id, this.deps.clock.now());
    }
    return queued;
  }

  /** Whether an unsubscribe link is one the platform made (so a forged one shows no form). */
  async unsubscribeLinkValid(token: string): Promise<boolean> {
    const ref = refFromToken(this.deps.secret, token, 'unsubscribe');
    return ref !== null && (await this.deps.signatures.findByRef(ref)) !== undefined;
  }

  /** A supporter's one-click unsubscribe: no more news about this letter. Harmless to repeat. */
  async unsubscribe(token: string): Promise<{ letterSlug: string } | undefined> {
    const ref = refFromToken(this.deps.secret, token, 'unsubscribe');
    const signature = ref ? await this.deps.signatures.findByRef(ref) : undefined;
    if (!signature) return undefined;
    await this.deps.signatures.stopUpdates(signature.id, this.deps.clock.now());
    const letter = await this.deps.letters.findById(signature.letterId);
    return { letterSlug: letter?.slug ?? '' };
  }

  /** Whom a letter has reached, for its public page. */
  async sentTo(letterId: number): Promise<SentDelivery[]> {
    return this.deps.deliveries.sentTo(letterId);
  }

  /** The delivery modes, for the settings form. */
  modes(): readonly DeliveryMode[] {
    return ['closing', 'goal', 'milestones', 'scheduled', 'manual'];
  }

  private async recipientsOf(letter: Letter): Promise<Recipient[]> {
    const listed = (await this.deps.letters.recipientsOfLetters([letter.id])).get(letter.id) ?? [];
    return this.deps.recipients.findByIds(listed.map((r) => r.id));
  }
}
