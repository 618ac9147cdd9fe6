/**
 * The `crime` image, built from this checkout's Dockerfile (scripts/build-image.sh, once per test
 * run) and run the way a node runs it: pods on the dev cluster's pod runner with the restricted
 * security context the operator renders (UID 65532, read-only root, no capabilities, no privilege
 * escalation). `crime --help` from the image's own ENTRYPOINT and CMD, `crime runtime` on the model
 * the image ships with `crime probe` reaching its Unix socket from a second container of the same
 * UID; and what the image lacks or the security context forbids fails as on a node. Root only.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { V1Container, V1Pod, V1PodSpec, V1SecurityContext } from '@kubernetes/client-node';
import { startDevCluster, type DevCluster } from '../devcluster/dev-cluster.js';
import { imageBundleDir } from '../devcluster/image-build.js';
import { createNamespace } from '../devcluster/namespaces.js';
import { gatewayNode } from '../devcluster/nodes.js';
import { waitFor } from '../devcluster/wait.js';
import { pathOf, RESOURCES } from '../operator/kube/resources.js';
import { KubeRest } from '../operator/kube/rest.js';

const NS = 'image';
const RESTRICTED: V1SecurityContext = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } };
const POD_SECURITY = { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532 };
const SOCKET = '/var/run/crime/sock/runtime.sock';

describe('the crime image, run as a node runs it', { skip: process.getuid?.() !== 0 ? 'needs root (network namespaces, mounts)' : false }, () => {
  let cluster: DevCluster;
  let admin: KubeRest;
  let image = '';

  const container = (name: string, c: Omit<V1Container, 'name' | 'image'> = {}): V1Container => ({ name, image, securityContext: RESTRICTED, ...c });
  const create = (name: string, spec: Omit<V1PodSpec, 'containers'> & { containers: V1Container[] }): Promise<unknown> =>
    admin.request({ method: 'POST', path: pathOf(RESOURCES.pod, NS), body: { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS }, spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 2, securityContext: POD_SECURITY, ...spec } } });
  const pod = (name: string): Promise<V1Pod> => admin.request<V1Pod>({ method: 'GET', path: pathOf(RESOURCES.pod, NS, name) });
  const until = <T>(name: string, what: string, test: (p: V1Pod) => T | undefined): Promise<T> =>
    waitFor(async () => test(await pod(name)), { what: `pod ${name}: ${what}`, timeoutMs: 90_000 });
  const log = (p: V1Pod, c: string): string => readFileSync(cluster.runner?.logFile(p.metadata?.uid ?? '', c) ?? '', 'utf8');
  const terminated = (name: string): Promise<NonNullable<NonNullable<V1Pod['status']>['containerStatuses']>[number]['state']> =>
    until(name, 'terminated', (p) => (p.status?.containerStatuses?.[0]?.state?.terminated ? p.status.containerStatuses[0].state : undefined));

  before(async () => {
    const bundle = imageBundleDir();
    cluster = await startDevCluster({ runPods: true, imageRoot: bundle, nodes: [gatewayNode('node-a')] });
    image = cluster.image?.name ?? '';
    admin = new KubeRest(cluster.controlPlane.admin());
    await createNamespace(cluster.controlPlane.admin(), NS);
  });
  after(async () => {
    admin?.close();
    await cluster?.stop();
  });

  it('crime --help: the image\'s own ENTRYPOINT and CMD, as UID 65532 with a read-only root', async () => {
    await create('help', { containers: [container('crime')] });
    const p = await until('help', 'Succeeded', (x) => (x.status?.phase === 'Succeeded' ? x : undefined));
    assert.match(log(p, 'crime'), /Usage: crime <command>/);
  });

  it('the process is who the security context says: UID and groups, no capabilities, no_new_privs, a read-only root and a writable emptyDir', async () => {
    const script = 'id -u; id -g; id -G; grep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/self/status; touch /opt/crime/x 2>&1 || true; touch /tmp/x && echo tmp-ok; pwd';
    await create('identity', { containers: [container('sh', { command: ['sh', '-c', script], volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }] })], volumes: [{ name: 'tmp', emptyDir: {} }] });
    const p = await until('identity', 'Succeeded', (x) => (x.status?.phase === 'Succeeded' ? x : undefined));
    const out = log(p, 'sh');
    assert.match(out, /^65532\n65532\n65532\n/);
    assert.match(out, /CapEff:\s+0{16}\nCapBnd:\s+0{16}\n/);
    assert.match(out, /NoNewPrivs:\s+1/);
    assert.match(out, /Read-only file system/);
    assert.match(out, /tmp-ok\n\/tmp\n$/, 'the image\'s WORKDIR, on the emptyDir');
  });

  it('crime runtime on the model the image ships, and crime probe reaching its socket from the runtime and from a second container of the same UID', async () => {
    const probe = { exec: { command: ['crime', 'probe', '--socket', SOCKET, '/healthz'] }, periodSeconds: 2, timeoutSeconds: 10 };
    await create('runtime', {
      restartPolicy: 'Always',
      containers: [
        container('runtime', {
          command: ['crime'],
          args: ['runtime', '--model', '/opt/crime/examples/models/imdb1x128.onnx', '--socket', SOCKET, '--max-steps', '100'],
          readinessProbe: probe,
          volumeMounts: [{ name: 'sock', mountPath: '/var/run/crime/sock' }, { name: 'tmp', mountPath: '/tmp' }],
        }),
        // As the mapper: the socket's folder read-only, and only crime probe to call it.
        container('peer', { command: ['sleep', 'infinity'], readinessProbe: probe, volumeMounts: [{ name: 'sock', mountPath: '/var/run/crime/sock', readOnly: true }] }),
      ],
      volumes: [{ name: 'sock', emptyDir: {} }, { name: 'tmp', emptyDir: {} }],
    });
    await until('runtime', 'Ready', (x) => (x.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? true : undefined));
  });

  it('what the image lacks fails as on a node: a command it does not have, an image the node does not hold', async () => {
    await create('no-curl', { containers: [container('c', { command: ['curl', 'http://example.invalid/'] })] });
    await create('other-image', { containers: [{ ...container('c'), image: 'docker.io/library/busybox:1.36' }] });
    const state = await terminated('no-curl');
    assert.equal(state?.terminated?.reason, 'StartError');
    assert.equal(state?.terminated?.exitCode, 128);
    assert.match(state?.terminated?.message ?? '', /exec: "curl": executable file not found in \$PATH/);
    const waiting = await until('other-image', 'ErrImagePull', (x) => x.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ErrImagePull' ? x.status.containerStatuses[0].state?.waiting : undefined);
    assert.match(waiting?.message ?? '', /busybox:1\.36" is not on this node/);
  });

  it('what the security context forbids fails as on a node: root under runAsNonRoot, a 0400 Secret without fsGroup', async () => {
    await admin.request({ method: 'POST', path: pathOf(RESOURCES.secret, NS), body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'token', namespace: NS }, data: { token: Buffer.from('s3cret').toString('base64') } } });
    await create('as-root', { securityContext: { runAsNonRoot: true, runAsUser: 0 }, containers: [container('c')] });
    const read = (mode: number): Partial<V1PodSpec> => ({
      containers: [container('c', { command: ['cat', '/var/run/secrets/t/token'], terminationMessagePolicy: 'FallbackToLogsOnError', volumeMounts: [{ name: 't', mountPath: '/var/run/secrets/t', readOnly: true }] })],
      volumes: [{ name: 't', secret: { secretName: 'token', defaultMode: mode } }],
    });
    await create('secret-no-fsgroup', { ...read(0o400), securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532 } } as V1PodSpec);
    await create('secret-fsgroup', read(0o440) as V1PodSpec);
    const waiting = await until('as-root', 'CreateContainerConfigError', (x) => x.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError' ? x.status.containerStatuses[0].state?.waiting : undefined);
    assert.match(waiting?.message ?? '', /runAsNonRoot and image will run as root/);
    const denied = await terminated('secret-no-fsgroup');
    assert.notEqual(denied?.terminated?.exitCode, 0);
    assert.match(denied?.terminated?.message ?? '', /Permission denied/);
    const allowed = await terminated('secret-fsgroup');
    assert.equal(allowed?.terminated?.exitCode, 0, allowed?.terminated?.message);
  });
});
