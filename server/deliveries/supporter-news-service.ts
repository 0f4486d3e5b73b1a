import type { Db } from '../db/database.js';
import { isComplete, textIn } from '../letters/letter.js';
import type { LetterRepository } from '../letters/letter-repository.js';
import type { Clock } from '../lib/clock.js';
import { formatsFor } from '../lib/format.js';
import { supporterLanguages, type PlatformMail } from '../mail/platform-mail.js';
import { PRIORITY } from '../outbox/outbox.js';
import type { SignatureRepository } from '../signatures/signature-repository.js';
import { notifiesSupporters } from './delivery.js';
import type { DeliveryRepository } from './delivery-repository.js';

export interface SupporterNewsServiceDeps {
  db: Db;
  letters: LetterRepository;
  signatures: SignatureRepository;
  deliveries: DeliveryRepository;
  /** Renders and queues the notices (with their unsubscribe links), wakes the worker, reads links back. */
  mail: PlatformMail;
  clock: Clock;
}

/** How many supporters' notices are queued per transaction. */
const NOTICE_BATCH = 200;

/** Supporters' news about a letter they signed: "it was sent", and the one-click way to stop it. */
export class SupporterNewsService {
  constructor(private readonly deps: SupporterNewsServiceDeps) {}

  /**
   * Tells supporters who asked for news that the letter went out, once each per round, in batches:
   * each in the interface language they signed in, the letter's title in the text they read.
   */
  async notifyPending(): Promise<number> {
    let queued = 0;
    for (const round of await this.deps.deliveries.roundsToNotify()) {
      if (!notifiesSupporters(round.kind)) continue;
      const letter = await this.deps.letters.findById(round.letterId);
      if (!letter) continue;
      const records = (await this.deps.deliveries.recordsOf(letter.id)).filter((r) => r.roundId === round.id);
      // An escalation takes the letter itself to a new tier (as its compile does): news of a sending.
      const update = round.kind !== 'delivery' && round.trigger !== 'escalation';
      // Nothing reached anyone (every delivery failed): there is nothing to announce.
      if (records.some((r) => r.status === 'sent')) {
        const texts = (await this.deps.letters.textsOfVersion(round.letterVersionId)).filter(isComplete);
        for (;;) {
          const batch = await this.deps.signatures.awaitingRoundNotice(letter.id, round.id, NOTICE_BATCH);
          if (batch.length === 0) break;
          const now = this.deps.clock.now();
          await this.deps.db.transaction().execute(async (tx) => {
            for (const supporter of batch) {
              const text = textIn(texts, supporter.language, letter.primaryLanguage);
              const id = await this.deps.mail.toSupporter(
                tx,
                {
                  template: 'letter-sent',
                  // An update after the letter went: said so, not "the letter was sent" a second time.
                  ...(update ? { subjectKey: 'subjectUpdate' } : {}),
                  supporter,
                  context: {
                    update,
                    name: supporter.fullName,
                    letterTitle: text?.title ?? letter.slug,
                    letterLanguage: text?.language ?? letter.primaryLanguage,
                    signatureCount: formatsFor(supporter.interfaceLanguage).number(round.signatureCount),
                    recipientCount: records.filter((r) => r.status === 'sent').length,
                    letterUrl: this.deps.mail.links.letterUrl(letter.slug, supporterLanguages(supporter)),
                    receiptsUrl: this.deps.mail.links.receiptsUrl(
                      supporter.ref,
                      supporterLanguages(supporter),
                    ),
                  },
                  priority: PRIORITY.notification,
                  deliveryRoundId: round.id,
                  unsubscribe: true,
                  // Once per supporter and round, even when a pass that was cut off runs again.
                  once: true,
                },
                now,
              );
              if (id !== undefined) queued += 1;
            }
          });
          this.deps.mail.wake();
        }
      }
      await this.deps.deliveries.markNotified(round.id, this.deps.clock.now());
    }
    return queued;
  }

  /** Whether an unsubscribe link is one the platform made (so a forged one shows no form). */
  async unsubscribeLinkValid(token: string): Promise<boolean> {
    const ref = this.deps.mail.links.refFrom(token, 'unsubscribe');
    return ref !== null && (await this.deps.signatures.findByRef(ref)) !== undefined;
  }

  /**
   * A supporter's one-click unsubscribe: no more news about this letter. Harmless to repeat. Says which
   * letter, and the language of the text the supporter read, for the way back to it.
   */
  async unsubscribe(token: string): Promise<{ letterSlug: string; textLanguage: string } | undefined> {
    const ref = this.deps.mail.links.refFrom(token, 'unsubscribe');
    const signature = ref ? await this.deps.signatures.findByRef(ref) : undefined;
    if (!signature) return undefined;
    await this.deps.signatures.stopUpdates(signature.id, this.deps.clock.now());
    const letter = await this.deps.letters.findById(signature.letterId);
    return { letterSlug: letter?.slug ?? '', textLanguage: signature.language };
  }
}
