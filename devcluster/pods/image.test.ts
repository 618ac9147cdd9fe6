import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { homeOf, imageMatches, imageUser, loadImageBundle, normalizeImage, resolveInRoot, type ImageBundle } from './image.js';

const root = mkdtempSync(join(tmpdir(), 'crime-image-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
mkdirSync(join(root, 'run'), { recursive: true });
mkdirSync(join(root, 'var'), { recursive: true });
mkdirSync(join(root, 'etc'), { recursive: true });
symlinkSync('/run', join(root, 'var', 'run'));
symlinkSync('../../../../../etc', join(root, 'run', 'up'));
writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532::/home/nonroot:/bin/sh\n');
writeFileSync(join(root, 'etc', 'group'), 'root:x:0:\nnonroot:x:65532:\nstaff:x:50:\n');

test('paths resolve inside the image: an absolute symlink is taken from the image\'s root, never the host\'s', () => {
  assert.equal(resolveInRoot(root, '/var/run/crime/config'), '/run/crime/config');
  assert.equal(resolveInRoot(root, '/run/up/passwd'), '/etc/passwd', '.. stops at the image\'s root');
  assert.equal(resolveInRoot(root, '/tmp/./a/../b'), '/tmp/b');
  symlinkSync('loop', join(root, 'loop'));
  assert.throws(() => resolveInRoot(root, '/loop/x'), /too many symbolic links/);
});

test('the image\'s USER: numbers, names from its passwd and group, the passwd group by default', () => {
  assert.deepEqual(imageUser(root, '65532:65532'), { uid: 65532, gid: 65532, name: '65532:65532' });
  assert.deepEqual(imageUser(root, 'nonroot'), { uid: 65532, gid: 65532, name: 'nonroot' });
  assert.deepEqual(imageUser(root, 'nonroot:staff'), { uid: 65532, gid: 50, name: 'nonroot:staff' });
  assert.deepEqual(imageUser(root, undefined), { uid: 0, gid: 0, name: '0' });
  assert.equal(imageUser(root, 'nobody').uid, undefined, 'a name the image does not know');
  assert.equal(homeOf(root, 65532), '/home/nonroot');
  assert.equal(homeOf(root, 1234), '/');
});

test('image references compare as the runtime normalises them', () => {
  assert.equal(normalizeImage('crime:dev'), 'docker.io/library/crime:dev');
  assert.equal(normalizeImage('ghcr.io/crime-k8s/crime'), 'ghcr.io/crime-k8s/crime:latest');
  assert.equal(normalizeImage('localhost/crime:dev'), 'localhost/crime:dev');
  assert.equal(normalizeImage('registry:5000/x/y:1@sha256:abc'), 'registry:5000/x/y:1');
  const bundle = { name: 'localhost/crime:dev' } as ImageBundle;
  assert.ok(imageMatches(bundle, 'localhost/crime:dev'));
  assert.ok(!imageMatches(bundle, 'crime:dev'), 'Docker Hub\'s crime:dev is another image');
});

test('a folder that is not an unpacked image is refused, naming what it lacks', () => {
  assert.throws(() => loadImageBundle(root), /is not an unpacked image: it has no name \(make one with scripts\/build-image.sh --bundle\)/);
});
