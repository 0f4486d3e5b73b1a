import { Router } from 'express';
import { pathParam } from '../http/input.js';
import { withLanguages } from '../http/language.js';
import { letterPath, requestedTextLanguage } from '../letters/text-language.js';
import { countryName } from '../lib/countries.js';
import { formatsFor } from '../lib/format.js';
import type { TFunction } from '../lib/i18n.js';
import { recipientNamedIn } from '../recipients/recipient-names.js';
import type { PrivacyNotice } from './privacy-notice.js';
import type { PrivacyNoticeService } from './privacy-notice-service.js';

export interface PrivacyNoticeRoutesDeps {
  notices: PrivacyNoticeService;
  /** How long a signing attempt's keyed hash is kept for the signing limits, in whole minutes. */
  signingHitsMinutes: number;
}

/** The sentences of the notice that depend on its settings, in the reader's language. */
function settingsTexts(notice: PrivacyNotice, t: TFunction, language: string) {
  const date = (value: Date | null) => (value ? formatsFor(language).date(value) : '');
  const { delivery, retention, retentionMonths: count } = notice;
  const deliveryText =
    delivery.mode === 'milestones'
      ? t('privacyNotice.recipients.modes.milestones', { count: delivery.milestoneEvery ?? 0 })
      : t(`privacyNotice.recipients.modes.${delivery.mode}`, { date: date(delivery.deliverAt) });
  let retentionText: string;
  switch (retention.kind) {
    case 'while-open':
      retentionText = t('privacyNotice.retention.while-open', { count });
      break;
    case 'after-closing-date':
      retentionText = t('privacyNotice.retention.after-closing-date', {
        count,
        closes: date(retention.closesAt),
        erase: date(retention.eraseFrom),
      });
      break;
    case 'after-closed':
      retentionText = t(
        retention.done ? 'privacyNotice.retention.done' : 'privacyNotice.retention.after-closed',
        {
          count,
          closed: date(retention.closedAt),
          erase: date(retention.eraseFrom),
        },
      );
      break;
  }
  return { deliveryText, retentionText };
}

/**
 * `/letters/{slug}/privacy`: the letter's privacy notice in the interface language (`?lang=`), its title
 * in the text asked for (`?text=`). Anonymous and the same for every reader: the page cache keeps it
 * (pages/page-cache.ts), keyed by the notice's own stamp.
 */
export function privacyNoticeRoutes(deps: PrivacyNoticeRoutesDeps): Router {
  const router = Router();
  router.get('/letters/:slug/privacy', async (req, res) => {
    const { t, language } = res.locals;
    const notice = await deps.notices.notice(
      pathParam(req, 'slug'),
      requestedTextLanguage(req.query, language),
    );
    res.render('pages/letter-privacy', {
      pageTitle: t('privacyNotice.pageTitle', { title: notice.title }),
      notice,
      // Named in the reader's language where the directory has it, as the letter page names them.
      recipients: notice.recipients.map((r) => {
        const named = recipientNamedIn(r, language);
        return {
          ...r,
          ...named,
          organisation: named.organisation === named.name ? '' : named.organisation,
          country: r.country === '' ? '' : countryName(r.country, language),
        };
      }),
      ...settingsTexts(notice, t, language),
      signingHitsMinutes: deps.signingHitsMinutes,
      letterHref: withLanguages(letterPath(notice.slug), req, res, notice.titleLanguage),
      generalHref: withLanguages('/privacy', req, res),
      accessHref: withLanguages('/privacy/access', req, res),
      // Receipts (issue 15) are checked in the browser, against the root printed in the letter.
      verifyHref: withLanguages('/verify', req, res),
    });
  });
  return router;
}
