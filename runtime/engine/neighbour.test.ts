import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NeighbourState } from './neighbour.js';
import { leafAdvert } from './fixtures.js';
import { bandwidthToMsPerByte } from './types.js';
import { Random } from '../../stats/random.js';

const close = (actual: number, expected: number, rel: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected), `${what}: ${actual} not within ${rel * 100}% of ${expected}`);

interface Regime {
  rttMs: number;
  mbps: number;
}

const FAST: Regime = { rttMs: 20, mbps: 20 };
const SLOW: Regime = { rttMs: 20, mbps: 2 };
const SLOWER: Regime = { rttMs: 20, mbps: 0.5 };
/** A request's bytes on the wire, and the reply's (neighbour.ts adds 512 for the reply). */
const REQUEST = 50_000;
const WIRE = REQUEST + 512;
const COMPUTE_MS = 5;

const at = (regime: Regime, bytes: number): number => regime.rttMs + bytes * bandwidthToMsPerByte(regime.mbps);

/**
 * A neighbour whose link went through the given regimes (30 replies each, empty pings and 25 KB
 * probes in turn, 3% noise), one every 500 ms; returns it and the time of its last reply.
 */
function neighbour(overdueEvidence: boolean, regimes: Regime[]): { nb: NeighbourState; now: number } {
  const rnd = new Random(41);
  const nb = new NeighbourState({ name: 'cloud', prior: { rttMs: 20, bandwidthMbps: 20 } }, 0.98, overdueEvidence);
  let now = 0;
  for (const regime of regimes) {
    for (let i = 0; i < 30; i++) {
      const bytes = i % 2 === 0 ? 256 : 25_256;
      nb.heard((now += 500), bytes, at(regime, bytes) * (1 + 0.03 * rnd.normal()), leafAdvert(0.03, 1.5));
    }
  }
  return { nb, now };
}

/** The link as decisions see it `waitMs` after the request's compute was due (sent at `sentAt`). */
function linkAfter(nb: NeighbourState, sentAt: number, waitMs: number): { rttMs: number; msPerByte: number } {
  return nb.view(sentAt + COMPUTE_MS + waitMs)!.link;
}

test('energy objective: an overdue reply shows the link as the fastest remembered regime that explains the wait', () => {
  const { nb, now } = neighbour(true, [FAST, SLOW, SLOWER, FAST]);
  assert.equal(nb.link.alternatives.length, 2, JSON.stringify(nb.link.alternatives));
  const believed = nb.view(now)!.link;
  close(believed.msPerByte, bandwidthToMsPerByte(20), 0.1, 'fast link believed');
  const sentAt = now + 100;
  nb.sent(sentAt, REQUEST, COMPUTE_MS);
  // On time, or late by less than 4σ: nothing changes.
  assert.deepEqual(linkAfter(nb, sentAt, at(FAST, WIRE)), believed);
  assert.deepEqual(linkAfter(nb, sentAt, at(FAST, WIRE) + 2 * nb.link.noiseAt(WIRE)), believed);
  // Late beyond what the fast regime explains: the slow (2 Mbit/s) regime, not the slower one.
  const slow = linkAfter(nb, sentAt, at(FAST, WIRE) + 6 * nb.link.noiseAt(WIRE) + 5);
  close(slow.msPerByte, bandwidthToMsPerByte(2), 0.1, 'slow regime while overdue');
  close(slow.rttMs, 20, 0.2, 'its RTT');
  // Later than the slow regime could explain: the slower (0.5 Mbit/s) one.
  const slower = linkAfter(nb, sentAt, at(SLOW, WIRE) * 1.1);
  close(slower.msPerByte, bandwidthToMsPerByte(0.5), 0.1, 'slower regime once the slow one cannot explain the wait');
  // The reply settles it: back to the fit, which the reply itself updates.
  nb.heard(sentAt + COMPUTE_MS + at(FAST, WIRE) + 3, WIRE, at(FAST, WIRE), leafAdvert(0.03, 1.5), 1);
  close(nb.view(sentAt + 10_000)!.link.msPerByte, bandwidthToMsPerByte(20), 0.1, 'after the reply');
});

test('energy objective: an overdue reply no remembered regime explains makes the link at least that slow', () => {
  const { nb, now } = neighbour(true, [FAST, SLOW, FAST]);
  const sentAt = now + 100;
  nb.sent(sentAt, REQUEST, COMPUTE_MS);
  const waitMs = 2 * at(SLOW, WIRE);
  const link = linkAfter(nb, sentAt, waitMs);
  // Either the RTT or the bandwidth alone accounts for the whole wait.
  assert.ok(link.rttMs + nb.link.slope * WIRE >= waitMs - 1e-6, `RTT ${link.rttMs}`);
  assert.ok(nb.link.intercept + link.msPerByte * WIRE >= waitMs - 1e-6, `ms/byte ${link.msPerByte}`);
  // And it grows with the wait.
  const later = linkAfter(nb, sentAt, 2 * waitMs);
  assert.ok(later.rttMs > link.rttMs && later.msPerByte > link.msPerByte);
});

test('energy objective: a reply overdue only by its expected compute is not evidence', () => {
  const { nb, now } = neighbour(true, [FAST, SLOW, FAST]);
  const believed = nb.view(now)!.link;
  const sentAt = now + 100;
  nb.sent(sentAt, REQUEST, 2000); // two seconds of compute there
  assert.deepEqual(nb.view(sentAt + 2000 + at(FAST, WIRE))!.link, believed);
  assert.notDeepEqual(nb.view(sentAt + 2000 + at(SLOW, WIRE))!.link, believed);
});

test('latency objective: an overdue reply changes nothing before it arrives', () => {
  const { nb, now } = neighbour(false, [FAST, SLOW, SLOWER, FAST]);
  const believed = nb.view(now)!.link;
  const sentAt = now + 100;
  nb.sent(sentAt, REQUEST, COMPUTE_MS);
  for (const waitMs of [at(FAST, WIRE), at(SLOW, WIRE), 10 * at(SLOWER, WIRE)]) assert.deepEqual(linkAfter(nb, sentAt, waitMs), believed, `wait ${waitMs}`);
});

/**
 * A link FAST → SLOW → FAST (one interval between changes), then replies a steady 2σ late until the
 * detector alarms, then the re-probe (both sizes) finds the link where it was: the intervals after.
 */
function falseAlarm(overdueEvidence: boolean): { before: number[]; after: number[]; lastBefore: number; lastAfter: number; alarmed: boolean } {
  const { nb, now: start } = neighbour(overdueEvidence, [FAST, SLOW, FAST]);
  let now = start;
  const before = [...nb.changeIntervals];
  const lastBefore = nb.lastChangeAt;
  let alarmed = false;
  for (let i = 0; i < 30 && !alarmed; i++) {
    const bytes = i % 2 === 0 ? 256 : 25_256;
    nb.heard((now += 500), bytes, at(FAST, bytes) + 2 * nb.link.noiseAt(bytes), leafAdvert(0.03, 1.5));
    alarmed = nb.lastChangeAt !== lastBefore;
  }
  // The engine's re-probe: an empty ping and a probe, each sent (reprobe counts down) then answered.
  for (const bytes of [256, 25_256]) {
    nb.reprobe--;
    nb.heard((now += 100), bytes, at(FAST, bytes), leafAdvert(0.03, 1.5));
  }
  return { before, after: [...nb.changeIntervals], lastBefore, lastAfter: nb.lastChangeAt, alarmed };
}

test('energy objective: an alarm whose re-probe finds the link where it was teaches no change interval', () => {
  const energy = falseAlarm(true);
  assert.ok(energy.alarmed, 'the 2σ-late replies raise an alarm');
  assert.equal(energy.before.length, 1, JSON.stringify(energy.before));
  assert.deepEqual(energy.after, energy.before);
  assert.equal(energy.lastAfter, energy.lastBefore);
  // Under latency the interval stays (and the close watch of a flapping link with it).
  const latency = falseAlarm(false);
  assert.ok(latency.alarmed);
  assert.equal(latency.after.length, latency.before.length + 1);
});
