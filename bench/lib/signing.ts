/**
 * Signing load against a running platform: every request from a client address no earlier request of
 * the benchmark used, with an e-mail address of its own, and a record of every signature the server
 * acknowledged (303), to check afterwards that each one is in the database.
 */
import { mailUnsent, signaturesOnLetter, signaturesPresent } from './data.js';
import { runLoad, runLoadsAtOnce, type LoadResult, type LoadSpec } from './load.js';
import { signingCsrf, type BenchPlatform } from './platform.js';

let nextAddress = 0;
let runs = 0;

/** What a signing run may set beyond the letter and the addresses. */
export type SigningOptions = Omit<LoadSpec, 'url' | 'path' | 'signing'> & { proofs?: readonly string[] };

/** Signs through the real form on `platform`: keeps the acknowledged e-mail addresses for `verify`. */
export class SigningLoad {
  private readonly acknowledged: string[] = [];

  constructor(private readonly platform: BenchPlatform) {}

  /**
   * One load run; CSRF token and cookie are sent when the letter page has them. A platform with several
   * web processes gets one load generator per process, all at once, the connections shared out among
   * them, each taking every n-th client address; their results are summed (runLoadsAtOnce).
   */
  async run(options: SigningOptions): Promise<LoadResult> {
    const { proofs, ...load } = options;
    const { urls, letter } = this.platform;
    // Each generator would count its requests from 0 and send the same proofs twice: replays, refused.
    if (proofs && urls.length > 1) throw new Error('proofs of work are sent to one web process only');
    const csrf = await signingCsrf(this.platform.url, letter.slug);
    runs += 1;
    const specs: LoadSpec[] = urls.map((url, k) => ({
      ...load,
      connections: Math.max(1, Math.round(load.connections / urls.length)),
      url,
      path: `/letters/${letter.slug}`,
      signing: {
        slug: letter.slug,
        addressStart: nextAddress + k,
        addressStep: urls.length,
        emailPrefix: urls.length > 1 ? `run${runs}p${k + 1}` : `run${runs}`,
        ...(csrf ? { csrf } : {}),
        ...(proofs ? { proofs } : {}),
      },
    }));
    const result = specs.length > 1 ? await runLoadsAtOnce(specs) : await runLoad(specs[0]!);
    nextAddress += result.addressesUsed;
    this.acknowledged.push(...result.acknowledged);
    return result;
  }

  /** Every acknowledged signature, and how many of them the database holds (all, or the benchmark failed). */
  async verify(): Promise<{ acknowledged: number; present: number; rowsInLetter: number }> {
    const { database, letter } = this.platform;
    return {
      acknowledged: this.acknowledged.length,
      present: await signaturesPresent(database, letter.id, this.acknowledged),
      rowsInLetter: await signaturesOnLetter(database, letter.id),
    };
  }
}

/** Outbox messages not yet sent or finally failed. */
export function unsentMail(platform: BenchPlatform): Promise<number> {
  return mailUnsent(platform.database);
}
