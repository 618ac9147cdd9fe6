import type { Scenario } from './scenario.js';
import type { SweepPoint } from './run.js';
import type { RequestRecord } from './simulate.js';
import { START_MS } from './trace.js';

/**
 * SVG plots without dependencies: latency over time per policy (log scale, with the scenario's
 * events marked), the slides' mapping visualisation (input length over time, coloured by the
 * device CRIME chose), and for sweeps the mean cost of every policy against the swept RTT. The
 * primitives (frame, axes, legend) are exported for the other plots (bench/throughput-plot.ts).
 */
export const COLORS = ['#d62728', '#111111', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#bcbd22'];
export const W = 900;
export const PANEL_H = 300;
export const M = { left: 70, right: 190, top: 30, bottom: 45 };

export const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
export const num = (v: number): string => (Math.round(v * 10) / 10).toString();

export interface Axis {
  min: number;
  max: number;
  log: boolean;
}

export function scale(a: Axis, from: number, to: number): (v: number) => number {
  const f = (v: number): number => (a.log ? Math.log10(Math.max(v, a.min)) : v);
  const lo = f(a.min);
  const hi = f(a.max);
  return (v) => from + ((f(v) - lo) / (hi - lo || 1)) * (to - from);
}

function ticks(a: Axis): number[] {
  if (a.log) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(a.min)); e <= Math.ceil(Math.log10(a.max)); e++) {
      for (const m of [1, 2, 5]) {
        const v = m * 10 ** e;
        if (v >= a.min && v <= a.max) out.push(v);
      }
    }
    return out;
  }
  const step = 10 ** Math.floor(Math.log10((a.max - a.min) / 5 || 1));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => (a.max - a.min) / s <= 8) ?? step * 10;
  const out: number[] = [];
  for (let v = Math.ceil(a.min / nice) * nice; v <= a.max; v += nice) out.push(v);
  return out;
}

export function frame(y0: number, title: string, xa: Axis, ya: Axis, xLabel: string, yLabel: string): string[] {
  const x = scale(xa, M.left, W - M.right);
  const y = scale(ya, y0 + PANEL_H - M.bottom, y0 + M.top);
  const out = [
    `<text x="${M.left}" y="${y0 + 18}" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<rect x="${M.left}" y="${y0 + M.top}" width="${W - M.left - M.right}" height="${PANEL_H - M.top - M.bottom}" fill="none" stroke="#999"/>`,
    `<text x="${(M.left + W - M.right) / 2}" y="${y0 + PANEL_H - 8}" font-size="12" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text x="14" y="${y0 + PANEL_H / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 14 ${y0 + PANEL_H / 2})">${esc(yLabel)}</text>`,
  ];
  for (const t of ticks(xa)) out.push(`<text x="${num(x(t))}" y="${y0 + PANEL_H - M.bottom + 15}" font-size="10" text-anchor="middle">${t}</text>`);
  for (const t of ticks(ya)) {
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${num(y(t))}" y2="${num(y(t))}" stroke="#eee"/>`);
    out.push(`<text x="${M.left - 5}" y="${num(y(t) + 3)}" font-size="10" text-anchor="end">${t}</text>`);
  }
  return out;
}

export function legend(y0: number, entries: Array<[string, string]>): string[] {
  return entries.map(
    ([label, color], i) =>
      `<rect x="${W - M.right + 12}" y="${y0 + M.top + i * 16}" width="10" height="10" fill="${color}"/>` +
      `<text x="${W - M.right + 27}" y="${y0 + M.top + 9 + i * 16}" font-size="11">${esc(label)}</text>`,
  );
}

export function svg(height: number, body: string[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${body.join('\n')}\n</svg>\n`;
}

/** Latency over time per policy, and CRIME's choices: input length over time coloured by device. */
export function plotRun(s: Scenario, records: Record<string, RequestRecord[]>): string {
  const policies = Object.keys(records);
  const all = Object.values(records).flat();
  const t0 = Math.min(...all.map((r) => r.arrivalMs));
  const t1 = Math.max(...all.map((r) => r.arrivalMs));
  const bins = 120;
  const binOf = (t: number): number => Math.min(bins - 1, Math.floor(((t - t0) / (t1 - t0 || 1)) * bins));
  const xa: Axis = { min: 0, max: (t1 - t0) / 1000, log: false };
  const served = all.filter((r) => r.servedBy !== null).map((r) => r.latencyMs);
  const ya: Axis = { min: Math.max(0.1, Math.min(...served)), max: Math.max(...served), log: true };
  const body = frame(0, `${s.name}: mean latency per time bin`, xa, ya, 'time (s)', 'latency (ms, log)');
  const x = scale(xa, M.left, W - M.right);
  const y = scale(ya, PANEL_H - M.bottom, M.top);
  for (const e of s.events) {
    const ex = x(e.atSec - (t0 - START_MS) / 1000);
    const what = e.kind === 'link' ? `${e.from}->${e.to}` : e.device;
    body.push(`<line x1="${num(ex)}" x2="${num(ex)}" y1="${M.top}" y2="${PANEL_H - M.bottom}" stroke="#888" stroke-dasharray="4 3"/>`);
    body.push(`<text x="${num(ex + 3)}" y="${M.top + 10}" font-size="9" fill="#555">${esc(what)}</text>`);
  }
  policies.forEach((p, i) => {
    const sum = new Array<number>(bins).fill(0);
    const cnt = new Array<number>(bins).fill(0);
    for (const r of records[p] ?? []) {
      if (r.servedBy === null) continue;
      const b = binOf(r.arrivalMs);
      sum[b]! += r.latencyMs;
      cnt[b]! += 1;
    }
    const pts = sum.flatMap((v, b) => (cnt[b] ? [`${num(x(((b + 0.5) / bins) * xa.max))},${num(y(v / cnt[b]!))}`] : []));
    body.push(`<polyline fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="${p === 'crime' ? 2 : 1.2}" points="${pts.join(' ')}"/>`);
  });
  body.push(...legend(0, policies.map((p, i) => [p, COLORS[i % COLORS.length]!])));

  const crime = (records.crime ?? []).map((r) => ({ tSec: (r.arrivalMs - t0) / 1000, n: r.n, servedBy: r.servedBy }));
  const devices = s.devices.map((d) => d.name);
  body.push(...mappingPanel(PANEL_H + 10, 'CRIME mapping: input length over time, coloured by the serving device', crime, devices, xa, lengthAxis(crime)));
  return svg(2 * PANEL_H + 20, body);
}

/** One request in the mapping figure: when it arrived (s), its input length, where it was served. */
export interface MappingPoint {
  tSec: number;
  n: number;
  servedBy: string | null;
}

function lengthAxis(points: readonly MappingPoint[]): Axis {
  const maxN = Math.max(...points.map((p) => p.n), 1);
  return { min: 1, max: maxN, log: maxN > 50 };
}

/** The slides' mapping visualisation: every request's input length over time, coloured by the device that served it. */
function mappingPanel(y0: number, title: string, points: readonly MappingPoint[], devices: readonly string[], xa: Axis, ya: Axis): string[] {
  const body = frame(y0, title, xa, ya, 'time (s)', 'input length (steps)');
  const x = scale(xa, M.left, W - M.right);
  const y = scale(ya, y0 + PANEL_H - M.bottom, y0 + M.top);
  for (const p of points) {
    const color = p.servedBy === null ? '#000' : COLORS[(devices.indexOf(p.servedBy) + 2) % COLORS.length];
    body.push(`<circle cx="${num(x(p.tSec))}" cy="${num(y(p.n))}" r="1.6" fill="${color}" fill-opacity="0.6"/>`);
  }
  body.push(...legend(y0, [...devices.map((d, i): [string, string] => [d, COLORS[(i + 2) % COLORS.length]!]), ['failed', '#000']]));
  return body;
}

/** Several runs' mapping figures on the same axes, one above the other (e.g. live and simulated). */
export function plotMappings(panels: ReadonlyArray<{ title: string; points: readonly MappingPoint[] }>, devices: readonly string[]): string {
  const all = panels.flatMap((p) => p.points);
  const xa: Axis = { min: 0, max: Math.max(1e-3, ...all.map((p) => p.tSec)), log: false };
  const ya = lengthAxis(all);
  const body = panels.flatMap((p, i) => mappingPanel(i * (PANEL_H + 10), p.title, p.points, devices, xa, ya));
  return svg(panels.length * (PANEL_H + 10), body);
}

/** Mean cost of every policy against the swept RTT (the slides' two-level figure). */
export function plotSweep(name: string, link: string, points: readonly SweepPoint[]): string {
  const first = points[0];
  if (!first) return svg(PANEL_H, []);
  const policies = Object.keys(first.policies);
  const energy = first.objective === 'energy';
  const cost = (p: SweepPoint, policy: string): number =>
    energy ? (p.policies[policy]?.meanEnergyJ ?? 0) * 1000 : (p.policies[policy]?.meanMs ?? 0);
  const values = points.flatMap((p) => policies.map((pol) => cost(p, pol))).filter((v) => v > 0);
  const xa: Axis = { min: Math.max(0.1, Math.min(...points.map((p) => p.rttMs))), max: Math.max(...points.map((p) => p.rttMs)), log: true };
  const ya: Axis = { min: Math.min(...values), max: Math.max(...values), log: true };
  const body = frame(0, `${name}: mean ${energy ? 'energy' : 'latency'} vs ${link} RTT`, xa, ya, `${link} RTT (ms, log)`, energy ? 'mJ per request (log)' : 'ms per request (log)');
  const x = scale(xa, M.left, W - M.right);
  const y = scale(ya, PANEL_H - M.bottom, M.top);
  policies.forEach((pol, i) => {
    const pts = points.map((p) => `${num(x(Math.max(p.rttMs, xa.min)))},${num(y(Math.max(cost(p, pol), ya.min)))}`);
    body.push(`<polyline fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="${pol === 'crime' ? 2.5 : 1.2}" points="${pts.join(' ')}"/>`);
  });
  body.push(...legend(0, policies.map((p, i) => [p, COLORS[i % COLORS.length]!])));
  return svg(PANEL_H, body);
}
