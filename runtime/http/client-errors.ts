/**
 * Errors Node's HTTP parser finds before any handler runs (malformed requests, oversized headers,
 * header and request timeouts, an unsupported Expect) answer with the same coded JSON error as
 * everything else, instead of Node's empty-bodied 400/431/408/417.
 */
import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { CrimeError } from '../errors.js';
import { sendError } from './error-handler.js';

/** The coded error for a parser error Node reports through 'clientError'. */
export function clientErrorOf(err: Error & { code?: string }): CrimeError {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new CrimeError('HEADERS_TOO_LARGE', 'request headers are larger than this server accepts');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new CrimeError('REQUEST_TIMEOUT', 'the request did not arrive within this server\'s deadline');
    default:
      return new CrimeError('INVALID_INPUT', `malformed HTTP request (${err.code ?? err.message})`);
  }
}

/** The raw bytes of a closing JSON error response, for a socket no response object exists for. */
export function rawErrorResponse(err: CrimeError): string {
  const body = JSON.stringify(err.toJSON());
  return [
    `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? ''}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
    '',
    body,
  ].join('\r\n');
}

interface SocketWithMessage extends Socket {
  /** the response being written on this socket, if any (Node internal, read only to not write twice) */
  _httpMessage?: { headersSent?: boolean } | null;
}

/** Installs the coded answers on a server (mapper, runtime, control API). */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: Error & { code?: string }, socket: SocketWithMessage) => {
    // A reset or a half-written response leaves nothing to answer on.
    if (err.code === 'ECONNRESET' || !socket.writable || socket._httpMessage?.headersSent === true) {
      socket.destroy();
      return;
    }
    socket.end(rawErrorResponse(clientErrorOf(err)));
  });
  server.on('checkExpectation', (_req: IncomingMessage, res: ServerResponse) => {
    res.shouldKeepAlive = false;
    sendError(res, new CrimeError('EXPECTATION_FAILED', 'only "Expect: 100-continue" is supported'));
  });
}
