/**
 * SVG charts drawn by hand: a few hundred points do not need a plotting library, and hand-made
 * SVG inherits JupyterLab's theme through CSS variables (light and dark alike).
 */
import type { Point } from './api';
import { fmt, h, svg } from './dom';

/** Line colours distinguishable in light and dark themes and by most colour-blind readers. */
export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

export interface ISeries {
  name: string;
  points: Point[];
  color: string;
  dashed?: boolean;
}

export interface IChartOptions {
  title: string;
  xLabel?: string;
  width?: number;
  height?: number;
  log?: boolean;
}

/** Round tick values covering [lo, hi]. */
function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) {
    return [lo];
  }
  const raw = (hi - lo) / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map(m => m * mag).find(s => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    out.push(Number(v.toPrecision(12)));
  }
  return out;
}

/**
 * A line chart with axes, ticks and a legend. The legend is HTML beside the SVG (not inside it)
 * so long run names wrap instead of running off the chart.
 */
export function lineChart(series: ISeries[], options: IChartOptions): HTMLElement {
  const width = options.width ?? 520;
  const height = options.height ?? 240;
  const pad = { left: 56, right: 12, top: 10, bottom: 34 };
  const drawn = series.filter(s => s.points.length > 0);
  const figure = h('figure', { class: 'sftkit-lab-chart', attrs: { 'aria-label': options.title } });
  figure.appendChild(h('figcaption', { text: options.title }));
  if (!drawn.length) {
    figure.appendChild(h('p', { class: 'sftkit-lab-muted', text: 'no data logged yet' }));
    return figure;
  }
  const ys = drawn.flatMap(s => s.points.map(p => p[1])).filter(y => !options.log || y > 0);
  const xs = drawn.flatMap(s => s.points.map(p => p[0]));
  const tf = (y: number) => (options.log ? Math.log10(y) : y);
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys.map(tf)), Math.max(...ys.map(tf))];
  if (x1 === x0) {
    x0 -= 1;
    x1 += 1;
  }
  if (y1 === y0) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  const margin = (y1 - y0) * 0.05;
  y0 -= margin;
  y1 += margin;
  const sx = (x: number) => pad.left + ((x - x0) / (x1 - x0)) * (width - pad.left - pad.right);
  const sy = (y: number) => pad.top + (1 - (tf(y) - y0) / (y1 - y0)) * (height - pad.top - pad.bottom);
  const root = svg('svg', {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: 'img',
    class: 'sftkit-lab-svg'
  });
  root.appendChild(svg('title', {}, options.title));
  const axes = svg('g', { class: 'sftkit-lab-axes' });
  const yTicks = options.log
    ? ticks(y0, y1, 4).map(t => Math.pow(10, t))
    : ticks(y0, y1, 5);
  for (const t of yTicks) {
    const y = sy(t);
    if (y < pad.top - 1 || y > height - pad.bottom + 1) {
      continue;
    }
    axes.appendChild(svg('line', { x1: pad.left, x2: width - pad.right, y1: y, y2: y, class: 'sftkit-lab-grid' }));
    axes.appendChild(svg('text', { x: pad.left - 6, y: y + 4, 'text-anchor': 'end' }, fmt(t)));
  }
  for (const t of ticks(x0, x1, 6)) {
    const x = sx(t);
    axes.appendChild(svg('line', { x1: x, x2: x, y1: height - pad.bottom, y2: height - pad.bottom + 4, class: 'sftkit-lab-tick' }));
    axes.appendChild(svg('text', { x, y: height - pad.bottom + 16, 'text-anchor': 'middle' }, fmt(t)));
  }
  axes.appendChild(svg('line', { x1: pad.left, x2: width - pad.right, y1: height - pad.bottom, y2: height - pad.bottom, class: 'sftkit-lab-axis' }));
  axes.appendChild(svg('line', { x1: pad.left, x2: pad.left, y1: pad.top, y2: height - pad.bottom, class: 'sftkit-lab-axis' }));
  axes.appendChild(svg('text', { x: (pad.left + width - pad.right) / 2, y: height - 4, 'text-anchor': 'middle' }, options.xLabel ?? 'step'));
  root.appendChild(axes);
  for (const s of drawn) {
    const pts = s.points.filter(p => !options.log || p[1] > 0);
    const d = pts.map((p, i) => `${i ? 'L' : 'M'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join('');
    const path = svg('path', { d, fill: 'none', stroke: s.color, 'stroke-width': 2, class: 'sftkit-lab-line' });
    if (s.dashed) {
      path.setAttribute('stroke-dasharray', '6 4');
    }
    path.appendChild(svg('title', {}, s.name));
    root.appendChild(path);
    if (pts.length <= 30) {
      // Few points (eval every epoch): mark them, a line between two points hides where they are.
      for (const p of pts) {
        root.appendChild(svg('circle', { cx: sx(p[0]), cy: sy(p[1]), r: 3, fill: s.color }));
      }
    }
  }
  figure.appendChild(root);
  figure.appendChild(
    h('ul', { class: 'sftkit-lab-legend' },
      drawn.map(s => h('li', {}, [
        h('span', { class: `sftkit-lab-swatch${s.dashed ? ' sftkit-lab-swatch-dashed' : ''}`, attrs: { style: `border-color:${s.color}` } }),
        s.name
      ])))
  );
  return figure;
}

/** A small loss line for the sidebar: its shape, and the first and last values in its label. */
export function sparkline(points: Point[], width = 72, height = 20): Element {
  if (points.length < 2) {
    return h('span', { class: 'sftkit-lab-muted', text: points.length ? fmt(points[0][1]) : '–' });
  }
  const ys = points.map(p => p[1]);
  const [lo, hi] = [Math.min(...ys), Math.max(...ys)];
  const [x0, x1] = [points[0][0], points[points.length - 1][0]];
  const sx = (x: number) => 1 + ((x - x0) / (x1 - x0 || 1)) * (width - 2);
  const sy = (y: number) => 1 + (1 - (y - lo) / (hi - lo || 1)) * (height - 2);
  const label = `train loss ${fmt(ys[0])} → ${fmt(ys[ys.length - 1])}`;
  const root = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label, class: 'sftkit-lab-spark' });
  root.appendChild(svg('title', {}, label));
  root.appendChild(svg('polyline', {
    points: points.map(p => `${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(' '),
    fill: 'none',
    'stroke-width': 1.5
  }));
  return root;
}

/** Relative luminance and contrast (WCAG 2): pick the text colour that reads on a cell. */
function luminance(rgb: number[]): number {
  const [r, g, b] = rgb.map(v => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function readableOn(rgb: number[]): string {
  const l = luminance(rgb);
  // Contrast with black is (l + 0.05) / 0.05, with white 1.05 / (l + 0.05): take the larger.
  return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? '#000000' : '#ffffff';
}

/**
 * A confusion matrix as an HTML table: rows are the true class, columns the predicted one.
 * Cells carry an explicit background and a text colour chosen for contrast with it, so they
 * read the same in light and dark themes.
 */
export function confusionMatrix(labels: string[], counts: number[][]): HTMLElement {
  const max = Math.max(1, ...counts.flat());
  const low = [240, 244, 250];
  const high = [13, 71, 161];
  const head = h('tr', {}, [
    h('th', { class: 'sftkit-lab-cm-corner', text: 'true \\ predicted' }),
    ...labels.map(l => h('th', { attrs: { scope: 'col' }, title: l, text: l }))
  ]);
  const rows = counts.map((row, i) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    return h('tr', {}, [
      h('th', { attrs: { scope: 'row' }, title: labels[i], text: labels[i] }),
      ...row.map((n, j) => {
        const t = Math.sqrt(n / max); // sqrt: small off-diagonal counts stay visible next to a big diagonal
        const rgb = low.map((v, k) => Math.round(v + (high[k] - v) * t));
        return h('td', {
          class: i === j ? 'sftkit-lab-cm-diag' : '',
          title: `true ${labels[i]}, predicted ${labels[j]}: ${n} (${((100 * n) / total).toFixed(1)}% of the row)`,
          attrs: { style: `background:rgb(${rgb.join(',')});color:${readableOn(rgb)}` },
          text: String(n)
        });
      })
    ]);
  });
  return h('div', { class: 'sftkit-lab-scroll' }, [
    h('table', { class: 'sftkit-lab-cm' }, [h('thead', {}, [head]), h('tbody', {}, rows)])
  ]);
}
