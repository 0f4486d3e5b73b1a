import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chartSummary,
  lastDays,
  signatureChartSvg,
  type ChartLabels,
  type DayCount,
} from '../../../server/letters/signature-chart.js';

const labels: ChartLabels = {
  title: 'Signatures per day',
  description: 'Signatures over the last 30 days',
  formatDay: (day) => `day ${day}`,
  formatCount: (n) => new Intl.NumberFormat('en').format(n),
};

const TAGS = new Set(['svg', 'title', 'desc', 'g', 'rect', 'line', 'text']);
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" };

interface Element {
  name: string;
  attributes: Record<string, string>;
  text: string;
  children: Element[];
}

/**
 * Parses the chart's SVG strictly as XML, with only the elements the chart draws: fails on an unknown or
 * unbalanced tag, an unquoted or repeated attribute, a raw "<" or "&" in text, or a character XML forbids.
 */
function parseSvg(svg: string): Element {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  expect(svg).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/);
  const decode = (raw: string) => {
    expect(raw, 'a raw < or > in text').not.toMatch(/[<>]/);
    return raw.replace(/&([^;]*);?/g, (match, name: string) => {
      const value = ENTITIES[name];
      if (value === undefined || !match.endsWith(';')) throw new Error(`bad entity ${match}`);
      return value;
    });
  };
  const tag = /<(\/?)([a-zA-Z]+)((?:\s+[a-zA-Z][a-zA-Z0-9:-]*="[^"<>]*")*)\s*(\/?)>/y;
  const root: Element = { name: '#document', attributes: {}, text: '', children: [] };
  const stack = [root];
  let at = 0;
  while (at < svg.length) {
    const next = svg.indexOf('<', at);
    const text = svg.slice(at, next === -1 ? undefined : next);
    const current = stack.at(-1) ?? root;
    if (current !== root) current.text += decode(text);
    else expect(text.trim(), 'text outside the root').toBe('');
    if (next === -1) break;
    tag.lastIndex = next;
    const match = tag.exec(svg);
    if (!match) throw new Error(`not a tag at ${next}: ${svg.slice(next, next + 40)}`);
    const [, closing, name = '', attributeText = '', selfClosing] = match;
    expect(TAGS, `unexpected element <${name}>`).toContain(name);
    if (closing) {
      expect(stack.pop()?.name, `unbalanced </${name}>`).toBe(name);
    } else {
      const attributes: Record<string, string> = {};
      for (const [, key = '', value = ''] of attributeText.matchAll(/([a-zA-Z][a-zA-Z0-9:-]*)="([^"]*)"/g)) {
        expect(attributes, `repeated attribute ${key}`).not.toHaveProperty(key);
        attributes[key] = decode(value);
      }
      const element: Element = { name, attributes, text: '', children: [] };
      current.children.push(element);
      if (!selfClosing) stack.push(element);
    }
    at = tag.lastIndex;
  }
  expect(stack, 'unclosed elements').toHaveLength(1);
  expect(root.children).toHaveLength(1);
  return root.children[0] as Element;
}

const all = (element: Element, predicate: (e: Element) => boolean): Element[] =>
  (predicate(element) ? [element] : []).concat(element.children.flatMap((child) => all(child, predicate)));
const byClass = (element: Element, name: string) =>
  all(element, (e) => (e.attributes.class ?? '').split(' ').includes(name));
const tickLabels = (svg: Element) =>
  all(
    svg,
    (e) =>
      e.name === 'text' &&
      e.attributes['text-anchor'] === 'end' &&
      e.attributes['dominant-baseline'] === 'middle',
  ).map((e) => e.text);

function series(counts: number[], start = '2026-03-01'): DayCount[] {
  const first = Date.parse(`${start}T00:00:00Z`);
  return counts.map((count, i) => ({
    day: new Date(first + i * 86_400_000).toISOString().slice(0, 10),
    count,
  }));
}

describe('lastDays', () => {
  it('fills the days without signatures with 0, oldest first, ending today', () => {
    expect(
      lastDays(
        [
          { day: '2026-03-10', count: 4 },
          { day: '2026-03-08', count: 2 },
        ],
        new Date('2026-03-10T12:00:00Z'),
        4,
      ),
    ).toEqual([
      { day: '2026-03-07', count: 0 },
      { day: '2026-03-08', count: 2 },
      { day: '2026-03-09', count: 0 },
      { day: '2026-03-10', count: 4 },
    ]);
  });

  it('counts days in UTC, whatever the time zone the moment was written in', () => {
    const days = lastDays([], new Date('2026-03-01T23:30:00-05:00'), 2).map((d) => d.day);
    expect(days).toEqual(['2026-03-01', '2026-03-02']);
    expect(lastDays([], new Date('2026-03-02T08:59:59+09:00'), 1)[0]?.day).toBe('2026-03-01');
  });

  it('crosses month, year and leap-day boundaries', () => {
    expect(lastDays([], new Date('2028-03-01T00:00:00Z'), 3).map((d) => d.day)).toEqual([
      '2028-02-28',
      '2028-02-29',
      '2028-03-01',
    ]);
    expect(lastDays([], new Date('2027-01-01T00:00:00Z'), 2).map((d) => d.day)).toEqual([
      '2026-12-31',
      '2027-01-01',
    ]);
  });

  it('leaves out days outside the window and adds up a day given twice', () => {
    const days = lastDays(
      [
        { day: '2026-02-01', count: 99 },
        { day: '2026-03-11', count: 99 },
        { day: '2026-03-10', count: 1 },
        { day: '2026-03-10', count: 2 },
      ],
      new Date('2026-03-10T00:00:00Z'),
      2,
    );
    expect(days).toEqual([
      { day: '2026-03-09', count: 0 },
      { day: '2026-03-10', count: 3 },
    ]);
  });

  it('gives 30 days for 30, and nothing for zero, negative or non-number days', () => {
    expect(lastDays([], new Date('2026-03-10T00:00:00Z'), 30)).toHaveLength(30);
    for (const days of [0, -5, Number.NaN, Number.POSITIVE_INFINITY])
      expect(lastDays([], new Date(), days)).toEqual([]);
  });
});

describe('signatureChartSvg', () => {
  const points = series([3, 0, 7, 2, 0]);

  it('is an accessible, scalable image with a title and a description', () => {
    const svg = parseSvg(signatureChartSvg(points, labels));
    expect(svg.name).toBe('svg');
    expect(svg.attributes).toMatchObject({
      xmlns: 'http://www.w3.org/2000/svg',
      role: 'img',
      viewBox: '0 0 600 180',
      width: '100%',
    });
    expect(svg.children[0]).toMatchObject({ name: 'title', text: 'Signatures per day' });
    expect(svg.children[1]).toMatchObject({ name: 'desc', text: 'Signatures over the last 30 days' });
  });

  it('writes the total and the busiest day into the description when given a function', () => {
    const svg = parseSvg(
      signatureChartSvg(points, {
        ...labels,
        description: ({ total, busiest }) =>
          `${total} signatures; busiest ${busiest ? `${labels.formatDay(busiest.day)} (${busiest.count})` : 'none'}`,
      }),
    );
    expect(all(svg, (e) => e.name === 'desc')[0]?.text).toBe('12 signatures; busiest day 2026-03-03 (7)');
    expect(chartSummary(series([0, 0]))).toEqual({ total: 0, busiest: null });
    expect(chartSummary(series([5, 9, 9]))).toEqual({ total: 23, busiest: { day: '2026-03-02', count: 9 } });
  });

  it('draws one bar per day, each with a title for hover, and none higher than the plot', () => {
    const svg = parseSvg(signatureChartSvg(points, labels));
    const days = byClass(svg, 'signature-chart-day');
    expect(days).toHaveLength(5);
    expect(days.map((day) => day.children.find((c) => c.name === 'title')?.text)).toEqual([
      'day 2026-03-01: 3',
      'day 2026-03-02: 0',
      'day 2026-03-03: 7',
      'day 2026-03-04: 2',
      'day 2026-03-05: 0',
    ]);
    const heights = byClass(svg, 'signature-chart-bar').map((bar) => Number(bar.attributes.height));
    expect(heights[1]).toBe(0);
    expect(heights[2]).toBe(Math.max(...heights));
    // 7 on an axis that ends at 8: seven eighths of the plot's 148 units.
    expect(heights[2]).toBeCloseTo((7 / 8) * 148, 1);
    for (const bar of byClass(svg, 'signature-chart-bar')) {
      expect(Number(bar.attributes.y) + Number(bar.attributes.height)).toBeCloseTo(156, 1);
    }
  });

  it('rounds the top of the axis up to a nice number and labels a few ticks', () => {
    const ticksFor = (counts: number[]) => tickLabels(parseSvg(signatureChartSvg(series(counts), labels)));
    expect(ticksFor([3, 7])).toEqual(['0', '2', '4', '6', '8']);
    expect(ticksFor([1234])).toEqual(['0', '500', '1,000', '1,500']);
    expect(ticksFor([100])).toEqual(['0', '50', '100']);
    expect(ticksFor([3])).toEqual(['0', '1', '2', '3']);
    expect(ticksFor([0, 0])).toEqual(['0', '1']);
    expect(ticksFor([])).toEqual(['0', '1']);
    expect(ticksFor([98_765])).toEqual(['0', '50,000', '100,000']);
  });

  it('labels the first and the last day', () => {
    const svg = parseSvg(signatureChartSvg(points, labels));
    const days = byClass(svg, 'signature-chart-days')[0]?.children.map((e) => e.text);
    expect(days).toEqual(['day 2026-03-01', 'day 2026-03-05']);
    const single = parseSvg(signatureChartSvg(series([4]), labels));
    expect(byClass(single, 'signature-chart-days')[0]?.children.map((e) => e.text)).toEqual([
      'day 2026-03-01',
    ]);
  });

  it('draws an empty chart for no days', () => {
    const svg = parseSvg(signatureChartSvg([], labels));
    expect(byClass(svg, 'signature-chart-day')).toHaveLength(0);
    expect(byClass(svg, 'signature-chart-days')).toHaveLength(0);
  });

  it('uses no script, no style and no event handlers, so the CSP allows it', () => {
    const markup = signatureChartSvg(points, labels);
    expect(markup).not.toMatch(/<script|style=|\son[a-z]+=|javascript:|<foreignObject|href=/i);
    const svg = parseSvg(markup);
    for (const element of all(svg, () => true)) {
      for (const key of Object.keys(element.attributes)) expect(key).not.toMatch(/^(style|on.*)$/i);
    }
  });

  it('escapes every text it is given, keeping it readable', () => {
    const hostile = `<script>alert("x")</script> & 'co' </title><title>`;
    const markup = signatureChartSvg(series([1, 2]), {
      title: hostile,
      description: hostile,
      formatDay: () => hostile,
      formatCount: () => hostile,
    });
    expect(markup).not.toContain('<script');
    expect(markup).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;');
    const svg = parseSvg(markup);
    expect(svg.children[0]?.text).toBe(hostile);
    expect(svg.children[1]?.text).toBe(hostile);
    expect(byClass(svg, 'signature-chart-day')[0]?.children[0]?.text).toBe(`${hostile}: ${hostile}`);
  });

  it('shows Korean and Ukrainian labels as given', () => {
    const svg = parseSvg(
      signatureChartSvg(series([1]), {
        title: '일별 서명 수',
        description: 'Підписи за день',
        formatDay: () => '3월 1일',
        formatCount: (n) => `${n}명`,
      }),
    );
    expect(svg.children.slice(0, 2).map((e) => e.text)).toEqual(['일별 서명 수', 'Підписи за день']);
    expect(byClass(svg, 'signature-chart-day')[0]?.children[0]?.text).toBe('3월 1일: 1명');
  });

  it('scales to the size asked for, and falls back to the default for an unusable one', () => {
    expect(parseSvg(signatureChartSvg(points, labels, { width: 320, height: 120 })).attributes.viewBox).toBe(
      '0 0 320 120',
    );
    for (const size of [
      { width: 0, height: 180 },
      { width: Number.NaN, height: 180 },
      { width: 600, height: -1 },
    ]) {
      expect(parseSvg(signatureChartSvg(points, labels, size)).attributes.viewBox).toBe('0 0 600 180');
    }
  });

  it('draws negative, fractional and non-number counts without breaking the scale', () => {
    const svg = parseSvg(signatureChartSvg(series([-5, Number.NaN, Number.POSITIVE_INFINITY, 2]), labels));
    const heights = byClass(svg, 'signature-chart-bar').map((bar) => Number(bar.attributes.height));
    expect(heights.slice(0, 3)).toEqual([0, 0, 0]);
    expect(heights[3]).toBeGreaterThan(0);
    expect(tickLabels(svg)).toEqual(['0', '1', '2']);
  });

  describe('on any input', () => {
    const anyText = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.string({
        unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
        maxLength: 40,
      }),
      fc.string({
        unit: fc.constantFrom('<', '>', '&', '"', "'", ';', 'a', '\u0000', '\ud800', '\n', '</title>'),
        maxLength: 20,
      }),
    );
    // What the chart keeps of a text: XML cannot carry some characters, even escaped.
    const kept = (text: string) =>
      text.replace(
        // eslint-disable-next-line no-control-regex -- matching control characters is the point
        /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
        '',
      );

    it('never throws and always yields well-formed SVG with every label escaped', () => {
      fc.assert(
        fc.property(
          fc.array(
            fc.record({
              day: anyText,
              count: fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.constant(Number.MAX_VALUE)),
            }),
            { maxLength: 40 },
          ),
          anyText,
          anyText,
          anyText,
          anyText,
          fc.record({ width: fc.double(), height: fc.double() }),
          (points, title, description, day, count, size) => {
            const markup = signatureChartSvg(
              points,
              { title, description, formatDay: (d) => day + d, formatCount: () => count },
              size,
            );
            const svg = parseSvg(markup);
            expect(svg.children[0]?.text).toBe(kept(title));
            expect(svg.children[1]?.text).toBe(kept(description));
            expect(byClass(svg, 'signature-chart-day')).toHaveLength(points.length);
            expect(markup).not.toMatch(/\b(NaN|Infinity)\b/);
          },
        ),
        { numRuns: 200 },
      );
    });
  });
});
