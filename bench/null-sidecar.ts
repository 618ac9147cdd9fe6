#!/usr/bin/env node
/**
 * The floor for `crime bench hop`: a sidecar that does nothing but forward each request to the
 * runtime and the answer back (Node http, keep-alive, same as the mapper's transport). What the
 * mapper adds beyond this is the cost of mapping itself; what this adds beyond a direct call is
 * the cost of any extra process on the path. Usage: node null-sidecar.js RUNTIME_URL, where
 * RUNTIME_URL is http://HOST:PORT or unix:/path/to/socket (the mapper's forms).
 */
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { unixSocketPath } from '../runtime/http/unix-socket.js';

const address = process.argv[2] ?? 'http://127.0.0.1:8081';
const socketPath = unixSocketPath(address);
const target = new URL(socketPath === undefined ? address : 'http://localhost');
const via = socketPath === undefined ? { host: target.hostname, port: target.port } : { socketPath };
const agent = new Agent({ keepAlive: true });
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const headers = { ...req.headers, host: target.host, 'content-length': String(body.length) };
    const up = request({ ...via, path: req.url, method: req.method, headers, agent }, (r) => {
      const out: Buffer[] = [];
      r.on('data', (c: Buffer) => out.push(c));
      r.on('end', () => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        res.end(Buffer.concat(out));
      });
    });
    up.on('error', () => res.writeHead(502).end());
    up.end(body);
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
