import { Router, type Request } from 'express';
import { currentUser, requireAdmin } from '../http/auth.js';
import { queryText } from '../http/input.js';
import { DAY_MS, parseUtcDay } from '../lib/dates.js';
import { AUDIT_ACTIONS, type AuditAction } from './audit.js';
import type { AuditService } from './audit-service.js';

const PAGE_SIZE = 100;

const query = (req: Request, name: string) => queryText(req, name).trim();

/** The audit log for admins: read and filter, never change. */
export function auditRoutes(deps: { audit: AuditService }): Router {
  const router = Router();

  router.get('/audit', requireAdmin, async (req, res) => {
    const t = res.locals.t;
    const errors: Record<string, string> = {};
    const action = query(req, 'action');
    if (action && !(AUDIT_ACTIONS as readonly string[]).includes(action))
      errors.action = t('audit.errors.action');
    const day = (value: string, end: boolean) => {
      if (!value) return undefined;
      const start = parseUtcDay(value);
      if (!start) return null;
      return end ? new Date(start.getTime() + DAY_MS) : start;
    };
    const from = day(query(req, 'from'), false);
    const to = day(query(req, 'to'), true);
    if (from === null) errors.from = t('audit.errors.date');
    if (to === null) errors.to = t('audit.errors.date');
    const page = Math.max(0, Math.min(10_000, Number.parseInt(query(req, 'page') || '0', 10) || 0));
    const failed = Object.keys(errors).length > 0;
    const entries = failed
      ? []
      : await deps.audit.search(
          currentUser(res),
          {
            action: (action || undefined) as AuditAction | undefined,
            actor: query(req, 'actor') || undefined,
            from: from ?? undefined,
            to: to ?? undefined,
          },
          PAGE_SIZE + 1,
          page * PAGE_SIZE,
        );
    res.status(failed ? 400 : 200).render('admin/audit', {
      titleKey: 'audit.title',
      values: { action, actor: query(req, 'actor'), from: query(req, 'from'), to: query(req, 'to') },
      errors,
      errorList: Object.entries(errors).map(([field, message]) => ({ field, message })),
      actions: AUDIT_ACTIONS.map((a) => ({
        action: a,
        selected: a === action,
        label: t(`audit.actions.${a}`),
      })),
      entries: entries.slice(0, PAGE_SIZE).map((e) => ({
        ...e,
        actionLabel: t(`audit.actions.${e.action}`),
        detailsText: Object.entries(e.details)
          .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`)
          .join(' · '),
      })),
      nextPage:
        entries.length > PAGE_SIZE
          ? `/admin/audit?${new URLSearchParams({ ...(req.query as Record<string, string>), page: String(page + 1) }).toString()}`
          : undefined,
    });
  });

  return router;
}
