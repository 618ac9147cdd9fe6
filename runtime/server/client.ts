/**
 * RuntimeClient: the typed client the mapper uses to call its runtime. Binary float32 bodies both ways
 * by default (no JSON number formatting on the hot path), a keep-alive agent, typed CrimeErrors.
 */
import { Agent } from 'node:http';
import type { ModelInput } from '../backends/types.js';
import { CrimeError } from '../errors.js';
import { errorOf, numberHeader, send, type RawResponse } from '../http/request.js';
import { unixSocketPath } from '../http/unix-socket.js';
import { BINARY_TYPE, HEADERS, JSON_TYPE, PATHS, type InferRequestBody, type RuntimeModelInfo } from './protocol.js';

export interface RuntimeClientOptions {
  /** e.g. http://127.0.0.1:8081, or the runtime's Unix socket: unix:/var/run/crime/sock/runtime.sock */
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
  /** this request's timeout instead of the client's */
  timeoutMs?: number;
  /** sent as crime-deadline-ms: the runtime does not start the request after this many ms */
  budgetMs?: number;
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
  /** The batch the request ran in (computeMs is that batch's run): size 1 and its own length without batching. */
  batch: { size: number; steps: number };
}

function toFloat32(body: Buffer): Float32Array {
  const out = new Float32Array(Math.floor(body.length / 4));
  new Uint8Array(out.buffer).set(body.subarray(0, out.length * 4));
  return out;
}

export class RuntimeClient {
  /** where requests' paths are resolved (http://localhost for a socket: the Host header says so) */
  readonly baseUrl: URL;
  /** the runtime's Unix socket, when it is reached through one */
  readonly socketPath: string | undefined;
  private readonly agent: Agent;
  private readonly ownsAgent: boolean;
  private readonly timeoutMs: number;
  /** request URLs by path, parsed once (the infer URL is on every request's path) */
  private readonly urls = new Map<string, URL>();

  constructor(options: RuntimeClientOptions) {
    this.socketPath = unixSocketPath(options.baseUrl);
    this.baseUrl = new URL(this.socketPath === undefined ? options.baseUrl : 'http://localhost');
    this.ownsAgent = options.agent === undefined;
    this.agent = options.agent ?? new Agent({ keepAlive: true, maxSockets: 64 });
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  private send(method: string, path: string, headers: Record<string, string>, body?: Uint8Array, signal?: AbortSignal, timeoutMs?: number): Promise<RawResponse> {
    return send({
      agent: this.agent,
      method,
      url: this.urlOf(path),
      ...(this.socketPath === undefined ? {} : { socketPath: this.socketPath }),
      headers,
      timeoutMs: timeoutMs ?? this.timeoutMs,
      peer: 'runtime',
      ...(body === undefined ? {} : { body }),
      ...(signal === undefined ? {} : { signal }),
    });
  }

  private urlOf(path: string): URL {
    let url = this.urls.get(path);
    if (url === undefined) {
      url = new URL(path, this.baseUrl);
      this.urls.set(path, url);
    }
    return url;
  }

  async infer(input: ModelInput, options: InferOptions = {}): Promise<RuntimeInferResult> {
    const binary = (options.encoding ?? 'binary') === 'binary';
    const headers: Record<string, string> = { accept: binary ? BINARY_TYPE : JSON_TYPE };
    if (options.requestId !== undefined) headers[HEADERS.requestId] = options.requestId;
    if (options.budgetMs !== undefined) headers[HEADERS.deadline] = String(Math.max(1, Math.round(options.budgetMs)));
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
    const res = await this.send('POST', PATHS.infer, headers, body, options.signal, options.timeoutMs);
    const roundTripMs = performance.now() - started;
    if (res.status !== 200) throw errorOf(res, 'runtime');
    const outputs = binary
      ? toFloat32(res.body)
      : Float32Array.from((JSON.parse(res.body.toString('utf8')) as { outputs: number[] }).outputs);
    return {
      outputs,
      computeMs: numberHeader(res.headers, HEADERS.computeMs),
      queueMs: numberHeader(res.headers, HEADERS.queueMs),
      remoteMs: numberHeader(res.headers, HEADERS.remoteMs),
      roundTripMs,
      // A runtime from before batching sends neither header: it ran the request alone.
      batch: { size: numberHeader(res.headers, HEADERS.batchSize) || 1, steps: numberHeader(res.headers, HEADERS.batchSteps) || input.steps },
    };
  }

  async model(): Promise<RuntimeModelInfo> {
    const res = await this.send('GET', PATHS.model, { accept: JSON_TYPE });
    if (res.status !== 200) throw errorOf(res, 'runtime');
    return JSON.parse(res.body.toString('utf8')) as RuntimeModelInfo;
  }

  /** True when /readyz answers 200; false when not ready or unreachable. */
  async ready(): Promise<boolean> {
    return (await this.readiness()) === 'ready';
  }

  /**
   * What /readyz says within `timeoutMs` (default the client's): ready; not ready (or refused, so
   * surely not running); or silent (no answer in time: frozen, or just too busy to answer).
   */
  async readiness(timeoutMs?: number): Promise<'ready' | 'not-ready' | 'silent'> {
    try {
      return (await this.send('GET', PATHS.readyz, { accept: JSON_TYPE }, undefined, undefined, timeoutMs)).status === 200 ? 'ready' : 'not-ready';
    } catch (err) {
      return err instanceof CrimeError && err.code === 'TIMEOUT' ? 'silent' : 'not-ready';
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
