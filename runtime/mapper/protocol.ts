/**
 * The mapper's HTTP contract (docs/mapper.md), for clients, peers and tests. Requests between
 * mappers are binary (the runtime's float32/int32 encoding) and carry the sender's request id, the
 * path so far and the topology's bearer token; every answer carries the callee's own elapsed time
 * and its advertisement, so callers learn from every reply without synchronised clocks.
 */
import type { Advertisement } from '../engine/types.js';
import { HEADERS as RUNTIME_HEADERS } from '../server/protocol.js';

export const MAPPER_PATHS = {
  infer: '/v1/infer',
  ping: '/v1/ping',
  model: '/v1/model',
  healthz: '/healthz',
  readyz: '/readyz',
  metrics: '/metrics',
} as const;

export const MAPPER_HEADERS = {
  ...RUNTIME_HEADERS,
  /** "peer" on requests from another mapper (they need the token and are routed for latency) */
  origin: 'crime-origin',
  /** devices the request has passed through, comma-separated, so it never loops */
  path: 'crime-path',
  /** the callee's advertisement (JSON), on every answer to a peer */
  advert: 'crime-advert',
} as const;

export interface Timings {
  /** the answering mapper's own elapsed time */
  totalMs: number;
  /** model run time at the device that served it */
  computeMs: number;
  /** time on the wire along the path (round trips minus the callees' own elapsed times) */
  networkMs: number;
  /** time waiting for an inference slot at the device that served it */
  queueMs: number;
}

/** POST /v1/infer answer. */
export interface MapperInferResponse {
  outputs: number[];
  servedBy: string;
  path: string[];
  timings: Timings;
}

/** GET or POST /v1/ping answer. */
export interface PingResponse {
  device: string;
  advertisement: Advertisement;
}

/** Longest path a request may take: more hops than any sane topology, fewer than a loop. */
export const MAX_HOPS = 16;

export function parsePath(header: string | undefined): string[] {
  if (header === undefined || header.trim() === '') return [];
  return header.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** Parses an advertisement header defensively: a malformed one is ignored, never trusted. */
export function parseAdvertisement(header: string | string[] | undefined): Advertisement | undefined {
  if (typeof header !== 'string') return undefined;
  try {
    const v = JSON.parse(header) as Partial<Advertisement>;
    const piece = (p: unknown): p is { slope: number; intercept: number } =>
      typeof p === 'object' && p !== null && Number.isFinite((p as { slope: unknown }).slope) && Number.isFinite((p as { intercept: unknown }).intercept);
    if (!Number.isFinite(v.queueMs) || !Array.isArray(v.remote) || !v.remote.every(piece)) return undefined;
    if (v.local !== null && !piece(v.local)) return undefined;
    const advertisement: Advertisement = { local: v.local ?? null, queueMs: Math.max(0, v.queueMs as number), remote: v.remote.slice(0, 16) };
    // A batching device's share per request; a malformed one is dropped (its local piece serves instead).
    return piece(v.added) ? { ...advertisement, added: { slope: v.added.slope, intercept: v.added.intercept } } : advertisement;
  } catch {
    return undefined;
  }
}
