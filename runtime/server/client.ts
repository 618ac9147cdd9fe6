/**
 * RuntimeClient: the typed client the mapper uses to call its runtime. Binary float32 bodies both ways
 * by default (no JSON number formatting on the hot path), a keep-alive agent, typed CrimeErrors.
 */
import { Agent, request, type IncomingMessage } from 'node:http';
import type { ModelInput } from '../backends/types.js';
import { CrimeError, type ErrorCode } from '../errors.js';
import { BINARY_TYPE, HEADERS, JSON_TYPE, PATHS, type InferRequestBody, type RuntimeModelInfo } from './protocol.js';

export interface RuntimeClientOptions {
  /** e.g. http://127.0.0.1:8081 */
  baseUrl: string;
  /** Per-request timeout (default 30 s) → CrimeError TIMEOUT. */
  timeoutMs?: number;
  /** Defaults to a private keep-alive agent. */
  agent?: Agent;
}

export interface InferOptions {
  requestId?: string;
  /** "binary" (default) or "json" request and response bodies. */
  encoding?: 'binary' | 'json';
  signal?: AbortSignal;
}

export interface RuntimeInferResult {
  outputs: Float32Array;
  /** Backend compute time reported by the runtime. */
  computeMs: number;
  /** Time the request waited in the runtime's queue. */
  queueMs: number;
  /** The runtime's own elapsed time for the request (crime-remote-ms). */
  remoteMs: number;
  /** This client's round trip, request written → response read. */
  roundTripMs: number;
}

interface RawResponse {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

function numberHeader(headers: IncomingMessage['headers'], name: string): number {
  const v = Number(headers[name]);
  return Number.isFinite(v) ? v : 0;
}

function toFloat32(body: Buffer): Float32Array {
  const out = new Float32Array(Math.floor(body.length / 4));
  new Uint8Array(out.buffer).set(body.subarray(0, out.length * 4));
  return out;
}

export class RuntimeClient {
  readonly baseUrl: URL;
  private readonly agent: Agent;
  private readonly ownsAgent: boolean;
  private readonly timeoutMs: number;

  constructor(options: RuntimeClientOptions) {
    this.baseUrl = new URL(options.baseUrl);
    this.ownsAgent = options.agent === undefined;
    this.agent = options.agent ?? new Agent({ keepAlive: true, maxSockets: 64 });
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  private send(method: string, path: string, headers: Record<string, string>, body?: Uint8Array, signal?: AbortSignal): Promise<RawResponse> {
    return new Promise<RawResponse>((resolve, reject) => {
      const req = request(new URL(path, this.baseUrl), {
        method, agent: this.agent, headers: body === undefined ? headers : { ...headers, 'content-length': String(body.length) },
        timeout: this.timeoutMs, ...(signal === undefined ? {} : { signal }),
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', (err) => reject(new CrimeError('UPSTREAM_FAILED', `runtime response failed: ${err.message}`, { cause: err })));
      });
      req.on('timeout', () => req.destroy(new CrimeError('TIMEOUT', `runtime did not answer within ${this.timeoutMs} ms`)));
      req.on('error', (err) => reject(err instanceof CrimeError ? err : new CrimeError('UPSTREAM_FAILED', `runtime unreachable: ${err.message}`, { cause: err })));
      req.end(body);
    });
  }

  private static fail(res: RawResponse): CrimeError {
    let code: ErrorCode = res.status === 503 ? 'NOT_READY' : 'UPSTREAM_FAILED';
    let message = `runtime answered HTTP ${res.status}`;
    try {
      const parsed = JSON.parse(res.body.toString('utf8')) as { error?: { code?: ErrorCode; message?: string } };
      if (parsed.error?.code !== undefined) code = parsed.error.code;
      if (parsed.error?.message !== undefined) message = parsed.error.message;
    } catch {
      // not a JSON error body: keep the status-derived error
    }
    const retryAfter = Number(res.headers['retry-after']);
    return new CrimeError(code, message, Number.isFinite(retryAfter) ? { retryAfterSec: retryAfter } : {});
  }

  async infer(input: ModelInput, options: InferOptions = {}): Promise<RuntimeInferResult> {
    const binary = (options.encoding ?? 'binary') === 'binary';
    const headers: Record<string, string> = { accept: binary ? BINARY_TYPE : JSON_TYPE };
    if (options.requestId !== undefined) headers[HEADERS.requestId] = options.requestId;
    let body: Uint8Array;
    if (binary) {
      headers['content-type'] = BINARY_TYPE;
      headers[HEADERS.shape] = input.kind === 'floats' ? `${input.steps},${input.data.length / input.steps}` : String(input.steps);
      headers[HEADERS.dtype] = input.kind === 'floats' ? 'float32' : 'int32';
      body = new Uint8Array(input.data.buffer, input.data.byteOffset, input.data.byteLength);
    } else {
      headers['content-type'] = JSON_TYPE;
      body = Buffer.from(JSON.stringify(toJsonBody(input)));
    }
    const started = performance.now();
    const res = await this.send('POST', PATHS.infer, headers, body, options.signal);
    const roundTripMs = performance.now() - started;
    if (res.status !== 200) throw RuntimeClient.fail(res);
    const outputs = binary
      ? toFloat32(res.body)
      : Float32Array.from((JSON.parse(res.body.toString('utf8')) as { outputs: number[] }).outputs);
    return {
      outputs,
      computeMs: numberHeader(res.headers, HEADERS.computeMs),
      queueMs: numberHeader(res.headers, HEADERS.queueMs),
      remoteMs: numberHeader(res.headers, HEADERS.remoteMs),
      roundTripMs,
    };
  }

  async model(): Promise<RuntimeModelInfo> {
    const res = await this.send('GET', PATHS.model, { accept: JSON_TYPE });
    if (res.status !== 200) throw RuntimeClient.fail(res);
    return JSON.parse(res.body.toString('utf8')) as RuntimeModelInfo;
  }

  /** True when /readyz answers 200; false when not ready or unreachable. */
  async ready(): Promise<boolean> {
    try {
      return (await this.send('GET', PATHS.readyz, { accept: JSON_TYPE })).status === 200;
    } catch {
      return false;
    }
  }

  close(): void {
    if (this.ownsAgent) this.agent.destroy();
  }
}

/** The JSON request body for an input. */
export function toJsonBody(input: ModelInput): InferRequestBody {
  if (input.kind === 'tokens') return { tokens: Array.from(input.data) };
  const width = input.data.length / input.steps;
  const inputs: number[][] = [];
  for (let t = 0; t < input.steps; t++) inputs.push(Array.from(input.data.subarray(t * width, (t + 1) * width)));
  return { inputs };
}
