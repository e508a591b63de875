// The studio's training chart: an inline SVG drawn from the finished epochs, with no
// library. Training loss (left axis, from 0) and validation HR@10 and NDCG@10 (right axis,
// from 0) per epoch; the colours come from studio.css (classes `loss`, `hr`, `ndcg`), so
// nothing here needs an inline style. The SVG is an image with a label summing it up; the
// page keeps a table of the same figures beside it for screen readers.

const SVG = 'http://www.w3.org/2000/svg';
/** The drawing's height; its width is the element's own (so text is 12 px at any size), within these bounds. */
const HEIGHT = 240;
const WIDTHS = [300, 900];
const MARGIN = { top: 14, right: 48, bottom: 34, left: 52 };
/** The series: which figure, its class (colour) and axis. */
export const SERIES = [
  { key: 'loss', label: 'training loss', axis: 'left' },
  { key: 'hr', label: 'validation HR@10', axis: 'right', metric: 'HR@10' },
  { key: 'ndcg', label: 'validation NDCG@10', axis: 'right', metric: 'NDCG@10' },
];

/** An SVG element with attributes and, optionally, text. */
function node(name, attributes = {}, text) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text != null) element.textContent = text;
  return element;
}

/** A round upper bound for an axis holding values up to `max` (1, 2 or 5 times a power of ten). */
function niceMax(max) {
  if (!(max > 0) || !Number.isFinite(max)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 2.5, 5, 10].map((m) => m * power).find((m) => m >= max * 1.02) ?? 10 * power;
}

/** A tick label: few digits, no trailing zeros. */
function tick(value) {
  return Number(value.toPrecision(3)).toString();
}

/** The value of one series for one epoch, or null. */
function valueOf(series, epoch) {
  const v = series.metric ? epoch.valid?.[series.metric] : epoch.loss;
  return Number.isFinite(v) ? v : null;
}

/**
 * Draws the chart into `svg` (replacing what was there) from `epochs`, the finished epochs
 * (`{ epoch, loss, valid: { 'HR@10', 'NDCG@10', … } }`, oldest first); `planned` is the
 * number of epochs the x axis spans at least (the planned epochs, or 0 when unknown).
 */
export function drawChart(svg, epochs, planned = 0) {
  const WIDTH = Math.round(Math.min(WIDTHS[1], Math.max(WIDTHS[0], svg.getBoundingClientRect().width || 600)));
  svg.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
  const width = WIDTH - MARGIN.left - MARGIN.right;
  const height = HEIGHT - MARGIN.top - MARGIN.bottom;
  const last = Math.max(2, planned, epochs.at(-1)?.epoch ?? 0);
  /** The x of an epoch. */
  const x = (epoch) => MARGIN.left + ((epoch - 1) / (last - 1)) * width;
  const maxLoss = niceMax(Math.max(0, ...epochs.map((e) => valueOf(SERIES[0], e) ?? 0)));
  const maxMetric = Math.min(1, niceMax(Math.max(0, ...epochs.flatMap((e) => SERIES.slice(1).map((s) => valueOf(s, e) ?? 0)))));
  /** The y of a value on the left (loss) or right (metrics) axis. */
  const y = (value, axis) => MARGIN.top + height - (value / (axis === 'left' ? maxLoss : maxMetric)) * height;

  const parts = [node('rect', { class: 'chart-frame', x: MARGIN.left, y: MARGIN.top, width, height })];
  for (let i = 0; i <= 4; i++) {
    const at = MARGIN.top + height - (i / 4) * height;
    parts.push(node('line', { class: 'chart-grid', x1: MARGIN.left, x2: MARGIN.left + width, y1: at, y2: at }));
    parts.push(node('text', { class: 'chart-tick loss-text', x: MARGIN.left - 6, y: at + 4, 'text-anchor': 'end' }, tick((maxLoss * i) / 4)));
    parts.push(node('text', { class: 'chart-tick metric-text', x: MARGIN.left + width + 6, y: at + 4, 'text-anchor': 'start' }, tick((maxMetric * i) / 4)));
  }
  const step = Math.max(1, Math.ceil(last / 10));
  for (let epoch = 1; epoch <= last; epoch += step) {
    parts.push(node('text', { class: 'chart-tick', x: x(epoch), y: MARGIN.top + height + 16, 'text-anchor': 'middle' }, String(epoch)));
  }
  parts.push(node('text', { class: 'chart-axis', x: MARGIN.left + width / 2, y: HEIGHT - 4, 'text-anchor': 'middle' }, 'epoch'));

  for (const series of SERIES) {
    const points = epochs.map((e) => [e.epoch, valueOf(series, e)]).filter(([, v]) => v != null)
      .map(([epoch, v]) => [x(epoch), y(v, series.axis)]);
    if (points.length > 1) {
      parts.push(node('polyline', { class: `chart-line ${series.key}`, points: points.map((p) => p.map((c) => c.toFixed(1)).join(',')).join(' ') }));
    }
    for (const [px, py] of points) parts.push(node('circle', { class: `chart-dot ${series.key}`, cx: px.toFixed(1), cy: py.toFixed(1), r: 3.5 }));
  }
  svg.replaceChildren(...parts);
  svg.setAttribute('aria-label', chartLabel(epochs));
}

/** The chart's text alternative: what the last finished epoch reached. */
export function chartLabel(epochs) {
  const e = epochs.at(-1);
  if (!e) return 'Training chart: no epoch finished yet';
  /** A figure with four decimals, or n/a. */
  const figure = (v) => (Number.isFinite(v) ? v.toFixed(4) : 'n/a');
  return `Training chart over ${epochs.length} epoch${epochs.length === 1 ? '' : 's'}; epoch ${e.epoch}: ` +
    `training loss ${figure(e.loss)}, validation HR@10 ${figure(e.valid?.['HR@10'])}, NDCG@10 ${figure(e.valid?.['NDCG@10'])}`;
}
