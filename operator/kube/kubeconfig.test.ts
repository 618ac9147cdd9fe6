import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inClusterConfig, KubeconfigError, mergeKubeconfigs, parseKubeconfig, resolveContext } from './kubeconfig.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

const FILE = `
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster:
    server: https://10.0.0.1:6443/
    certificate-authority-data: ${b64('CA PEM')}
    tls-server-name: api.internal
- name: files
  cluster:
    server: https://files.example:443
    certificate-authority: certs/ca.crt
- name: insecure
  cluster:
    server: https://insecure.example
    insecure-skip-tls-verify: true
    proxy-url: socks5://proxy.internal:1080
users:
- name: alice
  user:
    token: abc
    as: bob
- name: certs
  user:
    client-certificate: certs/client.crt
    client-key: /abs/client.key
- name: inline-certs
  user:
    client-certificate-data: ${b64('CERT')}
    client-key-data: ${b64('KEY')}
- name: rotating
  user:
    tokenFile: ../tokens/t
- name: basic
  user:
    username: admin
    password: secret
- name: sso
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: aws
- name: gcp
  user:
    auth-provider:
      name: gcp
contexts:
- name: dev
  context: { cluster: dev-cluster, user: alice, namespace: team-a }
- name: files
  context: { cluster: files, user: certs }
- name: inline
  context: { cluster: insecure, user: inline-certs }
- name: rotating
  context: { cluster: files, user: rotating }
- name: basic
  context: { cluster: files, user: basic }
- name: sso
  context: { cluster: files, user: sso }
- name: gcp
  context: { cluster: files, user: gcp }
- name: anonymous
  context: { cluster: files }
`;

describe('parseKubeconfig and resolveContext', () => {
  const doc = parseKubeconfig(FILE, '/home/me/.kube');

  it('resolves the current context: server without trailing slash, inline CA, TLS server name, token, impersonation, namespace', () => {
    const r = resolveContext(doc);
    assert.equal(r.context, 'dev');
    assert.equal(r.cluster.server, 'https://10.0.0.1:6443');
    assert.deepEqual(r.cluster.certificateAuthority, { data: Buffer.from('CA PEM') });
    assert.equal(r.cluster.tlsServerName, 'api.internal');
    assert.equal(r.cluster.insecureSkipTlsVerify, false);
    assert.equal(r.user.token, 'abc');
    assert.equal(r.user.impersonate, 'bob');
    assert.equal(r.namespace, 'team-a');
    assert.equal(r.user.unsupported, undefined);
  });

  it('resolves relative file paths against the kubeconfig folder, keeps absolute ones', () => {
    const r = resolveContext(doc, 'files');
    assert.deepEqual(r.cluster.certificateAuthority, { file: '/home/me/.kube/certs/ca.crt' });
    assert.deepEqual(r.user.clientCertificate, { file: '/home/me/.kube/certs/client.crt' });
    assert.deepEqual(r.user.clientKey, { file: '/abs/client.key' });
    assert.equal(resolveContext(doc, 'rotating').user.tokenFile, '/home/me/tokens/t');
  });

  it('reads inline client certificates, insecure-skip-tls-verify, proxy-url, basic auth, and no user at all', () => {
    const inline = resolveContext(doc, 'inline');
    assert.deepEqual(inline.user.clientCertificate, { data: Buffer.from('CERT') });
    assert.deepEqual(inline.user.clientKey, { data: Buffer.from('KEY') });
    assert.equal(inline.cluster.insecureSkipTlsVerify, true);
    assert.equal(inline.cluster.proxyUrl, 'socks5://proxy.internal:1080');
    assert.equal(resolveContext(doc, 'files').cluster.proxyUrl, undefined);
    const basic = resolveContext(doc, 'basic').user;
    assert.equal(basic.username, 'admin');
    assert.equal(basic.password, 'secret');
    assert.equal(resolveContext(doc, 'anonymous').user.name, '');
  });

  it('marks exec plugins and auth-providers as what it cannot do itself', () => {
    assert.equal(resolveContext(doc, 'sso').user.unsupported, 'exec');
    assert.equal(resolveContext(doc, 'gcp').user.unsupported, 'auth-provider');
  });

  it('accepts JSON (what client-node exportConfig writes) and client-node\'s token-file spelling', () => {
    const json = JSON.stringify({
      clusters: [{ name: 'c', cluster: { server: 'https://h:1', 'insecure-skip-tls-verify': false } }],
      users: [{ name: 'u', user: { 'token-file': 'tok' } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      preferences: {},
      'current-context': 'x',
    });
    const r = resolveContext(parseKubeconfig(json, '/d'));
    assert.equal(r.user.tokenFile, '/d/tok');
  });

  it('says what is missing', () => {
    assert.throws(() => resolveContext(parseKubeconfig('clusters: []', '/')), /no current-context/);
    assert.throws(() => resolveContext(doc, 'nope'), /context nope is not in the kubeconfig/);
    assert.throws(() => resolveContext(parseKubeconfig('current-context: a\ncontexts: [{name: a, context: {cluster: gone}}]', '/')), /cluster gone of context a/);
    assert.throws(() => resolveContext(parseKubeconfig('current-context: a\nclusters: [{name: c, cluster: {server: "https://x"}}]\ncontexts: [{name: a, context: {cluster: c, user: ghost}}]', '/')), /user ghost of context a/);
    assert.throws(() => parseKubeconfig('clusters: [{name: c, cluster: {}}]', '/'), /cluster c: server is missing/);
    assert.throws(() => parseKubeconfig('clusters: [{name: c, cluster: {server: "https://x", proxy-url: "socks4://p:1080"}}]', '/'), /cluster c: proxy-url socks4:\/\/p:1080 has the unsupported scheme socks4, must be http, https or socks5/);
    assert.throws(() => parseKubeconfig('clusters: [{name: c, cluster: {server: "https://x", proxy-url: "not a url"}}]', '/'), /cluster c: proxy-url not a url is not a URL/);
    assert.throws(() => parseKubeconfig('- a list', '/'), KubeconfigError);
    assert.throws(() => parseKubeconfig('clusters: [{cluster: {server: x}}]', '/'), /clusters\[0\]\.name is missing/);
  });
});

describe('mergeKubeconfigs', () => {
  it('lets the first file that names something win, and the first current-context', () => {
    const a = parseKubeconfig('clusters: [{name: c, cluster: {server: "https://a"}}]\nusers: [{name: u, user: {token: a}}]', '/a');
    const b = parseKubeconfig('current-context: x\nclusters: [{name: c, cluster: {server: "https://b"}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]', '/b');
    const c = parseKubeconfig('current-context: y\nusers: [{name: u, user: {token: c}}]', '/c');
    const r = resolveContext(mergeKubeconfigs([a, b, c]));
    assert.equal(r.context, 'x');
    assert.equal(r.cluster.server, 'https://a');
    assert.equal(r.user.token, 'a');
  });
});

describe('inClusterConfig', () => {
  it('builds the server from the service environment, the CA and token from the service account folder', () => {
    const r = inClusterConfig({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, '/sa', 'crime-system');
    assert.equal(r?.cluster.server, 'https://10.96.0.1:443');
    assert.deepEqual(r?.cluster.certificateAuthority, { file: '/sa/ca.crt' });
    assert.equal(r?.user.tokenFile, '/sa/token');
    assert.equal(r?.namespace, 'crime-system');
  });

  it('brackets IPv6 hosts; is undefined outside a pod', () => {
    assert.equal(inClusterConfig({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' })?.cluster.server, 'https://[fd00::1]:443');
    assert.equal(inClusterConfig({}), undefined);
    assert.equal(inClusterConfig({ KUBERNETES_SERVICE_HOST: '10.0.0.1' }), undefined);
  });
});
