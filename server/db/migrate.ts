import { Migrator, type MigrationResultSet, type Migration, type MigrationProvider } from 'kysely';
import type { Db } from './database.js';
import { dialectOf } from './dialect.js';
import * as initial from './migrations/2026-11-23-initial.js';
import * as accounts from './migrations/2026-11-23T14-accounts-and-letter-editing.js';
import * as deliveries from './migrations/2026-11-23T16-deliveries.js';
import * as signerData from './migrations/2026-11-23T18-signer-data.js';
import * as auditNoReplace from './migrations/2026-11-23T20-audit-log-no-replace.js';
import * as outboxContents from './migrations/2026-11-23T21-outbox-contents.js';
import * as outboxSentDigest from './migrations/2026-12-05T02-outbox-sent-digest.js';
import * as pendingLetterChanges from './migrations/2026-12-05T03-pending-letter-changes.js';
import * as loginThrottlesPerClient from './migrations/2026-12-05T04-login-throttles-per-client-and-password-reset.js';
import * as deliveryRoundFailure from './migrations/2026-12-05T05-delivery-round-failure.js';
import * as signingLimits from './migrations/2026-12-05T06-signing-limits.js';
import * as abuseLists from './migrations/2026-12-05T07-abuse-lists.js';
import * as deliverySettings from './migrations/2026-12-05T08-delivery-settings.js';
import * as signatureInterfaceLanguage from './migrations/2026-12-05T09-signature-interface-language.js';
import * as accountLanguage from './migrations/2026-12-05T10-account-language.js';
import * as recipientSalutations from './migrations/2026-12-05T11-recipient-salutations.js';
import * as supporterInterfaceLanguage from './migrations/2026-12-05T12-supporter-interface-language.js';
import * as signaturesByLetter from './migrations/2026-12-05T14-signatures-by-letter.js';
import * as postgresBaseline from './migrations/postgres/2026-12-05T16-postgres-baseline.js';
import * as scheduledJobLeases from './migrations/2026-12-05T17-scheduled-job-leases.js';
import * as domainPacing from './migrations/2026-12-05T18-domain-pacing.js';
import * as embedOrigins from './migrations/2026-12-05T19-embed-origins.js';
import * as apiTokensAndWebhooks from './migrations/2026-12-05T20-api-tokens-and-webhooks.js';
import * as commitments from './migrations/2026-12-06T01-commitments.js';
import * as deliveryReplies from './migrations/2026-12-06T02-delivery-replies.js';
import * as deliveryReplyIndexes from './migrations/2026-12-06T02-delivery-replies-indexes.js';
import * as escalation from './migrations/2026-12-06T03-escalation.js';
import * as errata from './migrations/2026-12-06T04-errata.js';
import * as signingIndexes from './migrations/2026-12-06T05-signing-indexes.js';
import * as replySenderDomain from './migrations/2026-12-06T06-reply-sender-domain.js';
import * as roundAudiences from './migrations/2026-12-06T07-round-audiences.js';
import * as reviewReturns from './migrations/2026-12-07T01-review-returns.js';
import * as invitationMessages from './migrations/2026-12-07T02-invitation-messages.js';
import * as hiddenCountries from './migrations/2026-12-07T03-hidden-countries.js';
import * as recipientNames from './migrations/2026-12-07T04-recipient-names.js';
import * as letterSenderNames from './migrations/2026-12-07T05-letter-sender-names.js';

/**
 * The migrations, listed by hand rather than read from a folder, so the compiled build and tsx run the
 * same list. Names are dated and sort in the order they run. Each database has its own start: SQLite the
 * eighteen it grew through, PostgreSQL one baseline that creates the same schema
 * (docs/decisions/2026-12-05-migrations-on-two-databases.md); every migration after that is shared.
 */
const sqliteStart: Record<string, Migration> = {
  '2026-11-23-initial': initial,
  '2026-11-23T14-accounts-and-letter-editing': accounts,
  '2026-11-23T16-deliveries': deliveries,
  '2026-11-23T18-signer-data': signerData,
  '2026-11-23T20-audit-log-no-replace': auditNoReplace,
  '2026-11-23T21-outbox-contents': outboxContents,
  '2026-12-05T02-outbox-sent-digest': outboxSentDigest,
  '2026-12-05T03-pending-letter-changes': pendingLetterChanges,
  '2026-12-05T04-login-throttles-per-client-and-password-reset': loginThrottlesPerClient,
  '2026-12-05T05-delivery-round-failure': deliveryRoundFailure,
  '2026-12-05T06-signing-limits': signingLimits,
  '2026-12-05T07-abuse-lists': abuseLists,
  '2026-12-05T08-delivery-settings': deliverySettings,
  '2026-12-05T09-signature-interface-language': signatureInterfaceLanguage,
  '2026-12-05T10-account-language': accountLanguage,
  '2026-12-05T11-recipient-salutations': recipientSalutations,
  '2026-12-05T12-supporter-interface-language': supporterInterfaceLanguage,
  '2026-12-05T14-signatures-by-letter': signaturesByLetter,
};

const postgresStart: Record<string, Migration> = {
  '2026-12-05T16-postgres-baseline': postgresBaseline,
};

/**
 * Run by both databases, after their start: written in SQL both accept, so each is one file. Named after
 * the baseline (2026-12-05T16), so they sort after either start.
 */
const shared: Record<string, Migration> = {
  '2026-12-05T17-scheduled-job-leases': scheduledJobLeases,
  '2026-12-05T18-domain-pacing': domainPacing,
  '2026-12-05T19-embed-origins': embedOrigins,
  '2026-12-05T20-api-tokens-and-webhooks': apiTokensAndWebhooks,
  '2026-12-06T01-commitments': commitments,
  '2026-12-06T02-delivery-replies': deliveryReplies,
  '2026-12-06T02-delivery-replies-indexes': deliveryReplyIndexes,
  '2026-12-06T03-escalation': escalation,
  '2026-12-06T04-errata': errata,
  '2026-12-06T05-signing-indexes': signingIndexes,
  '2026-12-06T06-reply-sender-domain': replySenderDomain,
  '2026-12-06T07-round-audiences': roundAudiences,
  '2026-12-07T01-review-returns': reviewReturns,
  '2026-12-07T02-invitation-messages': invitationMessages,
  '2026-12-07T03-hidden-countries': hiddenCountries,
  '2026-12-07T04-recipient-names': recipientNames,
  '2026-12-07T05-letter-sender-names': letterSenderNames,
};

/** The chain a database runs: its own start, then the shared migrations. */
export function migrationsFor(db: Db): Record<string, Migration> {
  return { ...(dialectOf(db) === 'postgres' ? postgresStart : sqliteStart), ...shared };
}

function migratorFor(db: Db): Migrator {
  const migrations = migrationsFor(db);
  const provider: MigrationProvider = { getMigrations: async () => migrations };
  return new Migrator({ db, provider });
}

/** Brings the database to the latest schema; throws with the failing migration's name. */
export async function migrateToLatest(db: Db): Promise<string[]> {
  return ranOrThrow(await migratorFor(db).migrateToLatest());
}

/**
 * Brings the database to the schema as it stood after the named migration, from the same list: for the
 * tests of a later migration, which need the rows it finds.
 */
export async function migrateTo(db: Db, name: string): Promise<string[]> {
  if (!(name in migrationsFor(db))) throw new Error(`no migration named ${name}`);
  return ranOrThrow(await migratorFor(db).migrateTo(name));
}

function ranOrThrow({ error, results }: MigrationResultSet): string[] {
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    const why = error instanceof Error ? error.message : String(error);
    // No migration ran at all: the database itself could not be reached or read ("Migration unknown").
    throw new Error(failed ? `Migration ${failed} failed: ${why}` : `Could not migrate the database: ${why}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
