/**
 * A tiny ground truth for engine tests: true device and link parameters, and helpers that answer an
 * engine's pings and offloads from them, so tests exercise the engine through its public API only.
 */
import type { MappingEngine } from './engine.js';
import { bandwidthToMsPerByte, type Advertisement } from './types.js';

export interface TrueLink {
  rttMs: number;
  bandwidthMbps: number;
}

export function networkMs(link: TrueLink, bytes: number): number {
  return link.rttMs + bytes * bandwidthToMsPerByte(link.bandwidthMbps);
}

/** Feeds warm-up compute samples at a spread of lengths, as the mapper's start-up calibration does. */
export function calibrate(engine: MappingEngine, perStepMs: number, fixedMs: number, steps: readonly number[] = [1, 8, 32, 128]): void {
  for (const n of steps) engine.observeCompute(n, perStepMs * n + fixedMs);
}

/** Answers every due ping of the engine with the given link and the callee's advertisement. */
export function answerPings(
  engine: MappingEngine,
  links: Record<string, TrueLink>,
  adverts: Record<string, () => Advertisement>,
): number {
  let count = 0;
  for (const ping of engine.duePings()) {
    const link = links[ping.name];
    const adv = adverts[ping.name];
    if (!link || !adv) throw new Error(`no truth for neighbour ${ping.name}`);
    engine.pingSent(ping.name);
    engine.pingResult(ping.name, {
      roundTripMs: networkMs(link, ping.bytes + 256) + 0.05,
      calleeElapsedMs: 0.05,
      bytes: ping.bytes,
      advertisement: adv(),
    });
    count++;
  }
  return count;
}

/** Warm-up pings until every neighbour has been probed at both ping sizes. */
export function warmLinks(
  engine: MappingEngine,
  links: Record<string, TrueLink>,
  adverts: Record<string, () => Advertisement>,
  advance: (ms: number) => void,
  pingIdleMs: number,
): void {
  for (let round = 0; round < 2; round++) {
    answerPings(engine, links, adverts);
    advance(pingIdleMs);
  }
}

/** A device's own advertisement when it has no neighbours: its compute line and an idle queue. */
export function leafAdvert(perStepMs: number, fixedMs: number, queueMs = 0): Advertisement {
  return { local: { slope: perStepMs, intercept: fixedMs }, queueMs, remote: [] };
}

/** A settable clock for tests. */
export function manualClock(start = 0): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}
