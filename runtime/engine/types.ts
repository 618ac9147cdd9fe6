import type { CostCurve, Piece } from './cost-curve.js';

export type Objective = 'latency' | 'energy';

/** End-node power draw in watts; only the entry device's matters for the energy objective. */
export interface PowerModel {
  activeW: number;
  idleW: number;
  txW: number;
  rxW: number;
}

/** Bytes a request and a response take on the wire. */
export interface PayloadModel {
  /** bytes per input step */
  stepBytes: number;
  /** bytes of one response */
  outputBytes: number;
  /** fixed bytes per request (headers, framing); default 0 */
  overheadBytes?: number;
}

/**
 * What a device tells its callers, in every response and every ping reply: its own compute model
 * (without queue), its queue wait right now, and the envelope of its routes through its neighbours.
 * Its cost for an input of n steps is C(n) = min(local(n) + queueMs, remote(n)).
 */
export interface Advertisement {
  local: Piece | null;
  queueMs: number;
  remote: CostCurve;
  /**
   * A batching device: the work one more request adds to its queue, a share of `local` (requests
   * share runs); absent, `local` itself (one run per request).
   */
  added?: Piece;
}

export interface LinkParams {
  rttMs: number;
  /** ms per byte (1 / bandwidth) */
  msPerByte: number;
}

export type CandidateKind = 'local' | 'neighbour';

/** The estimate for one candidate of one decision. */
export interface Estimate {
  /** 'local' or the neighbour's name */
  target: string;
  kind: CandidateKind;
  /** what the objective minimises: ms for latency, J for energy */
  cost: number;
  latencyMs: number;
  /** end-node energy in joules; 0 without a power model */
  energyJ: number;
  /** network part of latencyMs (0 for local) */
  networkMs: number;
  /** queue wait part of latencyMs, where it is known (local and a neighbour's own queue) */
  queueMs: number;
}

export interface Decision {
  n: number;
  objective: Objective;
  /** the best candidate (ranked[0]); null when nothing can serve the input */
  choice: Estimate | null;
  /** every usable candidate, cheapest first: the fallback order when an offload fails */
  ranked: Estimate[];
}

export function bandwidthToMsPerByte(mbps: number): number {
  // 1 Mbit/s = 125 000 bytes/s = 125 bytes/ms
  return 1 / (mbps * 125);
}

export function msPerByteToMbps(msPerByte: number): number {
  return msPerByte > 0 ? 1 / (msPerByte * 125) : Infinity;
}
