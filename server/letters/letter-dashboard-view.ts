import { formatsFor } from '../lib/format.js';
import type { TFunction } from '../lib/i18n.js';
import { langMark, languageName, pickLanguage } from '../lib/languages.js';
import type { DashboardLetter } from './letter-dashboard-service.js';
import type { LetterTemplate } from './letter-drafting-service.js';
import type { LetterListItem } from './letter-repository.js';
import { collectedUntil } from './letter.js';
import { signatureChartSvg } from './signature-chart.js';
import { recipientNamedIn } from '../recipients/recipient-names.js';

/** A chart's drawing for a phone: about as many units as the screen has pixels, so text keeps its size. */
const NARROW_CHART = { width: 320, height: 160 };

/** The dashboard's letters, each with its status label and its accessible signature chart. */
export function dashboardLetters(t: TFunction, ui: string, letters: readonly DashboardLetter[]) {
  const formats = formatsFor(ui);
  return letters.map((item) => {
    const total = item.days.reduce((sum, d) => sum + d.count, 0);
    const busiest = item.days.reduce((best, d) => (d.count > best.count ? d : best), item.days[0]!);
    const period = t('dashboard.chartPeriod', { count: item.days.length });
    const labels = {
      title: t('dashboard.chartTitle', { title: item.title }),
      description:
        total === 0
          ? t('dashboard.chartEmpty', { period })
          : t('dashboard.chartDescription', {
              count: total,
              total: formats.number(total),
              period,
              busiest: formats.day(new Date(`${busiest.day}T00:00:00Z`)),
              most: formats.number(busiest.count),
            }),
      formatDay: (day: string) => formats.day(new Date(`${day}T00:00:00Z`)),
      formatCount: (n: number) => formats.number(n),
    };
    // A draft takes no signatures: its card says so rather than drawing a flat line of zeros.
    if (item.letter.status === 'draft')
      return { ...listed(t, ui, item), chart: null, narrowChart: null, chartNote: t('dashboard.chartDraft') };
    return {
      ...listed(t, ui, item),
      chartNote: null,
      chart: signatureChartSvg(item.days, labels),
      // The same chart drawn for a phone's width: the wide one, scaled down to fit, had ~5 px labels.
      // The page shows one of the two (styles.css), so the other is out of the accessibility tree too.
      narrowChart: signatureChartSvg(item.days, labels, NARROW_CHART),
    };
  });
}

/** The letters list, each with its status label. */
export function letterList(t: TFunction, ui: string, letters: readonly LetterListItem[]) {
  return letters.map((item) => listed(t, ui, item));
}

/**
 * A letter as a list shows it: its status in words, and its title's language when that is not the page's
 * (a letter with no text in the reader's language), so the title is read out in its own language.
 */
function listed<T extends LetterListItem>(t: TFunction, ui: string, item: T) {
  return {
    ...item,
    statusLabel: t(`editor.status.${item.letter.status}`),
    titleLang: langMark(item.titleLanguage, ui),
    // A letter closed ahead of its date: the day it stopped, not the day it would have (an open one
    // has no closedAt, so its closing date stands).
    closes: collectedUntil(item.letter),
    // "Closed" once it has: "Closes 1 March" beside a letter closed on 7 December read as still open.
    closesLabel: t(
      item.letter.status === 'closed' || item.letter.status === 'delivered'
        ? 'dashboard.closed'
        : 'dashboard.closes',
    ),
  };
}

/**
 * The gallery: each template's title, summary, languages and recipients. Title and summary in the
 * interface language when the template has it (a Korean organizer reads the Korean one), else in its
 * primary language, marked with that language.
 */
export function templateGallery(ui: string, templates: readonly LetterTemplate[]) {
  return templates.map((template) => {
    // The letters' one rule: the requested language, else the primary one, else any.
    const textLanguage = pickLanguage(Object.keys(template.translations), ui, template.primaryLanguage);
    const text = template.translations[textLanguage];
    return {
      slug: template.slug,
      title: text?.title ?? template.slug,
      summary: text?.summary ?? '',
      // Set only when it differs from the page's, so the heading is read out in its own language.
      textLanguage: langMark(textLanguage, ui),
      languages: Object.keys(template.translations)
        .map((l) => languageName(l, ui))
        .join(', '),
      // Named in the organizer's language where the template names them in it, as the public pages do.
      recipients: template.recipients
        .map((r) => recipientNamedIn({ ...r, names: r.names ?? {} }, ui).name)
        .join('; '),
    };
  });
}
