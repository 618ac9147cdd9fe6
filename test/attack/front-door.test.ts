/**
 * Attacks on a running `crime up` (real processes, real HTTP): peers' authentication without the
 * token whatever the headers say (#8.1), token ids that wrap (#8.6), a runtime killed under its
 * mapper (#8.5), and the control API's restart and link limits.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startControlServer } from '../../local/control.js';
import { runLoad } from '../../load/load.js';
import { call, infer, metric, startThreeTier, tokens, until, type ThreeTier } from './three-tier.js';

describe('attacks on the front door of a three-tier crime up', { timeout: 240_000 }, () => {
  let t: ThreeTier;

  before(async () => {
    t = await startThreeTier();
  });
  after(async () => {
    await t?.close();
  });

  test('#8.1 only the entry serves callers without the token, whatever their headers claim', async () => {
    const claims: Array<Record<string, string>> = [{}, { 'crime-origin': 'client' }, { 'crime-origin': 'peer' }, { 'crime-origin': 'peer', 'crime-path': 'end-node' }];
    for (const name of ['gateway', 'cloud']) {
      const url = t.device(name).mapperUrl;
      for (const headers of claims) {
        const r = await infer(url, tokens(10), headers);
        assert.equal(r.status, 401, `${name} ${JSON.stringify(headers)}`);
        assert.equal(r.body.error?.code, 'UNAUTHORIZED');
      }
      assert.equal((await infer(url, tokens(10), { authorization: 'Bearer wrong-token-wrong-token' })).status, 401);
      assert.equal((await call(`${url}/v1/ping`)).status, 401);
      assert.equal((await call(`${url}/v1/ping`, { method: 'POST', body: 'x' })).status, 401);
      assert.equal((await call(`${url}/v1/model`)).status, 401);
      const peer = await infer(url, tokens(10), { 'crime-origin': 'peer', authorization: `Bearer ${t.token}` });
      assert.equal(peer.status, 200, name);
    }
    const entry = t.local.entryUrl;
    assert.equal((await infer(entry, tokens(10))).status, 200);
    // Claiming to be a peer at the entry needs the proof too.
    assert.equal((await infer(entry, tokens(10), { 'crime-origin': 'peer' })).status, 401);
    assert.equal((await call(`${entry}/v1/ping`)).status, 401);
  });

  test('#8.1 runtimes listen on loopback only, and every configuration crime up wrote is sealed', async () => {
    for (const d of t.local.listDevices()) {
      assert.match(d.runtimeUrl, /^http:\/\/127\.0\.0\.1:\d+$/, d.name);
      const text = await readFile(join(t.dir, `${d.name}.mapper.yaml`), 'utf8');
      assert.match(text, /^checksum: sha256:[0-9a-f]{64}\n/, d.name);
      assert.match(text, new RegExp(`clients: ${d.name !== 'end-node'}`), d.name);
    }
  });

  test('#8.6 token ids outside the vocabulary are refused, however they are written', async () => {
    for (const id of ['4294967301', '1e300', '-1', '1000', '2147483648', '5.5']) {
      const r = await infer(t.local.entryUrl, `{"tokens": [1, ${id}]}`);
      assert.equal(r.status, 400, id);
      assert.equal(r.body.error?.code, 'INVALID_INPUT', id);
    }
    for (const id of [1000, -1, -(2 ** 31)]) {
      const r = await call(`${t.local.entryUrl}/v1/infer`, {
        method: 'POST',
        body: new Uint8Array(Int32Array.of(1, id).buffer),
        headers: { 'content-type': 'application/octet-stream', 'crime-shape': '2', 'crime-dtype': 'int32' },
      });
      assert.equal(r.status, 400, `binary ${id}`);
    }
    // The runtime behind the entry applies the same rule to what reaches it directly.
    const direct = await infer(t.device('end-node').runtimeUrl, '{"tokens": [4294967301]}');
    assert.equal(direct.status, 400);
    assert.equal((await infer(t.local.entryUrl, '{"tokens": [1, 5, 999]}')).status, 200);
  });

  test('#8.5 a killed runtime makes its mapper not ready, and neighbours stop trying it', async () => {
    const cloud = t.device('cloud');
    const gateway = t.device('gateway').mapperUrl;
    assert.equal((await call(`${cloud.mapperUrl}/readyz`)).status, 200);
    process.kill(cloud.runtimePid!, 'SIGKILL');
    await until('the cloud mapper is not ready', async () => (await call(`${cloud.mapperUrl}/readyz`)).status === 503);
    const ping = await call(`${cloud.mapperUrl}/v1/ping`, { headers: { authorization: `Bearer ${t.token}` } });
    assert.equal(ping.status, 503);
    assert.equal(ping.body.error?.code, 'NOT_READY');
    await until('the gateway marks the cloud down', async () => (await metric(gateway, /crime_engine_neighbour_up\{neighbour="cloud"\}/)) === 0);
    const fallbacksBefore = await metric(gateway, /crime_mapper_fallbacks_total\{from="cloud",code="UPSTREAM_FAILED"\}/);
    const report = await runLoad({ url: t.local.entryUrl, lengths: { type: 'list', values: [800] }, rate: 10, count: 30, seed: 5 });
    assert.equal(report.failed, 0, JSON.stringify(report.failures));
    assert.equal(report.servedBy.cloud, undefined);
    assert.equal(await metric(gateway, /crime_mapper_fallbacks_total\{from="cloud",code="UPSTREAM_FAILED"\}/), fallbacksBefore, 'nothing was sent to the cloud');
  });

  test('control API: a device with a survivor restarts whole; links refuse conditions timers cannot hold', async () => {
    const control = await startControlServer(t.local);
    try {
      // The cloud's runtime is dead (previous test) and its mapper alive: start restarts both.
      assert.equal(t.device('cloud').running, false);
      const started = await call(`${control.url}/devices/cloud/start`, { method: 'POST' });
      assert.equal(started.status, 200, JSON.stringify(started.body));
      await until('the cloud is ready again', async () => (await call(`${t.device('cloud').mapperUrl}/readyz`)).status === 200);
      const again = await call(`${control.url}/devices/cloud/start`, { method: 'POST' });
      assert.equal(again.status, 409);
      assert.equal(again.body.error?.code, 'CONFLICT');
      for (const body of ['{"rttMs": 1e10}', '{"rttMs": -1}', '{"bandwidthMbps": 0}', '{"bandwidthMbps": 1e300}', '{"rttMs": "5"}', '{"latency": 5}']) {
        const r = await call(`${control.url}/links/gateway/cloud`, { method: 'PUT', body });
        assert.equal(r.status, 400, body);
        assert.equal(r.body.error?.code, 'INVALID_INPUT', body);
      }
      const ok = await call(`${control.url}/links/gateway/cloud`, { method: 'PUT', body: '{"rttMs": 600000, "bandwidthMbps": null}' });
      assert.equal(ok.status, 200);
      assert.deepEqual(t.local.listLinks().find((l) => l.from === 'gateway')?.rttMs, 600000);
      t.local.setLink('gateway', 'cloud', { rttMs: 20, bandwidthMbps: 100 });
      const wrong = await call(`${control.url}/links/gateway/cloud`, { method: 'POST', body: '{}' });
      assert.equal(wrong.status, 405);
      assert.equal(wrong.headers.get('allow'), 'PUT');
      assert.equal((await call(`${control.url}/nowhere`)).status, 404);
    } finally {
      await control.close();
    }
  });
});
