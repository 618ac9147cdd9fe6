/**
 * How KubeRest reaches the API server, over real TLS with client certificates on loopback: through
 * the cluster's proxy-url (HTTP CONNECT and SOCKS5 proxies that count their tunnels), natively and
 * with client-node's KubeConfig (the exec/auth-provider fallback); and with a client certificate
 * that is rotated on disk, which must be used once read again, closing the old connections.
 */
import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { loadKubeConfig, NativeKubeConfig } from './credentials.js';
import { parseKubeconfig, resolveContext } from './kubeconfig.js';
import { KubeRest } from './rest.js';
import { testPki, type TestPki } from './testing/pki.js';
import { httpConnectProxy, socks5Proxy, type TestProxy } from './testing/proxies.js';

describe('KubeRest connections (real TLS with client certificates)', () => {
  let pki: TestPki;
  let server: Server;
  let port = 0;
  /** every TLS connection the server accepted: the client certificate's user, and whether it is closed */
  const connections: Array<{ user: string; closed: boolean }> = [];
  let http: TestProxy;
  let socks: TestProxy;
  let alice: ReturnType<TestPki['client']>;
  let bob: ReturnType<TestPki['client']>;

  before(async () => {
    pki = testPki();
    const serving = pki.server();
    alice = pki.client('alice');
    bob = pki.client('bob');
    server = createServer({ key: serving.key, cert: serving.cert, ca: pki.ca, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      const user = (req.socket as TLSSocket).getPeerCertificate().subject?.CN ?? '';
      if (req.url?.includes('watch=true')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(`${JSON.stringify({ type: 'ADDED', object: { metadata: { name: user } } })}\n`);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ user }));
    });
    server.on('secureConnection', (socket: TLSSocket) => {
      const c = { user: String(socket.getPeerCertificate().subject?.CN ?? ''), closed: false };
      connections.push(c);
      socket.on('close', () => (c.closed = true));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    port = (server.address() as AddressInfo).port;
    http = await httpConnectProxy();
    socks = await socks5Proxy();
  });
  after(async () => {
    await http?.close();
    await socks?.close();
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    pki?.remove();
  });

  const kubeconfig = (o: { proxyUrl?: string; cert?: string; key?: string }): string =>
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'c',
      clusters: [{ name: 'c', cluster: { server: `https://127.0.0.1:${port}`, 'certificate-authority': pki.caFile, ...(o.proxyUrl ? { 'proxy-url': o.proxyUrl } : {}) } }],
      users: [{ name: 'u', user: { 'client-certificate': o.cert ?? alice.certFile, 'client-key': o.key ?? alice.keyFile } }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
    });
  const whoami = async (rest: KubeRest): Promise<string> => (await rest.request<{ user: string }>({ method: 'GET', path: '/whoami' })).user;
  const watchOnce = (rest: KubeRest): Promise<string[]> =>
    new Promise((resolve, reject) => {
      const names: string[] = [];
      void rest.watch('/watched', {}, (_type, obj) => names.push((obj as { metadata: { name: string } }).metadata.name), (err) => (err ? reject(err as Error) : resolve(names)));
    });
  const target = (): string => `127.0.0.1:${port}`;

  for (const kind of ['http', 'socks5'] as const) {
    it(`proxy-url ${kind}://: requests and watches go through the proxy (kubeconfig read natively)`, async () => {
      const proxy = kind === 'http' ? http : socks;
      const before = proxy.tunnels.length;
      const file = join(pki.dir, `${kind}.kubeconfig`);
      writeFileSync(file, kubeconfig({ proxyUrl: proxy.url }));
      const kc = await loadKubeConfig(file, { env: {} });
      assert.ok(kc instanceof NativeKubeConfig);
      const rest = new KubeRest(kc);
      try {
        assert.equal(await whoami(rest), 'alice');
        assert.deepEqual(await watchOnce(rest), ['alice']);
        assert.deepEqual(proxy.tunnels.slice(before), [target(), target()], 'one tunnel for the requests, one for the watch');
      } finally {
        rest.close();
      }
    });
  }

  it('proxy-url with client-node\'s KubeConfig (the exec / auth-provider fallback): its agent is replaced by our pools, the proxy kept', async () => {
    const kc = new KubeConfig();
    kc.loadFromString(kubeconfig({ proxyUrl: http.url }));
    const before = http.tunnels.length;
    const rest = new KubeRest(kc);
    try {
      assert.equal(await whoami(rest), 'alice');
      assert.equal(await whoami(rest), 'alice');
      assert.deepEqual(http.tunnels.slice(before), [target()], 'through the proxy, and kept alive');
    } finally {
      rest.close();
    }
  });

  it('a client certificate rotated on disk is used once read again; the connections made with the old one are closed', async () => {
    const cert = join(pki.dir, 'rotating.crt');
    const key = join(pki.dir, 'rotating.key');
    copyFileSync(alice.certFile, cert);
    copyFileSync(alice.keyFile, key);
    let now = 0;
    const kc = new NativeKubeConfig(resolveContext(parseKubeconfig(kubeconfig({ cert, key }), pki.dir)), { now: () => now });
    const rest = new KubeRest(kc);
    try {
      assert.equal(await whoami(rest), 'alice');
      const first = connections.at(-1);
      // Half written: the new certificate, the old key. Not a pair: the last good one stays in use.
      copyFileSync(bob.certFile, cert);
      now += 60_000;
      assert.equal(await whoami(rest), 'alice', 'a certificate without its key is not used');
      copyFileSync(bob.keyFile, key);
      now += 30_000;
      assert.equal(await whoami(rest), 'alice', 'not read again within the minute');
      now += 30_000;
      assert.equal(await whoami(rest), 'bob', 'the rotated certificate');
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(first?.user, 'alice');
      assert.ok(first?.closed, 'the connection made with the old certificate is closed');
    } finally {
      rest.close();
    }
  });

  it('a client certificate rotated on disk is used with client-node\'s KubeConfig too (it reads the files on each request)', async () => {
    const cert = join(pki.dir, 'rotating-cn.crt');
    const key = join(pki.dir, 'rotating-cn.key');
    copyFileSync(alice.certFile, cert);
    copyFileSync(alice.keyFile, key);
    const kc = new KubeConfig();
    kc.loadFromString(kubeconfig({ cert, key }));
    const rest = new KubeRest(kc);
    try {
      assert.equal(await whoami(rest), 'alice');
      copyFileSync(bob.certFile, cert);
      copyFileSync(bob.keyFile, key);
      assert.equal(await whoami(rest), 'bob');
    } finally {
      rest.close();
    }
  });
});
