import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { ImageBundle } from './image.js';
import { argvOf, baseEnvOf, CAPABILITIES, capabilitySet, ContainerConfigError, DEFAULT_CAPABILITIES, identityOf, workingDirOf } from './security.js';

const rootfs = mkdtempSync(join(tmpdir(), 'crime-security-test-'));
after(() => rmSync(rootfs, { recursive: true, force: true }));
mkdirSync(join(rootfs, 'etc'));
writeFileSync(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n');
const image = (config: ImageBundle['config']): ImageBundle => ({ dir: rootfs, rootfs, name: 'localhost/x:1', id: 'abc', config });
const crime = image({ User: '65532:65532', Env: ['PATH=/opt/crime/bin:/usr/bin', 'HOME=/tmp'], Entrypoint: ['crime'], Cmd: ['--help'], WorkingDir: '/tmp' });
const pod = (securityContext: NonNullable<V1Pod['spec']>['securityContext'] = {}): V1Pod => ({ spec: { containers: [], securityContext } });
const bit = (name: string): bigint => 1n << BigInt(CAPABILITIES[name] as number);

test('capabilities: containerd\'s defaults, drop ALL then add, privileged gets all', () => {
  const defaults = capabilitySet({ name: 'c' });
  assert.equal(defaults, DEFAULT_CAPABILITIES.reduce((m, n) => m | bit(n), 0n));
  assert.equal(capabilitySet({ name: 'c', securityContext: { capabilities: { drop: ['ALL'] } } }), 0n);
  assert.equal(capabilitySet({ name: 'c', securityContext: { capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } } }), bit('NET_BIND_SERVICE'));
  assert.equal(capabilitySet({ name: 'c', securityContext: { capabilities: { drop: ['CAP_NET_RAW'] } } }), defaults & ~bit('NET_RAW'));
  assert.ok((capabilitySet({ name: 'c', securityContext: { privileged: true } }) & bit('SYS_ADMIN')) !== 0n);
  assert.throws(() => capabilitySet({ name: 'c', securityContext: { capabilities: { add: ['FLY'] } } }), /unknown capability "FLY"/);
});

test('identity: the pod\'s user and groups over the image\'s, fsGroup and supplementalGroups as extra groups', () => {
  const c: V1Container = { name: 'c', securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } } };
  assert.deepEqual(identityOf(crime, pod({ runAsUser: 1000, runAsGroup: 2000, fsGroup: 3000, supplementalGroups: [4000] }), c), { uid: 1000, gid: 2000, groups: [4000, 3000], caps: 0n, noNewPrivs: true, readOnlyRoot: true });
  assert.deepEqual(identityOf(crime, pod(), { name: 'c' }), { uid: 65532, gid: 65532, groups: [], caps: capabilitySet({ name: 'c' }), noNewPrivs: false, readOnlyRoot: false });
  assert.equal(identityOf(crime, pod({ runAsUser: 1000 }), { name: 'c' }).gid, 1000, 'runAsUser alone: the group of its passwd entry');
  assert.equal(identityOf(crime, pod({ runAsUser: 4242 }), { name: 'c' }).gid, 0, 'a UID the image does not know: group 0');
});

test('runAsNonRoot is checked before anything starts, as the kubelet does', () => {
  assert.throws(() => identityOf(image({}), pod({ runAsNonRoot: true }), { name: 'c' }), (e: Error) => e instanceof ContainerConfigError && /image will run as root/.test(e.message));
  assert.throws(() => identityOf(image({ User: 'app' }), pod({ runAsNonRoot: true }), { name: 'c' }), /non-numeric user \(app\), cannot verify user is non-root/);
  assert.equal(identityOf(image({ User: 'app' }), pod({ runAsNonRoot: true, runAsUser: 1000 }), { name: 'c' }).uid, 1000);
  assert.throws(() => identityOf(image({ User: 'ghost' }), pod(), { name: 'c' }), /unable to find user ghost/);
  assert.throws(() => identityOf(crime, pod(), { name: 'c', securityContext: { allowPrivilegeEscalation: false, privileged: true } }), /cannot set allowPrivilegeEscalation to false and privileged/);
});

test('command, args, environment and working directory: the container\'s over the image\'s', () => {
  assert.deepEqual(argvOf(crime, { name: 'c' }), ['crime', '--help']);
  assert.deepEqual(argvOf(crime, { name: 'c', args: ['runtime'] }), ['crime', 'runtime'], 'args replace CMD only');
  assert.deepEqual(argvOf(crime, { name: 'c', command: ['sh'] }), ['sh'], 'command drops the image\'s CMD');
  assert.throws(() => argvOf(image({}), { name: 'c' }), /no command specified/);
  assert.deepEqual(baseEnvOf(crime), { PATH: '/opt/crime/bin:/usr/bin', HOME: '/tmp' });
  assert.match(baseEnvOf(image({})).PATH ?? '', /^\/usr\/local\/sbin:/);
  assert.equal(workingDirOf(crime, { name: 'c' }), '/tmp');
  assert.equal(workingDirOf(crime, { name: 'c', workingDir: '/work' }), '/work');
  assert.equal(workingDirOf(image({}), { name: 'c' }), '/');
});
