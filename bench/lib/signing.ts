/**
 * Signing load against a running platform: every request from a client address no earlier request of
 * the benchmark used, with an e-mail address of its own, and a record of every signature the server
 * acknowledged (303), to check afterwards that each one is in the database.
 */
import { countRows, signaturesPresent } from './data.js';
import { runLoad, type LoadResult, type LoadSpec } from './load.js';
import { signingCsrf, type BenchPlatform } from './platform.js';

let nextAddress = 0;
let runs = 0;

/** What a signing run may set beyond the letter and the addresses. */
export type SigningOptions = Omit<LoadSpec, 'url' | 'path' | 'signing'> & { proofs?: readonly string[] };

/** Signs through the real form on `platform`: keeps the acknowledged e-mail addresses for `verify`. */
export class SigningLoad {
  private readonly acknowledged: string[] = [];

  constructor(private readonly platform: BenchPlatform) {}

  /** One load run; CSRF token and cookie are sent when the letter page has them. */
  async run(options: SigningOptions): Promise<LoadResult> {
    const { proofs, ...load } = options;
    const csrf = await signingCsrf(this.platform.url, this.platform.letter.slug);
    runs += 1;
    const result = await runLoad({
      ...load,
      url: this.platform.url,
      path: `/letters/${this.platform.letter.slug}`,
      signing: {
        slug: this.platform.letter.slug,
        addressStart: nextAddress,
        emailPrefix: `run${runs}`,
        ...(csrf ? { csrf } : {}),
        ...(proofs ? { proofs } : {}),
      },
    });
    nextAddress += result.addressesUsed;
    this.acknowledged.push(...result.acknowledged);
    return result;
  }

  /** Every acknowledged signature, and how many of them the database holds (all, or the benchmark failed). */
  verify(): { acknowledged: number; present: number; rowsInLetter: number } {
    const { databasePath, letter } = this.platform;
    return {
      acknowledged: this.acknowledged.length,
      present: signaturesPresent(databasePath, letter.id, this.acknowledged),
      rowsInLetter: countRows(
        databasePath,
        'select count(*) as n from signatures where letter_id = ?',
        letter.id,
      ),
    };
  }
}

/** Outbox messages not yet sent or finally failed. */
export function unsentMail(platform: BenchPlatform): number {
  return countRows(
    platform.databasePath,
    "select count(*) as n from outbox_messages where status in ('queued', 'sending', 'retrying')",
  );
}
