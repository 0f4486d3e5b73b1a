import type { User } from '../accounts/account.js';
import { authorize } from '../policy/policy.js';
import { idsNamedBy, readableEntry, type AuditFilters, type ReadableAuditEntry } from './audit.js';
import type { AuditRepository } from './audit-repository.js';

/** Entries on one page of the audit log. */
export const AUDIT_PAGE_SIZE = 100;

/** One page of the audit log, and whether there is a next one. */
export interface AuditPage {
  entries: ReadableAuditEntry[];
  hasMore: boolean;
}

/** Reading the audit log: admins only, whoever calls. */
export class AuditService {
  constructor(private readonly audit: AuditRepository) {}

  /**
   * A page of entries matching the filters, newest first, with names and links for what each is about:
   * looked up for the whole page at once, by the ids the entries hold; letters' titles in `language`
   * where they have one.
   */
  async page(user: User, filters: AuditFilters, page: number, language: string): Promise<AuditPage> {
    authorize(user, 'audit.read');
    const found = await this.audit.search(filters, AUDIT_PAGE_SIZE + 1, page * AUDIT_PAGE_SIZE);
    const entries = found.slice(0, AUDIT_PAGE_SIZE);
    const names = await this.audit.names(idsNamedBy(entries), language);
    return { entries: entries.map((e) => readableEntry(e, names)), hasMore: found.length > AUDIT_PAGE_SIZE };
  }
}
