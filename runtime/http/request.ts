/**
 * One HTTP exchange with a peer process (a runtime or another mapper): the whole body both ways,
 * a per-request timeout, and failures as typed CrimeErrors (TIMEOUT, UPSTREAM_FAILED), so every
 * client in the project handles a dead or slow peer the same way.
 */
import { request, type Agent, type IncomingMessage } from 'node:http';
import { CrimeError, isErrorCode, type ErrorCode } from '../errors.js';

export interface RawResponse {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export interface SendOptions {
  agent: Agent;
  method: string;
  /** the request's URL; with `socketPath`, only its path (and the Host header) come from it */
  url: URL;
  /** reach the peer over this Unix socket instead of the URL's host and port */
  socketPath?: string;
  headers: Record<string, string>;
  body?: Uint8Array;
  timeoutMs: number;
  signal?: AbortSignal;
  /** names the peer in error messages, e.g. "runtime" or "neighbour gateway" */
  peer: string;
}

/**
 * One exchange. `timeoutMs` bounds the whole exchange, from sending to the last byte of the answer
 * (not just a silence between bytes): a peer that trickles its answer is abandoned as surely as one
 * that hangs.
 */
export function send(options: SendOptions): Promise<RawResponse> {
  const { body, peer, timeoutMs } = options;
  return new Promise<RawResponse>((resolve, reject) => {
    const headers = body === undefined ? options.headers : { ...options.headers, 'content-length': String(body.length) };
    const req = request(
      options.url,
      {
        method: options.method, agent: options.agent, headers,
        ...(options.socketPath === undefined ? {} : { socketPath: options.socketPath }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
        res.on('error', (err) => {
          clearTimeout(timer);
          reject(timedOut ?? new CrimeError('UPSTREAM_FAILED', `${peer} response failed: ${err.message}`, { cause: err }));
        });
      },
    );
    let timedOut: CrimeError | undefined;
    const timer = setTimeout(() => {
      timedOut = new CrimeError('TIMEOUT', `${peer} did not answer within ${Math.round(timeoutMs)} ms`);
      req.destroy(timedOut);
    }, timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(timedOut ?? (err instanceof CrimeError ? err : new CrimeError('UPSTREAM_FAILED', `${peer} unreachable: ${err.message}`, { cause: err })));
    });
    req.end(body);
  });
}

/**
 * An error a peer answered with: the peer is up and said why it could not serve the request (as
 * opposed to a peer that could not be reached, or did not answer in time).
 */
export class AnsweredError extends CrimeError {
  constructor(code: ErrorCode, message: string, options: { retryAfterSec?: number } = {}) {
    super(code, message, options);
    this.name = 'AnsweredError';
  }
}

/** The typed error a non-200 answer carries (its JSON error body, else one derived from the status). */
export function errorOf(res: RawResponse, peer: string): AnsweredError {
  let code: ErrorCode = res.status === 503 ? 'NOT_READY' : res.status === 401 ? 'UNAUTHORIZED' : 'UPSTREAM_FAILED';
  let message = `${peer} answered HTTP ${res.status}`;
  try {
    const parsed = JSON.parse(res.body.toString('utf8')) as { error?: { code?: unknown; message?: string } };
    if (isErrorCode(parsed.error?.code)) code = parsed.error.code;
    if (parsed.error?.message !== undefined) message = `${peer}: ${parsed.error.message}`;
  } catch {
    // not a JSON error body: keep the status-derived error
  }
  const retryAfter = Number(res.headers['retry-after']);
  return new AnsweredError(code, message, Number.isFinite(retryAfter) ? { retryAfterSec: retryAfter } : {});
}

export function numberHeader(headers: IncomingMessage['headers'], name: string): number {
  const v = Number(headers[name]);
  return Number.isFinite(v) ? v : 0;
}
