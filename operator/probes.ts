/**
 * The operator's probe and metrics server (controller-runtime's health probe and metrics
 * endpoints): /healthz (the process answers), /readyz (ready: leading with synced caches, or
 * standing by for the lease), /metrics. GET only.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OperatorMetrics } from './metrics.js';

export interface ProbeServerOptions {
  /** default 0.0.0.0 */
  host?: string;
  /** default 8080; 0 picks a free port */
  port?: number;
  metrics: OperatorMetrics;
  ready: () => boolean;
  /** updates gauges just before a scrape */
  beforeScrape?: () => void;
}

export interface ProbeServer {
  /** http://host:port, with 127.0.0.1 for a wildcard address */
  url: string;
  close(): Promise<void>;
}

export async function startProbeServer(o: ProbeServerOptions): Promise<ProbeServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, body: string, type = 'text/plain; charset=utf-8'): void => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (req.method !== 'GET') return reply(405, 'method not allowed\n');
    if (path === '/healthz') return reply(200, 'ok\n');
    if (path === '/readyz') return o.ready() ? reply(200, 'ok\n') : reply(503, 'caches not synced\n');
    if (path === '/metrics') {
      o.beforeScrape?.();
      o.metrics.registry.metrics().then(
        (text) => reply(200, text, o.metrics.registry.contentType),
        (err: unknown) => reply(500, `${(err as Error).message}\n`),
      );
      return;
    }
    reply(404, 'not found\n');
  });
  const host = o.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 8080, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host !== '0.0.0.0' ? host : '127.0.0.1'}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
