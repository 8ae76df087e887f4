/**
 * The balance-over-time chart: a hand-drawn SVG step line of the posted balance after each
 * posting. Balances are scaled to pixels with bigint arithmetic, so an amount beyond 2^53 still
 * lands where it belongs; only the pixel itself becomes a number.
 */
import { formatMoney } from './amounts.js';
import { svg } from './dom.js';
import { formatTime } from './format.js';

const WIDTH = 720;
const HEIGHT = 260;
const MARGIN = { top: 16, right: 16, bottom: 32 };
const PLOT_HEIGHT = HEIGHT - MARGIN.top - MARGIN.bottom;
/** Space between a balance label and the plot. */
const LABEL_GAP = 8;
/**
 * A character of a 12px label, on the wide side of common fonts: the left margin grows with the
 * longest balance label, since the chart's box cuts off what lies left of it, and a cut amount
 * reads as another amount.
 */
const LABEL_CHARACTER_WIDTH = 7.5;
const MIN_LEFT_MARGIN = 120;
/** Hundredths of a pixel, so the bigint division keeps sub-pixel precision. */
const SUBPIXELS = 100n;

export interface ChartPoint {
  at: string;
  posted: string;
}

const round = (value: number) => Math.round(value * 100) / 100;

/** "2026-03-01 10:00 UTC": to the minute, in the zone every other time on the page is shown in. */
const axisTime = (iso: string): string => `${formatTime(iso).slice(0, 16)} UTC`;

export const balanceChart = (points: readonly ChartPoint[], currency: string, exponent: number, titleId: string): SVGElement => {
  const values = points.map((point) => BigInt(point.posted));
  // Zero is always in view, so the line's height means something at a glance.
  const max = values.reduce((a, b) => (b > a ? b : a), 0n);
  const min = values.reduce((a, b) => (b < a ? b : a), 0n);
  const span = max - min === 0n ? 1n : max - min;
  const y = (value: bigint) => MARGIN.top + Number(((max - value) * BigInt(PLOT_HEIGHT) * SUBPIXELS) / span) / Number(SUBPIXELS);
  const times = points.map((point) => Date.parse(point.at));
  const first = times[0] ?? 0;
  const last = times.at(-1) ?? 0;
  const levels = [...new Set([max, 0n, min])].map((value) => ({ value, label: formatMoney(value.toString(), currency, exponent) }));
  const left = Math.max(MIN_LEFT_MARGIN, Math.ceil(Math.max(...levels.map(({ label }) => label.length)) * LABEL_CHARACTER_WIDTH) + 2 * LABEL_GAP);
  const plotWidth = WIDTH - left - MARGIN.right;
  const x = (time: number) => left + (last === first ? plotWidth : ((time - first) / (last - first)) * plotWidth);

  let path = '';
  points.forEach((_, i) => {
    const px = round(x(times[i]!));
    const py = round(y(values[i]!));
    path += i === 0 ? `M${left},${py} H${px}` : ` H${px} V${py}`;
  });
  if (points.length > 0) path += ` H${left + plotWidth}`;

  const gridLine = ({ value, label }: { value: bigint; label: string }) => [
    svg('line', { x1: left, x2: left + plotWidth, y1: round(y(value)), y2: round(y(value)), class: value === 0n ? 'chart-zero' : 'chart-grid' }),
    svg('text', { x: left - LABEL_GAP, y: round(y(value)) + 4, 'text-anchor': 'end', class: 'chart-label' }, label),
  ];

  const lastValue = values.at(-1) ?? 0n;
  const summary =
    points.length === 0
      ? 'No postings yet.'
      : `Posted balance over ${points.length} posting${points.length === 1 ? '' : 's'}, from ${formatTime(points[0]!.at)} to ${formatTime(points.at(-1)!.at)}: ` +
        `lowest ${formatMoney(min.toString(), currency, exponent)}, highest ${formatMoney(max.toString(), currency, exponent)}, now ${formatMoney(lastValue.toString(), currency, exponent)}.`;

  return svg(
    'svg',
    { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-labelledby': `${titleId} ${titleId}-desc`, class: 'chart', preserveAspectRatio: 'xMidYMid meet' },
    svg('title', { id: titleId }, `Balance over time, ${currency}`),
    svg('desc', { id: `${titleId}-desc` }, summary),
    ...levels.flatMap(gridLine),
    svg('path', { d: path, class: 'chart-line', fill: 'none' }),
    ...(points.length === 0
      ? []
      : [
          svg('text', { x: left, y: HEIGHT - 8, class: 'chart-label' }, axisTime(points[0]!.at)),
          svg('text', { x: left + plotWidth, y: HEIGHT - 8, 'text-anchor': 'end', class: 'chart-label' }, axisTime(points.at(-1)!.at)),
          svg('circle', { cx: left + plotWidth, cy: round(y(lastValue)), r: 4, class: 'chart-dot' }),
        ]),
  );
};
