import { Router } from 'express';
import { currentUser, requireAdmin } from '../http/auth.js';
import { auditQueryValues, parseAuditQuery } from './audit-input.js';
import type { AuditService } from './audit-service.js';
import { auditPageView } from './audit-view.js';

/** The audit log for admins: read and filter, never change. */
export function auditRoutes(deps: { audit: AuditService }): Router {
  const router = Router();

  router.get('/audit', requireAdmin, async (req, res) => {
    const values = auditQueryValues(req.query);
    const query = parseAuditQuery(values);
    // Filters that are not ones are answered with what to fix, and no entries.
    const page = query.ok
      ? await deps.audit.page(currentUser(res), query.filters, query.page, res.locals.language)
      : { entries: [], hasMore: false };
    res
      .status(query.ok ? 200 : 400)
      .render(
        'admin/audit',
        auditPageView(res.locals.t, res.locals.language, values, query, page, query.ok ? query.page : 0),
      );
  });

  return router;
}
