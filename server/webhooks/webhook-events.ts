import type { Tx } from '../db/database.js';
import { inTiers } from '../deliveries/escalation.js';
import type { LetterEvent, LetterEvents } from '../letters/letter-events.js';
import { textIn } from '../letters/letter.js';
import type { LetterRepository } from '../letters/letter-repository.js';
import { keyedHash } from '../lib/keyed-hash.js';
import { countedCountry, publicName } from '../signatures/signature.js';
import type { SignatureRepository } from '../signatures/signature-repository.js';
import { eventBody, newEventId } from './webhook.js';
import type { WebhookRepository } from './webhook-repository.js';

export interface WebhookEventsDeps {
  webhooks: WebhookRepository;
  letters: LetterRepository;
  signatures: SignatureRepository;
  /** The platform secret: signatures are named by a keyed hash of their reference, never the reference itself. */
  secret: string;
  publicUrl: string;
  /** Tells the webhook worker there is something to send (when it runs in this process). */
  wake?: () => void;
}

/**
 * The webhooks' side of the letters' event port: in the transaction of the change, finds the enabled
 * endpoints of the letter that asked for the event (one indexed read, usually finding none) and queues
 * one delivery for each, with the body built now. Payloads carry only what is public: a signature's
 * name as its supporter chose to show it (null when counted only), country and time, never an address.
 */
export class WebhookEvents implements LetterEvents {
  constructor(private readonly deps: WebhookEventsDeps) {}

  async record(tx: Tx, event: LetterEvent, now: Date): Promise<void> {
    const webhooks = this.deps.webhooks.with(tx);
    const endpoints = await webhooks.subscribed(event.letterId, event.type);
    if (endpoints.length === 0) return;
    const data = await this.dataOf(tx, event);
    if (!data) return;
    await webhooks.enqueue(
      endpoints,
      { id: newEventId(), type: event.type, payload: eventBody(event.type, now, data) },
      now,
    );
    // After the commit would be exact; a worker woken a moment early finds nothing due yet and sleeps.
    this.deps.wake?.();
  }

  private async dataOf(tx: Tx, event: LetterEvent): Promise<Record<string, unknown> | undefined> {
    const letters = this.deps.letters.with(tx);
    const letter = await letters.findById(event.letterId);
    if (!letter) return undefined;
    const letterData = { slug: letter.slug, url: `${this.deps.publicUrl}/letters/${letter.slug}` };
    switch (event.type) {
      case 'signature.confirmed':
      case 'signature.withdrawn': {
        const signature = await this.deps.signatures.with(tx).findById(event.signatureId);
        if (!signature) return undefined;
        return {
          letter: letterData,
          signature: {
            id: keyedHash(this.deps.secret, 'webhook-signature', signature.ref).slice(0, 22),
            name: publicName(signature),
            // None for a supporter counted only, as in every public figure by country: with exact times,
            // one signer from a rare country would stand out to the receiving system.
            country: countedCountry(signature) ?? null,
            signed_at: signature.createdAt.toISOString(),
            confirmed_at: signature.confirmedAt?.toISOString() ?? null,
          },
        };
      }
      case 'letter.published':
      case 'letter.delivered': {
        const texts = await letters.textsOfVersion(letter.currentVersionId);
        const text = textIn(texts, letter.primaryLanguage, letter.primaryLanguage);
        const summary = {
          ...letterData,
          title: text?.title ?? letter.slug,
          language: text?.language ?? letter.primaryLanguage,
          signature_count: letter.signatureCount,
          goal: letter.goal,
        };
        if (event.type === 'letter.published') return { letter: summary };
        // Those the round goes to: with an escalation schedule, the tiers it reaches only.
        const recipients = ((await letters.recipientsOfLetters([letter.id])).get(letter.id) ?? []).filter(
          (r) => inTiers(r.tier, event),
        );
        // Institutions, as the public delivery record names them: never a recipient's address.
        const institutions = [...new Set(recipients.map((r) => r.organisation.trim() || r.name.trim()))];
        return { letter: summary, delivery: { round: event.roundId, institutions } };
      }
    }
  }
}
