import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadKubeConfig, NativeKubeConfig } from './credentials.js';
import type { ResolvedConfig } from './kubeconfig.js';
import { testPki } from './testing/pki.js';

const cluster = { name: 'c', server: 'https://h:6443', insecureSkipTlsVerify: false };
const apply = async (kc: { applyToHTTPSOptions(o: RequestOptions): Promise<void> }): Promise<RequestOptions & { headers: Record<string, string> }> => {
  const opts: RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  return opts as RequestOptions & { headers: Record<string, string> };
};

describe('NativeKubeConfig', () => {
  it('re-reads a token file once it is a minute old, and keeps the last good token when the file is gone', async () => {
    const files = new Map([['/t', Buffer.from('first\n')]]);
    let now = 0;
    let reads = 0;
    const kc = new NativeKubeConfig({ context: 'x', cluster, user: { name: 'u', tokenFile: '/t' } }, {
      now: () => now,
      readFile: async (p) => {
        reads++;
        const f = files.get(p);
        if (!f) throw new Error('ENOENT');
        return f;
      },
    });
    assert.equal((await apply(kc)).headers.authorization, 'Bearer first');
    files.set('/t', Buffer.from('second'));
    now = 59_000;
    assert.equal((await apply(kc)).headers.authorization, 'Bearer first', 'not read again within the minute');
    assert.equal(reads, 1);
    now = 60_000;
    assert.equal((await apply(kc)).headers.authorization, 'Bearer second');
    files.delete('/t');
    now = 200_000;
    assert.equal((await apply(kc)).headers.authorization, 'Bearer second', 'the last good token');
  });

  it('reads the token file at most once for requests at the same time', async () => {
    let reads = 0;
    const kc = new NativeKubeConfig({ context: 'x', cluster, user: { name: 'u', tokenFile: '/t' } }, {
      readFile: async () => {
        reads++;
        await new Promise((r) => setTimeout(r, 10));
        return Buffer.from('tok');
      },
    });
    const all = await Promise.all(Array.from({ length: 20 }, () => apply(kc)));
    assert.ok(all.every((o) => o.headers.authorization === 'Bearer tok'));
    assert.equal(reads, 1);
  });

  it('a token file wins over a static token once read; the static token stands in while it cannot be read', async () => {
    const user = { name: 'u', token: 'static', tokenFile: '/t' };
    const reading = new NativeKubeConfig({ context: 'x', cluster, user }, { readFile: async () => Buffer.from('from-file') });
    assert.equal((await apply(reading)).headers.authorization, 'Bearer from-file');
    const failing = new NativeKubeConfig({ context: 'x', cluster, user }, { readFile: async () => { throw new Error('ENOENT'); } });
    assert.equal((await apply(failing)).headers.authorization, 'Bearer static');
    const nothing = new NativeKubeConfig({ context: 'x', cluster, user: { name: 'u', tokenFile: '/t' } }, { readFile: async () => { throw new Error('ENOENT'); } });
    await assert.rejects(apply(nothing), /cannot read the token file \/t/);
  });

  it('applies TLS material from files and inline data, skip-verify, the TLS server name, basic auth and impersonation', async () => {
    const pki = testPki();
    try {
      const client = pki.client('u');
      const config: ResolvedConfig = {
        context: 'x',
        cluster: { name: 'c', server: 'https://h', certificateAuthority: { file: '/ca' }, insecureSkipTlsVerify: true, tlsServerName: 'api' },
        user: { name: 'u', clientCertificate: { data: client.cert }, clientKey: { file: '/key' }, username: 'admin', password: 'pw', impersonate: 'bob' },
      };
      const files: Record<string, Buffer> = { '/ca': pki.ca, '/key': client.key };
      const opts = await apply(new NativeKubeConfig(config, { readFile: async (p) => files[p] ?? Buffer.alloc(0) }));
      assert.deepEqual(opts.ca, pki.ca);
      assert.deepEqual(opts.cert, client.cert);
      assert.deepEqual(opts.key, client.key);
      assert.equal(opts.rejectUnauthorized, false);
      assert.equal(opts.servername, 'api');
      assert.equal(opts.auth, 'admin:pw');
      assert.equal(opts.headers['impersonate-user'], 'bob');
      assert.equal(opts.headers.authorization, undefined);
      const missing = new NativeKubeConfig(config, { readFile: async () => { throw new Error('ENOENT'); } });
      await assert.rejects(apply(missing), /cannot read the certificate authority \/ca/);
      // A certificate with another's key: refused at once, naming the user, not at the first handshake.
      const other = pki.client('other');
      const mismatched = new NativeKubeConfig({ context: 'x', cluster, user: { name: 'u', clientCertificate: { data: client.cert }, clientKey: { data: other.key } } });
      await assert.rejects(apply(mismatched), /user u: the client certificate does not go with the client key/);
    } finally {
      pki.remove();
    }
  });
});

describe('loadKubeConfig', () => {
  let dir: string;
  const kubeconfig = (server: string, user: Record<string, unknown>, extra = ''): string =>
    `current-context: ctx\nclusters: [{name: c, cluster: {server: "${server}", certificate-authority: pki/ca.crt}}]\nusers: [{name: u, user: ${JSON.stringify(user)}}]\ncontexts: [{name: ctx, context: {cluster: c, user: u, namespace: ns}}]\n${extra}`;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'crime-kubeconfig-'));
    mkdirSync(join(dir, 'pki'));
    writeFileSync(join(dir, 'pki', 'ca.crt'), 'THE CA');
    writeFileSync(join(dir, 'token'), 'file-token\n');
    writeFileSync(join(dir, 'config'), kubeconfig('https://one:6443', { tokenFile: 'token' }));
    writeFileSync(join(dir, 'exec.config'), kubeconfig('https://exec:6443', { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'true' } }));
    mkdirSync(join(dir, 'sa'));
    writeFileSync(join(dir, 'sa', 'token'), 'sa-token');
    writeFileSync(join(dir, 'sa', 'ca.crt'), 'SA CA');
    writeFileSync(join(dir, 'sa', 'namespace'), 'crime-system\n');
    mkdirSync(join(dir, 'home', '.kube'), { recursive: true });
    writeFileSync(join(dir, 'home', '.kube', 'config'), kubeconfig('https://home:6443', { token: 't' }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a kubeconfig file natively, with paths relative to its folder', async () => {
    const kc = await loadKubeConfig(join(dir, 'config'), { env: {} });
    assert.ok(kc instanceof NativeKubeConfig);
    assert.equal(kc.getCurrentCluster()?.server, 'https://one:6443');
    assert.equal(kc.namespace, 'ns');
    const opts = await apply(kc);
    assert.equal(String(opts.ca), 'THE CA');
    assert.equal(opts.headers.authorization, 'Bearer file-token');
  });

  it('uses the service account in a pod; an explicit $KUBECONFIG wins over it, as with kubectl and controller-runtime', async () => {
    const pod = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
    const kc = await loadKubeConfig(undefined, { env: pod, serviceAccountDir: join(dir, 'sa'), home: join(dir, 'home') });
    assert.ok(kc instanceof NativeKubeConfig);
    assert.equal(kc.getCurrentCluster()?.server, 'https://10.96.0.1:443', 'the service account over ~/.kube/config');
    assert.equal(kc.namespace, 'crime-system');
    const opts = await apply(kc);
    assert.equal(String(opts.ca), 'SA CA');
    assert.equal(opts.headers.authorization, 'Bearer sa-token');
    const explicit = await loadKubeConfig(undefined, { env: { ...pod, KUBECONFIG: join(dir, 'config') }, serviceAccountDir: join(dir, 'sa') });
    assert.equal(explicit.getCurrentCluster()?.server, 'https://one:6443', '$KUBECONFIG over the service account');
    assert.equal((await apply(explicit)).headers.authorization, 'Bearer file-token');
  });

  it('outside a pod: $KUBECONFIG (files merged, missing ones skipped), else ~/.kube/config, else a clear error', async () => {
    writeFileSync(join(dir, 'second'), 'current-context: other\nusers: [{name: u, user: {token: ignored}}]\n');
    const merged = await loadKubeConfig(undefined, { env: { KUBECONFIG: [join(dir, 'missing'), join(dir, 'config'), join(dir, 'second')].join(':') }, home: '/nonexistent' });
    assert.equal(merged.getCurrentCluster()?.server, 'https://one:6443');
    assert.equal((await apply(merged)).headers.authorization, 'Bearer file-token');
    const home = await loadKubeConfig(undefined, { env: {}, home: join(dir, 'home') });
    assert.equal(home.getCurrentCluster()?.server, 'https://home:6443');
    await assert.rejects(loadKubeConfig(undefined, { env: {}, home: '/nonexistent' }), /no kubeconfig/);
    await assert.rejects(loadKubeConfig(undefined, { env: { KUBECONFIG: join(dir, 'missing') }, home: '/nonexistent' }), /none of the \$KUBECONFIG files exists/);
  });

  it('hands an exec plugin user to client-node, loaded only then', async () => {
    const kc = await loadKubeConfig(join(dir, 'exec.config'), { env: {} });
    assert.ok(!(kc instanceof NativeKubeConfig));
    assert.equal(kc.constructor.name, 'KubeConfig');
    assert.equal(kc.getCurrentCluster()?.server, 'https://exec:6443');
  });

  it('passes a configuration object through', async () => {
    const given = new NativeKubeConfig({ context: 'x', cluster, user: { name: 'u' } });
    assert.equal(await loadKubeConfig(given), given);
  });
});
