import type { ConsistencyAnswer } from '../commitments/commitment.js';
import type { CommitmentService } from '../commitments/commitment-service.js';
import type { PublishedReply } from '../deliveries/delivery-reply.js';
import type { DeliveryRepository } from '../deliveries/delivery-repository.js';
import type { Clock } from '../lib/clock.js';
import { signingState } from '../letters/letter.js';
import type { LetterRepository } from '../letters/letter-repository.js';
import type { LetterService, SentEscalations } from '../letters/letter-service.js';
import { COUNT_EPOCH_MS } from '../pages/page-cache.js';
import type { PublicSignatoryPages } from '../signatures/public-signatories.js';
import type { ApiCursor } from './api-cursor.js';
import { type LetterDocument, type LetterListDocument, type SignaturesDocument } from './public-api.js';

/** How many answers one count epoch keeps: past it, answers are read for each request (still correct). */
const MAX_ENTRIES = 5_000;

/**
 * What the API read in the current count epoch (pages/page-cache.ts's COUNT_EPOCH_MS), by key. Each
 * value is a promise, so requests that arrive while one is being read wait for it instead of reading
 * again; a failed read (a 404) is not kept. All of it is dropped when the epoch turns: nothing the API
 * answers is older than one epoch, so with the answers' Cache-Control (1 s fresh, 2 s stale) a count is
 * never more than 5 s behind, and a hot letter is read from the database once per epoch, not per request.
 */
export class EpochCache {
  private epoch = -1;
  private values = new Map<string, Promise<unknown>>();

  constructor(
    private readonly clock: Clock,
    private readonly max = MAX_ENTRIES,
  ) {}

  /** The value under `key` in this epoch, read by `load` when there is none yet. */
  get<T>(key: string, load: () => Promise<T>): Promise<T> {
    const epoch = Math.floor(this.clock.now().getTime() / COUNT_EPOCH_MS);
    if (epoch !== this.epoch) {
      this.epoch = epoch;
      this.values = new Map();
    }
    const known = this.values.get(key) as Promise<T> | undefined;
    if (known) return known;
    const values = this.values;
    const loading = load();
    if (values.size < this.max) {
      values.set(key, loading);
      // A failure is answered to the requests that waited for it, and read again by the next one.
      loading.catch(() => {
        if (values.get(key) === loading) values.delete(key);
      });
    }
    return loading;
  }
}

export interface PublicApiServiceDeps {
  letters: Pick<
    LetterRepository,
    | 'listPublic'
    | 'countPublic'
    | 'headingsOfVersions'
    | 'recipientsOfLetters'
    | 'countryCounts'
    | 'findVersion'
  >;
  /** The one rule for which letters the public sees (a draft is a 404). */
  published: Pick<LetterService, 'findPublished'>;
  signatories: PublicSignatoryPages;
  deliveries: Pick<DeliveryRepository, 'publicRecord'>;
  /** Delivered lists' commitments and the proofs between them. */
  commitments: Pick<CommitmentService, 'published' | 'consistency'>;
  /** The replies published on a letter's record, as the public sees them (deliveries/delivery-reply.ts forPublic). */
  replies: { publishedOf(letterId: number): Promise<PublishedReply[]> };
  /** The escalation steps that sent the letter on, as its page says them; none when escalation is not wired. */
  escalations?: SentEscalations;
  cursor: ApiCursor;
  clock: Clock;
}

/** The public read API's use cases: published letters, one letter, a letter's public signatories. */
export class PublicApiService {
  private readonly cache: EpochCache;

  constructor(private readonly deps: PublicApiServiceDeps) {
    this.cache = new EpochCache(deps.clock);
  }

  /** A published letter with everything the API tells about it (every translation's heading), or a 404. */
  letter(slug: string): Promise<LetterDocument> {
    return this.cache.get(`letter|${slug}`, async () => {
      const { letters, published, deliveries, clock } = this.deps;
      const letter = await published.findPublished(slug);
      const headings = (await letters.headingsOfVersions([letter.currentVersionId])).get(
        letter.currentVersionId,
      );
      const version = await letters.findVersion(letter.currentVersionId);
      return {
        letter,
        headings: headings ?? [],
        state: signingState(letter, clock.now()),
        // The first version's date is the letter's creation; a later one's is its last change.
        modifiedAt: version && version.number > 1 ? version.createdAt : null,
        recipients: (await letters.recipientsOfLetters([letter.id])).get(letter.id) ?? [],
        countries: await letters.countryCounts(letter.id),
        deliveries: await deliveries.publicRecord(letter.id),
        commitments: await this.deps.commitments.published(letter.id),
        replies: await this.deps.replies.publishedOf(letter.id),
        escalations: (await this.deps.escalations?.sentOf(letter.id)) ?? [],
      };
    });
  }

  /**
   * The proof that a published letter's list of round `from` is a prefix of its list of round `to`;
   * a 409 when it is not (withdrawals between them), a 404 for a round that is not on its record.
   * Kept per count epoch: a proof over 20,000 leaves hashes for some milliseconds.
   */
  consistency(slug: string, from: number, to: number): Promise<ConsistencyAnswer> {
    return this.cache.get(`consistency|${slug}|${from}|${to}`, async () => {
      const letter = await this.deps.published.findPublished(slug);
      return this.deps.commitments.consistency(letter.id, from, to);
    });
  }

  /** One page of the published letters, in the home page's order (open ones first). */
  list(page: number, perPage: number): Promise<LetterListDocument> {
    return this.cache.get(`list|${page}|${perPage}`, async () => {
      const { letters, clock } = this.deps;
      const total = await letters.countPublic();
      const list =
        (page - 1) * perPage < total
          ? await letters.listPublic({ limit: perPage, offset: (page - 1) * perPage })
          : [];
      const headings = await letters.headingsOfVersions(list.map((l) => l.currentVersionId));
      const now = clock.now();
      return {
        total,
        items: list.map((letter) => ({
          letter,
          headings: headings.get(letter.currentVersionId) ?? [],
          state: signingState(letter, now),
        })),
      };
    });
  }

  /** One page of a published letter's public signatories, newest first, after the page `cursor` names. */
  signatures(slug: string, cursor: string | undefined, perPage: number): Promise<SignaturesDocument> {
    // Opened before the cache: a cursor this API did not give is refused without a read.
    const after = cursor === undefined ? undefined : this.deps.cursor.open(cursor);
    return this.cache.get(`signatures|${slug}|${cursor ?? ''}|${perPage}`, async () => {
      const letter = await this.deps.published.findPublished(slug);
      const page = await this.deps.signatories.page(letter.id, after, perPage);
      return {
        letter,
        signatories: page.signatories,
        nextCursor: page.next ? this.deps.cursor.seal(page.next) : undefined,
      };
    });
  }
}
