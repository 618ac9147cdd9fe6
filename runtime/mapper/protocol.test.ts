import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAdvertisement } from './protocol.js';

test('an advertisement header: parsed when well formed, a batching device\'s added share kept, anything malformed dropped', () => {
  const plain = { local: { slope: 0.02, intercept: 1 }, queueMs: 3, remote: [] };
  assert.deepEqual(parseAdvertisement(JSON.stringify(plain)), plain);
  const batching = { ...plain, added: { slope: 0.0005, intercept: 0.02 } };
  assert.deepEqual(parseAdvertisement(JSON.stringify(batching)), batching);
  // A malformed share is left out: the local piece then counts whole, as for a device that does not batch.
  assert.deepEqual(parseAdvertisement(JSON.stringify({ ...plain, added: { slope: 'x', intercept: 1 } })), plain);
  assert.deepEqual(parseAdvertisement(JSON.stringify({ ...plain, queueMs: -5 })), { ...plain, queueMs: 0 });
  for (const bad of ['{', JSON.stringify({ ...plain, queueMs: 'soon' }), JSON.stringify({ ...plain, remote: [{ slope: 1 }] }), undefined]) {
    assert.equal(parseAdvertisement(bad), undefined, String(bad));
  }
});
