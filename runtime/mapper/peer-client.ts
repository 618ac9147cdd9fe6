import { Agent } from 'node:http';
import type { ModelInput } from '../backends/types.js';
import type { Advertisement } from '../engine/types.js';
import { CrimeError } from '../errors.js';
import { errorOf, numberHeader, send, type RawResponse } from '../http/request.js';
import { BINARY_TYPE, JSON_TYPE } from '../server/protocol.js';
import { MAPPER_HEADERS, MAPPER_PATHS, parseAdvertisement, type MapperInferResponse, type PingResponse } from './protocol.js';

export interface PeerReply<T> {
  body: T;
  roundTripMs: number;
  /** the callee's own elapsed time (crime-remote-ms) */
  remoteMs: number;
  advertisement: Advertisement | undefined;
}

/** A neighbour's mapper, as this mapper calls it: binary requests, the shared token, keep-alive. */
export class PeerClient {
  readonly name: string;
  readonly baseUrl: URL;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  private readonly token: string | undefined;

  constructor(options: { name: string; url: string; token?: string | undefined }) {
    this.name = options.name;
    this.baseUrl = new URL(options.url);
    this.token = options.token;
  }

  private headers(extra: Record<string, string>): Record<string, string> {
    const h: Record<string, string> = { [MAPPER_HEADERS.origin]: 'peer', ...extra };
    if (this.token !== undefined) h.authorization = `Bearer ${this.token}`;
    return h;
  }

  async infer(
    input: ModelInput,
    options: { requestId: string; path: readonly string[]; timeoutMs: number; budgetMs: number },
  ): Promise<PeerReply<MapperInferResponse>> {
    const width = input.kind === 'floats' ? input.data.length / input.steps : 1;
    const headers = this.headers({
      accept: JSON_TYPE,
      'content-type': BINARY_TYPE,
      [MAPPER_HEADERS.shape]: input.kind === 'floats' ? `${input.steps},${width}` : String(input.steps),
      [MAPPER_HEADERS.dtype]: input.kind === 'floats' ? 'float32' : 'int32',
      [MAPPER_HEADERS.requestId]: options.requestId,
      [MAPPER_HEADERS.path]: options.path.join(','),
      [MAPPER_HEADERS.deadline]: String(Math.max(1, Math.round(options.budgetMs))),
    });
    const started = performance.now();
    const res = await send({
      agent: this.agent,
      method: 'POST',
      url: new URL(MAPPER_PATHS.infer, this.baseUrl),
      headers,
      body: new Uint8Array(input.data.buffer, input.data.byteOffset, input.data.byteLength),
      timeoutMs: options.timeoutMs,
      peer: `neighbour ${this.name}`,
    });
    const roundTripMs = performance.now() - started;
    const body = this.parse<MapperInferResponse>(res, 'request');
    if (!Array.isArray(body.outputs) || typeof body.servedBy !== 'string' || !Array.isArray(body.path)) {
      throw new CrimeError('UPSTREAM_FAILED', `neighbour ${this.name} answered without outputs`);
    }
    return { body, roundTripMs, remoteMs: numberHeader(res.headers, MAPPER_HEADERS.remoteMs), advertisement: parseAdvertisement(res.headers[MAPPER_HEADERS.advert]) };
  }

  /** Pings with `bytes` of payload (0: GET); the reply carries the neighbour's advertisement. */
  async ping(bytes: number, timeoutMs: number): Promise<PeerReply<PingResponse> & { advertisement: Advertisement }> {
    const started = performance.now();
    const res = await send({
      agent: this.agent,
      method: bytes > 0 ? 'POST' : 'GET',
      url: new URL(MAPPER_PATHS.ping, this.baseUrl),
      headers: this.headers(bytes > 0 ? { accept: JSON_TYPE, 'content-type': BINARY_TYPE } : { accept: JSON_TYPE }),
      ...(bytes > 0 ? { body: new Uint8Array(bytes) } : {}),
      timeoutMs,
      peer: `neighbour ${this.name}`,
    });
    const roundTripMs = performance.now() - started;
    const body = this.parse<PingResponse>(res, 'ping');
    const advertisement = parseAdvertisement(JSON.stringify(body.advertisement));
    if (!advertisement) throw new CrimeError('UPSTREAM_FAILED', `neighbour ${this.name} answered the ping without an advertisement`);
    return { body, roundTripMs, remoteMs: numberHeader(res.headers, MAPPER_HEADERS.remoteMs), advertisement };
  }

  /** A 200 answer's JSON body; the neighbour's typed error otherwise. */
  private parse<T>(res: RawResponse, what: string): T {
    if (res.status !== 200) throw errorOf(res, `neighbour ${this.name}`);
    try {
      return JSON.parse(res.body.toString('utf8')) as T;
    } catch (err) {
      throw new CrimeError('UPSTREAM_FAILED', `neighbour ${this.name} answered the ${what} with a malformed body`, { cause: err });
    }
  }

  close(): void {
    this.agent.destroy();
  }
}
