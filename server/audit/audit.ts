/** The audit log: what is recorded, and how an entry looks. Types only. */

/** Every audited action, by name. Entries never hold a supporter's e-mail address or name. */
export const AUDIT_ACTIONS = [
  'login',
  'login-failed',
  'role-changed',
  'user-invited',
  'user-disabled',
  'user-enabled',
  'letter-published',
  'letter-closed',
  'letter-changes-submitted',
  'letter-changes-approved',
  'letter-changes-returned',
  'recipient-created',
  'recipient-changed',
  'recipient-deleted',
  'recipients-imported',
  'settings-changed',
  'message-retried',
  'message-cancelled',
  'delivery',
  'export',
  'signature-invalidated',
  'signature-restored',
  'signature-cleared',
  'signatures-bulk-invalidated',
  'erasure',
  'retention',
  'abuse-list-added',
  'abuse-list-removed',
  'password-reset',
  'user-unlocked',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEntry {
  id: number;
  at: Date;
  actorUserId: number | null;
  actorEmail: string;
  action: AuditAction;
  targetType: string;
  targetId: string;
  details: Record<string, unknown>;
}

/** Who did it: an account, or the platform itself (a scheduled job, a supporter's own link). */
export type AuditActor = { id: number; email: string } | 'platform' | 'supporter';

export interface AuditFilters {
  action?: AuditAction | undefined;
  actor?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}
