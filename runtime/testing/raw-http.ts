/** Test helper: one raw HTTP exchange over TCP or a Unix socket, for requests fetch() refuses to send. */
import { connect } from 'node:net';
import { unixSocketPath } from '../http/unix-socket.js';

export interface RawReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Writes `request` as is to the server at `url` (http://HOST:PORT or unix:/path) and reads until
 * the server closes or answers in full.
 */
export function rawExchange(url: string, request: string | Buffer, options: { localAddress?: string } = {}): Promise<RawReply> {
  const path = unixSocketPath(url);
  const { hostname, port } = new URL(path === undefined ? url : 'http://localhost');
  return new Promise<RawReply>((resolve, reject) => {
    const socket = path !== undefined
      ? connect({ path })
      : connect({ host: hostname, port: Number(port), ...(options.localAddress ? { localAddress: options.localAddress } : {}) });
    const chunks: Buffer[] = [];
    const finish = (): void => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const head = split < 0 ? text : text.slice(0, split);
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const length = Number(headers['content-length']);
      const body = split < 0 ? '' : text.slice(split + 4);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0), headers, body: Number.isFinite(length) ? body.slice(0, length) : body });
      socket.destroy();
    };
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      // Complete once the head and content-length bytes of body are in.
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, split))?.[1];
      if (split >= 0 && length !== undefined && Buffer.byteLength(text.slice(split + 4)) >= Number(length)) finish();
    });
    socket.on('end', finish);
    socket.on('error', (err) => (chunks.length > 0 ? finish() : reject(err)));
    socket.write(request);
  });
}
