import type { LetterEvents } from '../letters/letter-events.js';
import { CompiledQuery } from 'kysely';
import type { Db, Tx } from '../db/database.js';
import type { GroupCommit } from '../db/group-commit.js';
import type { NewSignatureRow } from '../db/tables.js';
import { canConfirm, headingIn, signingState, type Letter, type SigningState } from '../letters/letter.js';
import type { LetterRepository } from '../letters/letter-repository.js';
import type { Clock } from '../lib/clock.js';
import { notFound } from '../lib/errors.js';
import { randomRef } from '../lib/ids.js';
import { keyedHash } from '../lib/keyed-hash.js';
import { DEFAULT_LANGUAGE, interfaceLanguage, type InterfaceLanguage } from '../lib/i18n.js';
import type { OutboxRepository } from '../outbox/outbox-repository.js';
import {
  emailKey,
  isSuspect,
  mergeVerdicts,
  onSigningAgain,
  publicDetails,
  statusShown,
  storedReasons,
  type ResignOutcome,
  type Signature,
} from './signature.js';
import type {
  ScreenInTransaction,
  ScreeningVerdict,
  SigningAttempt,
  SigningScreen,
} from './signing-screen.js';
import type { SigningInput } from './signature-input.js';
import { moveSignature } from './signature-moves.js';
import type { SignatureRepository } from './signature-repository.js';
import type { PlatformMail } from '../mail/platform-mail.js';
import type { TokenPurpose } from '../mail/signature-tokens.js';

export interface SignatureServiceDeps {
  db: Db;
  /** Signing writes share commits with the signings that arrive with them (db/group-commit.ts). */
  writes: GroupCommit;
  letters: LetterRepository;
  signatures: SignatureRepository;
  outbox: OutboxRepository;
  clock: Clock;
  secret: string;
  /** Checks every signing attempt passes (limits, lists, proof of work); what they find is stored with it. */
  screens: readonly SigningScreen[];
  /** Queues the confirmation e-mail and wakes the worker; reads the signed links back. */
  mail: PlatformMail;
  /** Hears confirmations and withdrawals in their transaction (webhooks); none when unset. */
  events?: LetterEvents;
}

/** What happened to a signing attempt. `check-inbox` is deliberately the same whatever the address's history. */
export type SignOutcome =
  { kind: 'check-inbox'; letter: Letter } | { kind: 'not-signable'; letter: Letter; state: SigningState };

export type ConfirmOutcome =
  | { kind: 'confirmed'; letter: Letter }
  | { kind: 'withdrawn'; letter: Letter }
  | { kind: 'too-late'; letter: Letter };

export type WithdrawOutcome = { kind: 'withdrawn'; letter: Letter };

/** What a signing attempt does: a first signature, or what signing again does (onSigningAgain). */
type SigningOutcome = 'new-signature' | ResignOutcome;

/** Whether a group of writes is made for real or on a stand-in that is rolled back. */
type Writes = 'real' | 'stand-in';

/**
 * Constant work: whether an address has signed must not show in how long signing takes, in the
 * spirit of the login's decoy password hash (accounts/passwords.ts). A new signature makes two groups
 * of writes: the signature row, then its confirmation e-mail queued and counted. Every attempt makes
 * both groups, each inside a savepoint; a group the outcome does not want is made anyway, on a
 * stand-in, and rolled back to its savepoint at once, so it changes no data and queues no mail:
 * - new signature: both for real;
 * - pending, re-sent: the signature on a stand-in (another, random address hash), the e-mail for real;
 * - confirmed: the signature on a stand-in, the e-mail ("you have already signed") for real;
 * - withdrawn, starting over: both for real (the signature by an update, one statement like the insert);
 * - invalidated, or past the most e-mails: the signature on a stand-in, the e-mail for the existing
 *   signature, both rolled back.
 * Each group has its own savepoint because SQLite journals a savepoint's pages in memory only up to
 * 64 KiB and then in a temporary file, which would make the rolled-back writes slower than real ones.
 * Measured in bench/signing-timing.bench.ts; the statements are compared in
 * tests/integration/signatures/signing-constant-work.test.ts.
 */
const CONSTANT_WORK: Readonly<Record<SigningOutcome, { signature: Writes; confirmation: Writes }>> = {
  'new-signature': { signature: 'real', confirmation: 'real' },
  'resend-confirmation': { signature: 'stand-in', confirmation: 'real' },
  'tell-already-signed': { signature: 'stand-in', confirmation: 'real' },
  'restart-as-pending': { signature: 'real', confirmation: 'real' },
  nothing: { signature: 'stand-in', confirmation: 'stand-in' },
};

// The same text on both databases, made once: each signing runs two of each (CONSTANT_WORK).
const SAVEPOINT = CompiledQuery.raw('savepoint signing_writes');
const ROLLBACK_TO_SAVEPOINT = CompiledQuery.raw('rollback to savepoint signing_writes');
const RELEASE_SAVEPOINT = CompiledQuery.raw('release savepoint signing_writes');

/** The signing use cases: sign, confirm, withdraw. */
export class SignatureService {
  constructor(private readonly deps: SignatureServiceDeps) {}

  /**
   * Records a pending signature and queues its confirmation e-mail in one transaction. Signing again
   * with the same address never creates a second signature; it re-sends the confirmation a limited
   * number of times, and the supporter sees the same page either way, so the page reveals nothing
   * about whether an address has signed. Nor does the time it takes: every attempt makes the same
   * writes, the unwanted ones on a stand-in that is rolled back (CONSTANT_WORK).
   *
   * Every attempt passes the screens first. A signature they find suspect (over a signing limit, on a
   * block list…) is answered and e-mailed exactly like any other, so an attacker learns nothing, but it
   * is stored with its reasons and never confirmed or counted until an admin clears it.
   */
  async sign(
    letter: Letter,
    input: SigningInput,
    context: {
      /** The language of the letter text the supporter read. */
      language: string;
      /**
       * The interface language they signed in: their e-mails are written in it. Always one of the
       * interface languages, never the text's language, which may be one the interface does not have.
       */
      interfaceLanguage: InterfaceLanguage;
      ip: string | undefined;
      proof?: string | undefined;
    },
  ): Promise<SignOutcome> {
    const now = this.deps.clock.now();
    const state = signingState(letter, now);
    if (state !== 'open') return { kind: 'not-signable', letter, state };
    const { secret } = this.deps;
    const emailHash = keyedHash(secret, 'email', emailKey(input.email));
    const ipHash = context.ip ? keyedHash(secret, 'ip', context.ip) : null;
    const attempt: SigningAttempt = {
      letterId: letter.id,
      email: input.email,
      ip: context.ip,
      proof: context.proof,
      now,
      // Made once here for the signature and the block lists alike.
      hashes: { email: emailHash, ip: ipHash ?? undefined },
    };
    // What the screens find now, and what they still have to write and count in the signing's transaction.
    const screened = await Promise.all(
      this.deps.screens.map((s) => (s.inTransaction ? s.inTransaction(attempt) : s.screen(attempt))),
    );
    const found = screened.filter((v): v is ScreeningVerdict => typeof v !== 'function');
    const inTransaction = screened.filter((v): v is ScreenInTransaction => typeof v === 'function');
    const at = now.toISOString();
    const details = {
      full_name: input.fullName,
      email: input.email.trim(),
      country: input.country,
      city: input.city,
      organisation: input.organisation,
      job_title: input.jobTitle,
      display: input.display,
      language: context.language,
      // Checked here too: the e-mails' words, number formats and links all follow this one value.
      interface_language: interfaceLanguage(context.interfaceLanguage) ?? DEFAULT_LANGUAGE,
      consent_updates: input.consentUpdates ? 1 : 0,
      ip_hash: ipHash,
      updated_at: at,
    };

    const newSignature = (
      hash: string,
      findings: Pick<NewSignatureRow, 'suspect_reasons' | 'review_reasons'>,
    ): Omit<NewSignatureRow, 'status'> => ({
      ...details,
      letter_id: letter.id,
      letter_version_id: letter.currentVersionId,
      ref: randomRef(),
      email_hash: hash,
      confirmation_sends: 0,
      created_at: at,
      ...findings,
    });
    // Made before knowing whether it is needed, so that knowing costs nothing (see CONSTANT_WORK).
    const standInHash = keyedHash(secret, 'stand-in', randomRef());

    // Acknowledged only once the commit that holds these writes is done (group commit).
    const queued = await this.deps.writes.run(async (tx) => {
      // Screened first, in every attempt alike (CONSTANT_WORK): one after the other, on the one connection.
      const verdicts = [...found];
      for (const screen of inTransaction) verdicts.push(await screen(tx));
      const verdict = mergeVerdicts(verdicts);
      const findings = {
        suspect_reasons: storedReasons(verdict.suspect),
        review_reasons: storedReasons(verdict.review),
      };
      const signatures = this.deps.signatures.with(tx);
      const existing = await signatures.findByLetterAndEmailHash(letter.id, emailHash);
      const outcome: SigningOutcome = existing ? onSigningAgain(existing) : 'new-signature';
      const work = CONSTANT_WORK[outcome];

      // The signature row: written for real, or on a stand-in that is rolled back.
      const written = await this.writesKeptIf(tx, work.signature === 'real', () => {
        switch (outcome) {
          case 'new-signature':
            // Undefined when the same address signed at the same moment in another request: it queued the e-mail.
            return signatures.insertPending(newSignature(emailHash, findings));
          case 'restart-as-pending':
            // A withdrawn supporter signing again starts over with what they entered now.
            return moveSignature(
              tx,
              this.deps,
              {
                id: existing!.id,
                from: 'withdrawn',
                to: 'pending',
                details: {
                  ...details,
                  letter_version_id: letter.currentVersionId,
                  // A new start is screened as a new signature.
                  ...findings,
                  confirm_requested_at: null,
                },
              },
              now,
            );
          case 'resend-confirmation':
          case 'tell-already-signed':
          case 'nothing':
            return signatures.insertPending(newSignature(standInHash, findings));
        }
      });
      // What screening finds now is not added to a signature made earlier (a re-send): otherwise anyone
      // could silence a supporter's signature by signing again with their address from a busy connection.
      // The signature the e-mail is about; undefined when a write lost a race to another request.
      const signature = work.signature === 'real' ? written : existing;

      // The e-mail queued and counted: for real, or for the address's signature and rolled back. The
      // same statement whatever it says: only the message's kind differs.
      const queue = work.confirmation === 'real' && signature !== undefined;
      const target = signature ?? existing;
      // Only a new signature that lost a race to the same address has no row at all; that request sends nothing.
      if (!target) return false;
      const kind = outcome === 'tell-already-signed' ? 'signature-already-signed' : 'signature-confirmation';
      // The notice answers this attempt: in the language it was made in. A confirmation keeps the
      // signature's (its first e-mail's), whoever signs again.
      const language =
        kind === 'signature-already-signed' ? details.interface_language : target.interfaceLanguage;
      await this.writesKeptIf(tx, queue, async () => {
        await this.deps.mail.signingMailFor(tx, { ...target, interfaceLanguage: language }, kind, now);
        await signatures.recordConfirmationSent(target.id, now);
      });
      return queue;
    });
    // The worker is woken only once this turn of the event loop is over, when the answer has been
    // written: rendering and sending the e-mail in the same process must not delay it (CONSTANT_WORK).
    if (queued) setImmediate(() => this.deps.mail.wake());
    return { kind: 'check-inbox', letter };
  }

  /** The signature a link in an e-mail points to, with its letter; 404 for a forged or stale link. */
  async findByToken(token: string, purpose: TokenPurpose): Promise<{ signature: Signature; letter: Letter }> {
    const ref = this.deps.mail.links.refFrom(token, purpose);
    const signature = ref ? await this.deps.signatures.findByRef(ref) : undefined;
    const letter = signature ? await this.deps.letters.findById(signature.letterId) : undefined;
    if (!signature || !letter) throw notFound('signature_link_invalid', 'errors.signatureLink.invalid');
    return { signature, letter };
  }

  /**
   * What a link's page says the signature is: the letter's title in the text `textLanguage` (the one
   * read) where it has it, and how it appears (with its title and organisation for a full name), will
   * appear once confirmed, or no longer does once withdrawn. Someone who signed several letters can
   * tell which one the button acts on.
   */
  async describe(
    signature: Signature,
    letter: Letter,
    textLanguage: string,
  ): Promise<{
    title: string;
    titleLanguage: string;
    shownAs: string | null;
    pending: boolean;
    withdrawn: boolean;
  }> {
    // The headings only (the list pages' read), not the bodies: a title is all the page shows.
    const headings = await this.deps.letters.headingsOfVersions([letter.currentVersionId]);
    const heading = headingIn(
      headings.get(letter.currentVersionId) ?? [],
      textLanguage,
      letter.primaryLanguage,
    );
    return {
      title: heading?.title ?? letter.slug,
      titleLanguage: heading?.language ?? letter.primaryLanguage,
      shownAs: publicDetails(signature),
      // As its supporter is told it (statusShown): a held signature whose link was pressed is not "pending".
      pending: statusShown(signature) === 'pending',
      withdrawn: signature.status === 'withdrawn',
    };
  }

  /**
   * Where the person behind a signature can erase everything held about their address: the withdraw
   * page offers it, since withdrawing alone keeps their details, unseen, until retention erases them.
   */
  erasePathOf(signature: Pick<Signature, 'ref'>): string {
    return this.deps.mail.links.erasePath(signature.ref);
  }

  /**
   * Confirms a pending signature and counts it. Confirming again is harmless and counts nothing.
   * A suspect signature shows the same "confirmed" outcome but moves nothing: the click is only
   * remembered, so that clearing it in moderation confirms it then.
   */
  async confirm(token: string): Promise<ConfirmOutcome> {
    const { signature, letter } = await this.findByToken(token, 'confirm');
    if (signature.status === 'confirmed') return { kind: 'confirmed', letter };
    if (signature.status === 'withdrawn' || signature.status === 'invalidated')
      return { kind: 'withdrawn', letter };
    if (!canConfirm(letter)) return { kind: 'too-late', letter };
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (tx) => {
      // Only the confirmation that moved the row counts it, so a double click counts once; a suspect
      // signature does not move (moveSignatures), and the click is remembered instead.
      const moved = await moveSignature(
        tx,
        this.deps,
        { id: signature.id, from: 'pending', to: 'confirmed' },
        now,
      );
      if (!moved && isSuspect(signature))
        await this.deps.signatures.with(tx).recordConfirmRequest(signature.id, now);
      if (moved)
        await this.deps.events?.record(
          tx,
          { type: 'signature.confirmed', letterId: letter.id, signatureId: signature.id },
          now,
        );
    });
    return { kind: 'confirmed', letter };
  }

  /** Withdraws a signature: it leaves the count and every list. Withdrawing twice is harmless. */
  async withdraw(token: string): Promise<WithdrawOutcome> {
    const { signature, letter } = await this.findByToken(token, 'withdraw');
    const now = this.deps.clock.now();
    if (signature.status !== 'confirmed' && signature.status !== 'pending')
      return { kind: 'withdrawn', letter };
    const from = signature.status;
    await this.deps.db.transaction().execute(async (tx) => {
      const moved = await moveSignature(tx, this.deps, { id: signature.id, from, to: 'withdrawn' }, now);
      // The confirmation e-mail still waiting in the queue is no longer wanted.
      if (moved && from === 'pending')
        await this.deps.outbox.with(tx).cancelUnsentForSignature(signature.id, now);
      if (moved && from === 'confirmed')
        await this.deps.events?.record(
          tx,
          { type: 'signature.withdrawn', letterId: letter.id, signatureId: signature.id },
          now,
        );
    });
    return { kind: 'withdrawn', letter };
  }

  /**
   * Runs one group of a signing's writes inside a savepoint, then keeps them, or rolls them back when
   * they were made only so that every attempt does the same work (CONSTANT_WORK): rolled back, they
   * leave no row and queue no mail. Kept writes pass through a savepoint too, so both journal alike.
   */
  private async writesKeptIf<T>(tx: Tx, keep: boolean, writes: () => Promise<T>): Promise<T> {
    await tx.executeQuery(SAVEPOINT);
    const result = await writes();
    if (!keep) await tx.executeQuery(ROLLBACK_TO_SAVEPOINT);
    await tx.executeQuery(RELEASE_SAVEPOINT);
    return result;
  }
}
