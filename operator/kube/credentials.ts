/**
 * The operator's connection to the API server without @kubernetes/client-node, whose package
 * index alone costs about 80 MB of a process's memory: kubeconfig files and the in-cluster service
 * account read here (parsed by kubeconfig.ts), TLS material and the Authorization header applied to
 * each request. A service account token (or any tokenFile) is re-read at most once a minute, as
 * client-go does, so a token the kubelet rotates is picked up.
 *
 * Users that authenticate through an exec plugin or an auth-provider are handed to client-node's
 * KubeConfig, imported only then: nothing that worked with client-node stops working.
 */
import { readFileSync, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { RequestOptions } from 'node:https';
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

/** How often a token file is read again (client-go: one minute). */
export const TOKEN_REFRESH_MS = 60_000;

export interface NativeConfigOptions {
  /** for tests */
  readFile?: (path: string) => Promise<Buffer>;
  now?: () => number;
  tokenRefreshMs?: number;
}

/** A resolved kubeconfig context (or the service account) as KubeRest uses it. */
export class NativeKubeConfig implements KubeClientConfig {
  private tls: Promise<{ ca?: Buffer; cert?: Buffer; key?: Buffer }> | undefined;
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

  getCurrentCluster(): { name: string; server: string } {
    return { name: this.config.cluster.name, server: this.config.cluster.server };
  }

  /** the context's namespace, if it has one */
  get namespace(): string | undefined {
    return this.config.namespace;
  }

  async applyToHTTPSOptions(opts: RequestOptions): Promise<void> {
    const { cluster, user } = this.config;
    const tls = await (this.tls ??= this.loadTls());
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

  private async loadTls(): Promise<{ ca?: Buffer; cert?: Buffer; key?: Buffer }> {
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
 * A client configuration, as client-go and kubectl find one: the file given; else the pod's service
 * account (KUBERNETES_SERVICE_HOST set); else $KUBECONFIG (several files merged); else
 * ~/.kube/config. A configuration object passed in (client-node's KubeConfig, in tests) is used as
 * it is. A user with an exec plugin or an auth-provider is loaded by client-node instead.
 */
export async function loadKubeConfig(source?: string | KubeClientConfig, o: LoadOptions = {}): Promise<KubeClientConfig> {
  if (source !== undefined && typeof source !== 'string') return source;
  const env = o.env ?? process.env;
  const logger = o.logger ?? silentLogger;
  if (source === undefined) {
    const dir = o.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
    const namespace = readOptional(join(dir, 'namespace'));
    const inCluster = inClusterConfig(env, dir, namespace);
    if (inCluster) return new NativeKubeConfig(inCluster);
  }
  const files = source !== undefined ? [source] : defaultFiles(env, o.home ?? homedir());
  if (files.length === 0) throw new KubeconfigError('no kubeconfig: not in a pod, $KUBECONFIG is not set and ~/.kube/config does not exist; pass --kubeconfig');
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

/** The files of $KUBECONFIG that exist, else ~/.kube/config if it does. */
function defaultFiles(env: Readonly<Record<string, string | undefined>>, home: string): string[] {
  if (env.KUBECONFIG) {
    const listed = env.KUBECONFIG.split(delimiter).filter((f) => f !== '');
    const found = listed.filter((f) => existsSync(f));
    if (listed.length > 0 && found.length === 0) throw new KubeconfigError(`none of the $KUBECONFIG files exists: ${listed.join(delimiter)}`);
    return found;
  }
  const file = join(home, '.kube', 'config');
  return existsSync(file) ? [file] : [];
}

function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
