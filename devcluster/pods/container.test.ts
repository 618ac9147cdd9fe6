import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mountOrder, prologue } from './container.js';

test('a checkout under /tmp is mounted as the image before the emptyDir that covers /tmp', () => {
  const image = { source: '/tmp/ci', target: '/opt/crime', readOnly: true };
  const tmp = { source: '/var/lib/dev/pods/u/volumes/tmp', target: '/tmp', readOnly: false };
  const config = { source: '/var/lib/dev/pods/u/volumes/config', target: '/var/run/crime/config', readOnly: true };
  const order = mountOrder([tmp, config, image]).map((m) => m.target);
  assert.ok(order.indexOf('/opt/crime') < order.indexOf('/tmp'), order.join(' '));
});

test('parents are mounted before their children', () => {
  const parent = { source: '/a', target: '/var/run/crime', readOnly: false };
  const child = { source: '/b', target: '/var/run/crime/sock', readOnly: false };
  assert.deepEqual(mountOrder([child, parent]).map((m) => m.target), ['/var/run/crime', '/var/run/crime/sock']);
});

test('the prologue mounts read-only volumes read-only, quotes paths and execs the command', () => {
  const script = prologue({ mounts: [{ source: "/x/it's", target: '/opt/crime', readOnly: true }], workingDir: '/tmp' });
  assert.match(script, /mount --bind '\/x\/it'\\''s' '\/opt\/crime'/);
  assert.match(script, /mount -o remount,bind,ro '\/opt\/crime'/);
  assert.match(script, /cd '\/tmp'\nexec "\$@"$/);
});
