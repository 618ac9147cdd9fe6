/**
 * Test helper: a loopback TCP proxy that can be frozen. Frozen, it keeps every connection open and
 * accepts new ones but passes no byte either way (what it receives is dropped), which is what a
 * client sees of an API server behind a hung connection or a silent network partition: requests
 * that never get an answer, not errors.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export class FreezableProxy {
  private frozen = false;
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;
  /** the port it listens on, at 127.0.0.1 */
  port = 0;

  private constructor(private readonly target: { host: string; port: number }) {
    this.server = createServer((client) => this.pipe(client));
  }

  /** A proxy on a free loopback port to `target` (host:port). */
  static async start(target: { host: string; port: number }): Promise<FreezableProxy> {
    const proxy = new FreezableProxy(target);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = proxy.server.address();
    if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
    proxy.port = address.port;
    return proxy;
  }

  /** Stops passing bytes on every connection, open or to come; they stay open. */
  freeze(): void {
    this.frozen = true;
  }

  thaw(): void {
    this.frozen = false;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private pipe(client: Socket): void {
    const upstream = connect(this.target.port, this.target.host);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.sockets.add(from);
      from.on('data', (chunk: Buffer) => {
        if (!this.frozen) to.write(chunk);
      });
      from.on('error', () => to.destroy());
      from.on('close', () => {
        this.sockets.delete(from);
        to.destroy();
      });
    }
  }
}
