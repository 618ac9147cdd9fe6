/**
 * Raw JSON requests to the API server with a client-node KubeConfig's credentials and CA. For what
 * the typed clients get in the way of: objects read from YAML files as they are (a CRD's
 * `x-kubernetes-*` keys are not the typed model's names), query parameters such as
 * `fieldValidation=Strict`, and the API server's Status answer as it is, with its field causes.
 */
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export interface RestAnswer {
  status: number;
  /** The parsed JSON body, or the text when it is not JSON. */
  body: unknown;
}

/** A metav1.Status cause: which field, why, and the message. */
export interface StatusCause {
  field: string;
  reason: string;
  message: string;
}

export class Rest {
  constructor(private readonly kc: KubeConfig) {}

  /** Sends `body` as JSON (or as `contentType`, e.g. application/merge-patch+json); never throws on an HTTP status. */
  async request(method: string, path: string, body?: unknown, query: Record<string, string> = {}, contentType = 'application/json'): Promise<RestAnswer> {
    const server = this.kc.getCurrentCluster()?.server;
    if (server === undefined) throw new Error('the KubeConfig has no current cluster');
    const url = new URL(path, server);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const options: RequestOptions = { method, headers: { accept: 'application/json' } };
    await this.kc.applyToHTTPSOptions(options);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    if (payload !== undefined) options.headers = { ...options.headers, 'content-type': contentType, 'content-length': String(payload.length) };
    return new Promise<RestAnswer>((resolve, reject) => {
      const req = httpsRequest(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // Not JSON: keep the text.
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      });
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${url.pathname}: no answer in 30 s`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  get(path: string, query?: Record<string, string>): Promise<RestAnswer> {
    return this.request('GET', path, undefined, query);
  }

  post(path: string, body: unknown, query?: Record<string, string>): Promise<RestAnswer> {
    return this.request('POST', path, body, query);
  }
}

function field<T>(o: unknown, key: string, is: (v: unknown) => v is T): T | undefined {
  if (typeof o !== 'object' || o === null) return undefined;
  const v = (o as Record<string, unknown>)[key];
  return is(v) ? v : undefined;
}
const isString = (v: unknown): v is string => typeof v === 'string';
const isArray = (v: unknown): v is unknown[] => Array.isArray(v);

/** The `message` of a Status body ('' when there is none). */
export function statusMessageOf(body: unknown): string {
  return field(body, 'message', isString) ?? (typeof body === 'string' ? body : '');
}

/** The `details.causes` of a Status body. */
export function statusCauses(body: unknown): StatusCause[] {
  const causes = field(field(body, 'details', (v): v is object => typeof v === 'object' && v !== null), 'causes', isArray) ?? [];
  return causes.map((c) => ({
    field: field(c, 'field', isString) ?? '',
    reason: field(c, 'reason', isString) ?? '',
    message: field(c, 'message', isString) ?? '',
  }));
}
