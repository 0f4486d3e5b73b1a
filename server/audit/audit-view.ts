import type { TFunction } from '../lib/i18n.js';
import { formatsFor } from '../lib/format.js';
import { langMark } from '../lib/languages.js';
import { AUDIT_ACTIONS, type AuditSubject } from './audit.js';
import { describeDetails } from './audit-details.js';
import type { AuditQuery, AuditQueryValues } from './audit-input.js';
import type { AuditPage } from './audit-service.js';

/**
 * A subject as a cell shows it: what kind of thing, its name (marked with its language when that is not
 * the page's, so it is read out in its own), and a link while it exists.
 */
function subjectView(t: TFunction, language: string, subject: AuditSubject) {
  return {
    kind: t(`audit.subjects.${subject.kind}`),
    label: subject.label ?? '',
    labelLang: langMark(subject.labelLanguage, language),
    href: subject.href,
    gone: subject.gone,
  };
}

/** The audit page's context: the filters as typed, their errors, and the entries with names and links. */
export function auditPageView(
  t: TFunction,
  language: string,
  values: AuditQueryValues,
  query: AuditQuery,
  page: AuditPage,
  pageNumber: number,
) {
  const formats = formatsFor(language);
  const errors: Record<string, string> = {};
  if (!query.ok) for (const [field, key] of Object.entries(query.errors)) if (key) errors[field] = t(key);
  const nextQuery = new URLSearchParams(
    Object.entries({ ...values, page: String(pageNumber + 1) }).filter(([, value]) => value !== ''),
  );
  return {
    pageTitle: t('audit.title'),
    values,
    errors,
    errorList: Object.entries(errors).map(([field, message]) => ({ field, message })),
    actions: AUDIT_ACTIONS.map((a) => ({
      action: a,
      selected: a === values.action,
      label: t(`audit.actions.${a}`),
    })),
    entries: page.entries.map((e) => ({
      id: e.id,
      at: e.at,
      action: e.action,
      // The platform's own work and a supporter's own link are said in words; accounts by their address.
      actorEmail:
        e.actorUserId === null && (e.actorEmail === 'platform' || e.actorEmail === 'supporter')
          ? t(`audit.actors.${e.actorEmail}`)
          : e.actorEmail,
      actorHref: e.actorHref,
      actionLabel: t(`audit.actions.${e.action}`),
      subjects: e.subjects.map((s) => subjectView(t, language, s)),
      details: describeDetails(t, formats, language, e.action, e.details),
    })),
    nextPage: page.hasMore ? `/admin/audit?${nextQuery.toString()}` : null,
  };
}
