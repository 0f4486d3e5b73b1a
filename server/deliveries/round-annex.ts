import { setImmediate as nextTurn } from 'node:timers/promises';
import { publicName } from '../signatures/signature.js';
import type { SignatureRepository } from '../signatures/signature-repository.js';
import { annexOf, countriesOf, type AnnexEntry } from './delivery.js';

/** Signatories read per query: a few milliseconds each. */
const ANNEX_PAGE = 2_000;

/** A round's annex (named signatories, in order) and its country figures. */
export interface RoundAnnex {
  annex: { entries: AnnexEntry[]; unnamed: number };
  countries: { code: string; count: number }[];
}

/**
 * The annex and country figures of a letter's signatories confirmed up to `upTo`, built a page of
 * signatories at a time with a turn of the event loop between pages: reading and naming 20,000 at
 * once held the web process for over 100 ms. The compile worker reads it for each letter it writes, so
 * a letter compiled after an erasure no longer names the erased person.
 */
export async function readRoundAnnex(
  signatures: SignatureRepository,
  letterId: number,
  upTo: Date,
): Promise<RoundAnnex> {
  const entries: AnnexEntry[] = [];
  let unnamed = 0;
  const counts = new Map<string, number>();
  let after: { confirmedAt: string; id: number } | undefined;
  do {
    const page = await signatures.annexRowsPage(letterId, upTo, after, ANNEX_PAGE);
    const part = annexOf(page.rows.map((r) => ({ ...r, name: publicName(r) })));
    entries.push(...part.entries);
    unnamed += part.unnamed;
    for (const { code, count } of countriesOf(page.rows)) counts.set(code, (counts.get(code) ?? 0) + count);
    after = page.next;
    await nextTurn();
  } while (after);
  // In countriesOf's order: most first, then by code.
  const countries = [...counts]
    .map(([code, count]) => ({ code, count }))
    .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
  return { annex: { entries, unnamed }, countries };
}
