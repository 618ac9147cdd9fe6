/**
 * The throughput benchmark as SVG: p50 and p99 against the offered load for both configurations,
 * with the budget; below, the batch the batched runtime ran and the model's time per request.
 */
import { COLORS, esc, frame, legend, M, num, PANEL_H, scale, svg, W, type Axis } from '../sim/plot.js';
import type { ThroughputReport } from './throughput.js';

export function plotThroughput(r: ThroughputReport): string {
  const configs: Array<readonly [string, ThroughputReport['baseline']]> = [
    ['baseline', r.baseline], ['batched', r.batched],
    ...r.others.map((o) => [`${o.serving.maxBatch}/${o.serving.maxDelayMs}/${o.serving.concurrency}`, o] as const),
  ];
  const windows = configs.flatMap(([, c]) => c.windows);
  const finite = windows.flatMap((w) => [w.p50Ms, w.p99Ms]).filter((v) => Number.isFinite(v) && v > 0);
  const xa: Axis = { min: Math.min(...windows.map((w) => w.offeredRps)), max: Math.max(...windows.map((w) => w.offeredRps)), log: false };
  const ya: Axis = { min: Math.max(0.1, Math.min(...finite)), max: Math.max(r.budgetMs * 4, ...finite.filter((v) => v < r.budgetMs * 20)), log: true };
  const title = `${r.model}, n = ${r.length}, ${r.backend}: latency against offered load (p99 budget ${r.budgetMs} ms)`;
  const body = frame(0, title, xa, ya, 'offered load (requests/s)', 'latency (ms, log)');
  const x = scale(xa, M.left, W - M.right);
  const y = scale(ya, PANEL_H - M.bottom, M.top);
  const clampY = (v: number): number => y(Math.min(Math.max(v, ya.min), ya.max));
  body.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${num(y(r.budgetMs))}" y2="${num(y(r.budgetMs))}" stroke="#888" stroke-dasharray="5 3"/>`);
  const entries: Array<[string, string]> = [];
  configs.forEach(([name, c], i) => {
    const color = COLORS[i + 2] as string;
    for (const [q, dash] of [['p50Ms', ''], ['p99Ms', ' stroke-dasharray="2 2"']] as const) {
      const pts = c.windows.map((w) => `${num(x(w.offeredRps))},${num(clampY(Number.isFinite(w[q]) && w.failed === 0 ? w[q] : ya.max))}`);
      body.push(`<polyline fill="none" stroke="${color}" stroke-width="1.8"${dash} points="${pts.join(' ')}"/>`);
    }
    body.push(`<line x1="${num(x(c.rpsAtBudget))}" x2="${num(x(c.rpsAtBudget))}" y1="${M.top}" y2="${PANEL_H - M.bottom}" stroke="${color}" stroke-opacity="0.5"/>`);
    entries.push([`${name} p50 (p99 dotted)`, color]);
  });
  entries.push([`budget; ratio ${r.ratio}x`, '#888']);
  body.push(...legend(0, entries));

  const y0 = PANEL_H + 10;
  const batches = r.batched.windows.map((w) => w.meanBatch);
  const yb: Axis = { min: 0, max: Math.max(2, ...batches), log: false };
  body.push(...frame(y0, `batched: mean batch a request ran in, and the model's ms per request (baseline in grey)`, xa, yb, 'offered load (requests/s)', 'batch size / ms per request'));
  const y2 = scale(yb, y0 + PANEL_H - M.bottom, y0 + M.top);
  const line = (pts: Array<[number, number]>, color: string, dash = ''): string =>
    `<polyline fill="none" stroke="${color}" stroke-width="1.8"${dash} points="${pts.map(([a, b]) => `${num(x(a))},${num(y2(Math.min(b, yb.max)))}`).join(' ')}"/>`;
  body.push(line(r.batched.windows.map((w) => [w.offeredRps, w.meanBatch]), COLORS[3] as string));
  body.push(line(r.batched.windows.map((w) => [w.offeredRps, w.computePerRequestMs]), COLORS[3] as string, ' stroke-dasharray="2 2"'));
  body.push(line(r.baseline.windows.map((w) => [w.offeredRps, w.computePerRequestMs]), '#999', ' stroke-dasharray="2 2"'));
  body.push(...legend(y0, [['batch size', COLORS[3] as string], ['model ms per request (dotted)', '#999']]));
  body.push(`<text x="${M.left}" y="${2 * PANEL_H + 5}" font-size="10" fill="#555">${esc(`machine: ${r.load.cores} cores, load average ${r.load.before} → ${r.load.after}`)}</text>`);
  return svg(2 * PANEL_H + 20, body);
}
