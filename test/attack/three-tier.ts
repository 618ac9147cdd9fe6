/**
 * The three-tier topology the attack tests run as real processes (`crime up`'s launcher): an
 * IMDB-like token model, a slow end node (the entry), a medium gateway, a full-speed cloud, links
 * of 5 and 20 ms. Long inputs go to the cloud through the gateway, so the cloud matters.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { LocalTopology, type DeviceStatus } from '../../local/launcher.js';
import { parseLocalSettings } from '../../local/settings.js';
import { parseTopology } from '../../runtime/topology/topology.js';

export const MODEL = fileURLToPath(new URL('../../../examples/models/imdb1x128.onnx', import.meta.url));

export interface ThreeTier {
  local: LocalTopology;
  dir: string;
  /** the topology's shared token, as crime up generated it */
  token: string;
  device(name: string): DeviceStatus;
  close(): Promise<void>;
}

export async function startThreeTier(mapping: { requestTimeoutMs?: number; pingIdleSeconds?: number } = {}): Promise<ThreeTier> {
  const dir = await mkdtemp(join(tmpdir(), 'crime-attack-'));
  const topology = parseTopology(stringify({
    apiVersion: 'crime.dev/v1alpha1',
    kind: 'RnnTopology',
    metadata: { name: 'attack' },
    spec: {
      model: { format: 'onnx', uri: MODEL, maxSteps: 1000 },
      mapping: { pingIdleSeconds: 1, requestTimeoutMs: 3000, ...mapping },
      devices: [
        { name: 'end-node', tier: 'edge', entry: true, offloadTo: ['gateway'] },
        { name: 'gateway', tier: 'gateway', offloadTo: ['cloud'] },
        { name: 'cloud', tier: 'cloud' },
      ],
    },
  }));
  const settings = parseLocalSettings(stringify({
    devices: [
      { name: 'end-node', perStepMs: 0.5, fixedMs: 1 },
      { name: 'gateway', perStepMs: 0.1, fixedMs: 2 },
    ],
    links: [
      { from: 'end-node', to: 'gateway', rttMs: 5, bandwidthMbps: 100 },
      { from: 'gateway', to: 'cloud', rttMs: 20, bandwidthMbps: 100 },
    ],
  }), topology);
  const local = await LocalTopology.start({ topology, baseDir: dir, settings, workDir: dir });
  const token = (await readFile(join(dir, 'token'), 'utf8')).trim();
  const device = (name: string): DeviceStatus => {
    const d = local.listDevices().find((x) => x.name === name);
    assert.ok(d, name);
    return d;
  };
  return {
    local,
    dir,
    token,
    device,
    async close() {
      await local.close();
      if (!process.env.CRIME_KEEP_LOGS) await rm(dir, { recursive: true, force: true });
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 100 ms until it holds; fails the test after `limitMs`. */
export async function until(what: string, cond: () => Promise<boolean> | boolean, limitMs = 20_000): Promise<void> {
  for (let waited = 0; waited < limitMs; waited += 100) {
    if (await cond()) return;
    await sleep(100);
  }
  assert.fail(`${what}: not within ${limitMs} ms`);
}

export interface Reply {
  status: number;
  headers: Headers;
  body: { error?: { code: string; message: string }; servedBy?: string; outputs?: number[] } & Record<string, unknown>;
}

export async function call(url: string, init: RequestInit = {}): Promise<Reply> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: Reply['body'] = {};
  try {
    body = JSON.parse(text) as Reply['body'];
  } catch {
    // not JSON: an empty body
  }
  return { status: res.status, headers: res.headers, body };
}

export const tokens = (n: number): string => JSON.stringify({ tokens: Array.from({ length: n }, (_, k) => (k * 31) % 1000) });

export function infer(url: string, body: string, headers: Record<string, string> = {}): Promise<Reply> {
  return call(`${url}/v1/infer`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
}

/** The value of a metric line on a mapper's /metrics, or 0 when it is absent. */
export async function metric(url: string, line: RegExp): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^${line.source} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}
