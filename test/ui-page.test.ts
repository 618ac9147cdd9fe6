import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { LocalTopology } from '../local/launcher.js';
import { parseLocalSettings } from '../local/settings.js';
import { parseTopology } from '../runtime/topology/topology.js';
import type { MapperInferResponse } from '../runtime/mapper/protocol.js';
import type { LiveData } from '../runtime/mapper/ui/browser/live-data.js';
import { collectErrors, collectRequests, launchChromium, type Browser, type Tab } from './browser/cdp.js';
import { findChromium, NO_CHROMIUM } from './browser/chromium.js';

// The mapper's live page (/ui) in a real headless Chromium, on a three-tier topology of real
// processes: it loads with no console error and nothing from another origin, shows the requests
// sent during the test in their serving device's colour, and moves its crossover when a link slows.
// With CRIME_UI_SCREENSHOT=FILE it also saves what it shows (docs/images/mapper-ui.png is one).
const MODEL = fileURLToPath(new URL('../../examples/models/imdb1x128.onnx', import.meta.url));
const TOPOLOGY = {
  apiVersion: 'crime.dev/v1alpha1',
  kind: 'RnnTopology',
  metadata: { name: 'ui-test' },
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
    { name: 'gateway', perStepMs: 0.1, fixedMs: 2 },
  ],
  links: [
    { from: 'end-node', to: 'gateway', rttMs: 5, bandwidthMbps: 100 },
    { from: 'gateway', to: 'cloud', rttMs: 20, bandwidthMbps: 100 },
  ],
};

async function infer(url: string, n: number): Promise<MapperInferResponse> {
  const res = await fetch(`${url}/v1/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tokens: Array.from({ length: n }, (_, k) => (k * 31) % 1000) }),
  });
  assert.equal(res.status, 200);
  return (await res.json()) as MapperInferResponse;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The page's first crossover length as drawn on the cost-curve figure, or null when it shows none. */
const CROSSOVER = `(() => { const l = document.querySelector('#curves #crossover-0'); return l ? Number(l.dataset.n) : null; })()`;

const chromium = findChromium();

describe('the mapper\'s live page in a real browser', { timeout: 240_000, skip: chromium ? false : NO_CHROMIUM }, () => {
  let local: LocalTopology;
  let browser: Browser;
  let tab: Tab;
  let dir: string;
  let errors: string[];
  let requested: string[];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'crime-ui-'));
    const topology = parseTopology(stringify(TOPOLOGY));
    local = await LocalTopology.start({ topology, baseDir: dir, settings: parseLocalSettings(stringify(SETTINGS), topology), workDir: dir });
    browser = await launchChromium(chromium as string);
    tab = await browser.newTab();
    errors = collectErrors(tab);
    requested = collectRequests(tab);
    await tab.navigate(`${local.entryUrl}/ui`);
  });

  after(async () => {
    await browser?.close();
    await local?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('loads with no console error, from its own origin only, and goes live', async () => {
    await tab.waitFor('document.body.dataset.updates >= 2', 20_000, 'two live updates');
    assert.equal(await tab.evaluate('document.getElementById("device").textContent'), 'end-node');
    assert.equal(await tab.evaluate('document.getElementById("status").textContent'), 'live');
    assert.deepEqual(errors, []);
    const origin = new URL(local.entryUrl).origin;
    assert.deepEqual(requested.filter((u) => new URL(u).origin !== origin), [], 'every request goes to the mapper');
    assert.ok(requested.some((u) => u.endsWith('/ui/events')));
  });

  test('requests sent now appear as points in the colour of the device that served them', async () => {
    // Distinct lengths, so each point can be found by its length; short ones stay on the end node,
    // long ones leave it (the cloud for the longest).
    const lengths = [3, 4, 7, 9, 12, 150, 220, 300, 480, 700, 820, 940, 990, 997];
    const served = new Map<number, string>();
    for (const n of lengths) served.set(n, (await infer(local.entryUrl, n)).servedBy);
    const devices = new Set(served.values());
    assert.ok(devices.size >= 2, `requests were served by ${[...devices].join(', ')}`);
    await tab.waitFor(`${JSON.stringify(lengths)}.every((n) => document.querySelector('#mapping circle[data-n="' + n + '"]'))`, 20_000, 'a point for every request');
    const shown = await tab.evaluate<Array<{ n: number; device: string; fill: string }>>(
      `[...document.querySelectorAll('#mapping circle.point')].map((c) => ({ n: Number(c.dataset.n), device: c.dataset.device, fill: c.getAttribute('fill') }))`,
    );
    const legend = await tab.evaluate<Record<string, string>>(
      `Object.fromEntries([...document.querySelectorAll('#counts tbody tr')].map((r) => [r.dataset.device, r.dataset.colour]))`,
    );
    for (const [n, by] of served) {
      const point = shown.find((p) => p.n === n);
      assert.ok(point, `a point for n=${n}`);
      assert.equal(point.device, by, `n=${n} is drawn as served by ${by}`);
      assert.equal(point.fill, legend[by], `n=${n} has ${by}'s colour`);
    }
    const colours = [...devices].map((d) => legend[d]);
    assert.equal(new Set(colours).size, colours.length, `every device its own colour: ${JSON.stringify(legend)}`);
    // The page and the JSON agree on the counts.
    const data = (await (await fetch(`${local.entryUrl}/ui/data`)).json()) as LiveData;
    for (const d of devices) {
      assert.equal(await tab.evaluate(`document.querySelector('#counts tr[data-device="${d}"] td:nth-child(2)').textContent`), String(data.counts[d]));
    }
  });

  test('the crossover line moves when the link to the gateway slows down', async () => {
    const before = await tab.waitFor<number>(CROSSOVER, 20_000, 'a crossover on the cost curves');
    local.setLink('end-node', 'gateway', { rttMs: 150 });
    // Pings (every second while idle) and a few requests teach the entry the slower link.
    let moved: number | null = before;
    for (let i = 0; i < 40 && (moved === null || moved <= before + 100); i++) {
      await infer(local.entryUrl, 400);
      await sleep(250);
      moved = await tab.evaluate<number | null>(CROSSOVER);
    }
    assert.ok(moved === null || moved > before + 100, `the crossover moved from n=${before} to n=${moved}`);
    const line = await tab.evaluate<string | null>(`document.querySelector('#mapping #crossover-line-0')?.getAttribute('d') ?? null`);
    assert.ok(line && line.length > 0, 'the mapping figure draws the crossover over time');
    assert.deepEqual(errors, []);
    const file = process.env.CRIME_UI_SCREENSHOT;
    if (file) {
      await sleep(1500);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, await tab.screenshot());
    }
  });
});
