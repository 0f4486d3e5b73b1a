/** Confirmed signatures on one UTC day. */
export interface DayCount {
  day: string /* YYYY-MM-DD */;
  count: number;
}

/** What a chart's description states: the total and the busiest day (the earliest, on a tie; null when all are 0). */
export interface ChartSummary {
  total: number;
  busiest: DayCount | null;
}

/** Translated texts of a chart; the description may be written from the chart's summary. */
export interface ChartLabels {
  title: string;
  description: string | ((summary: ChartSummary) => string);
  formatDay: (day: string) => string;
  formatCount: (n: number) => string;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const DEFAULT_SIZE = { width: 600, height: 180 };

/** Fills missing days with 0 over the `days` days ending at `today` (UTC), oldest first. */
export function lastDays(counts: DayCount[], today: Date, days: number): DayCount[] {
  const total = new Map<string, number>();
  for (const { day, count } of counts) total.set(day, (total.get(day) ?? 0) + count);
  const end = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  const length = Number.isFinite(days) ? Math.max(0, Math.floor(days)) : 0;
  return Array.from({ length }, (_, i) => {
    const day = new Date(end - (length - 1 - i) * DAY_MS).toISOString().slice(0, 10);
    return { day, count: total.get(day) ?? 0 };
  });
}

/** The total and the busiest day of a series of points. */
export function chartSummary(points: readonly DayCount[]): ChartSummary {
  let total = 0;
  let busiest: DayCount | null = null;
  for (const point of points) {
    const count = drawable(point.count);
    total += count;
    if (count > 0 && (!busiest || count > busiest.count)) busiest = { day: point.day, count };
  }
  return { total, busiest };
}

// A count from the database is a non-negative integer; anything else is drawn as nothing (or clamped) rather
// than as a bar that breaks the scale.
const drawable = (count: number) =>
  Number.isFinite(count) && count > 0 ? Math.min(count, Number.MAX_SAFE_INTEGER) : 0;

// Characters XML 1.0 does not allow even escaped (most C0 controls, lone surrogates, U+FFFE/U+FFFF): a
// label carrying one would make the whole image unreadable, so it is dropped.
const NOT_XML =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text or an attribute value, safe in SVG served as HTML or as XML. */
function escape(value: unknown): string {
  return String(value)
    .replace(NOT_XML, '')
    .replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** A number for a coordinate: two decimals are finer than a pixel and keep the markup short. */
const n = (value: number) => String(Math.round(value * 100) / 100);

/** A step between ticks of 1, 2 or 5 × 10^k that divides the axis into at most four parts, and never below 1. */
function tickStep(max: number): number {
  const rough = Math.max(1, max / 4);
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? 10 * magnitude;
  return Math.max(1, step);
}

/**
 * A bar chart as an SVG string, drawn on the server: no script, no inline style attributes (the CSP forbids
 * them; use presentation attributes and class names), role="img" with <title> and <desc> giving the total
 * and the busiest day, a <title> per bar for hover, y-axis max rounded to a nice number, a few labelled
 * ticks, labels of first/last day. Every text is escaped. Labels are passed in already translated.
 */
export function signatureChartSvg(
  points: DayCount[],
  labels: ChartLabels,
  size: { width: number; height: number } = DEFAULT_SIZE,
): string {
  // Below 60 units nothing readable fits; far above any screen, coordinates lose their precision.
  const usable = (value: number) => Number.isFinite(value) && value >= 60 && value <= 10_000;
  const { width, height } = usable(size.width) && usable(size.height) ? size : DEFAULT_SIZE;
  const summary = chartSummary(points);
  const description =
    typeof labels.description === 'function' ? labels.description(summary) : labels.description;

  const peak = points.reduce((max, point) => Math.max(max, drawable(point.count)), 0);
  const step = tickStep(peak);
  const axisMax = Math.max(step, Math.ceil(peak / step) * step);
  const ticks = Array.from({ length: Math.round(axisMax / step) + 1 }, (_, i) => i * step);
  const tickLabels = ticks.map((tick) => labels.formatCount(tick));

  // Room for the longest tick label at 11px (about 7px a character) and the day labels under the bars.
  const longest = Math.max(...tickLabels.map((label) => String(label).length));
  const left = Math.min(width / 3, Math.max(28, longest * 7 + 8));
  const top = 8;
  const bottom = 24;
  const plotWidth = Math.max(1, width - left - 8);
  const plotHeight = Math.max(1, height - top - bottom);
  const baseline = top + plotHeight;
  const y = (value: number) => baseline - (value / axisMax) * plotHeight;

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="signature-chart" viewBox="0 0 ${n(width)} ${n(height)}" ` +
      `width="100%" role="img" font-size="11" fill="currentColor">`,
    `<title>${escape(labels.title)}</title>`,
    `<desc>${escape(description)}</desc>`,
    '<g class="signature-chart-axis">',
  ];
  for (const [i, tick] of ticks.entries()) {
    out.push(
      `<line class="signature-chart-grid" x1="${n(left)}" y1="${n(y(tick))}" x2="${n(left + plotWidth)}" ` +
        `y2="${n(y(tick))}" stroke="currentColor" stroke-opacity="0.15"/>`,
      `<text x="${n(left - 6)}" y="${n(y(tick))}" text-anchor="end" dominant-baseline="middle">` +
        `${escape(tickLabels[i])}</text>`,
    );
  }
  out.push('</g>', '<g class="signature-chart-bars">');

  const slot = plotWidth / Math.max(1, points.length);
  const barWidth = Math.max(1, slot * 0.8);
  for (const [i, point] of points.entries()) {
    const count = drawable(point.count);
    const x = left + i * slot;
    // A day with a few signatures on a busy chart still shows as a sliver, not as no signatures at all.
    const barHeight = count > 0 ? Math.max(1, (count / axisMax) * plotHeight) : 0;
    // The transparent full-height rectangle makes every day hoverable, including days with no bar.
    out.push(
      `<g class="signature-chart-day"><title>${escape(labels.formatDay(point.day))}: ${escape(labels.formatCount(count))}</title>` +
        `<rect class="signature-chart-hit" x="${n(x)}" y="${n(top)}" width="${n(slot)}" height="${n(plotHeight)}" fill="transparent"/>` +
        `<rect class="signature-chart-bar" x="${n(x + (slot - barWidth) / 2)}" y="${n(baseline - barHeight)}" ` +
        `width="${n(barWidth)}" height="${n(barHeight)}"/></g>`,
    );
  }
  out.push('</g>');

  const first = points[0];
  const last = points.at(-1);
  if (first && last) {
    out.push('<g class="signature-chart-days">');
    out.push(
      `<text x="${n(left)}" y="${n(height - 6)}" text-anchor="start">${escape(labels.formatDay(first.day))}</text>`,
    );
    if (points.length > 1) {
      out.push(
        `<text x="${n(left + plotWidth)}" y="${n(height - 6)}" text-anchor="end">${escape(labels.formatDay(last.day))}</text>`,
      );
    }
    out.push('</g>');
  }
  out.push('</svg>');
  return out.join('\n');
}
