import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OperatorMetrics } from './metrics.js';
import { startProbeServer } from './probes.js';

test('healthz always, readyz as told, metrics after the scrape hook; GET only', async () => {
  let ready = false;
  let scrapes = 0;
  const metrics = new OperatorMetrics({ defaultMetrics: false });
  const probes = await startProbeServer({ host: '127.0.0.1', port: 0, metrics, ready: () => ready, beforeScrape: () => void (scrapes++, metrics.queueDepth.set(7)) });
  try {
    assert.equal((await fetch(`${probes.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${probes.url}/readyz`)).status, 503);
    ready = true;
    assert.equal((await fetch(`${probes.url}/readyz?verbose`)).status, 200);
    const text = await (await fetch(`${probes.url}/metrics`)).text();
    assert.match(text, /^crime_operator_queue_depth 7$/m);
    assert.equal(scrapes, 1);
    assert.equal((await fetch(`${probes.url}/metrics`, { method: 'POST' })).status, 405);
    assert.equal((await fetch(`${probes.url}/nope`)).status, 404);
  } finally {
    await probes.close();
  }
});
