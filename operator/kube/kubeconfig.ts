/**
 * Kubeconfig files and the in-cluster service account, parsed into what a client needs to reach
 * the API server: where (server, CA, TLS checks) and as whom (token, token file, client
 * certificate, basic auth). Pure: no file is read here (credentials.ts does the I/O); relative
 * paths are resolved against the kubeconfig's folder, as kubectl does.
 *
 * What it cannot do natively (exec plugins, auth-provider) is reported as `unsupported`, and the
 * caller falls back to @kubernetes/client-node for that user.
 */
import { isIPv6 } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

/** Material given inline (base64-decoded) or as a file to read. */
export type Material = { data: Buffer } | { file: string };

export interface ClusterConfig {
  name: string;
  /** https://host:port, without a trailing slash */
  server: string;
  certificateAuthority?: Material;
  insecureSkipTlsVerify: boolean;
  tlsServerName?: string;
  /** every request through this proxy: http://, https:// or socks5:// (client-go's schemes) */
  proxyUrl?: string;
}

export interface UserConfig {
  name: string;
  token?: string;
  /** re-read as it rotates; wins over `token` once read, as in client-go */
  tokenFile?: string;
  clientCertificate?: Material;
  clientKey?: Material;
  username?: string;
  password?: string;
  /** Impersonate-User */
  impersonate?: string;
  /** what only client-node can do for this user ('exec', 'auth-provider'); absent when we can */
  unsupported?: string;
}

export interface ContextConfig {
  name: string;
  cluster: string;
  user?: string;
  namespace?: string;
}

/** One or more kubeconfig files, merged. */
export interface KubeconfigDoc {
  clusters: Map<string, ClusterConfig>;
  users: Map<string, UserConfig>;
  contexts: Map<string, ContextConfig>;
  currentContext?: string;
}

/** What a client connects with: the current context, resolved. */
export interface ResolvedConfig {
  context: string;
  cluster: ClusterConfig;
  user: UserConfig;
  namespace?: string;
}

export class KubeconfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeconfigError';
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function material(entry: Obj, key: string, dir: string, where: string): Material | undefined {
  const data = str(entry[`${key}-data`]);
  if (data !== undefined) {
    const decoded = Buffer.from(data, 'base64');
    if (decoded.length === 0) throw new KubeconfigError(`${where}: ${key}-data is not base64`);
    return { data: decoded };
  }
  const file = str(entry[key]);
  return file === undefined ? undefined : { file: absolute(dir, file) };
}

/** proxy-url must be a URL with one of the schemes client-go accepts. */
function checkProxyUrl(text: string, where: string): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new KubeconfigError(`${where}: proxy-url ${text} is not a URL`);
  }
  if (!['http:', 'https:', 'socks5:'].includes(url.protocol)) throw new KubeconfigError(`${where}: proxy-url ${text} has the unsupported scheme ${url.protocol.replace(/:$/, '')}, must be http, https or socks5`);
}

function absolute(dir: string, file: string): string {
  return isAbsolute(file) ? file : resolve(dir, file);
}

function named(list: unknown, what: string, inner: string): Array<{ name: string; body: Obj }> {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new KubeconfigError(`${what} must be a list`);
  return list.map((item: unknown, i) => {
    if (!isObj(item) || str(item.name) === undefined) throw new KubeconfigError(`${what}[${i}].name is missing`);
    const body = item[inner] ?? {};
    if (!isObj(body)) throw new KubeconfigError(`${what}[${i}].${inner} must be a mapping`);
    return { name: item.name as string, body };
  });
}

/**
 * One kubeconfig file's text (YAML or JSON) into its clusters, users and contexts; relative paths
 * resolved against `dir`, the file's folder. Later duplicates of a name are ignored, as kubectl does.
 */
export function parseKubeconfig(text: string, dir: string): KubeconfigDoc {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new KubeconfigError(`not YAML: ${(err as Error).message}`);
  }
  if (raw === null || raw === undefined) raw = {};
  if (!isObj(raw)) throw new KubeconfigError('a kubeconfig must be a mapping');
  const doc: KubeconfigDoc = { clusters: new Map(), users: new Map(), contexts: new Map() };
  const current = str(raw['current-context']);
  if (current !== undefined) doc.currentContext = current;

  for (const { name, body } of named(raw.clusters, 'clusters', 'cluster')) {
    if (doc.clusters.has(name)) continue;
    const server = str(body.server);
    if (server === undefined) throw new KubeconfigError(`cluster ${name}: server is missing`);
    const ca = material(body, 'certificate-authority', dir, `cluster ${name}`);
    const tlsServerName = str(body['tls-server-name']);
    const proxyUrl = str(body['proxy-url']);
    if (proxyUrl !== undefined) checkProxyUrl(proxyUrl, `cluster ${name}`);
    doc.clusters.set(name, {
      name,
      server: server.replace(/\/+$/, ''),
      ...(ca ? { certificateAuthority: ca } : {}),
      insecureSkipTlsVerify: body['insecure-skip-tls-verify'] === true,
      ...(tlsServerName ? { tlsServerName } : {}),
      ...(proxyUrl ? { proxyUrl } : {}),
    });
  }

  for (const { name, body } of named(raw.users, 'users', 'user')) {
    if (doc.users.has(name)) continue;
    const user: UserConfig = { name };
    const token = str(body.token);
    if (token !== undefined) user.token = token;
    // client-go spells it tokenFile; client-node reads token-file.
    const tokenFile = str(body.tokenFile) ?? str(body['token-file']);
    if (tokenFile !== undefined) user.tokenFile = absolute(dir, tokenFile);
    const cert = material(body, 'client-certificate', dir, `user ${name}`);
    if (cert) user.clientCertificate = cert;
    const key = material(body, 'client-key', dir, `user ${name}`);
    if (key) user.clientKey = key;
    const username = str(body.username);
    if (username !== undefined) {
      user.username = username;
      user.password = typeof body.password === 'string' ? body.password : '';
    }
    const as = str(body.as);
    if (as !== undefined) user.impersonate = as;
    if (isObj(body.exec)) user.unsupported = 'exec';
    else if (isObj(body['auth-provider'])) user.unsupported = 'auth-provider';
    doc.users.set(name, user);
  }

  for (const { name, body } of named(raw.contexts, 'contexts', 'context')) {
    if (doc.contexts.has(name)) continue;
    const cluster = str(body.cluster);
    if (cluster === undefined) throw new KubeconfigError(`context ${name}: cluster is missing`);
    const user = str(body.user);
    const namespace = str(body.namespace);
    doc.contexts.set(name, { name, cluster, ...(user ? { user } : {}), ...(namespace ? { namespace } : {}) });
  }
  return doc;
}

/**
 * Several kubeconfigs (the files of $KUBECONFIG, in order) as one: the first to define a name
 * wins, and the first current-context set is the one, as kubectl merges them.
 */
export function mergeKubeconfigs(docs: readonly KubeconfigDoc[]): KubeconfigDoc {
  const merged: KubeconfigDoc = { clusters: new Map(), users: new Map(), contexts: new Map() };
  for (const doc of docs) {
    if (merged.currentContext === undefined && doc.currentContext !== undefined) merged.currentContext = doc.currentContext;
    for (const key of ['clusters', 'users', 'contexts'] as const) {
      const into = merged[key] as Map<string, unknown>;
      for (const [name, value] of doc[key]) if (!into.has(name)) into.set(name, value);
    }
  }
  return merged;
}

/** The context to use (default: current-context), with its cluster and user. */
export function resolveContext(doc: KubeconfigDoc, context?: string): ResolvedConfig {
  const name = context ?? doc.currentContext;
  if (name === undefined) throw new KubeconfigError('the kubeconfig has no current-context');
  const ctx = doc.contexts.get(name);
  if (!ctx) throw new KubeconfigError(`context ${name} is not in the kubeconfig`);
  const cluster = doc.clusters.get(ctx.cluster);
  if (!cluster) throw new KubeconfigError(`cluster ${ctx.cluster} of context ${name} is not in the kubeconfig`);
  let user: UserConfig = { name: '' };
  if (ctx.user !== undefined) {
    const found = doc.users.get(ctx.user);
    if (!found) throw new KubeconfigError(`user ${ctx.user} of context ${name} is not in the kubeconfig`);
    user = found;
  }
  return { context: name, cluster, user, ...(ctx.namespace ? { namespace: ctx.namespace } : {}) };
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * The in-cluster configuration, as client-go's rest.InClusterConfig builds it: the API server from
 * KUBERNETES_SERVICE_HOST and _PORT (https, IPv6 in brackets), the service account's CA, and its
 * token file (re-read as the kubelet rotates it). Undefined outside a pod.
 */
export function inClusterConfig(env: Readonly<Record<string, string | undefined>>, dir = SERVICE_ACCOUNT_DIR, namespace?: string): ResolvedConfig | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) return undefined;
  const server = `https://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  return {
    context: 'in-cluster',
    cluster: { name: 'in-cluster', server, certificateAuthority: { file: `${dir}/ca.crt` }, insecureSkipTlsVerify: false },
    user: { name: 'in-cluster', tokenFile: `${dir}/token` },
    ...(namespace ? { namespace } : {}),
  };
}
