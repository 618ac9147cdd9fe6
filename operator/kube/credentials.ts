/**
 * The operator's connection to the API server without @kubernetes/client-node, whose package
 * index alone costs about 80 MB of a process's memory: kubeconfig files and the in-cluster service
 * account read here (parsed by kubeconfig.ts), TLS material and the Authorization header applied to
 * each request. Credential files are read again once they are a minute old: a service account
 * token (or any tokenFile) as client-go does, so a token the kubelet rotates is picked up, and
 * client certificates, keys and CAs, so a rotated certificate is used (client-go re-reads them
 * too; KubeRest then closes the connections made with the old one). A file that cannot be read, or
 * a certificate that does not match its key (a rotation half written), keeps the last good material.
 *
 * Users that authenticate through an exec plugin or an auth-provider are handed to client-node's
 * KubeConfig, imported only then: nothing that worked with client-node stops working.
 */
import { readFileSync, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { RequestOptions } from 'node:https';
import { createSecureContext } from 'node:tls';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { silentLogger, type Logger } from '../../runtime/log.js';
import {
  inClusterConfig,
  KubeconfigError,
  mergeKubeconfigs,
  parseKubeconfig,
  resolveContext,
  SERVICE_ACCOUNT_DIR,
  type Material,
  type ResolvedConfig,
} from './kubeconfig.js';
import type { KubeClientConfig } from './rest.js';

/** How often token and TLS files are read again (client-go: a token file every minute). */
export const TOKEN_REFRESH_MS = 60_000;

export interface NativeConfigOptions {
  /** for tests */
  readFile?: (path: string) => Promise<Buffer>;
  now?: () => number;
  tokenRefreshMs?: number;
}

interface Tls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** A resolved kubeconfig context (or the service account) as KubeRest uses it. */
export class NativeKubeConfig implements KubeClientConfig {
  private tls: { value: Tls; readAt: number } | undefined;
  private tlsReading: Promise<Tls> | undefined;
  private fileToken: string | undefined;
  private readAt = -Infinity;
  private reading: Promise<void> | undefined;
  private readonly read: (path: string) => Promise<Buffer>;
  private readonly now: () => number;

  constructor(
    readonly config: ResolvedConfig,
    private readonly o: NativeConfigOptions = {},
  ) {
    this.read = o.readFile ?? ((path) => readFile(path));
    this.now = o.now ?? Date.now;
  }

  getCurrentCluster(): { name: string; server: string; proxyUrl?: string } {
    const { name, server, proxyUrl } = this.config.cluster;
    return { name, server, ...(proxyUrl ? { proxyUrl } : {}) };
  }

  /** the context's namespace, if it has one */
  get namespace(): string | undefined {
    return this.config.namespace;
  }

  async applyToHTTPSOptions(opts: RequestOptions): Promise<void> {
    const { cluster, user } = this.config;
    const tls = await this.currentTls();
    if (tls.ca) opts.ca = tls.ca;
    if (tls.cert) opts.cert = tls.cert;
    if (tls.key) opts.key = tls.key;
    if (cluster.insecureSkipTlsVerify) opts.rejectUnauthorized = false;
    if (cluster.tlsServerName) opts.servername = cluster.tlsServerName;
    const headers = (opts.headers ??= {}) as Record<string, string | string[] | number | undefined>;
    const token = await this.token();
    if (token) headers.authorization = `Bearer ${token}`;
    else if (user.username !== undefined) opts.auth = `${user.username}:${user.password ?? ''}`;
    if (user.impersonate) headers['impersonate-user'] = user.impersonate;
  }

  /** The TLS material; read again once it is a minute old when any of it comes from a file. */
  private async currentTls(): Promise<Tls> {
    const { cluster, user } = this.config;
    const fromFiles = [cluster.certificateAuthority, user.clientCertificate, user.clientKey].some((m) => m !== undefined && 'file' in m);
    if (this.tls && (!fromFiles || this.now() - this.tls.readAt < (this.o.tokenRefreshMs ?? TOKEN_REFRESH_MS))) return this.tls.value;
    this.tlsReading ??= this.readTls().finally(() => (this.tlsReading = undefined));
    return this.tlsReading;
  }

  private async readTls(): Promise<Tls> {
    const previous = this.tls?.value;
    let fresh: Tls;
    try {
      fresh = await this.loadTls();
    } catch (err) {
      if (!previous) throw err;
      this.tls = { value: previous, readAt: this.now() };
      return previous;
    }
    // Unchanged material stays the same objects: KubeRest keeps its connections.
    const same = (a: Buffer | undefined, b: Buffer | undefined): boolean => (a === undefined ? b === undefined : b !== undefined && a.equals(b));
    const value = previous && same(previous.ca, fresh.ca) && same(previous.cert, fresh.cert) && same(previous.key, fresh.key) ? previous : fresh;
    this.tls = { value, readAt: this.now() };
    return value;
  }

  private async loadTls(): Promise<Tls> {
    const load = async (m: Material | undefined, what: string): Promise<Buffer | undefined> => {
      if (m === undefined) return undefined;
      if ('data' in m) return m.data;
      try {
        return await this.read(m.file);
      } catch (err) {
        throw new KubeconfigError(`cannot read the ${what} ${m.file}: ${(err as Error).message}`);
      }
    };
    const { cluster, user } = this.config;
    const [ca, cert, key] = await Promise.all([
      load(cluster.certificateAuthority, 'certificate authority'),
      load(user.clientCertificate, 'client certificate'),
      load(user.clientKey, 'client key'),
    ]);
    if (cert && key) {
      try {
        createSecureContext({ cert, key });
      } catch (err) {
        throw new KubeconfigError(`user ${user.name}: the client certificate does not go with the client key: ${(err as Error).message}`);
      }
    }
    return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
  }

  /** The token file's content (read again once it is a minute old), else the static token. */
  private async token(): Promise<string | undefined> {
    const { user } = this.config;
    if (user.tokenFile === undefined) return user.token;
    if (this.now() - this.readAt >= (this.o.tokenRefreshMs ?? TOKEN_REFRESH_MS)) {
      this.reading ??= this.readToken(user.tokenFile).finally(() => (this.reading = undefined));
      await this.reading;
    }
    return this.fileToken ?? user.token;
  }

  private async readToken(file: string): Promise<void> {
    try {
      const text = (await this.read(file)).toString('utf8').trim();
      if (text !== '') this.fileToken = text;
      this.readAt = this.now();
    } catch (err) {
      // Keep the last good token (client-go does too) and try again on the next request.
      if (this.fileToken === undefined && this.config.user.token === undefined) {
        throw new KubeconfigError(`cannot read the token file ${file}: ${(err as Error).message}`);
      }
    }
  }
}

export interface LoadOptions {
  env?: Readonly<Record<string, string | undefined>>;
  /** the service account's folder (default /var/run/secrets/kubernetes.io/serviceaccount) */
  serviceAccountDir?: string;
  home?: string;
  logger?: Logger;
}

/**
 * A client configuration, found as controller-runtime finds one: the file given; else the files of
 * $KUBECONFIG (merged as kubectl merges them; set explicitly, they win over the pod's service
 * account, as with kubectl and controller-runtime); else the pod's service account
 * (KUBERNETES_SERVICE_HOST set); else ~/.kube/config. A configuration object passed in (client-node's
 * KubeConfig, in tests) is used as it is. A user with an exec plugin or an auth-provider is loaded by
 * client-node instead.
 */
export async function loadKubeConfig(source?: string | KubeClientConfig, o: LoadOptions = {}): Promise<KubeClientConfig> {
  if (source !== undefined && typeof source !== 'string') return source;
  const env = o.env ?? process.env;
  const logger = o.logger ?? silentLogger;
  let files = source !== undefined ? [source] : envFiles(env);
  if (files.length === 0) {
    const dir = o.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
    const inCluster = inClusterConfig(env, dir, readOptional(join(dir, 'namespace')));
    if (inCluster) return new NativeKubeConfig(inCluster);
    const home = join(o.home ?? homedir(), '.kube', 'config');
    files = existsSync(home) ? [home] : [];
  }
  if (files.length === 0) throw new KubeconfigError('no kubeconfig: $KUBECONFIG is not set, not in a pod, and ~/.kube/config does not exist; pass --kubeconfig');
  const resolved = resolveContext(mergeKubeconfigs(files.map((f) => parseKubeconfig(readFileSync(f, 'utf8'), dirname(f)))));
  if (resolved.user.unsupported === undefined) return new NativeKubeConfig(resolved);
  logger.info('the kubeconfig user authenticates with a method only client-node supports: loading it', { user: resolved.user.name, method: resolved.user.unsupported });
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  files.forEach((file, i) => {
    if (i === 0) return kc.loadFromFile(file);
    const more = new KubeConfig();
    more.loadFromFile(file);
    kc.mergeConfig(more, true);
  });
  return kc;
}

/** The files of $KUBECONFIG that exist (none when it is not set; an error when none of them does). */
function envFiles(env: Readonly<Record<string, string | undefined>>): string[] {
  if (!env.KUBECONFIG) return [];
  const listed = env.KUBECONFIG.split(delimiter).filter((f) => f !== '');
  const found = listed.filter((f) => existsSync(f));
  if (listed.length > 0 && found.length === 0) throw new KubeconfigError(`none of the $KUBECONFIG files exists: ${listed.join(delimiter)}`);
  return found;
}

function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
