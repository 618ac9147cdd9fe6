/**
 * JSON requests and watches to the Kubernetes API with a client configuration's credentials
 * (credentials.ts: a kubeconfig file or the in-cluster service account, whose token and TLS files
 * are re-read as they rotate; or client-node's KubeConfig, which has the same two methods), over
 * keep-alive connection pools through the cluster's proxy-url if it has one (agents.ts). When the
 * TLS material changes (a rotated client certificate), new pools are made and the old connections
 * closed, as client-go does. Every request is counted for the operator's metrics (watches are not).
 * Non-2xx answers throw ApiError carrying the API server's Status.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { createPools, sameTransport, type Pools, type TransportKey } from './agents.js';
import { ApiError } from './api-errors.js';
import { ListSplitter } from './list-stream.js';

/**
 * What KubeRest needs of a client configuration: the server (and proxy), and TLS material and
 * headers for a request. credentials.ts's NativeKubeConfig, and client-node's KubeConfig as it is
 * (whose own agent, set in applyToHTTPSOptions, KubeRest replaces with its pools).
 */
export interface KubeClientConfig {
  getCurrentCluster(): { server: string; proxyUrl?: string } | null;
  applyToHTTPSOptions(opts: RequestOptions): Promise<void>;
}

/** The handle of a running watch. */
export interface WatchHandle {
  /** ends the watch; `done` is not called after this */
  abort(): void;
}

export interface KubeRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  /** default application/json; PATCH takes apply-patch+yaml, merge-patch+json, … */
  contentType?: string;
  /** abandons the request (a deadline of the caller's, e.g. the lease's renew deadline) */
  signal?: AbortSignal;
  /** default application/json; e.g. metadata only: application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io */
  accept?: string;
}

export interface RestOptions {
  /** per-request deadline (default 30 s) */
  timeoutMs?: number;
  /** called once per request with its verb and HTTP status (0: no answer) */
  onCall?: (method: string, status: number, seconds: number) => void;
}

export class KubeRest {
  private transport: { key: TransportKey; pools: Promise<Pools> } | undefined;
  private readonly server: URL;
  private readonly proxyUrl: string | undefined;

  constructor(
    readonly kc: KubeClientConfig,
    private readonly options: RestOptions = {},
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster?.server) throw new Error('the kubeconfig has no current cluster');
    this.server = new URL(cluster.server);
    this.proxyUrl = cluster.proxyUrl || undefined;
  }

  /** The parsed JSON answer of a 2xx; ApiError otherwise. */
  async request<T>(req: KubeRequest): Promise<T> {
    const { status, body } = await this.raw(req);
    if (status < 200 || status >= 300) throw new ApiError(status, body, `${req.method} ${req.path}`);
    return body as T;
  }

  private url(path: string, query: Record<string, string | undefined> = {}): URL {
    const url = new URL(path, this.server);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
    return url;
  }

  /** Request options with the configuration's credentials, on one of our two pools. */
  private async requestOptions(method: string, pool: keyof Pools): Promise<RequestOptions> {
    const options: RequestOptions = { method, headers: { accept: 'application/json' } };
    await this.kc.applyToHTTPSOptions(options);
    // client-node makes a new agent per call; keep pools for as long as the TLS material stays
    // the same instead.
    const key: TransportKey = {
      ...(options.ca ? { ca: options.ca as Buffer | string } : {}),
      ...(options.cert ? { cert: options.cert as Buffer | string } : {}),
      ...(options.key ? { key: options.key as Buffer | string } : {}),
      rejectUnauthorized: options.rejectUnauthorized ?? true,
      ...(options.servername ? { servername: options.servername } : {}),
      ...(this.proxyUrl ? { proxyUrl: this.proxyUrl } : {}),
    };
    if (!this.transport || !sameTransport(this.transport.key, key)) {
      // Rotated material: every connection made with the old one is closed, as client-go's
      // certificate rotation does; requests and watches cut by it are retried by their callers.
      const old = this.transport;
      this.transport = { key, pools: createPools(this.server, key) };
      if (old) void old.pools.then(closePools, () => undefined);
    }
    options.agent = (await this.transport.pools)[pool];
    return options;
  }

  private send(url: URL): typeof httpsRequest {
    return url.protocol === 'https:' ? httpsRequest : (httpRequest as unknown as typeof httpsRequest);
  }

  /** The status and parsed body (text when not JSON), whatever the status. */
  async raw(req: KubeRequest): Promise<{ status: number; body: unknown }> {
    const url = this.url(req.path, req.query);
    const options = await this.requestOptions(req.method, 'requests');
    const payload = req.body === undefined ? undefined : Buffer.from(typeof req.body === 'string' ? req.body : JSON.stringify(req.body));
    if (payload !== undefined) options.headers = { ...options.headers, 'content-type': req.contentType ?? 'application/json', 'content-length': String(payload.length) };
    if (req.signal) options.signal = req.signal;
    if (req.accept) options.headers = { ...options.headers, accept: req.accept };
    const started = performance.now();
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    let status = 0;
    try {
      const answer = await new Promise<{ status: number; body: unknown }>((resolve, reject) => {
        const r = this.send(url)(url, options, (res) => {
          readBody(res).then((text) => resolve({ status: res.statusCode ?? 0, body: parseOrText(text) }), reject);
        });
        r.setTimeout(timeoutMs, () => r.destroy(new Error(`${req.method} ${url.pathname}: no answer within ${timeoutMs} ms`)));
        r.on('error', reject);
        r.end(payload);
      });
      status = answer.status;
      return answer;
    } finally {
      this.options.onCall?.(req.method, status, (performance.now() - started) / 1000);
    }
  }

  /**
   * GET of a list, read as it arrives: `onItem` gets each element of `items` parsed on its own, so
   * no page is ever one string or one tree in memory (list-stream.ts). Returns the list's
   * metadata (resourceVersion, continue); ApiError when the answer is not a 2xx.
   */
  async list<T>(path: string, query: Record<string, string | undefined>, onItem: (item: T) => void): Promise<{ resourceVersion?: string; continue?: string }> {
    const url = this.url(path, query);
    const options = await this.requestOptions('GET', 'requests');
    const started = performance.now();
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    let status = 0;
    try {
      return await new Promise((resolve, reject) => {
        const r = this.send(url)(url, options, (res) => {
          status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            readBody(res).then((text) => reject(new ApiError(status, parseOrText(text), `GET ${path}`)), reject);
            return;
          }
          let failed: unknown;
          const splitter = new ListSplitter((json) => {
            if (failed !== undefined) return;
            try {
              onItem(JSON.parse(json) as T);
            } catch (err) {
              failed = err;
              r.destroy(err as Error);
            }
          });
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => splitter.write(chunk));
          res.on('error', reject);
          res.on('end', () => {
            if (failed !== undefined) return reject(failed);
            try {
              const envelope = JSON.parse(splitter.end()) as { metadata?: { resourceVersion?: string; continue?: string } };
              resolve(envelope.metadata ?? {});
            } catch (err) {
              reject(new Error(`GET ${path}: not a list: ${(err as Error).message}`));
            }
          });
        });
        r.setTimeout(timeoutMs, () => r.destroy(new Error(`GET ${url.pathname}: no answer within ${timeoutMs} ms`)));
        r.on('error', reject);
        r.end();
      });
    } finally {
      this.options.onCall?.('GET', status, (performance.now() - started) / 1000);
    }
  }

  /**
   * Watches `path` (?watch=true with `query`): `onEvent` gets each event's type and object of the
   * newline-delimited JSON stream; `done` is called once when the watch ends: null when the server
   * ended the stream (its timeoutSeconds), an ApiError when it refused the watch (410 Gone, 403,
   * …), another error when the connection failed. Resolves once the server answered (or failed);
   * not after abort().
   */
  async watch(path: string, query: Record<string, string | undefined>, onEvent: (type: string, obj: unknown) => void, done: (err: unknown) => void): Promise<WatchHandle> {
    const url = this.url(path, { ...query, watch: 'true' });
    let finished = false;
    const finish = (err: unknown): void => {
      if (finished) return;
      finished = true;
      done(err);
    };
    let options: RequestOptions;
    try {
      options = await this.requestOptions('GET', 'watches');
    } catch (err) {
      finish(err);
      return { abort: () => undefined };
    }
    return new Promise<WatchHandle>((resolve) => {
      const r = this.send(url)(url, options);
      const handle: WatchHandle = {
        abort: () => {
          finished = true;
          r.destroy();
        },
      };
      r.on('socket', (socket) => socket.setKeepAlive(true, 30_000));
      // A deadline for the answer's head only: a watch then stays quiet for as long as it likes.
      const timeoutMs = this.options.timeoutMs ?? 30_000;
      r.setTimeout(timeoutMs, () => r.destroy(new Error(`watch ${url.pathname}: no answer within ${timeoutMs} ms`)));
      r.on('error', (err) => {
        finish(err);
        resolve(handle);
      });
      r.on('response', (res) => {
        r.setTimeout(0);
        resolve(handle);
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          readBody(res).then((text) => finish(new ApiError(status, parseOrText(text), `watch ${url.pathname}`)), finish);
          return;
        }
        res.setEncoding('utf8');
        let partial = '';
        const line = (text: string): void => {
          if (text.trim() === '') return;
          let event: { type?: unknown; object?: unknown } | undefined;
          try {
            event = JSON.parse(text) as { type?: unknown; object?: unknown };
          } catch {
            // a line that is not JSON: skip it, as client-node does
          }
          if (event && typeof event.type === 'string') onEvent(event.type, event.object);
        };
        res.on('data', (chunk: string) => {
          let start = 0;
          for (let nl = chunk.indexOf('\n'); nl >= 0 && !finished; nl = chunk.indexOf('\n', start)) {
            const text = partial === '' ? chunk.slice(start, nl) : partial + chunk.slice(start, nl);
            partial = '';
            start = nl + 1;
            line(text);
          }
          if (!finished) partial += chunk.slice(start);
        });
        res.on('end', () => finish(null));
        // A connection cut before the end of the stream (an API server that went away).
        res.on('close', () => finish(res.complete ? null : new Error(`watch ${url.pathname}: the connection closed`)));
        res.on('error', finish);
      });
      r.end();
    });
  }

  close(): void {
    void this.transport?.pools.then(closePools, () => undefined);
  }
}

function closePools(pools: Pools): void {
  pools.requests.destroy();
  pools.watches.destroy();
}

/**
 * The body as text, decoded as it arrives: no Buffer as large as a list page is ever made (those
 * come from malloc, whose heap keeps the pages after they are freed).
 */
function parseOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => (text += c));
    res.on('error', reject);
    res.on('end', () => resolve(text));
  });
}
