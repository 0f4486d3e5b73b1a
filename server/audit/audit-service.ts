import type { User } from '../accounts/account.js';
import { authorize } from '../policy/policy.js';
import type { AuditEntry, AuditFilters } from './audit.js';
import type { AuditRepository } from './audit-repository.js';

/** Reading the audit log: admins only, whoever calls. */
export class AuditService {
  constructor(private readonly audit: AuditRepository) {}

  /** Entries matching the filters, newest first. */
  async search(user: User, filters: AuditFilters, limit: number, offset: number): Promise<AuditEntry[]> {
    authorize(user, 'audit.read');
    return this.audit.search(filters, limit, offset);
  }
}
