import { createServer, connect, type Server, type Socket } from 'node:net';
import { bandwidthToMsPerByte } from '../runtime/engine/types.js';

/** Link conditions; change them while the link runs with `set`. */
export interface LinkConditions {
  /** round-trip propagation delay; each direction gets half */
  rttMs: number;
  /** per-direction capacity shared by every connection through the link; Infinity for none */
  bandwidthMbps: number;
}

/**
 * The conditions a link accepts: an RTT up to ten minutes (timers overflow near 25 days, and a
 * "link" slower than minutes is a dead one), a bandwidth above zero up to 1 Tbit/s or Infinity.
 */
export const LINK_LIMITS = { maxRttMs: 600_000, maxBandwidthMbps: 1_000_000 } as const;

/** Why these conditions cannot be set, or undefined when they can. */
export function invalidConditions(c: Partial<LinkConditions>): string | undefined {
  if (c.rttMs !== undefined && !(Number.isFinite(c.rttMs) && c.rttMs >= 0 && c.rttMs <= LINK_LIMITS.maxRttMs)) {
    return `rttMs must be a number from 0 to ${LINK_LIMITS.maxRttMs}`;
  }
  const bw = c.bandwidthMbps;
  if (bw !== undefined && bw !== Infinity && !(Number.isFinite(bw) && bw > 0 && bw <= LINK_LIMITS.maxBandwidthMbps)) {
    return `bandwidthMbps must be a number above 0 and up to ${LINK_LIMITS.maxBandwidthMbps}, or null for no limit`;
  }
  return undefined;
}

export interface LinkEndpoint {
  host: string;
  port: number;
}

export interface LinkEmulatorOptions extends LinkConditions {
  /** where the link leads (loopback or a namespace of ours only); a function picks per connection, undefined refuses it */
  target: LinkEndpoint | (() => LinkEndpoint | undefined);
  /** where the link listens (default 127.0.0.1, a free port) */
  listen?: { host?: string; port?: number };
}

/**
 * A user-space network link: a TCP proxy that delays every byte by half the RTT in each direction
 * and serialises each direction at the link's bandwidth, shared by all its connections. The
 * kernel here has no netem, so this is how local topologies and tests get real-looking links.
 * Conditions can change while connections are open; bytes already scheduled keep their times.
 */
export class LinkEmulator {
  private conditions: LinkConditions;
  private readonly target: LinkEmulatorOptions['target'];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  /** per direction: when the link finishes sending what is already queued on it */
  private readonly freeAt = { up: 0, down: 0 };
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(options: LinkEmulatorOptions) {
    this.conditions = { rttMs: options.rttMs, bandwidthMbps: options.bandwidthMbps };
    this.target = options.target;
    this.server = createServer((client) => this.accept(client));
  }

  static async start(options: LinkEmulatorOptions): Promise<LinkEmulator> {
    const invalid = invalidConditions(options);
    if (invalid !== undefined) throw new RangeError(invalid);
    const link = new LinkEmulator(options);
    await new Promise<void>((resolve, reject) => {
      link.server.once('error', reject);
      link.server.listen(options.listen?.port ?? 0, options.listen?.host ?? '127.0.0.1', () => resolve());
    });
    return link;
  }

  get port(): number {
    const addr = this.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('link emulator is not listening');
    return addr.port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get current(): LinkConditions {
    return { ...this.conditions };
  }

  /** Changes the conditions; throws RangeError for ones outside LINK_LIMITS (callers validate first). */
  set(conditions: Partial<LinkConditions>): void {
    const invalid = invalidConditions(conditions);
    if (invalid !== undefined) throw new RangeError(invalid);
    this.conditions = { ...this.conditions, ...conditions };
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    const target = typeof this.target === 'function' ? this.target() : this.target;
    if (!target) {
      client.destroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    this.track(client);
    this.track(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    this.pipe(client, upstream, 'up');
    this.pipe(upstream, client, 'down');
    const closeBoth = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', closeBoth);
    upstream.on('error', closeBoth);
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
  }

  /** Forwards `from` to `to`, each chunk leaving after serialisation on the shared direction plus half the RTT. */
  private pipe(from: Socket, to: Socket, direction: 'up' | 'down'): void {
    let lastDelivery = 0;
    let ended = false;
    let pending = 0;
    const deliverAt = (at: number, run: () => void): void => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        run();
      }, Math.max(0, at - performance.now()));
      this.timers.add(timer);
    };
    from.on('data', (chunk: Buffer) => {
      const now = performance.now();
      const { rttMs, bandwidthMbps } = this.conditions;
      const serialise = Number.isFinite(bandwidthMbps) ? chunk.length * bandwidthToMsPerByte(bandwidthMbps) : 0;
      const sent = Math.max(now, this.freeAt[direction]) + serialise;
      this.freeAt[direction] = sent;
      // Bytes of one connection stay in order even if the RTT is lowered meanwhile.
      const at = Math.max(sent + rttMs / 2, lastDelivery);
      lastDelivery = at;
      pending++;
      deliverAt(at, () => {
        pending--;
        if (!to.destroyed) to.write(chunk);
        if (ended && pending === 0) to.end();
      });
    });
    from.on('end', () => {
      ended = true;
      if (pending === 0) to.end();
    });
    from.on('close', () => {
      // A reset on one side becomes a reset on the other once the bytes in flight are delivered.
      if (!ended) deliverAt(lastDelivery, () => to.destroy());
    });
  }
}
