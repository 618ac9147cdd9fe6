/** Small SVG helpers for the live page: elements, linear scales, axes with ticks. */

const NS = 'http://www.w3.org/2000/svg';

export type Attrs = Record<string, string | number>;

export function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Attrs = {}, parent?: Element): SVGElementTagNameMap[K] {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  parent?.appendChild(node);
  return node;
}

export function text(content: string, attrs: Attrs, parent: Element): SVGTextElement {
  const node = el('text', attrs, parent);
  node.textContent = content;
  return node;
}

export interface Scale {
  (v: number): number;
  domain: [number, number];
  ticks(count: number): number[];
}

/** Maps [d0, d1] onto [r0, r1]; a flat domain is widened so nothing divides by zero. */
export function linear(d0: number, d1: number, r0: number, r1: number): Scale {
  const hi = d1 > d0 ? d1 : d0 + 1;
  const f = ((v: number): number => r0 + ((v - d0) / (hi - d0)) * (r1 - r0)) as Scale;
  f.domain = [d0, hi];
  f.ticks = (count) => niceTicks(d0, hi, count);
  return f;
}

/** Round tick values (1, 2, 5 × 10^k apart) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count: number): number[] {
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

export interface Frame {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/** Clears `svg` and draws a frame's axes and grid; returns the plot area. */
export function axes(svg: SVGSVGElement, x: Scale, y: Scale, frame: Frame, label: { x: (v: number) => string; y: (v: number) => string }): void {
  svg.replaceChildren();
  for (const v of y.ticks(4)) {
    el('line', { x1: frame.x0, x2: frame.x1, y1: y(v), y2: y(v), class: 'grid' }, svg);
    text(label.y(v), { x: frame.x0 - 4, y: y(v) + 3, 'text-anchor': 'end' }, svg);
  }
  for (const v of x.ticks(6)) text(label.x(v), { x: x(v), y: frame.y0 + 12, 'text-anchor': 'middle' }, svg);
  el('line', { x1: frame.x0, x2: frame.x1, y1: frame.y0, y2: frame.y0, class: 'axis' }, svg);
  el('line', { x1: frame.x0, x2: frame.x0, y1: frame.y0, y2: frame.y1, class: 'axis' }, svg);
}

/** An SVG path through the points, broken where a value is missing. */
export function pathOf(points: Array<[number, number] | null>): string {
  let d = '';
  let pen = false;
  for (const p of points) {
    if (p === null || !Number.isFinite(p[0]) || !Number.isFinite(p[1])) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${p[0].toFixed(1)},${p[1].toFixed(1)}`;
    pen = true;
  }
  return d;
}
