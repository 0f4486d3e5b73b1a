import { randomBytes } from 'node:crypto';
import type { Db } from '../../server/db/database.js';
import { keyedHash } from '../../server/lib/keyed-hash.js';
import type { SignatureStatus } from '../../server/signatures/signature.js';
import { emailKey } from '../../server/signatures/signature.js';
import { signatureToken } from '../../server/mail/signature-tokens.js';

/** A signature as it may already be in the database: imported, old, or with characters the form refuses now. */
export interface StoredSignature {
  name: string;
  email: string;
  status: SignatureStatus;
  country: string;
  /** When it was signed (ISO); confirmed an hour later, withdrawn or invalidated two hours later. */
  createdAt: string;
  consent?: boolean;
  display?: 'full' | 'initials' | 'hidden';
}

/** Inserts a signature on the letter's current version directly, without the signing journey. */
export async function storeSignature(
  db: Db,
  secret: string,
  letterId: number,
  signature: StoredSignature,
): Promise<number> {
  const letter = await db
    .selectFrom('letters')
    .select('current_version_id')
    .where('id', '=', letterId)
    .executeTakeFirstOrThrow();
  const at = (offsetMs: number) => new Date(Date.parse(signature.createdAt) + offsetMs).toISOString();
  const { status } = signature;
  const row = await db
    .insertInto('signatures')
    .values({
      letter_id: letterId,
      letter_version_id: letter.current_version_id!,
      ref: randomBytes(12).toString('base64url'),
      status,
      full_name: signature.name,
      email: signature.email,
      email_hash: keyedHash(secret, 'email', emailKey(signature.email)),
      country: signature.country,
      city: '',
      organisation: '',
      job_title: '',
      display: signature.display ?? 'full',
      language: 'en',
      consent_updates: signature.consent ? 1 : 0,
      ip_hash: null,
      confirmation_sends: 1,
      created_at: signature.createdAt,
      confirmed_at: status === 'pending' ? null : at(3_600_000),
      withdrawn_at: status === 'withdrawn' ? at(7_200_000) : null,
      updated_at: signature.createdAt,
      invalidated_at: status === 'invalidated' ? at(7_200_000) : null,
      invalidated_reason: status === 'invalidated' ? 'spam' : null,
      status_before_invalidation: status === 'invalidated' ? 'confirmed' : null,
      anonymised_at: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/**
 * A signature stored pending at `createdAt` and confirmed through its link, as a supporter would (the
 * confirmation's side effects, webhooks among them, follow); returns its ref.
 */
export async function storeAndConfirm(
  platform: { db: Db; appDeps: { signatures: { confirm(token: string): Promise<unknown> } } },
  secret: string,
  letterId: number,
  signature: Omit<StoredSignature, 'status'>,
): Promise<string> {
  const id = await storeSignature(platform.db, secret, letterId, { ...signature, status: 'pending' });
  const { ref } = await platform.db
    .selectFrom('signatures')
    .select('ref')
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  await platform.appDeps.signatures.confirm(signatureToken(secret, ref, 'confirm'));
  return ref;
}
