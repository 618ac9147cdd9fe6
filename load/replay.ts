import { Agent } from 'node:http';
import { createHash } from 'node:crypto';
import { Random } from '../stats/random.js';
import { describeEntry, postInfer, requestBody } from './load.js';

/** One request of a trace: its id, its input length, when it arrives (ms after the start; open loop). */
export interface TraceItem {
  id: number;
  n: number;
  /** ms after the start; NaN for closed-loop clients, who send when their previous answer is in */
  atMs: number;
}

export type ReplayArrival = { type: 'poisson' } | { type: 'closed'; clients: number; thinkMs: number };

export interface ReplayOptions {
  url: string;
  trace: readonly TraceItem[];
  arrival: ReplayArrival;
  /** the token ids (or features) of request i are drawn from seed and i alone */
  seed: number;
  /** performance.now() of the start (default: now) */
  startAt?: number;
  timeoutMs?: number;
  onResult?: (r: ReplayRecord, done: number) => void;
}

/** What became of one request of the trace. */
export interface ReplayRecord {
  id: number;
  n: number;
  /** the sha256 of the body sent, so runs can be checked to have sent the very same requests */
  bodyHash: string;
  /** when it was due and when it was sent, ms after the start */
  dueMs: number;
  sentAtMs: number;
  latencyMs: number;
  ok: boolean;
  status: number;
  servedBy?: string;
  path?: string[];
  /** the serving runtime's compute time, and the entry mapper's own time for the request, from the answer */
  computeMs?: number;
  entryMs?: number;
  code?: string;
}

/** The seed of request `id`'s body: the same body for every run of the same trace. */
function bodySeed(seed: number, id: number): number {
  return (Math.imul(seed ^ 0x6a09e667, 0x9e3779b1) ^ Math.imul(id + 1, 0x85ebca6b)) >>> 0;
}

/**
 * Replays a fixed trace against an entry, as `crime bench mapping` does once per policy: the same
 * lengths, the same bodies (drawn from the seed and each request's id), the same arrival times (open
 * loop: each request at its time, whatever the system's state; or closed-loop clients). Records
 * every request's fate.
 */
export async function replayTrace(o: ReplayOptions): Promise<ReplayRecord[]> {
  const model = await describeEntry(o.url);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const startAt = o.startAt ?? performance.now();
  const records: ReplayRecord[] = [];
  const one = async (t: TraceItem, dueMs: number): Promise<void> => {
    const text = requestBody(model, t.n, new Random(bodySeed(o.seed, t.id)));
    const body = Buffer.from(text);
    const sentAtMs = performance.now() - startAt;
    const sent = await postInfer({ agent, url: o.url, body, timeoutMs: o.timeoutMs ?? 60_000 });
    const r: ReplayRecord = {
      id: t.id,
      n: t.n,
      bodyHash: createHash('sha256').update(body).digest('hex').slice(0, 16),
      dueMs,
      sentAtMs,
      latencyMs: sent.latencyMs,
      ok: sent.answer !== undefined,
      status: sent.status,
      ...(sent.answer ? { servedBy: sent.answer.servedBy, path: sent.answer.path, computeMs: sent.answer.timings.computeMs, entryMs: sent.answer.timings.totalMs } : {}),
      ...(sent.code === undefined ? {} : { code: sent.code }),
    };
    records.push(r);
    o.onResult?.(r, records.length);
  };
  try {
    if (o.arrival.type === 'poisson') {
      await Promise.all(
        o.trace.map(async (t) => {
          const wait = startAt + t.atMs - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          await one(t, t.atMs);
        }),
      );
    } else {
      const { clients, thinkMs } = o.arrival;
      let next = 0;
      const client = async (): Promise<void> => {
        for (let t = o.trace[next++]; t !== undefined; t = o.trace[next++]) {
          await one(t, performance.now() - startAt);
          if (thinkMs > 0) await new Promise((r) => setTimeout(r, thinkMs));
        }
      };
      await Promise.all(Array.from({ length: clients }, client));
    }
  } finally {
    agent.destroy();
  }
  return records.sort((a, b) => a.id - b.id);
}
