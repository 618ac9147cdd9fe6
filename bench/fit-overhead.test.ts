import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fitOverhead } from './mapping.js';
import type { PolicyRun, RequestOutcome } from './mapping-table.js';

const sim = (policy: string, device: string): PolicyRun => ({
  policy: policy as never,
  overheadEnergyJ: 0,
  outcomes: Array.from({ length: 9 }, (_, id): RequestOutcome => ({ id, n: id + 1, atMs: id, latencyMs: 10 * (id + 1), energyJ: 0, servedBy: device })),
});
/** The simulated run made slower by `extraMs`, with a noisy few, the client's hop 2 ms of it. */
const live = (s: PolicyRun, extraMs: number): PolicyRun => ({
  ...s,
  outcomes: s.outcomes.map((o) => {
    const latencyMs = o.latencyMs + extraMs + (o.id === 0 ? 50 : 0);
    return { ...o, latencyMs, entryMs: latencyMs - 2 };
  }),
});

test('the overhead fit: the client hop from the entry time, serving from the local run, hops from the others (medians)', () => {
  const simulated = [sim('local', 'edge'), sim('device:gw', 'gw'), sim('device:cloud', 'cloud'), sim('crime', 'edge')];
  const measured = [live(simulated[0]!, 5), live(simulated[1]!, 8), live(simulated[2]!, 11), live(simulated[3]!, 100)];
  const hops: Record<string, number> = { local: 0, 'device:gw': 1, 'device:cloud': 2 };
  assert.deepEqual(fitOverhead(measured, simulated, (p) => hops[p] ?? 0), { requestMs: 2, serveMs: 3, hopMs: 3 });
});

test('without single-device runs nothing is fitted', () => {
  const only = [sim('crime', 'edge')];
  assert.deepEqual(fitOverhead([live(only[0]!, 4)], only, () => 0), { requestMs: 2, serveMs: 0, hopMs: 0 });
});
