import assert from 'node:assert/strict';
import { test } from 'node:test';
import { imagePrologue, mountOrder, prologue } from './container.js';

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

test('a container from an image: its own writable layer, the root read-only when asked, then crime-enter with its identity', () => {
  const image = {
    rootfs: '/cache/images/crime/rootfs',
    scratch: "/pods/u/containers/it's",
    identity: { uid: 65532, gid: 65532, groups: [65532], caps: 0x400n, noNewPrivs: true, readOnlyRoot: true },
    cwd: '/tmp',
    helper: '/cache/bin/crime-enter-abc',
    errorFile: '/pods/u/logs/c.start-error',
  };
  const script = imagePrologue({ mounts: [{ source: '/pods/u/volumes/config', target: '/run/crime/config', readOnly: true }], image });
  assert.match(script, /S='\/pods\/u\/containers\/it'\\''s'/);
  assert.match(script, /mount -t overlay overlay -o lowerdir='\/cache\/images\/crime\/rootfs',upperdir="\$S\/upper",workdir="\$S\/work" "\$S\/root"/);
  assert.match(script, /mount --bind '\/pods\/u\/volumes\/config' "\$R"'\/run\/crime\/config'/);
  assert.match(script, /mount -o remount,bind,ro "\$R"'\/run\/crime\/config'/);
  const ro = script.indexOf('mount -o remount,bind,ro "$R" ||');
  assert.ok(ro > script.indexOf("'/run/crime/config'") && ro < script.indexOf('\nexec '), 'the root goes read-only after the volumes are in');
  assert.match(script, /exec '\/cache\/bin\/crime-enter-abc' --root "\$R" --cwd '\/tmp' --uid 65532 --gid 65532 --groups 65532 --caps 0x400 --no-new-privs --error-file '\/pods\/u\/logs\/c.start-error' -- "\$@"$/);
  const writable = imagePrologue({ mounts: [], image: { ...image, identity: { ...image.identity, readOnlyRoot: false, noNewPrivs: false, groups: [] } } });
  assert.doesNotMatch(writable, /remount,bind,ro "\$R" /);
  assert.doesNotMatch(writable, /--no-new-privs|--groups/);
});
