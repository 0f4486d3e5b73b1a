import type { AbuseListRepository } from './abuse-list-repository.js';
import { domainOfAddress, entryMatches, type AbuseListEntry, type AttemptSource } from './abuse-list.js';
import type { DisposableDomains } from './disposable-domains.js';
import { UntilWrite } from '../db/until-write.js';
import { keyedHash } from '../lib/keyed-hash.js';
import { emailKey } from '../signatures/signature.js';
import type {
  ScreeningVerdict,
  SigningAttempt,
  SigningScreen,
  SuspectReason,
} from '../signatures/signing-screen.js';

const BLOCK_REASONS: Record<AbuseListEntry['kind'], SuspectReason> = {
  ip: 'blocked-ip',
  'ip-hash': 'blocked-ip',
  domain: 'blocked-domain',
  address: 'blocked-address',
};

interface SourceMatch {
  blocked: AbuseListEntry[];
  allowed: boolean;
}

/**
 * The admins' block and allow lists, and the maintained list of disposable e-mail domains.
 *
 * - A blocked address range, client, domain or address silences the signature (`blocked-*`). Blocking
 *   wins over allowing: an admin who blocks something meant it, whatever else is listed.
 * - An allow-listed range or domain (and nothing blocked) skips the disposable-domain check, and
 *   `allows()` says so to the signing service, which skips its rate limits for it too.
 * - A disposable domain flags the signature for review (`disposable-domain`); it still counts.
 */
export class SourceListsScreen implements SigningScreen {
  constructor(
    private readonly deps: {
      lists: AbuseListRepository;
      disposable: DisposableDomains;
      secret: string;
      /**
       * A mark that changes whenever the database may have changed, in this process or another
       * (databaseWriteMark): the lists are read again only then. Without it, on every attempt.
       */
      writeMark?: () => string;
    },
  ) {
    this.known = deps.writeMark ? new UntilWrite(deps.writeMark, 1) : undefined;
  }

  /** The lists as read under the current write mark. */
  private readonly known: UntilWrite<'entries', Promise<AbuseListEntry[]>> | undefined;

  async screen(attempt: SigningAttempt): Promise<ScreeningVerdict> {
    const { blocked, allowed } = await this.match(attempt);
    const suspect = [...new Set(blocked.map((entry) => BLOCK_REASONS[entry.kind]))];
    const disposable =
      suspect.length === 0 && !allowed && this.deps.disposable.includes(domainOfAddress(attempt.email));
    return { suspect, review: disposable ? ['disposable-domain'] : [] };
  }

  /**
   * Whether an admin allow-listed where this attempt comes from (its address range or e-mail domain,
   * or the address itself) and blocked none of it. The signing service skips its rate limits for such
   * attempts: an organisation signing from one office network is not a burst of fakes.
   */
  async allows(attempt: SigningAttempt): Promise<boolean> {
    const { blocked, allowed } = await this.match(attempt);
    return allowed && blocked.length === 0;
  }

  /**
   * The signing service hands one attempt object to every screen, and asks `allows()` (for the rate
   * limits) and `screen()` about it at the same time: the lists are read once per attempt, not twice.
   */
  private readonly matches = new WeakMap<SigningAttempt, Promise<SourceMatch>>();

  private match(attempt: SigningAttempt): Promise<SourceMatch> {
    let found = this.matches.get(attempt);
    if (!found) {
      found = this.readLists(attempt);
      this.matches.set(attempt, found);
    }
    return found;
  }

  private async readLists(attempt: SigningAttempt): Promise<SourceMatch> {
    const { secret } = this.deps;
    const source: AttemptSource = {
      ip: attempt.ip,
      // The same keyed hashes the signature stores, so a source blocked from the trending view matches.
      ipHash: attempt.hashes
        ? attempt.hashes.ip
        : attempt.ip
          ? keyedHash(secret, 'ip', attempt.ip)
          : undefined,
      emailDomain: domainOfAddress(attempt.email),
      emailHash: attempt.hashes?.email ?? keyedHash(secret, 'email', emailKey(attempt.email)),
    };
    const matching = (await this.entries()).filter((entry) => entryMatches(entry, source));
    return {
      blocked: matching.filter((entry) => entry.list === 'block'),
      allowed: matching.some((entry) => entry.list === 'allow'),
    };
  }

  /**
   * Every entry of both lists. Each signing used to read them whole; they change only when an admin
   * edits them, so they are read again only after the database changed (the mark is read first, so a
   * change made meanwhile is never hidden behind an older mark).
   */
  private async entries(): Promise<AbuseListEntry[]> {
    if (!this.known) return this.deps.lists.all();
    const known = this.known.current();
    const cached = known.get('entries');
    if (cached) return cached;
    const entries = this.deps.lists.all();
    known.set('entries', entries);
    // A failed read is not kept: the next attempt reads again.
    entries.catch(() => known.delete('entries'));
    return entries;
  }
}
