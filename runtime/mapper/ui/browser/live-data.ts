/**
 * The JSON of the live page: GET /ui/data and every /ui/events message. Types only, shared by the
 * mapper that writes it and the page that reads it (served to it as /ui/live-data.js). docs/mapper.md
 * documents it.
 */

/** One request: [time (ms since the epoch), input length, device index, flags, latency ms]. */
export type RequestPoint = [number, number, number, number, number];

/** Bits of a request's flags. */
export const REQUEST_FLAGS = {
  /** a candidate failed and another served the request */
  fallback: 1,
  /** no candidate could serve it (its device is NO_DEVICE) */
  failed: 2,
  /** it came from a neighbour, not from a client */
  peer: 4,
} as const;

export const OTHER_DEVICE = '(other)';
export const NO_DEVICE = '(none)';

export interface Crossover {
  /** from this input length on, `to` is the cheapest candidate instead of `from` */
  n: number;
  from: string;
  to: string;
}

export interface CostCurves {
  /** 'ms' under the latency objective, 'J' (end-node energy) under energy */
  unit: 'ms' | 'J';
  lengths: number[];
  /** one per candidate (this device under its own name): its cost at each length, null where it cannot serve */
  candidates: Array<{ target: string; cost: Array<number | null> }>;
  crossovers: Crossover[];
}

export interface LinkEstimate {
  name: string;
  /** null until the link was measured */
  rttMs: number | null;
  /** null until a bandwidth was measured */
  bandwidthMbps: number | null;
  down: boolean;
}

/** What the mapper believed at one time. */
export interface Sample {
  /** ms since the epoch */
  t: number;
  links: LinkEstimate[];
  /** the crossover lengths of the cost curves, shortest first */
  crossovers: number[];
}

/** Where a client is: the next request and the next sample it has not seen. */
export interface LiveCursor {
  points: number;
  samples: number;
}

export interface LiveData {
  device: string;
  objective: 'latency' | 'energy' | null;
  maxSteps: number | null;
  now: number;
  /** device names by index, for the points */
  devices: readonly string[];
  /** requests per serving device since the mapper started */
  counts: Record<string, number>;
  points: RequestPoint[];
  samples: Sample[];
  /** the cost curves as of the latest sample; null until the mapper is ready */
  curves: CostCurves | null;
  next: LiveCursor;
}
