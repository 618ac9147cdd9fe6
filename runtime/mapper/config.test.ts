import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadToken, parseMapperConfig } from './config.js';
import { InvalidInputError } from '../validate.js';

const MINIMAL = `
device: end-node
runtime: { url: "http://127.0.0.1:8081/" }
neighbours:
  - { name: gateway, url: "http://gateway.crime.svc:8080" }
`;

test('defaults fill a minimal configuration', () => {
  const c = parseMapperConfig(MINIMAL);
  assert.equal(c.device, 'end-node');
  assert.equal(c.runtimeUrl, 'http://127.0.0.1:8081');
  assert.deepEqual(c.listen, { host: '127.0.0.1', port: 8080 });
  assert.equal(c.objective, 'latency');
  assert.deepEqual(c.mapping, { forgetting: 0.98, pingIdleSeconds: 5, requestTimeoutMs: 5000 });
  assert.deepEqual(c.auth, { clients: false });
  assert.equal(c.limits.maxInFlight, 256);
  assert.equal(c.neighbours[0]!.url, 'http://gateway.crime.svc:8080');
});

test('JSON works as well as YAML', () => {
  const c = parseMapperConfig(JSON.stringify({ device: 'cloud', runtime: { url: 'http://127.0.0.1:1' }, objective: 'latency' }));
  assert.deepEqual(c.neighbours, []);
});

test('errors name the field', () => {
  const cases: Array<[string, string, RegExp]> = [
    [MINIMAL.replace('device: end-node', ''), 'device', /non-empty string/],
    [MINIMAL.replace('http://127.0.0.1:8081/', 'ftp://x'), 'runtime.url', /http\(s\) URL/],
    [MINIMAL.replace('name: gateway', 'name: end-node'), 'neighbours[0].name', /own neighbour/],
    [`${MINIMAL}objective: energy\n`, 'power', /needs this device's power/],
    [`${MINIMAL}mapping: { forgetting: 2 }\n`, 'mapping.forgetting', /≤ 1/],
    [`${MINIMAL}limit: {}\n`, 'limit', /unknown field/],
    ['device: [', '', /not valid YAML/],
  ];
  for (const [text, field, message] of cases) {
    assert.throws(
      () => parseMapperConfig(text),
      (err: unknown) => err instanceof InvalidInputError && err.field === field && message.test(err.message),
      field,
    );
  }
});

test('the shared token is read from its file and must not be trivially short', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'crime-token-'));
  const file = join(dir, 'token');
  await writeFile(file, 'c2VjcmV0LXRva2VuLWZvci10ZXN0cw==\n');
  const c = parseMapperConfig(`${MINIMAL}auth: { tokenFile: ${file} }\n`);
  assert.equal(await loadToken(c), 'c2VjcmV0LXRva2VuLWZvci10ZXN0cw==');
  await writeFile(file, 'short');
  await assert.rejects(loadToken(c), /at least 16 characters/);
  assert.equal(await loadToken(parseMapperConfig(MINIMAL)), undefined);
});
