import type { IncomingMessage } from 'node:http';
import { CrimeError } from '../errors.js';
import type { BodyBudget } from './body-budget.js';

export interface ReadBodyOptions {
  /** largest body, bytes: a declared or actual size above it is a 413 */
  limit: number;
  /** the whole body must arrive within this long, ms: else 408 (slow clients must not hold memory or sockets) */
  timeoutMs?: number;
  /** bytes of all bodies being received at once: when it is spent, a 503 + Retry-After */
  budget?: BodyBudget;
}

/**
 * Reads a request body. A declared or actual size over the limit is a 413, a body slower than its
 * deadline a 408, a spent budget a 503, a client that goes away mid-body a 400. After any of them
 * the rest of the body is discarded unread and the connection closes after the answer. With a
 * budget, the caller gives the body's bytes back once it no longer needs the body.
 */
export function readBody(req: IncomingMessage, options: ReadBodyOptions | number): Promise<Buffer> {
  const { limit, timeoutMs, budget } = typeof options === 'number' ? { limit: options, timeoutMs: undefined, budget: undefined } : options;
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(new CrimeError('PAYLOAD_TOO_LARGE', `request body is larger than this server accepts (${limit} bytes)`));
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const stop = (err: CrimeError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.off('data', onData);
      budget?.give(size);
      chunks.length = 0;
      req.resume();
      reject(err);
    };
    const onData = (c: Buffer): void => {
      if (size + c.length > limit) {
        stop(new CrimeError('PAYLOAD_TOO_LARGE', `request body is larger than this server accepts (${limit} bytes)`));
        return;
      }
      if (budget && !budget.take(c.length)) {
        stop(new CrimeError('OVERLOADED', 'too many request bodies are being received at once; try again shortly', { retryAfterSec: 1 }));
        return;
      }
      size += c.length;
      chunks.push(c);
    };
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
      stop(new CrimeError('REQUEST_TIMEOUT', `the request body did not arrive within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('data', onData);
    req.on('end', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    });
    req.on('aborted', () => stop(new CrimeError('INVALID_INPUT', 'request body was aborted')));
    req.on('error', (err) => stop(new CrimeError('INVALID_INPUT', `request body failed: ${err.message}`, { cause: err })));
  });
}

/**
 * JSON bodies are UTF-8 (RFC 8259): a body declared in another charset is refused with 415 rather
 * than decoded as UTF-8 into a misleading "not valid JSON".
 */
export function assertUtf8(req: IncomingMessage): void {
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(req.headers['content-type'] ?? '')?.[1];
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
    throw new CrimeError('UNSUPPORTED_MEDIA_TYPE', `JSON bodies must be UTF-8, not charset ${JSON.stringify(charset)}`);
  }
}

/** The media type of a request without parameters, lower-cased ("application/json"). */
export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** One request header as a single string (repeated headers joined with commas). */
export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}
