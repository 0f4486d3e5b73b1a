import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

/**
 * The typed schema. Timestamps are ISO-8601 UTC text (sortable as text; portable to Postgres),
 * booleans are 0/1 integers. Migrations in ./migrations are the source of truth; this mirrors them.
 */
export interface Database {
  letters: LettersTable;
  letter_versions: LetterVersionsTable;
  letter_texts: LetterTextsTable;
  recipients: RecipientsTable;
  recipient_salutations: RecipientSalutationsTable;
  recipient_names: RecipientNamesTable;
  letter_recipients: LetterRecipientsTable;
  signatures: SignaturesTable;
  outbox_messages: OutboxMessagesTable;
  users: UsersTable;
  login_throttles: LoginThrottlesTable;
  sessions: SessionsTable;
  letter_collaborators: LetterCollaboratorsTable;
  settings: SettingsTable;
  letter_country_counts: LetterCountryCountsTable;
  delivery_rounds: DeliveryRoundsTable;
  round_audiences: RoundAudiencesTable;
  delivery_settings: DeliverySettingsTable;
  deliveries: DeliveriesTable;
  outbox_attachments: OutboxAttachmentsTable;
  outbox_contents: OutboxContentsTable;
  audit_events: AuditEventsTable;
  recipient_imports: RecipientImportsTable;
  signing_hits: SigningHitsTable;
  limit_counters: LimitCountersTable;
  proof_of_work_solutions: ProofOfWorkSolutionsTable;
  abuse_list_entries: AbuseListEntriesTable;
  scheduled_job_leases: ScheduledJobLeasesTable;
  domain_pacing: DomainPacingTable;
  api_tokens: ApiTokensTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  signature_salts: SignatureSaltsTable;
  round_commitments: RoundCommitmentsTable;
  round_leaves: RoundLeavesTable;
  delivery_replies: DeliveryRepliesTable;
  escalation_schedules: EscalationSchedulesTable;
  escalation_steps: EscalationStepsTable;
}

export interface LettersTable {
  id: Generated<number>;
  slug: string;
  status: string;
  primary_language: string;
  sponsor: string;
  goal: number | null;
  opens_at: string | null;
  closes_at: string | null;
  current_version_id: number | null;
  /** Confirmed signatures, kept in the confirming transaction so no page view counts rows. */
  signature_count: Generated<number>;
  created_at: string;
  updated_at: string;
  /** The organizer who owns the letter; null for demo letters and letters whose owner was removed. */
  owner_id: number | null;
  close_on_goal: Generated<number>;
  /** Co-signing organisations, one per line, as the organizer wrote them. */
  organisations: Generated<string>;
  review_requested_at: string | null;
  published_at: string | null;
  closed_at: string | null;
  /** Changes to a published letter waiting for an admin's review (JSON), when, and by whom. */
  pending_edit: string | null;
  pending_edit_at: string | null;
  pending_edit_by: number | null;
  /** When an admin last sent the letter or its changes back from review, and what they wrote ('' for nothing). */
  returned_at: string | null;
  returned_note: Generated<string>;
  /** The https origins allowed to frame the letter's embed, one per line; '' lets any site. */
  embed_origins: Generated<string>;
}

export interface LetterVersionsTable {
  id: Generated<number>;
  letter_id: number;
  number: number;
  created_at: string;
  created_by: number | null;
}

/** One translation of one letter version. */
export interface LetterTextsTable {
  letter_version_id: number;
  language: string;
  title: string;
  summary: string;
  body: string;
}

export interface RecipientsTable {
  id: Generated<number>;
  name: string;
  title: string;
  organisation: string;
  country: string | null;
  email: string;
  language: string;
  notes: string;
  created_at: string;
  bouncing_at: Generated<string | null>;
  bounce_reply: Generated<string | null>;
}

/** A recipient's salutation in one language (the one place salutations live). */
export interface RecipientSalutationsTable {
  recipient_id: number;
  language: string;
  salutation: string;
}

/** A recipient's name, title and institution in another interface language, for the public pages. */
export interface RecipientNamesTable {
  recipient_id: number;
  language: string;
  name: string;
  title: string;
  organisation: string;
}

export interface LetterRecipientsTable {
  letter_id: number;
  recipient_id: number;
  position: number;
  /** 1 embassy, 2 ministry, 3 head of state: the order an escalation reaches them in. */
  tier: Generated<number>;
}

export interface SignaturesTable {
  id: Generated<number>;
  letter_id: number;
  letter_version_id: number;
  ref: string;
  status: string;
  full_name: string;
  email: string;
  email_hash: string;
  country: string;
  city: string;
  organisation: string;
  job_title: string;
  display: string;
  /** The language of the letter text the supporter read (the text they signed). */
  language: string;
  /** The language of the pages they signed on: every e-mail to them is written in it. */
  interface_language: Generated<string>;
  consent_updates: number;
  ip_hash: string | null;
  confirmation_sends: number;
  created_at: string;
  confirmed_at: string | null;
  withdrawn_at: string | null;
  updated_at: string;
  invalidated_at: string | null;
  invalidated_reason: string | null;
  status_before_invalidation: string | null;
  /** Set when retention or erasure removed the person from the row; the row still counts. */
  anonymised_at: string | null;
  /** Why screening silenced it (comma-separated codes): never confirmed or counted until cleared. */
  suspect_reasons: string | null;
  /** Why screening flagged it for moderation (comma-separated codes); it counts as usual. */
  review_reasons: string | null;
  /** When the supporter of a silenced signature clicked its confirmation link. */
  confirm_requested_at: string | null;
}

export interface OutboxMessagesTable {
  id: Generated<number>;
  kind: string;
  priority: number;
  signature_id: number | null;
  to_address: string;
  message_id: string;
  status: string;
  attempts: Generated<number>;
  next_attempt_at: string;
  lease_expires_at: string | null;
  claimed_by: string | null;
  last_reply: string | null;
  sent_at: string | null;
  created_at: string;
  updated_at: string;
  /** The recipient's domain, lower-cased: the unit of politeness. */
  domain: Generated<string>;
  reply_to: string | null;
  /** After this, a temporary failure is final; reset when an admin retries. */
  give_up_at: string | null;
  delivery_round_id: number | null;
  bounced_at: string | null;
  attachment_count: Generated<number>;
  /** SHA-256 (hex) of the exact bytes handed to SMTP, kept once the body is dropped after sending. */
  sent_sha256: Generated<string | null>;
  /** Size in bytes of what was handed to SMTP. */
  sent_size: Generated<number | null>;
  /** When the content and attachments were deleted (sent, cancelled, erased, or failed long ago). */
  content_removed_at: Generated<string | null>;
  /** Set when the worker renders the message just before sending (in this language), not the enqueuer. */
  render_language: Generated<string | null>;
}

/** How and when a letter goes, as its organizer chose (no row: the deliveries' default). */
export interface DeliverySettingsTable {
  letter_id: number;
  mode: string;
  milestone_every: number | null;
  deliver_at: string | null;
  /** The organisation's address for replies (Reply-To of delivered letters); '' for none. */
  reply_to: Generated<string>;
  /** The last milestone an update was sent for; 0 before the first. */
  last_milestone: Generated<number>;
  updated_at: string;
}

export interface DeliveryRoundsTable {
  id: Generated<number>;
  letter_id: number;
  letter_version_id: number;
  kind: string;
  trigger: string;
  status: string;
  /** Confirmed signatures when the round was asked for: the figure the compiled letters state. */
  signature_count: number;
  milestone: number | null;
  test_address: string | null;
  requested_by: number | null;
  request_key: string | null;
  notified_at: string | null;
  created_at: string;
  updated_at: string;
  /** Why a round failed before anything was queued (JSON: code and figures), else null. */
  failure: string | null;
  /** The tiers of recipients it goes to (inclusive); both null: every recipient of the letter. */
  tier_from: Generated<number | null>;
  tier_to: Generated<number | null>;
  /** 1: its audience was kept when it started (round_audiences); 0: a test, or a round from before. */
  audience_kept: Generated<number>;
}

/** A recipient a delivery round was started for, and the tier it reached them in. */
export interface RoundAudiencesTable {
  round_id: number;
  recipient_id: number;
  tier: number;
}

/** One compiled letter for one recipient in one round; its sending is the outbox message. */
export interface DeliveriesTable {
  id: Generated<number>;
  delivery_round_id: number;
  recipient_id: number | null;
  recipient_name: string;
  language: string;
  outbox_message_id: number;
  created_at: string;
}

/** One entry of the append-only audit log (database triggers refuse updates and deletes). */
export interface AuditEventsTable {
  id: Generated<number>;
  at: string;
  actor_user_id: number | null;
  actor_email: string;
  action: string;
  target_type: string;
  target_id: string;
  details: string;
}

/** The rendered e-mail of an outbox message, written once, apart from the queue state that changes. */
export interface OutboxContentsTable {
  outbox_message_id: number;
  subject: string;
  text_body: string;
  html_body: string;
  headers: Generated<string>;
  /** The name it is sent under beside the platform's From address ("<organisation> via …"); null: as configured. */
  from_name: Generated<string | null>;
}

export interface OutboxAttachmentsTable {
  id: Generated<number>;
  outbox_message_id: number;
  file_name: string;
  content_type: string;
  content: Buffer;
}

export interface UsersTable {
  id: Generated<number>;
  email: string;
  role: string;
  password_hash: string;
  must_change_password: number;
  disabled_at: string | null;
  last_login_at: string | null;
  created_at: string;
  updated_at: string;
  invite_token_hash: string | null;
  invite_expires_at: string | null;
  /** The queued message of the latest invitation (outbox_messages.id, no foreign key); null before it. */
  invitation_message_id: Generated<number | null>;
  /** Keyed hash of the account's password reset link, when it expires, and when it was used. */
  reset_token_hash: Generated<string | null>;
  reset_expires_at: Generated<string | null>;
  reset_used_at: Generated<string | null>;
  /** The language the platform's e-mails to the account are written in. */
  language: Generated<string>;
}

export interface LoginThrottlesTable {
  key_hash: string;
  failures: number;
  locked_until: string | null;
  updated_at: string;
  /** Keyed hash of the address tried, on per-account and per-(account, client) rows; null on per-client rows. */
  account_hash: Generated<string | null>;
}

/** Server-side sessions; the id is stored only as a hash, so a copy of the database opens no session. */
export interface SessionsTable {
  sid_hash: string;
  user_id: number | null;
  data: string;
  expires_at: string;
}

export interface LetterCollaboratorsTable {
  letter_id: number;
  user_id: number;
  created_at: string;
}

/** Confirmed signatures of a letter from one country, kept as a counter. */
export interface LetterCountryCountsTable {
  letter_id: number;
  country: string;
  count: number;
}

/** Settings that admins change in the app (not in the environment). */
export interface SettingsTable {
  key: string;
  value: string;
  updated_at: string;
}

/** A CSV import between its preview and its confirmation. */
export interface RecipientImportsTable {
  id: string;
  user_id: number;
  file_name: string;
  source: string;
  created_at: string;
}

/** One signing attempt, keyed by a keyed hash of client address and letter: the signing limits' windows. */
export interface SigningHitsTable {
  id: Generated<number>;
  key_hash: string;
  hit_at_ms: number;
}

/** One request counter per limit and client (keyed hash), for login, links and exports. */
export interface LimitCountersTable {
  key_hash: string;
  hits: number;
  reset_at_ms: number;
}

/** A proof-of-work solution already accepted, kept until its challenge expires (each is accepted once). */
export interface ProofOfWorkSolutionsTable {
  challenge_id: string;
  expires_at_ms: number;
}

/** One block or allow list entry: a CIDR range, a client address hash, an e-mail domain or an address hash. */
export interface AbuseListEntriesTable {
  id: Generated<number>;
  list: string;
  kind: string;
  value: string;
  note: Generated<string>;
  created_by: number | null;
  created_at: string;
}

/** One periodic job's lease: which process runs it now, and when it is next due (lib/scheduler.ts). */
export interface ScheduledJobLeasesTable {
  name: string;
  leased_by: string | null;
  leased_until: string | null;
  next_run_at: string | null;
  last_finished_at: string | null;
}

/** The deployment-wide pace of one receiving domain (outbox/domain-pacing-repository.ts). */
export interface DomainPacingTable {
  domain: string;
  next_start_ms: number;
}

export type LetterRow = Selectable<LettersTable>;
export type LetterTextRow = Selectable<LetterTextsTable>;
export type RecipientRow = Selectable<RecipientsTable>;
export type NewRecipientRow = Insertable<RecipientsTable>;
export type SignatureRow = Selectable<SignaturesTable>;
export type NewSignatureRow = Insertable<SignaturesTable>;
export type SignatureUpdate = Updateable<SignaturesTable>;
export type OutboxMessageRow = Selectable<OutboxMessagesTable>;
export type NewOutboxMessageRow = Insertable<OutboxMessagesTable>;
export type UserRow = Selectable<UsersTable>;

/** An organizer's API token: only its SHA-256 is kept; the token itself was shown once. */
export interface ApiTokensTable {
  id: Generated<number>;
  user_id: number;
  name: string;
  token_hash: string;
  prefix: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** A receiver of one letter's events (Standard Webhooks), with its signing secret. */
export interface WebhookEndpointsTable {
  id: Generated<number>;
  letter_id: number;
  url: string;
  /** The events it receives, each between commas. */
  events: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_until: string | null;
  enabled: Generated<number>;
  created_by: number | null;
  created_at: string;
  updated_at: string;
}

/** One event for one endpoint: the durable queue the webhook worker claims from. */
export interface WebhookDeliveriesTable {
  id: Generated<number>;
  endpoint_id: number;
  event_id: string;
  event_type: string;
  payload: string;
  status: string;
  attempts: Generated<number>;
  next_attempt_at: string;
  claimed_by: string | null;
  lease_expires_at: string | null;
  created_at: string;
  finished_at: string | null;
}

/** One attempt to send a webhook delivery, as the organizer's delivery log shows it. */
export interface WebhookAttemptsTable {
  id: Generated<number>;
  delivery_id: number;
  endpoint_id: number;
  attempt: number;
  at: string;
  status_code: number | null;
  outcome: string;
  excerpt: Generated<string>;
  duration_ms: Generated<number>;
}

/** A listed signature's secret salt (64 hex digits); gone once the signature is erased. */
export interface SignatureSaltsTable {
  signature_id: number;
  salt: string;
}

/** A delivered round's Merkle tree (RFC 6962): its size and root as published. */
export interface RoundCommitmentsTable {
  round_id: number;
  tree_size: number;
  root: string;
  /** The earlier round this one corrects (an erratum), or null. */
  corrects_round_id: number | null;
  created_at: string;
}

/** One leaf of a round's tree, in order; signature_id is null once the signature is erased. */
export interface RoundLeavesTable {
  round_id: number;
  position: number;
  signature_id: number | null;
  leaf_hash: string;
  /** When the listed signature's person was erased on request (errata); null otherwise. */
  erased_at: string | null;
}

/** Mail that came back to a delivery's reply address: its sender, subject and plain text, never HTML or attachments. */
export interface DeliveryRepliesTable {
  id: Generated<number>;
  delivery_id: number;
  letter_id: number;
  recipient_id: number | null;
  from_address: string;
  from_name: Generated<string>;
  subject: Generated<string>;
  body_text: Generated<string>;
  /** 1 for an auto-reply (Auto-Submitted, out of office, a bounce): never forwarded or published. */
  automatic: Generated<number>;
  message_id: string;
  received_at: string;
  published_at: string | null;
  published_by: number | null;
  forwarded_outbox_message_id: number | null;
  /** The domain whose DKIM signature, aligned with the From, verified; null when none did. */
  sender_domain: Generated<string | null>;
}

export interface EscalationSchedulesTable {
  letter_id: number;
  days_without_reply: number;
  created_at: string;
  updated_at: string;
  updated_by: number | null;
}

export interface EscalationStepsTable {
  id: Generated<number>;
  letter_id: number;
  from_tier: number;
  to_tier: number;
  basis_round_id: number | null;
  tier_reached_at: string;
  days_without_reply: number;
  due_at: string;
  status: string;
  round_id: number | null;
  cancel_reason: string | null;
  cancelled_by: number | null;
  created_at: string;
  decided_at: string | null;
}
