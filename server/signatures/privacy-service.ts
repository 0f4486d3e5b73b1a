import type { User } from '../accounts/account.js';
import type { AuditActor } from '../audit/audit.js';
import type { AuditRepository } from '../audit/audit-repository.js';
import type { Db, Executor, Tx } from '../db/database.js';
import { textIn } from '../letters/letter.js';
import type { LetterRepository } from '../letters/letter-repository.js';
import type { Clock } from '../lib/clock.js';
import { countryName } from '../lib/countries.js';
import { formatsFor } from '../lib/format.js';
import { keyedHash } from '../lib/keyed-hash.js';
import type { CapturedMailEraser } from '../mail/captured-mail-eraser.js';
import type { PlatformMail } from '../mail/platform-mail.js';
import { PRIORITY, type OutboxStatus } from '../outbox/outbox.js';
import { authorize } from '../policy/policy.js';
import type { OutboxRepository } from '../outbox/outbox-repository.js';
import { emailKey, publicName, statusShown, type Signature, type SignatureStatus } from './signature.js';
import type { SignatureRepository } from './signature-repository.js';
import { leaveCountryFigures } from './signature-moves.js';

export interface PrivacyServiceDeps {
  db: Db;
  /** Empties the write-ahead log, so erased data leaves the disk now (see flushWriteAheadLog). */
  flushLog: () => Promise<void>;
  signatures: SignatureRepository;
  letters: LetterRepository;
  outbox: OutboxRepository;
  /** Compiled letters name supporters in their annex: erasure and retention reach those too. */
  deliveries: CompiledLetters;
  audit: AuditRepository;
  /** Sends the answer to a request for one's data; reads erase links back. */
  mail: PlatformMail;
  /** The captured mailbox, when mail is captured (erasure removes messages from it too). */
  mailbox: CapturedMailEraser | undefined;
  clock: Clock;
  secret: string;
  retentionMonths: number;
  /** Delivered lists' commitments hold each listed signature's salt: erasure and retention delete it. */
  salts: SignatureSalts;
  /** Delivered lists record an erasure on request, so a correction counts it (errata); none: not recorded. */
  erasedListings?: ErasedListings;
}

/**
 * Where delivered lists record that a listed signature's person was erased on request (not by the
 * retention job: that signature still counts). A port: the deliveries slice satisfies it.
 */
export interface ErasedListings {
  with(tx: Executor): ErasedListings;
  /** Marks the leaves listing these signatures as erased; before the salts' forgetting unlinks them. */
  markErased(signatureIds: readonly number[], now: Date): Promise<void>;
}

/**
 * The salts that let a supporter open their leaf in a delivered list's commitment. A port: the
 * commitments slice (above this one) satisfies it with its repository, passed in by wiring.ts.
 */
export interface SignatureSalts {
  with(tx: Executor): SignatureSalts;
  /** Deletes the salts of these signatures and unlinks their leaves: the trees keep them, unopenable. */
  forgetSignatures(signatureIds: readonly number[]): Promise<void>;
}

/**
 * The compiled letters that name supporters, as erasure and retention need them. A port: the
 * deliveries slice (above this one) satisfies it with its repository, passed in by wiring.ts.
 */
export interface CompiledLetters {
  with(tx: Executor): CompiledLetters;
  /** The compiled letters naming any of these signatures, read before they lose their person. */
  deliveriesNaming(
    signatureIds: readonly number[],
  ): Promise<{ deliveryId: number; outboxMessageId: number; status: OutboxStatus }[]>;
  /** Forgets compiled letters whose messages were cancelled, so their recipients are compiled again. */
  recompile(deliveryIds: readonly number[], now: Date): Promise<unknown>;
}

export interface ErasureResult {
  signatures: number;
  messages: number;
  /** Compiled letters not sent yet that named the person: cancelled, and compiled again without them. */
  letters: number;
  mailboxFiles: number;
}

/** The name of the data-access answer's attachment: the complete data, as JSON. */
export const DATA_FILE = 'undersigned-data.json';

/** Retention batches: small enough to keep each transaction short while the platform runs. */
const RETENTION_BATCH = 500;

/** The start of the moment `months` calendar months before `now` (UTC). */
export function monthsBefore(now: Date, months: number): Date {
  const date = new Date(now);
  date.setUTCMonth(date.getUTCMonth() - months);
  return date;
}

/**
 * A signature's status as its supporter's own data request states it. A held one whose link they
 * pressed is "held", said as "confirmed by you, not counted yet": the pages say "confirmed" (they tell
 * no one a signature is held), but a request for one's own data is answered truly (decision
 * 2026-12-07-data-access-tells-held.md), and "not confirmed yet, confirm it" was untrue of it.
 */
function accessStatus(signature: Signature): SignatureStatus | 'held' {
  return statusShown(signature) === 'confirmed' && signature.status === 'pending' ? 'held' : signature.status;
}

/**
 * What the platform does to protect signers: forgets them when a letter has been closed long enough
 * (retention), erases a person on request, and tells a person everything it holds about their address.
 * A signature that counted keeps counting, without its person; no longer shown, it leaves its letter's
 * figures by country (countedCountry).
 */
export class PrivacyService {
  constructor(private readonly deps: PrivacyServiceDeps) {}

  /** Removes the person from these signatures, in `tx`: out of the figures by country first, then anonymised. */
  private async forget(tx: Tx, ids: readonly number[], now: Date): Promise<void> {
    const signatures = this.deps.signatures.with(tx);
    await leaveCountryFigures(tx, this.deps, await signatures.placesOf(ids));
    await signatures.anonymise(ids, now);
  }

  /**
   * Anonymises, in batches, the signatures of letters closed more than RETENTION_MONTHS ago. Each
   * batch is its own transaction, so a run that is stopped half way loses nothing and the next run
   * goes on from where it stopped. Returns how many signatures it anonymised.
   */
  async applyRetention(options: { maxBatches?: number } = {}): Promise<number> {
    const before = monthsBefore(this.deps.clock.now(), this.deps.retentionMonths);
    let total = 0;
    for (let batch = 0; batch < (options.maxBatches ?? Number.POSITIVE_INFINITY); batch++) {
      const now = this.deps.clock.now();
      const done = await this.deps.db.transaction().execute(async (tx) => {
        const signatures = this.deps.signatures.with(tx);
        const ids = await signatures.dueForAnonymisation(before, RETENTION_BATCH);
        if (ids.length === 0) return { count: 0, captured: { messageIds: [], texts: [] } };
        const addresses = await signatures.addressesOf(ids);
        const copies = await this.copiesNaming(tx, ids, now);
        await this.forget(tx, ids, now);
        await this.deps.salts.with(tx).forgetSignatures(ids);
        const outbox = this.deps.outbox.with(tx);
        const own = await outbox.messageIdsOfSignatures(ids);
        await outbox.scrub({ signatureIds: ids }, now);
        await this.deps.audit.with(tx).record(
          {
            actor: 'platform',
            action: 'retention',
            details: { signatures: ids.length, closedBefore: before.toISOString() },
          },
          now,
        );
        return {
          count: ids.length,
          captured: { messageIds: [...copies.messageIds, ...own], texts: addresses },
        };
      });
      if (done.count === 0) break;
      total += done.count;
      // Captured copies (the supporters' own mail, delivered letters that named them) go too.
      await this.deps.mailbox?.erase(done.captured);
    }
    if (total > 0) await this.deps.flushLog();
    return total;
  }

  /**
   * Erases a person: every signature made with the address loses its person, every message to the
   * address loses its content (unsent ones are cancelled), and captured mail mentioning it is deleted.
   * Erasing again finds nothing and does nothing. An admin's use case: a supporter erases through the
   * signed link in their own e-mail (`eraseByToken`).
   */
  async erase(address: string, by: User): Promise<ErasureResult> {
    authorize(by, 'signature.erase');
    return this.eraseAddress(address, { id: by.id, email: by.email });
  }

  private async eraseAddress(address: string, actor: AuditActor): Promise<ErasureResult> {
    const now = this.deps.clock.now();
    const hash = keyedHash(this.deps.secret, 'email', emailKey(address));
    // Captured copies are found before the transaction and deleted once it has committed: reading every
    // captured file inside it would hold the database (one connection) for the whole scan, and a
    // transaction that fails must leave them in place for the erasure asked again.
    const captured = this.deps.mailbox ? await this.capturedCopies(hash, address) : [];
    const result = await this.deps.db.transaction().execute(async (tx) => {
      const signatures = this.deps.signatures.with(tx);
      const ids = await signatures.idsByAddress(hash, address);
      // The person may have signed with another form of the address (letter case, Gmail dots or tags):
      // messages and captured mail are searched for every form they used, not only the one asked about.
      const written = new Set(
        [address, ...(await signatures.addressesOf(ids))].map((a) => a.trim().toLowerCase()),
      );
      // Read before the signatures lose their person: which compiled letters named them.
      const copies = await this.copiesNaming(tx, ids, now);
      await this.forget(tx, ids, now);
      // Recorded while the leaves still name the signatures: forgetting the salts unlinks them.
      await this.deps.erasedListings?.with(tx).markErased(ids, now);
      await this.deps.salts.with(tx).forgetSignatures(ids);
      const outbox = this.deps.outbox.with(tx);
      let messages = await outbox.scrub({ signatureIds: ids }, now);
      for (const form of written) messages += await outbox.scrub({ address: form }, now);
      const counts = { signatures: ids.length, messages, letters: copies.recompiled };
      const mailboxFiles = captured.length;
      // The log says that an erasure happened and how much it removed; never whose it was.
      await this.deps.audit
        .with(tx)
        .record({ actor, action: 'erasure', details: { ...counts, mailboxFiles } }, now);
      return { ...counts, mailboxFiles };
    });
    await this.deps.mailbox?.remove(captured);
    await this.deps.flushLog();
    return result;
  }

  /**
   * The captured messages that carry the person, read before anything changes: those with the
   * Message-ID of a compiled letter that named them or of their own mail, and those with any form of
   * the address they signed with.
   */
  private async capturedCopies(hash: string, address: string): Promise<string[]> {
    const ids = await this.deps.signatures.idsByAddress(hash, address);
    const written = [address, ...(await this.deps.signatures.addressesOf(ids))];
    const named = ids.length > 0 ? await this.deps.deliveries.deliveriesNaming(ids) : [];
    const messageIds = [
      ...(await this.deps.outbox.messageIdsOf(named.map((d) => d.outboxMessageId))),
      ...(await this.deps.outbox.messageIdsOfSignatures(ids)),
    ];
    return this.deps.mailbox?.matching({ messageIds, texts: written }) ?? [];
  }

  /**
   * Reaches the compiled letters that name these signatures, in the erasing transaction. Sent ones
   * hold no body any more (dropped once sent); one that failed keeps it for a retry, which goes now;
   * one not sent yet is cancelled and its recipient compiled again from today's annex, so no letter
   * still to go carries the name. Returns the Message-IDs of them all, to find captured copies.
   */
  private async copiesNaming(
    tx: Executor,
    signatureIds: readonly number[],
    now: Date,
  ): Promise<{ messageIds: string[]; recompiled: number }> {
    if (signatureIds.length === 0) return { messageIds: [], recompiled: 0 };
    const deliveries = this.deps.deliveries.with(tx);
    const outbox = this.deps.outbox.with(tx);
    const named = await deliveries.deliveriesNaming(signatureIds);
    await outbox.dropContentOf(
      named.filter((d) => d.status === 'failed').map((d) => d.outboxMessageId),
      now,
    );
    const cancelled = new Set(
      await outbox.cancelUnsent(
        named.filter((d) => d.status === 'queued' || d.status === 'retrying').map((d) => d.outboxMessageId),
        now,
      ),
    );
    await deliveries.recompile(
      named.filter((d) => cancelled.has(d.outboxMessageId)).map((d) => d.deliveryId),
      now,
    );
    return {
      messageIds: await outbox.messageIdsOf(named.map((d) => d.outboxMessageId)),
      recompiled: cancelled.size,
    };
  }

  /**
   * What an erase link's page shows: the button for a genuine link, "already erased" for one whose
   * address is gone (the same page and button again read as if nothing had happened), or the invalid link.
   */
  async eraseLinkState(token: string): Promise<'valid' | 'erased' | 'invalid'> {
    const ref = this.deps.mail.links.refFrom(token, 'erase');
    const signature = ref === null ? undefined : await this.deps.signatures.findByRef(ref);
    if (!signature) return 'invalid';
    return signature.email === '' ? 'erased' : 'valid';
  }

  /** A supporter erases themselves through the link in any e-mail. Harmless to repeat. */
  async eraseByToken(token: string): Promise<ErasureResult | undefined> {
    const ref = this.deps.mail.links.refFrom(token, 'erase');
    const signature = ref ? await this.deps.signatures.findByRef(ref) : undefined;
    if (!signature) return undefined;
    // Already anonymised: the address is gone, and so is everything to erase.
    if (signature.email === '') return { signatures: 0, messages: 0, letters: 0, mailboxFiles: 0 };
    return this.eraseAddress(signature.email, 'supporter');
  }

  /**
   * A supporter asks what is held about their address. The answer goes to that address only, so
   * nobody learns about someone else; the page says the same whether anything is held or not. It is a
   * readable e-mail listing each signature (letter, status, how the name appears, country, dates) and
   * how to withdraw or erase, with the complete data attached as JSON. It holds the address's own
   * signatures only: nothing of any other supporter.
   */
  async requestAccess(address: string): Promise<void> {
    const hash = keyedHash(this.deps.secret, 'email', emailKey(address));
    const held = await this.deps.signatures.heldFor(hash);
    if (held.length === 0) return;
    const now = this.deps.clock.now();
    // Written in the language the supporter last used with us, not the asking page's: anyone may ask
    // about any address, and the answer goes to the supporter, who is written to in their own language.
    // The row changed last, not the newest row: signing an old letter again after withdrawing moves an
    // older row to the language used then.
    const latest = held.reduce((last, s) =>
      s.updatedAt > last.updatedAt || (s.updatedAt.getTime() === last.updatedAt.getTime() && s.id > last.id)
        ? s
        : last,
    );
    const language = latest.interfaceLanguage;
    const titles = await this.titlesOf(held);
    const records = held.map((s) => ({
      letter: s.letterSlug,
      letterTitle: titles.get(s.id)?.title ?? s.letterSlug,
      status: accessStatus(s),
      name: s.fullName,
      shownAs: publicName(s) ?? '',
      email: s.email,
      country: countryName(s.country, language),
      city: s.city,
      organisation: s.organisation,
      title: s.jobTitle,
      language: s.language,
      interfaceLanguage: s.interfaceLanguage,
      newsAboutTheLetter: s.consentUpdates,
      signedAt: s.createdAt.toISOString(),
      confirmedAt: s.confirmedAt?.toISOString() ?? null,
      withdrawnAt: s.withdrawnAt?.toISOString() ?? null,
    }));
    const date = { format: formatsFor(language).dateAndHour };
    const links = this.deps.mail.links;
    const signatures = held.map((s, i) => {
      const languages = { interface: language, text: s.language };
      return {
        letterTitle: records[i]!.letterTitle,
        // The title is in the text read, maybe not the e-mail's language: marked so it is read out right.
        letterLanguage: titles.get(s.id)?.language ?? language,
        letterUrl: links.letterUrl(s.letterSlug, languages),
        statusKey: `emails.data-access.statuses.${records[i]!.status}`,
        name: s.fullName,
        shownAs: publicName(s),
        // Everything the attached file holds, so "here it is, complete" is true of the e-mail itself.
        email: s.email,
        country: records[i]!.country,
        city: s.city,
        organisation: s.organisation,
        jobTitle: s.jobTitle,
        newsKey: `emails.data-access.news.${s.consentUpdates ? 'yes' : 'no'}`,
        signedAt: date.format(s.createdAt),
        confirmedAt: s.confirmedAt ? date.format(s.confirmedAt) : null,
        withdrawnAt: s.withdrawnAt ? date.format(s.withdrawnAt) : null,
        // Only a signature that still counts or waits can be withdrawn.
        withdrawUrl:
          s.status === 'confirmed' || s.status === 'pending' ? links.withdrawUrl(s.ref, languages) : null,
      };
    });
    const json = JSON.stringify(records, null, 2);
    await this.deps.db.transaction().execute((tx) =>
      this.deps.mail.toSupporter(
        tx,
        {
          template: 'data-access',
          supporter: latest,
          context: { signatures, count: signatures.length, fileName: DATA_FILE },
          priority: PRIORITY.confirmation,
          attachments: [{ fileName: DATA_FILE, contentType: 'application/json', content: Buffer.from(json) }],
        },
        now,
      ),
    );
    this.deps.mail.wake();
  }

  /** Each signature's letter title, in the text the supporter read, of the version they signed. */
  private async titlesOf(
    held: readonly Signature[],
  ): Promise<Map<number, { title: string; language: string }>> {
    const titles = new Map<number, { title: string; language: string }>();
    const versions = await this.deps.letters.textsOfVersions([
      ...new Set(held.map((s) => s.letterVersionId)),
    ]);
    for (const s of held) {
      const letter = await this.deps.letters.findById(s.letterId);
      const text =
        letter && textIn(versions.get(s.letterVersionId) ?? [], s.language, letter.primaryLanguage);
      if (text) titles.set(s.id, { title: text.title, language: text.language });
    }
    return titles;
  }
}
