import type { SentEscalation, SentRecord } from '../letters/letter-service.js';

/** Deliveries shown open on the letter page; older ones fold into one <details>. */
export const OPEN_DELIVERIES = 3;
/** Institutions listed under a delivery before the rest fold into a <details>. */
export const OPEN_INSTITUTIONS = 6;

/** One institution a delivery reached: several of its offices or people count as one line. */
export interface RecordInstitution {
  name: string;
  /** How many of its recipients got the letter. */
  recipients: number;
  /** The recipient's own name when it alone was reached and it is not the institution's name; else ''. */
  person: string;
}

/** One delivery on the public record: a round, on one day, with the institutions it reached. */
export interface RecordDelivery {
  roundId: number;
  sentAt: Date;
  signatureCount: number;
  recipients: number;
  /** The languages its letters were written in (each is a PDF to download), in first-seen order. */
  languages: string[];
  institutions: RecordInstitution[];
  /** The round's committed list (its size and root), or null. */
  commitment: { treeSize: number; root: string } | null;
  /** Corrections of its list sent to its recipients (errata), oldest first: shown beside it. */
  corrections: readonly { roundId: number; treeSize: number; root: string; sentAt: Date }[];
  /** The first OPEN_INSTITUTIONS of `institutions` and the rest. */
  shown: RecordInstitution[];
  folded: RecordInstitution[];
  /** Why this round went: no reply from the tier before within the schedule's days; null for any other round. */
  escalation: SentEscalation | null;
}

/** The public delivery record: the newest deliveries open, older ones folded. */
export interface DeliveryRecord {
  recent: RecordDelivery[];
  earlier: RecordDelivery[];
  /** Recipients reached in all, each counted once (the record keeps each one's latest sending). */
  recipients: number;
}

/**
 * The one recipient of an institution, named beside it when their name says more: not when it is the
 * institution's name again, in full or inside it ("Coordination Headquarters…" of "Coordination
 * Headquarters… (Ukraine)" read as the same name twice).
 */
function personBeside(institution: string, members: readonly SentRecord[]): string {
  const person = members.length === 1 ? members[0]!.recipientName.trim() : '';
  return person && !institution.toLocaleLowerCase().includes(person.toLocaleLowerCase()) ? person : '';
}

/**
 * Groups the latest sending to each recipient (newest first) by delivery round and UTC day, and within
 * one by institution (the recipient's organisation, else its name), the largest first: a letter sent to
 * 200 offices of 20 ministries reads as 20 lines, not 200. Pure: the view formats dates and numbers.
 */
export function deliveryRecord(
  sent: readonly SentRecord[],
  escalations: readonly SentEscalation[] = [],
): DeliveryRecord {
  const escalationOf = new Map(escalations.map((e) => [e.roundId, e]));
  const deliveries = new Map<string, { first: SentRecord; records: SentRecord[] }>();
  for (const record of sent) {
    const key = `${record.roundId}|${record.sentAt.toISOString().slice(0, 10)}`;
    const group = deliveries.get(key);
    if (group) group.records.push(record);
    else deliveries.set(key, { first: record, records: [record] });
  }
  const all = [...deliveries.values()].map(({ first, records }): RecordDelivery => {
    const byInstitution = new Map<string, SentRecord[]>();
    for (const r of records) {
      const name = r.organisation.trim() || r.recipientName;
      const members = byInstitution.get(name);
      if (members) members.push(r);
      else byInstitution.set(name, [r]);
    }
    const institutions = [...byInstitution]
      .map(([name, members]) => ({
        name,
        recipients: members.length,
        person: personBeside(name, members),
      }))
      .sort((a, b) => b.recipients - a.recipients || a.name.localeCompare(b.name));
    return {
      roundId: first.roundId,
      sentAt: first.sentAt,
      signatureCount: first.signatureCount,
      recipients: records.length,
      languages: [...new Set(records.map((r) => r.language))],
      institutions,
      commitment: first.commitment ?? null,
      corrections: first.corrections ?? [],
      shown: institutions.slice(0, OPEN_INSTITUTIONS),
      folded: institutions.slice(OPEN_INSTITUTIONS),
      escalation: escalationOf.get(first.roundId) ?? null,
    };
  });
  return {
    recent: all.slice(0, OPEN_DELIVERIES),
    earlier: all.slice(OPEN_DELIVERIES),
    recipients: sent.length,
  };
}
