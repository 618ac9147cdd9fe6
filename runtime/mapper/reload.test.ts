import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMapperConfig, type MapperConfigFile } from './config.js';
import { refuseReload, restartOnlyChanges } from './reload.js';

const BASE = 'device: gateway\nruntime: { url: "http://127.0.0.1:8081" }\n';
const withToken = parseMapperConfig(`${BASE}auth: { tokenFile: /run/token }\n`);
const without = parseMapperConfig(`${BASE}auth: { disabled: true }\n`);
const file = (config: typeof withToken, sealed: boolean): MapperConfigFile => ({ config, sealed });

test('a sealed configuration is only replaced by a sealed one', () => {
  assert.match(refuseReload({ config: withToken, sealed: true }, file(withToken, false)) ?? '', /may be incomplete/);
  assert.equal(refuseReload({ config: withToken, sealed: true }, file(withToken, true)), undefined);
  assert.equal(refuseReload({ config: withToken, sealed: false }, file(withToken, false)), undefined);
});

test('a reload never turns authentication off; it may turn it on', () => {
  assert.match(refuseReload({ config: withToken, sealed: false }, file(without, false)) ?? '', /cannot turn authentication off/);
  assert.equal(refuseReload({ config: without, sealed: false }, file(withToken, false)), undefined);
});

test('device, runtime and listen address need a restart', () => {
  const moved = parseMapperConfig(`device: cloud\nruntime: { url: "http://127.0.0.1:9" }\nlisten: { port: 1 }\nauth: { disabled: true }\n`);
  assert.deepEqual(restartOnlyChanges(without, moved), ['device', 'runtimeUrl', 'listen']);
  assert.deepEqual(restartOnlyChanges(without, withToken), []);
});
