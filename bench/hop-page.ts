/**
 * `crime bench hop --page`: what the live page costs the mapper's hop. Per transport two real
 * mappers in front of one real runtime: one started with --no-ui (nothing recorded, no page), one
 * with its page open the whole time (a client loads /ui and reads /ui/events, parsing every message
 * as the browser does). The same requests go to the runtime directly and through both mappers in
 * turn, at `rate` requests a second each; besides latency, each mapper's CPU time per request.
 */
import { get, type IncomingMessage } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startCrime, stopChild, type StartedChild } from '../local/child.js';
import { MODEL_PRESETS, type ModelPresetName } from '../runtime/models/spec.js';
import { directPath, measurePaths, quantiles, round, startHopRuntime, type HopPath, type HopTransport, type Quantiles } from './hop-harness.js';

/** The target: with its page open, the mapper's hop (its p50 latency) is at most 2 % longer. */
export const PAGE_TARGET = { maxShare: 0.02 } as const;

export interface PageBenchOptions {
  preset: ModelPresetName;
  steps: readonly number[];
  transports: readonly HopTransport[];
  rate: number;
  count: number;
  warmup?: number;
  onProgress?: (fraction: number, label: string) => void;
}

export interface PageRow {
  transport: HopTransport;
  encoding: 'json' | 'binary';
  steps: number;
  direct: Quantiles;
  /** through the mapper without its page (--no-ui) */
  noPage: Quantiles;
  /** through the mapper with its page open */
  withPage: Quantiles;
  /** (withPage - noPage) / noPage at p50: what the page adds to the hop, as a share of it */
  shareP50: number;
  /** mapper CPU ms per request without and with the page, and the share added */
  cpuMsNoPage: number | null;
  cpuMsWithPage: number | null;
  cpuShare: number | null;
  /** requests per second each path got */
  rate: number;
}

export interface PageBenchReport {
  model: string;
  count: number;
  rows: PageRow[];
  /** messages and bytes the open page received */
  stream: { messages: number; bytes: number };
  target: { maxShare: number; description: string };
}

/** Loads the page and keeps reading its event stream, parsing each message. */
async function openPage(url: string): Promise<{ counts: { messages: number; bytes: number }; close: () => void }> {
  for (const path of ['/ui', '/ui/page.css', '/ui/main.js', '/ui/charts.js', '/ui/svg.js', '/ui/live-data.js']) {
    const res = await fetch(`${url}${path}`);
    if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status}`);
    await res.arrayBuffer();
  }
  const counts = { messages: 0, bytes: 0 };
  const res = await new Promise<IncomingMessage>((resolve, reject) => get(`${url}/ui/events`, resolve).on('error', reject));
  if (res.statusCode !== 200) throw new Error(`GET /ui/events: HTTP ${res.statusCode}`);
  let buffer = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    counts.bytes += chunk.length;
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const message = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = /^data: (.*)$/m.exec(message);
      if (data) {
        JSON.parse(data[1] as string);
        counts.messages++;
      }
    }
  });
  return { counts, close: () => res.destroy() };
}

export async function runPageHopBench(options: PageBenchOptions): Promise<PageBenchReport> {
  const dir = await mkdtemp(join(tmpdir(), 'crime-bench-page-'));
  const children: StartedChild[] = [];
  const pages: Array<{ counts: { messages: number; bytes: number }; close: () => void }> = [];
  try {
    const runtime = await startHopRuntime(dir, options.preset, Math.max(...options.steps));
    children.push(runtime.child);
    const paths: HopPath[] = [];
    for (const transport of options.transports) {
      const config = join(dir, `mapper-${transport}.yaml`);
      await writeFile(config, stringify({ device: 'bench', listen: { port: 0 }, runtime: { url: runtime.address[transport] }, auth: { disabled: true } }));
      const without = await startCrime(['mapper', '--config', config, '--log-level', 'warn', '--no-ui'], join(dir, `mapper-${transport}-no-ui.log`));
      const withPage = await startCrime(['mapper', '--config', config, '--log-level', 'warn'], join(dir, `mapper-${transport}.log`));
      children.push(without, withPage);
      pages.push(await openPage(withPage.url));
      paths.push(
        directPath(runtime, transport),
        { transport, kind: 'no-page', url: new URL('/v1/infer', without.url), ...(without.child.pid ? { pid: without.child.pid } : {}) },
        { transport, kind: 'page', url: new URL('/v1/infer', withPage.url), ...(withPage.child.pid ? { pid: withPage.child.pid } : {}) },
      );
    }
    const cases = (['json', 'binary'] as const).flatMap((encoding) => options.steps.map((steps) => ({ encoding, steps })));
    const measured = await measurePaths({
      paths, cases, info: runtime.info, rate: options.rate, count: options.count, warmup: options.warmup ?? 50, ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    const rows: PageRow[] = [];
    for (const [i, c] of cases.entries()) {
      const m = measured[i];
      for (const transport of options.transports) {
        const at = (kind: string): number => paths.findIndex((p) => p.transport === transport && p.kind === kind);
        const of = (kind: string): Quantiles => quantiles(m?.latencies[at(kind)] ?? []);
        const noPage = of('no-page');
        const withPage = of('page');
        const cpuNo = m?.cpuMsPerRequest[at('no-page')];
        const cpuWith = m?.cpuMsPerRequest[at('page')];
        rows.push({
          transport,
          ...c,
          direct: of('direct'),
          noPage,
          withPage,
          shareP50: round((withPage.p50Ms - noPage.p50Ms) / noPage.p50Ms),
          cpuMsNoPage: cpuNo ?? null,
          cpuMsWithPage: cpuWith ?? null,
          cpuShare: cpuNo && cpuWith !== undefined ? round((cpuWith - cpuNo) / cpuNo) : null,
          rate: m?.achievedRate ?? 0,
        });
      }
    }
    const stream = pages.reduce((a, p) => ({ messages: a.messages + p.counts.messages, bytes: a.bytes + p.counts.bytes }), { messages: 0, bytes: 0 });
    return {
      model: MODEL_PRESETS[options.preset].name,
      count: options.count,
      rows,
      stream,
      target: { ...PAGE_TARGET, description: `with its page open the mapper's hop is at most ${PAGE_TARGET.maxShare * 100} % longer (p50, same run)` },
    };
  } finally {
    for (const p of pages) p.close();
    await Promise.all(children.map((c) => stopChild(c.child)));
    await rm(dir, { recursive: true, force: true });
  }
}

const pct = (v: number | null): string => (v === null || !Number.isFinite(v) ? '-' : `${(v * 100).toFixed(1)}%`);

export function formatPageReport(r: PageBenchReport): string {
  const header = ['transport', 'body', 'n', 'req/s', 'direct p50', 'no page p50', 'p99', 'page open p50', 'p99', 'page adds p50', 'cpu ms/req no page', 'page open', 'cpu added', 'target'];
  const rows = r.rows.map((x) => [
    x.transport,
    x.encoding,
    String(x.steps),
    x.rate.toFixed(1),
    ...[x.direct.p50Ms, x.noPage.p50Ms, x.noPage.p99Ms, x.withPage.p50Ms, x.withPage.p99Ms].map((v) => v.toFixed(3)),
    pct(x.shareP50),
    x.cpuMsNoPage === null ? '-' : x.cpuMsNoPage.toFixed(3),
    x.cpuMsWithPage === null ? '-' : x.cpuMsWithPage.toFixed(3),
    pct(x.cpuShare),
    x.shareP50 <= PAGE_TARGET.maxShare ? 'met' : 'MISSED',
  ]);
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((row) => row[c]!.length)));
  const table = all.map((row) => row.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
  return [
    `crime bench hop --page: ${r.model}, ${r.count} requests per path and case, loopback, ms`,
    'no page: a mapper started with --no-ui; page open: a mapper whose /ui page is open the whole',
    'time (its event stream read and parsed). page adds = (page open - no page) / no page at p50;',
    'cpu: each mapper process\'s CPU time per request over the case.',
    '',
    table,
    '',
    `The open page received ${r.stream.messages} messages, ${(r.stream.bytes / 1024).toFixed(0)} KiB.`,
    `Target: ${r.target.description}.`,
    '',
  ].join('\n');
}
