/**
 * JSON requests to the Kubernetes API with a KubeConfig's credentials (kubeconfig file or in-cluster
 * service account, whose token client-node re-reads as it rotates), over one keep-alive connection
 * pool. Every call is counted for the operator's metrics. Non-2xx answers throw ApiError carrying
 * the API server's Status.
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { ApiError } from './api-errors.js';

export interface KubeRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  /** default application/json; PATCH takes apply-patch+yaml, merge-patch+json, … */
  contentType?: string;
}

export interface RestOptions {
  /** per-request deadline (default 30 s) */
  timeoutMs?: number;
  /** called once per request with its verb and HTTP status (0: no answer) */
  onCall?: (method: string, status: number, seconds: number) => void;
}

export class KubeRest {
  private agent: HttpsAgent | HttpAgent | undefined;
  private readonly server: URL;

  constructor(
    readonly kc: KubeConfig,
    private readonly options: RestOptions = {},
  ) {
    const server = kc.getCurrentCluster()?.server;
    if (server === undefined) throw new Error('the kubeconfig has no current cluster');
    this.server = new URL(server);
  }

  /** The parsed JSON answer of a 2xx; ApiError otherwise. */
  async request<T>(req: KubeRequest): Promise<T> {
    const { status, body } = await this.raw(req);
    if (status < 200 || status >= 300) throw new ApiError(status, body, `${req.method} ${req.path}`);
    return body as T;
  }

  /** The status and parsed body (text when not JSON), whatever the status. */
  async raw(req: KubeRequest): Promise<{ status: number; body: unknown }> {
    const url = new URL(req.path, this.server);
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const options: RequestOptions = { method: req.method, headers: { accept: 'application/json' } };
    await this.kc.applyToHTTPSOptions(options);
    // client-node makes a new agent per call; keep one pool with the same TLS material instead.
    this.agent ??= url.protocol === 'https:'
      ? new HttpsAgent({ keepAlive: true, maxSockets: 16, ca: options.ca, cert: options.cert, key: options.key, rejectUnauthorized: options.rejectUnauthorized ?? true, ...(options.servername ? { servername: options.servername } : {}) })
      : new HttpAgent({ keepAlive: true, maxSockets: 16 });
    options.agent = this.agent;
    const payload = req.body === undefined ? undefined : Buffer.from(typeof req.body === 'string' ? req.body : JSON.stringify(req.body));
    if (payload !== undefined) options.headers = { ...options.headers, 'content-type': req.contentType ?? 'application/json', 'content-length': String(payload.length) };
    const started = performance.now();
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    let status = 0;
    try {
      const answer = await new Promise<{ status: number; body: unknown }>((resolve, reject) => {
        const r = send(url, options, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // not JSON: keep the text
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
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

  close(): void {
    this.agent?.destroy();
  }
}
