/** The live page's four figures, drawn as SVG from the data the mapper streams. */
import { NO_DEVICE, REQUEST_FLAGS, type CostCurves, type RequestPoint, type Sample } from './live-data.js';
import { axes, el, linear, pathOf, text, type Frame } from './svg.js';

const PALETTE = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d', '#17becf', '#8c564b', '#666666'];

/** A device's colour: by its index in the mapper's device list (this device first, then its neighbours). */
export function colourOf(devices: readonly string[], name: string): string {
  if (name === NO_DEVICE) return '#d00000';
  const i = devices.indexOf(name);
  return PALETTE[(i < 0 ? devices.length : i) % PALETTE.length] as string;
}

function clock(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}:${String(d.getSeconds()).padStart(2, '0')}`;
}

function short(v: number): string {
  return Math.abs(v) >= 1000 ? `${+(v / 1000).toPrecision(3)}k` : String(+v.toPrecision(3));
}

export interface MappingFigure {
  devices: readonly string[];
  points: readonly RequestPoint[];
  samples: readonly Sample[];
  from: number;
  to: number;
  maxSteps: number;
}

/** The slides' mapping figure: every request at (time, input length), coloured by who served it. */
export function drawMapping(svg: SVGSVGElement, f: MappingFigure): void {
  const frame: Frame = { x0: 44, x1: 950, y0: 300, y1: 8 };
  let top = 10;
  for (const p of f.points) if (p[1] > top) top = p[1];
  const x = linear(f.from, f.to, frame.x0, frame.x1);
  const y = linear(0, Math.min(f.maxSteps, top * 1.05), frame.y0, frame.y1);
  axes(svg, x, y, frame, { x: clock, y: short });
  text('input length', { x: frame.x0 + 4, y: frame.y1 + 4 }, svg);
  const dots = el('g', { id: 'points' }, svg);
  for (const [t, n, d, flags] of f.points) {
    if (t < f.from) continue;
    const device = f.devices[d] ?? NO_DEVICE;
    const cx = x(t).toFixed(1);
    const cy = y(n).toFixed(1);
    if (flags & REQUEST_FLAGS.failed) {
      el('path', { d: `M${+cx - 3},${+cy - 3}l6,6m0,-6l-6,6`, class: 'failed', 'data-device': device, 'data-n': n }, dots);
      continue;
    }
    const attrs = { cx, cy, r: 2.6, fill: colourOf(f.devices, device), 'data-device': device, 'data-n': n };
    el('circle', flags & REQUEST_FLAGS.fallback ? { ...attrs, class: 'point fallback' } : { ...attrs, class: 'point' }, dots);
  }
  // Each crossover length over time: where the engine's choice flips, as it learned it.
  const lines = Math.max(0, ...f.samples.map((s) => s.crossovers.length));
  for (let k = 0; k < lines; k++) {
    const pts = f.samples.filter((s) => s.t >= f.from).map((s): [number, number] | null => {
      const n = s.crossovers[k];
      return n === undefined ? null : [x(s.t), y(Math.min(n, y.domain[1]))];
    });
    el('path', { d: pathOf(pts), class: 'crossover', id: `crossover-line-${k}` }, svg);
  }
}

/** Each candidate's learned cost over input lengths, with the crossovers marked. */
export function drawCurves(svg: SVGSVGElement, curves: CostCurves | null, devices: readonly string[]): void {
  svg.replaceChildren();
  if (!curves) return;
  const frame: Frame = { x0: 44, x1: 462, y0: 240, y1: 8 };
  let top = 0;
  for (const c of curves.candidates) for (const v of c.cost) if (v !== null && v > top) top = v;
  const x = linear(0, curves.lengths.at(-1) ?? 1, frame.x0, frame.x1);
  const y = linear(0, top * 1.05, frame.y0, frame.y1);
  axes(svg, x, y, frame, { x: short, y: short });
  for (const c of curves.candidates) {
    const pts = c.cost.map((v, i): [number, number] | null => (v === null ? null : [x(curves.lengths[i] as number), y(v)]));
    el('path', { d: pathOf(pts), class: 'curve', stroke: colourOf(devices, c.target), 'data-target': c.target }, svg);
  }
  curves.crossovers.forEach((c, k) => {
    el('line', { x1: x(c.n), x2: x(c.n), y1: frame.y0, y2: frame.y1, class: 'crossover', id: `crossover-${k}`, 'data-n': c.n }, svg);
    text(`n=${c.n}`, { x: x(c.n) + 3, y: frame.y1 + 10 + 12 * k }, svg);
  });
  text('input length', { x: frame.x1, y: frame.y0 - 4, 'text-anchor': 'end' }, svg);
}

/** One value per link over time (RTT or bandwidth). */
export function drawSeries(
  svg: SVGSVGElement,
  samples: readonly Sample[],
  from: number,
  to: number,
  read: (l: Sample['links'][number]) => number | null,
  devices: readonly string[],
  unit: string,
): void {
  const frame: Frame = { x0: 44, x1: 462, y0: 108, y1: 6 };
  const shown = samples.filter((s) => s.t >= from);
  let top = 0;
  for (const s of shown) for (const l of s.links) top = Math.max(top, read(l) ?? 0);
  const x = linear(from, to, frame.x0, frame.x1);
  const y = linear(0, top * 1.1 || 1, frame.y0, frame.y1);
  axes(svg, x, y, frame, { x: clock, y: short });
  const names = [...new Set(shown.flatMap((s) => s.links.map((l) => l.name)))];
  for (const name of names) {
    const pts = shown.map((s): [number, number] | null => {
      const v = s.links.find((l) => l.name === name);
      const value = v ? read(v) : null;
      return value === null ? null : [x(s.t), y(value)];
    });
    el('path', { d: pathOf(pts), class: 'series', stroke: colourOf(devices, name), 'data-link': name }, svg);
  }
  // Which line is which link: its neighbour's name in its colour.
  text(unit, { x: frame.x0 + 4, y: frame.y1 + 6 }, svg);
  names.forEach((name, i) => text(`→ ${name}`, { x: frame.x1, y: frame.y1 + 6 + 11 * i, 'text-anchor': 'end', fill: colourOf(devices, name) }, svg));
}
