import { Agent } from 'node:http';
import { toCrimeError } from '../runtime/errors.js';
import { errorOf, send } from '../runtime/http/request.js';
import { quantile } from '../stats/quantile.js';
import { Random } from '../stats/random.js';
import type { MapperInferResponse } from '../runtime/mapper/protocol.js';
import { lengthSampler, type Lengths } from '../stats/lengths.js';

export interface LoadOptions {
  url: string;
  lengths: Lengths;
  /** requests per second, Poisson arrivals; 0 sends one after another */
  rate: number;
  count: number;
  /** most requests outstanding at once (default 256) */
  maxOutstanding?: number;
  timeoutMs?: number;
  seed?: number;
  /** an extra header on every request, e.g. authorization for a protected entry */
  headers?: Record<string, string>;
  onResult?: (r: LoadResult, done: number) => void;
}

export interface LoadResult {
  index: number;
  n: number;
  sentAtMs: number;
  latencyMs: number;
  ok: boolean;
  status: number;
  servedBy?: string;
  path?: string[];
  code?: string;
}

export interface LoadReport {
  url: string;
  requests: number;
  ok: number;
  failed: number;
  failures: Record<string, number>;
  latencyMs: { mean: number; p50: number; p95: number; p99: number };
  servedBy: Record<string, { count: number; meanLatencyMs: number; meanSteps: number; minSteps: number; maxSteps: number }>;
  durationMs: number;
  results: LoadResult[];
}

export interface ModelDescription {
  inputKind: 'floats' | 'tokens';
  featureSize: number;
  vocabSize?: number;
  maxSteps: number;
}

export async function describeEntry(url: string): Promise<ModelDescription> {
  const agent = new Agent();
  try {
    const res = await send({ agent, method: 'GET', url: new URL('/v1/model', url), headers: { accept: 'application/json' }, timeoutMs: 10_000, peer: 'entry' });
    if (res.status !== 200) throw errorOf(res, 'entry');
    return JSON.parse(res.body.toString('utf8')) as ModelDescription;
  } finally {
    agent.destroy();
  }
}

/** A JSON request body of n steps for the entry's model: random token ids or features from `rnd`. */
export function requestBody(model: ModelDescription, n: number, rnd: Random): string {
  if (model.inputKind === 'tokens') {
    const vocab = model.vocabSize ?? 1000;
    return JSON.stringify({ tokens: Array.from({ length: n }, () => rnd.int(0, vocab - 1)) });
  }
  const inputs = Array.from({ length: n }, () => Array.from({ length: model.featureSize }, () => Math.round((rnd.next() * 2 - 1) * 1e4) / 1e4));
  return JSON.stringify({ inputs });
}

/** One request's fate at the entry: its answer, or the status and error code it failed with. */
export interface Sent {
  latencyMs: number;
  status: number;
  answer?: MapperInferResponse;
  code?: string;
}

/** POSTs one JSON body to the entry's /v1/infer and times the answer end to end; never throws. */
export async function postInfer(o: { agent: Agent; url: string; body: Buffer; timeoutMs: number; headers?: Record<string, string> }): Promise<Sent> {
  const t0 = performance.now();
  try {
    const res = await send({
      agent: o.agent,
      method: 'POST',
      url: new URL('/v1/infer', o.url),
      headers: { 'content-type': 'application/json', accept: 'application/json', ...o.headers },
      body: o.body,
      timeoutMs: o.timeoutMs,
      peer: 'entry',
    });
    const latencyMs = performance.now() - t0;
    if (res.status === 200) return { latencyMs, status: 200, answer: JSON.parse(res.body.toString('utf8')) as MapperInferResponse };
    return { latencyMs, status: res.status, code: errorOf(res, 'entry').code };
  } catch (err) {
    return { latencyMs: performance.now() - t0, status: 0, code: toCrimeError(err).code };
  }
}

/**
 * Drives a mapper entry like clients would: JSON requests with lengths from a distribution, at a
 * Poisson rate (open loop, so a slow system sees its queue grow), and records where each request
 * was served and how long it took end to end.
 */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const model = await describeEntry(options.url);
  const nextLength = lengthSampler(options.lengths, options.seed ?? 1);
  const rnd = new Random((options.seed ?? 1) ^ 0xbeef);
  const agent = new Agent({ keepAlive: true, maxSockets: options.maxOutstanding ?? 256 });
  const results: LoadResult[] = [];
  const started = performance.now();
  let outstanding = 0;
  const waiters: Array<() => void> = [];
  const one = async (index: number): Promise<void> => {
    const n = nextLength();
    const payload = Buffer.from(requestBody(model, n, rnd));
    const sentAtMs = performance.now() - started;
    const sent = await postInfer({ agent, url: options.url, body: payload, timeoutMs: options.timeoutMs ?? 60_000, ...(options.headers ? { headers: options.headers } : {}) });
    const r: LoadResult = {
      index, n, sentAtMs, latencyMs: sent.latencyMs, ok: sent.answer !== undefined, status: sent.status,
      ...(sent.answer ? { servedBy: sent.answer.servedBy, path: sent.answer.path } : {}),
      ...(sent.code === undefined ? {} : { code: sent.code }),
    };
    results.push(r);
    options.onResult?.(r, results.length);
  };
  const running: Promise<void>[] = [];
  const limit = options.maxOutstanding ?? 256;
  for (let i = 0; i < options.count; i++) {
    if (options.rate > 0 && i > 0) await new Promise((resolve) => setTimeout(resolve, rnd.exponential(1000 / options.rate)));
    while (outstanding >= limit) await new Promise<void>((resolve) => waiters.push(resolve));
    outstanding++;
    const p = one(i).finally(() => {
      outstanding--;
      waiters.shift()?.();
    });
    if (options.rate > 0) running.push(p);
    else await p;
  }
  await Promise.all(running);
  agent.destroy();
  return report(options.url, results.sort((a, b) => a.index - b.index), performance.now() - started);
}

export function report(url: string, results: LoadResult[], durationMs: number): LoadReport {
  const ok = results.filter((r) => r.ok);
  const lat = ok.map((r) => r.latencyMs).sort((a, b) => a - b);
  const failures: Record<string, number> = {};
  for (const r of results) if (!r.ok) failures[r.code ?? `HTTP ${r.status}`] = (failures[r.code ?? `HTTP ${r.status}`] ?? 0) + 1;
  const servedBy: LoadReport['servedBy'] = {};
  for (const r of ok) {
    const s = (servedBy[r.servedBy ?? '?'] ??= { count: 0, meanLatencyMs: 0, meanSteps: 0, minSteps: Infinity, maxSteps: 0 });
    s.count++;
    s.meanLatencyMs += r.latencyMs;
    s.meanSteps += r.n;
    s.minSteps = Math.min(s.minSteps, r.n);
    s.maxSteps = Math.max(s.maxSteps, r.n);
  }
  for (const s of Object.values(servedBy)) {
    s.meanLatencyMs /= s.count;
    s.meanSteps /= s.count;
  }
  return {
    url,
    requests: results.length,
    ok: ok.length,
    failed: results.length - ok.length,
    failures,
    latencyMs: { mean: lat.reduce((a, b) => a + b, 0) / Math.max(1, lat.length), p50: quantile(lat, 0.5), p95: quantile(lat, 0.95), p99: quantile(lat, 0.99) },
    servedBy,
    durationMs,
    results,
  };
}

export function formatLoadReport(r: LoadReport): string {
  const f = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : '-');
  const lines = [
    `${r.requests} requests to ${r.url} in ${(r.durationMs / 1000).toFixed(1)} s: ${r.ok} ok, ${r.failed} failed${r.failed ? ` (${Object.entries(r.failures).map(([c, n]) => `${c} ${n}`).join(', ')})` : ''}`,
    `latency ms: mean ${f(r.latencyMs.mean)}  p50 ${f(r.latencyMs.p50)}  p95 ${f(r.latencyMs.p95)}  p99 ${f(r.latencyMs.p99)}`,
    '',
    'served by        requests   mean ms   input steps (mean, min-max)',
  ];
  for (const [device, s] of Object.entries(r.servedBy).sort((a, b) => a[1].meanSteps - b[1].meanSteps)) {
    lines.push(`${device.padEnd(16)} ${String(s.count).padStart(8)}  ${f(s.meanLatencyMs).padStart(8)}   ${f(s.meanSteps)}, ${s.minSteps}-${s.maxSteps}`);
  }
  return `${lines.join('\n')}\n`;
}
