import type { IncomingMessage } from 'node:http';
import { CrimeError } from '../errors.js';

/**
 * Reads a request body up to `limit` bytes. A declared or actual size over the limit is a 413; a
 * client that goes away mid-body is a 400. The rest of the body is not read after a 413.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(new CrimeError('PAYLOAD_TOO_LARGE', `request body is larger than this server accepts (${limit} bytes)`));
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size > limit) {
        req.off('data', onData);
        req.resume();
        reject(new CrimeError('PAYLOAD_TOO_LARGE', `request body is larger than this server accepts (${limit} bytes)`));
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.on('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size)));
    req.on('aborted', () => reject(new CrimeError('INVALID_INPUT', 'request body was aborted')));
    req.on('error', (err) => reject(new CrimeError('INVALID_INPUT', `request body failed: ${err.message}`, { cause: err })));
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
