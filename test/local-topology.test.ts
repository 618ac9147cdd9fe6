import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { LocalTopology } from '../local/launcher.js';
import { parseLocalSettings } from '../local/settings.js';
import { parseTopology } from '../runtime/topology/topology.js';
import { runLoad } from '../load/load.js';
import type { MapperInferResponse } from '../runtime/mapper/protocol.js';

// A three-tier topology as real processes (runtime + mapper per device, link emulators between
// them), with the committed IMDB-like model. Devices emulate their speeds: the end node is slow,
// the gateway medium, the cloud runs at this machine's speed. At 800 steps the gateway's 162 ms
// leaves the cloud (about 25 ms + 25 ms of round trips, unloaded) a margin that survives a busy
// machine; the cloud's path is real work, which load stretches, the emulated times are not.
const MODEL = fileURLToPath(new URL('../../examples/models/imdb1x128.onnx', import.meta.url));

const TOPOLOGY = {
  apiVersion: 'crime.dev/v1alpha1',
  kind: 'RnnTopology',
  metadata: { name: 'three-tier-test' },
  spec: {
    model: { format: 'onnx', uri: MODEL, maxSteps: 1000 },
    mapping: { pingIdleSeconds: 1, requestTimeoutMs: 3000 },
    devices: [
      { name: 'end-node', tier: 'edge', entry: true, offloadTo: ['gateway'] },
      { name: 'gateway', tier: 'gateway', offloadTo: ['cloud'] },
      { name: 'cloud', tier: 'cloud', gpus: 1 },
    ],
  },
};

const SETTINGS = {
  devices: [
    { name: 'end-node', perStepMs: 0.5, fixedMs: 1 },
    { name: 'gateway', perStepMs: 0.2, fixedMs: 2 },
  ],
  links: [
    { from: 'end-node', to: 'gateway', rttMs: 5, bandwidthMbps: 100 },
    { from: 'gateway', to: 'cloud', rttMs: 20, bandwidthMbps: 100 },
  ],
};

async function infer(url: string, n: number): Promise<{ status: number; body: MapperInferResponse }> {
  const res = await fetch(`${url}/v1/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tokens: Array.from({ length: n }, (_, k) => (k * 31) % 1000) }),
  });
  return { status: res.status, body: (await res.json()) as MapperInferResponse };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Sends n-step requests one after another until `served` says so; returns how many it took. */
async function requestsUntil(url: string, n: number, served: (by: string) => boolean, limit: number): Promise<number> {
  for (let i = 1; i <= limit; i++) {
    const r = await infer(url, n);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    if (served(r.body.servedBy)) return i;
  }
  return Infinity;
}

describe('crime up: a three-tier topology of real processes', { timeout: 180_000 }, () => {
  let local: LocalTopology;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'crime-local-'));
    const topology = parseTopology(stringify(TOPOLOGY));
    local = await LocalTopology.start({ topology, baseDir: dir, settings: parseLocalSettings(stringify(SETTINGS), topology), workDir: dir });
    await sleep(1500); // first pings between neighbours
  });

  after(async () => {
    await local?.close();
    if (dir && !process.env.CRIME_KEEP_LOGS) await rm(dir, { recursive: true, force: true });
  });

  test('short inputs stay on the end node and long ones go to the cloud', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await infer(local.entryUrl, 3);
      assert.equal(r.status, 200);
      assert.equal(r.body.servedBy, 'end-node');
    }
    let cloud = 0;
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await infer(local.entryUrl, 800);
      assert.equal(r.status, 200);
      seen.push(`${r.body.servedBy} in ${r.body.timings.totalMs.toFixed(0)} ms`);
      if (r.body.servedBy === 'cloud') {
        cloud++;
        assert.deepEqual(r.body.path, ['end-node', 'gateway', 'cloud']);
      }
    }
    assert.ok(cloud >= 4, `${cloud} of 5 long inputs reached the cloud: ${seen.join(', ')}`);
  });

  test('a slower gateway→cloud link moves decisions within a few requests, and back', async () => {
    local.setLink('gateway', 'cloud', { rttMs: 300 });
    const away = await requestsUntil(local.entryUrl, 800, (by) => by === 'gateway', 10);
    assert.ok(away <= 3, `the gateway took over after ${away} requests`);
    local.setLink('gateway', 'cloud', { rttMs: 20 });
    // Idle-neighbour pings (every pingIdleSeconds) notice the faster link again.
    let back = Infinity;
    for (let i = 0; i < 30 && back === Infinity; i++) {
      await sleep(500);
      if ((await infer(local.entryUrl, 800)).body.servedBy === 'cloud') back = i;
    }
    assert.ok(back < 30, 'the cloud is used again once the link recovers');
  });

  test('killing the cloud under load fails no request; after a restart it is used again', async () => {
    const load = runLoad({ url: local.entryUrl, lengths: { type: 'list', values: [3, 60, 800] }, rate: 12, count: 90, seed: 3 });
    await sleep(1500);
    await local.killDevice('cloud');
    const report = await load;
    assert.equal(report.failed, 0, JSON.stringify(report.failures));
    assert.equal(report.ok, 90);
    assert.ok((report.servedBy.gateway?.count ?? 0) > 0);
    const after = report.results.filter((r) => r.sentAtMs > 3000 && r.n === 800);
    // The gateway takes the long inputs the cloud took; the end node may take one while a burst has
    // queued more work at the gateway than the end node's own 400 ms, which is the right call.
    const onGateway = after.filter((r) => r.servedBy === 'gateway').length;
    assert.ok(after.length > 0 && onGateway >= 0.8 * after.length, `long inputs fall back to the gateway: ${after.map((r) => `${r.servedBy} ${r.latencyMs.toFixed(0)} ms`).join(', ')}`);

    await local.startDevice('cloud');
    let used = Infinity;
    for (let i = 0; i < 30 && used === Infinity; i++) {
      if ((await infer(local.entryUrl, 800)).body.servedBy === 'cloud') used = i;
      else await sleep(250);
    }
    assert.ok(used < 30, 'the restarted cloud is found again through pings');
  });

  test('links and devices are visible through the launcher', () => {
    assert.deepEqual(
      local.listLinks().map((l) => `${l.from}->${l.to}`),
      ['end-node->gateway', 'gateway->cloud'],
    );
    const devices = local.listDevices();
    assert.deepEqual(
      devices.map((d) => [d.name, d.running]),
      [
        ['end-node', true],
        ['gateway', true],
        ['cloud', true],
      ],
    );
    assert.deepEqual(devices[0]!.emulate, { perStepMs: 0.5, fixedMs: 1 });
  });

  test('each runtime serves as its device\'s serving says: the GPU cloud batches on two workers, the edge tiers do not', async () => {
    const served = await Promise.all(local.listDevices().map(async (d) => {
      const info = (await (await fetch(`${d.runtimeUrl}/v1/model`)).json()) as { serving: { maxBatch: number; maxDelayMs: number; concurrency: number } };
      return [d.name, info.serving.maxBatch, info.serving.maxDelayMs, info.serving.concurrency];
    }));
    assert.deepEqual(served, [['end-node', 1, 0, 1], ['gateway', 1, 0, 1], ['cloud', 64, 0, 2]]);
  });
});
