import { evalCurve, evalPiece, lowerEnvelope, shiftCurve, type CostCurve, type EnvelopeOptions, type Piece } from './cost-curve.js';
import { energyJ } from './energy.js';
import type { Advertisement, Estimate, LinkParams, Objective, PayloadModel, PowerModel } from './types.js';

/**
 * The pure decision rule shared by the learning engine and the evaluation oracle: given what is
 * believed about this device and its neighbours right now, the estimated cost of every candidate.
 * The engine feeds it learned models; the oracle feeds it the true parameters.
 */
export interface RankInput {
  n: number;
  objective: Objective;
  payload: PayloadModel;
  power?: PowerModel | undefined;
  /** this device's compute model and current queue wait; null when it cannot compute */
  local: { compute: Piece; queueMs: number } | null;
  neighbours: ReadonlyArray<NeighbourView>;
}

export interface NeighbourView {
  name: string;
  link: LinkParams;
  /** the neighbour's own compute piece, queue-free; null if it cannot compute */
  local: Piece | null;
  /** the neighbour's queue wait as believed now */
  queueMs: number;
  /** the work one more request adds to its queue, where it batches (Advertisement.added) */
  added?: Piece;
  /** the neighbour's routes onward */
  remote: CostCurve;
}

/** C_j(n) of a neighbour: min(local(n) + queue, remote(n)). */
export function neighbourCost(v: NeighbourView, n: number): number {
  const local = v.local ? evalPiece(v.local, n) + v.queueMs : Infinity;
  return Math.min(local, evalCurve(v.remote, n));
}

/** Whether the neighbour would serve an input of n steps itself rather than pass it on. */
export function neighbourServesLocally(v: NeighbourView, n: number): boolean {
  if (!v.local) return false;
  return evalPiece(v.local, n) + v.queueMs <= evalCurve(v.remote, n);
}

export function requestBytes(payload: PayloadModel, n: number): number {
  return n * payload.stepBytes + (payload.overheadBytes ?? 0);
}

/** Estimates for every candidate, cheapest first. Infinite or NaN candidates are left out. */
export function rankCandidates(input: RankInput): Estimate[] {
  const { n, objective, payload, power } = input;
  const out: Estimate[] = [];
  if (input.local) {
    const compute = evalPiece(input.local.compute, n);
    const latencyMs = input.local.queueMs + compute;
    const energy = power ? energyJ(power, { computeMs: compute }) : 0;
    out.push({
      target: 'local',
      kind: 'local',
      cost: objective === 'energy' ? energy : latencyMs,
      latencyMs,
      energyJ: energy,
      networkMs: 0,
      queueMs: input.local.queueMs,
    });
  }
  const reqBytes = requestBytes(payload, n);
  for (const v of input.neighbours) {
    const remoteMs = neighbourCost(v, n);
    if (!Number.isFinite(remoteMs)) continue;
    const txMs = reqBytes * v.link.msPerByte;
    const rxMs = payload.outputBytes * v.link.msPerByte;
    const networkMs = v.link.rttMs + txMs + rxMs;
    const latencyMs = networkMs + remoteMs;
    const energy = power ? energyJ(power, { txMs, rxMs, idleMs: v.link.rttMs + remoteMs }) : 0;
    out.push({
      target: v.name,
      kind: 'neighbour',
      cost: objective === 'energy' ? energy : latencyMs,
      latencyMs,
      energyJ: energy,
      networkMs,
      queueMs: neighbourServesLocally(v, n) ? v.queueMs : 0,
    });
  }
  out.sort((a, b) => a.cost - b.cost);
  return out;
}

/** The link's cost as a piece in n, to put in front of a neighbour's curve. */
export function linkPiece(link: LinkParams, payload: PayloadModel): Piece {
  return {
    slope: payload.stepBytes * link.msPerByte,
    intercept: link.rttMs + ((payload.overheadBytes ?? 0) + payload.outputBytes) * link.msPerByte,
  };
}

/**
 * A device's advertisement from its own compute model, its queue and its view of its neighbours:
 * C(n) = min(local(n) + queue, min over neighbours of link(n) + C_j(n)).
 */
export function buildAdvertisement(
  local: Piece | null,
  queueMs: number,
  neighbours: readonly NeighbourView[],
  payload: PayloadModel,
  envelope: EnvelopeOptions,
): Advertisement {
  const routes: Piece[] = [];
  for (const v of neighbours) {
    const curve: Piece[] = v.local ? [{ slope: v.local.slope, intercept: v.local.intercept + v.queueMs }] : [];
    curve.push(...v.remote);
    routes.push(...shiftCurve(curve, linkPiece(v.link, payload)));
  }
  return { local, queueMs, remote: lowerEnvelope(routes, envelope) };
}
