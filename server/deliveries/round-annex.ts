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
    const part = annexOfRows(page.rows);
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

/** The annex lines of one page of annex rows, each named by the supporter's own choice (publicName). */
function annexOfRows(rows: Awaited<ReturnType<SignatureRepository['annexRowsPage']>>['rows']) {
  return annexOf(rows.map((r) => ({ ...r, name: publicName(r) })));
}

/**
 * The first `limit` signatories of a round's annex, as readRoundAnnex reads them, for a preview: one
 * query however many have signed. `complete` says whether that was every signatory; when it was, the
 * country figures are the annex's own, else the caller takes them from the letter's counters.
 */
export async function readAnnexStart(
  signatures: SignatureRepository,
  letterId: number,
  upTo: Date,
  limit: number,
): Promise<RoundAnnex & { complete: boolean }> {
  const page = await signatures.annexRowsPage(letterId, upTo, undefined, limit);
  return { annex: annexOfRows(page.rows), countries: countriesOf(page.rows), complete: !page.next };
}
