import type { User } from '../accounts/account.js';
import type { AuditRepository } from '../audit/audit-repository.js';
import type { Db } from '../db/database.js';
import type { Clock } from '../lib/clock.js';
import { looksLikeEmailAddress } from '../lib/email-address.js';
import { notFound } from '../lib/errors.js';
import { keyedHash } from '../lib/keyed-hash.js';
import { authorize, can } from '../policy/policy.js';
import { emailKey } from '../signatures/signature.js';
import {
  ABUSE_LISTS,
  addressesIn,
  normaliseCidr,
  normaliseDomain,
  rangeWarnings,
  TYPED_KINDS,
  type AbuseKind,
  type AbuseList,
  type AbuseListEntry,
  type EntryInputError,
  type RangeWarning,
} from './abuse-list.js';
import type { AbuseListRepository } from './abuse-list-repository.js';
import type { SourceCount, TrendingRepository } from './trending-repository.js';

export interface AbuseServiceDeps {
  db: Db;
  lists: AbuseListRepository;
  trending: TrendingRepository;
  audit: AuditRepository;
  clock: Clock;
  secret: string;
  /** Signatures from one source in an hour past which the dashboard shows an alert (a platform setting). */
  alertThreshold: () => Promise<number>;
}

/** What an admin typed on the lists page, kept as typed so a refused form shows it again. */
export interface EntryInput {
  list: string;
  kind: string;
  value: string;
  note: string;
  /** The admin confirmed a block the platform asked about (a wide range, or their own address). */
  confirmed?: boolean;
}

export type AddEntryOutcome =
  | { kind: 'added'; entry: AbuseListEntry }
  | { kind: 'duplicate' }
  /** Not added yet: the range deserves a second look (rangeWarnings), and the admin is asked first. */
  | { kind: 'confirm'; warnings: RangeWarning[]; range: string; addresses: bigint }
  | {
      kind: 'invalid';
      errors: Partial<Record<'list' | 'kind' | 'value' | 'note', EntryInputError | 'required'>>;
    };

/** The sources of the last hour, busiest first, and the alert threshold they are measured against. */
export interface TrendingSources {
  since: Date;
  threshold: number;
  addresses: (SourceCount & { blocked: boolean; overThreshold: boolean })[];
  domains: (SourceCount & { blocked: boolean; overThreshold: boolean })[];
}

export const TRENDING_WINDOW_MS = 60 * 60_000;
const TRENDING_ROWS = 25;
export const MAX_NOTE_LENGTH = 200;

/** Admins' block and allow lists, and where recent signatures come from. Every use case is admin-only. */
export class AbuseService {
  constructor(private readonly deps: AbuseServiceDeps) {}

  /** Every entry of both lists, newest first. */
  async entries(actor: User): Promise<AbuseListEntry[]> {
    authorize(actor, 'abuse.manage');
    return this.deps.lists.all();
  }

  async entry(actor: User, id: number): Promise<AbuseListEntry> {
    authorize(actor, 'abuse.manage');
    const entry = await this.deps.lists.findById(id);
    if (!entry) throw notFound();
    return entry;
  }

  /**
   * Adds an entry typed on the lists page, normalised (a CIDR range in one form, a domain in lower case)
   * and, for a whole address, reduced to the keyed hash signatures carry: the list never holds it.
   */
  async addEntry(actor: User, input: EntryInput, actorIp?: string): Promise<AddEntryOutcome> {
    authorize(actor, 'abuse.manage');
    const errors: Extract<AddEntryOutcome, { kind: 'invalid' }>['errors'] = {};
    const list = (ABUSE_LISTS as readonly string[]).includes(input.list)
      ? (input.list as AbuseList)
      : undefined;
    const kind = (TYPED_KINDS as readonly string[]).includes(input.kind)
      ? (input.kind as AbuseKind)
      : undefined;
    if (!list) errors.list = 'required';
    if (!kind) errors.kind = 'required';
    if (input.note.length > MAX_NOTE_LENGTH) errors.note = 'noteTooLong';
    let value: string | undefined;
    if (input.value.trim() === '') errors.value = 'required';
    else if (kind === 'ip') value = normaliseCidr(input.value) ?? void (errors.value = 'cidrInvalid');
    else if (kind === 'domain') value = normaliseDomain(input.value) ?? void (errors.value = 'domainInvalid');
    else if (kind === 'address') {
      const address = input.value.trim();
      if (looksLikeEmailAddress(address)) value = keyedHash(this.deps.secret, 'email', emailKey(address));
      else errors.value = 'addressInvalid';
    }
    if (!list || !kind || value === undefined || Object.keys(errors).length > 0)
      return { kind: 'invalid', errors };
    if (list === 'block' && kind === 'ip' && !input.confirmed) {
      const warnings = rangeWarnings(value, actorIp);
      if (warnings.length > 0)
        return { kind: 'confirm', warnings, range: value, addresses: addressesIn(value) };
    }
    return this.add(actor, { list, kind, value, note: input.note.trim() });
  }

  /**
   * Blocks a source seen in the trending view: a client address hash (the view never shows an IP) or
   * an e-mail domain. The note says where it came from.
   */
  async blockSource(
    actor: User,
    source: { kind: 'ip-hash' | 'domain'; value: string },
  ): Promise<AddEntryOutcome> {
    authorize(actor, 'abuse.manage');
    const value = source.kind === 'domain' ? normaliseDomain(source.value) : ipHashOrUndefined(source.value);
    if (!value)
      return { kind: 'invalid', errors: { value: source.kind === 'domain' ? 'domainInvalid' : 'required' } };
    return this.add(actor, { list: 'block', kind: source.kind, value, note: 'trending' });
  }

  /** Removes an entry, audited in the same transaction; 404 when it is gone already. */
  async removeEntry(actor: User, id: number): Promise<AbuseListEntry> {
    authorize(actor, 'abuse.manage');
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (tx) => {
      const lists = this.deps.lists.with(tx);
      const entry = await lists.findById(id);
      if (!entry || !(await lists.remove(id))) throw notFound();
      await this.deps.audit.with(tx).record(
        {
          actor: { id: actor.id, email: actor.email },
          action: 'abuse-list-removed',
          targetType: 'abuse-list-entry',
          targetId: entry.id,
          details: auditDetails(entry),
        },
        now,
      );
      return entry;
    });
  }

  /** Signatures of the last hour per client address hash and per e-mail domain. */
  async trending(actor: User): Promise<TrendingSources> {
    authorize(actor, 'abuse.manage');
    const since = new Date(this.deps.clock.now().getTime() - TRENDING_WINDOW_MS);
    const [threshold, addresses, domains, entries] = await Promise.all([
      this.deps.alertThreshold(),
      this.deps.trending.byAddressHash(since, TRENDING_ROWS),
      this.deps.trending.byEmailDomain(since, TRENDING_ROWS),
      this.deps.lists.all(),
    ]);
    const blocked = (kind: AbuseKind) =>
      new Set(entries.filter((e) => e.list === 'block' && e.kind === kind).map((e) => e.value));
    const blockedHashes = blocked('ip-hash');
    const blockedDomains = blocked('domain');
    return {
      since,
      threshold,
      addresses: addresses.map((row) => ({
        ...row,
        blocked: blockedHashes.has(row.source),
        overThreshold: row.total >= threshold,
      })),
      domains: domains.map((row) => ({
        ...row,
        blocked: blockedDomains.has(row.source),
        overThreshold: row.total >= threshold,
      })),
    };
  }

  /**
   * For the dashboard: how many sources sent at least the threshold of signatures in the last hour
   * (0: no alert). Undefined for organizers, who do not see it.
   */
  async alert(actor: User): Promise<{ sources: number; threshold: number } | undefined> {
    if (!can(actor, 'abuse.manage')) return undefined;
    const sources = await this.trending(actor);
    const over = [...sources.addresses, ...sources.domains].filter((s) => s.overThreshold && !s.blocked);
    return { sources: over.length, threshold: sources.threshold };
  }

  private async add(
    actor: User,
    entry: { list: AbuseList; kind: AbuseKind; value: string; note: string },
  ): Promise<AddEntryOutcome> {
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (tx) => {
      const added = await this.deps.lists.with(tx).add({ ...entry, createdBy: actor.id }, now);
      if (!added) return { kind: 'duplicate' } as const;
      await this.deps.audit.with(tx).record(
        {
          actor: { id: actor.id, email: actor.email },
          action: 'abuse-list-added',
          targetType: 'abuse-list-entry',
          targetId: added.id,
          details: auditDetails(added),
        },
        now,
      );
      return { kind: 'added', entry: added } as const;
    });
  }
}

/** What the audit log says about an entry: hashes are shortened, so the log holds no address or its hash. */
function auditDetails(entry: AbuseListEntry): Record<string, unknown> {
  const hashed = entry.kind === 'address' || entry.kind === 'ip-hash';
  return {
    list: entry.list,
    kind: entry.kind,
    value: hashed ? shortHash(entry.value) : entry.value,
    note: entry.note,
  };
}

/** The first characters of a keyed hash: enough to tell sources apart on a page, useless to look one up. */
export function shortHash(hash: string): string {
  return hash.slice(0, 10);
}

/** A keyed hash as signatures store it (43 base64url characters), or undefined. */
function ipHashOrUndefined(value: string): string | undefined {
  return /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
}
