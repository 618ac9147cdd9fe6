import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatMapperConfig, loadToken, parseMapperConfig, readMapperConfig } from './config.js';
import { MAPPER_DEFAULTS } from '../defaults.js';
import { InvalidInputError } from '../validate.js';

const MINIMAL = `
device: end-node
runtime: { url: "http://127.0.0.1:8081/" }
neighbours:
  - { name: gateway, url: "http://gateway.crime.svc:8080" }
auth: { tokenFile: /var/run/crime/token }
`;

const { port: _port, ...MAPPER_DEFAULTS_LIMITS } = MAPPER_DEFAULTS;

test('defaults fill a minimal configuration', () => {
  const c = parseMapperConfig(MINIMAL);
  assert.equal(c.device, 'end-node');
  assert.equal(c.runtimeUrl, 'http://127.0.0.1:8081');
  assert.deepEqual(c.listen, { host: '127.0.0.1', port: 8080 });
  assert.equal(c.objective, 'latency');
  assert.deepEqual(c.mapping, { forgetting: 0.98, pingIdleSeconds: 5, requestTimeoutMs: 5000, selfCalibration: { budget: 0.02, idleSeconds: 5, tolerance: 0.2 }, policy: 'crime' });
  // Fail closed: without a word about clients, they need the token too.
  assert.deepEqual(c.auth, { tokenFile: '/var/run/crime/token', clients: true });
  assert.deepEqual(c.limits, MAPPER_DEFAULTS_LIMITS);
  // A configuration that does not mention serving: one request at a time, as before batching.
  assert.deepEqual(c.serving, { maxBatch: 1, maxDelayMs: 0, concurrency: 1 });
  assert.equal(c.neighbours[0]!.url, 'http://gateway.crime.svc:8080');
});

test('JSON works as well as YAML', () => {
  const c = parseMapperConfig(JSON.stringify({ device: 'cloud', runtime: { url: 'http://127.0.0.1:1' }, objective: 'latency', auth: { disabled: true } }));
  assert.deepEqual(c.neighbours, []);
});

test('errors name the field', () => {
  const cases: Array<[string, string, RegExp]> = [
    [MINIMAL.replace('device: end-node', ''), 'device', /non-empty string/],
    [MINIMAL.replace('http://127.0.0.1:8081/', 'ftp://x'), 'runtime.url', /http\(s\) URL or unix:\/path\/to\/socket/],
    [MINIMAL.replace('http://127.0.0.1:8081/', 'unix:runtime.sock'), 'runtime.url', /socket path must be an absolute path/],
    [MINIMAL.replace('http://127.0.0.1:8081/', `unix:/${'s'.repeat(120)}`), 'runtime.url', /at most 107/],
    [MINIMAL.replace('url: "http://127.0.0.1:8081/"', 'socket: /x.sock'), 'runtime.socket', /unknown field/],
    [MINIMAL.replace('name: gateway', 'name: end-node'), 'neighbours[0].name', /own neighbour/],
    [`${MINIMAL}objective: energy\n`, 'power', /needs this device's power/],
    [`${MINIMAL}mapping: { forgetting: 2 }\n`, 'mapping.forgetting', /≤ 1/],
    [`${MINIMAL}mapping: { selfCalibration: { budget: 0.6 } }\n`, 'mapping.selfCalibration.budget', /≤ 0.5/],
    [`${MINIMAL}mapping: { selfCalibration: { every: 3 } }\n`, 'mapping.selfCalibration.every', /unknown field/],
    [`${MINIMAL}limit: {}\n`, 'limit', /unknown field/],
    [`${MINIMAL}mapping: { policy: fastest }\n`, 'mapping.policy', /crime, local, threshold or device:<device name>/],
    [`${MINIMAL}via: gateway\n`, 'via', /only goes with mapping.policy device:<name>/],
    [`${MINIMAL}mapping: { policy: device:cloud }\nvia: cloud\n`, 'via', /must name a neighbour, got "cloud"/],
    [`${MINIMAL}serving: { maxBatch: 0 }\n`, 'serving.maxBatch', /an integer ≥ 1 and ≤ 1024, got 0/],
    [`${MINIMAL}serving: { maxBatch: 1025 }\n`, 'serving.maxBatch', /≤ 1024/],
    [`${MINIMAL}serving: { maxDelayMs: -1 }\n`, 'serving.maxDelayMs', /≥ 0/],
    [`${MINIMAL}serving: { concurrency: 0 }\n`, 'serving.concurrency', /≥ 1/],
    [`${MINIMAL}serving: { batch: 4 }\n`, 'serving.batch', /unknown field/],
    ['device: [', '', /not valid YAML/],
    [MINIMAL.replace(/auth:.*\n/, ''), 'auth', /is required: auth.tokenFile .* or auth.disabled: true/],
    [MINIMAL.replace(/auth:.*\n/, 'auth: { clients: false }\n'), 'auth.tokenFile', /non-empty string/],
    [MINIMAL.replace(/auth:.*\n/, 'auth: { disabled: false }\n'), 'auth.disabled', /must be true or absent/],
    [MINIMAL.replace(/auth:.*\n/, 'auth: { disabled: true, clients: false }\n'), 'auth', /excludes tokenFile and clients/],
    [`${MINIMAL}limits: { maxBodyBytes: 2000000, maxBodyBytesInFlight: 1000000 }\n`, 'limits.maxBodyBytesInFlight', /at least maxBodyBytes/],
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
  const c = parseMapperConfig(MINIMAL.replace('/var/run/crime/token', file));
  assert.equal(await loadToken(c), 'c2VjcmV0LXRva2VuLWZvci10ZXN0cw==');
  await writeFile(file, 'short');
  await assert.rejects(loadToken(c), /at least 16 characters/);
  assert.equal(await loadToken(parseMapperConfig(MINIMAL.replace(/auth:.*\n/, 'auth: { disabled: true }\n'))), undefined);
});

test('a formatted file is sealed: complete, it reads back; cut anywhere or edited, it is refused', () => {
  const config = parseMapperConfig(`${MINIMAL}limits: { maxInFlight: 8 }\n`);
  const text = formatMapperConfig(config);
  assert.match(text, /^checksum: sha256:[0-9a-f]{64}\n/);
  assert.deepEqual(readMapperConfig(text), { config, sealed: true });
  assert.equal(readMapperConfig(MINIMAL).sealed, false);
  // Every proper prefix is refused: the checksum comes first, so what follows it cannot match.
  for (let cut = 0; cut < text.trimEnd().length; cut++) {
    assert.throws(() => readMapperConfig(text.slice(0, cut)), InvalidInputError, `cut at ${cut}`);
  }
  assert.throws(() => readMapperConfig(text.replace('maxInFlight: 8', 'maxInFlight: 9')), /checksum: does not match the content/);
});

test('the runtime may be a Unix socket: unix:/path (unix:///path reads the same), sealed like the rest', () => {
  const c = parseMapperConfig(MINIMAL.replace('http://127.0.0.1:8081/', 'unix:/var/run/crime/sock/runtime.sock'));
  assert.equal(c.runtimeUrl, 'unix:/var/run/crime/sock/runtime.sock');
  assert.equal(parseMapperConfig(MINIMAL.replace('http://127.0.0.1:8081/', 'unix:///var/run/crime/sock/runtime.sock')).runtimeUrl, c.runtimeUrl);
  const text = formatMapperConfig(c);
  assert.match(text, /runtime:\n {2}url: unix:\/var\/run\/crime\/sock\/runtime\.sock\n/);
  assert.deepEqual(readMapperConfig(text), { config: c, sealed: true });
  // The checksum covers the address: pointing a sealed file at another socket is refused.
  assert.throws(() => readMapperConfig(text.replace('runtime.sock', 'other.sock')), /checksum: does not match the content/);
  assert.throws(() => readMapperConfig(text.replace('unix:/var/run/crime/sock/runtime.sock', 'http://127.0.0.1:8081')), /checksum: does not match the content/);
});
