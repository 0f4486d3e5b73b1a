import type { Tx } from '../db/database.js';

/**
 * What happened to a letter or one of its signatures that the outside world may hear about (webhooks).
 * A port: services record events in the transaction of the change; wiring.ts gives them the webhooks'
 * implementation, which queues a delivery for each endpoint that asked (none: one indexed read).
 */
export type LetterEvent =
  | { type: 'signature.confirmed' | 'signature.withdrawn'; letterId: number; signatureId: number }
  | { type: 'letter.published'; letterId: number }
  | {
      type: 'letter.delivered';
      letterId: number;
      roundId: number;
      /** The recipients' tiers the round goes to (an escalation schedule); null: every recipient. */
      tierFrom: number | null;
      tierTo: number | null;
    };

export interface LetterEvents {
  record(tx: Tx, event: LetterEvent, now: Date): Promise<void>;
}

/** No one listens (tests and commands that build services without webhooks). */
export const NO_LETTER_EVENTS: LetterEvents = { record: async () => {} };
