/**
 * The one place where errors become HTTP responses: CrimeError → status + `{"error": {code, message}}`
 * (+ Retry-After), body-parser failures → their CrimeError, anything else → 500 INTERNAL. Shared by every
 * HTTP surface of the project (runtime server, mapper).
 */
import type { ServerResponse } from 'node:http';
import type { ErrorRequestHandler, Request, Response } from 'express';
import { CrimeError, toCrimeError } from '../errors.js';
import type { Logger } from '../log.js';

/** Errors thrown by express's body parsers (http-errors objects) carry a `type`. */
interface BodyParserError {
  type?: unknown;
  status?: unknown;
}

export function fromBodyParserError(err: unknown): CrimeError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  switch ((err as BodyParserError).type) {
    case 'entity.too.large':
      return new CrimeError('PAYLOAD_TOO_LARGE', 'request body is larger than this server accepts', { cause: err });
    case 'entity.parse.failed':
      return new CrimeError('INVALID_INPUT', 'request body is not valid JSON', { cause: err });
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new CrimeError('UNSUPPORTED_MEDIA_TYPE', 'unsupported request body encoding or charset', { cause: err });
    case 'request.aborted':
    case 'request.size.invalid':
      return new CrimeError('INVALID_INPUT', 'request body was aborted or shorter than its content-length', { cause: err });
    default:
      return undefined;
  }
}

export function toHttpError(err: unknown): CrimeError {
  return fromBodyParserError(err) ?? toCrimeError(err);
}

/** Answers with a status and a JSON body; works on express and plain node:http responses. */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}

/** Answers with the error's status and JSON body (+ Retry-After, WWW-Authenticate). */
export function sendError(res: ServerResponse, err: CrimeError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (err.retryAfterSec !== undefined) res.setHeader('retry-after', String(Math.max(1, Math.ceil(err.retryAfterSec))));
  if (err.code === 'UNAUTHORIZED') res.setHeader('www-authenticate', 'Bearer');
  if (err.allow !== undefined) res.setHeader('allow', err.allow.join(', '));
  // A body too slow to wait for is not drained either: close after answering. (Any other body left
  // unread is drained and discarded, so the client can finish sending and read the answer; Node's
  // request timeout bounds how long that may take.)
  if (err.code === 'REQUEST_TIMEOUT' && res.req !== undefined && !res.req.complete) res.shouldKeepAlive = false;
  sendJson(res, err.status, err.toJSON());
}

/** Express error middleware: logs server faults (5xx other than saturation), answers everything. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req: Request, res: Response, _next) => {
    const crime = toHttpError(err);
    if (crime.status >= 500 && !crime.retryable) {
      logger.error('request failed', { code: crime.code, error: crime.message, method: req.method, path: req.path });
    } else {
      logger.debug('request rejected', { code: crime.code, status: crime.status, path: req.path });
    }
    sendError(res, crime);
  };
}
