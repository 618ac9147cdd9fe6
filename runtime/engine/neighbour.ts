import { AffineRls } from './affine-rls.js';
import type { NeighbourView } from './rank.js';
import { bandwidthToMsPerByte, type Advertisement } from './types.js';

export interface NeighbourOptions {
  name: string;
  /** optional prior for the link, replaced by what is measured */
  prior?: { rttMs: number; bandwidthMbps: number };
}

/** Bytes on the wire are divided by this inside the link fit so both coefficients are well scaled. */
const LINK_X_SCALE = 65536;

/**
 * What one device knows about one neighbour: the learned link, the neighbour's last advertisement,
 * the work this device sent it since, and whether it is reachable. Pure state; the engine feeds it
 * timestamps.
 */
export class NeighbourState {
  readonly name: string;
  readonly link: AffineRls;
  private advertisement: Advertisement | null = null;
  private advertisedAt = 0;
  private sentSinceMs = 0;
  private sentAt = 0;
  /** last time anything was heard from it (a response or a ping reply), or -Infinity */
  lastContact = -Infinity;
  /** last time a request or ping was sent to it, or -Infinity */
  lastUsed = -Infinity;
  down = false;
  downSince = 0;
  pingInFlight = false;
  pingsSent = 0;
  /** a reply looked far off the link model: ping at once to tell a change from a one-off */
  confirmWanted = false;

  constructor(options: NeighbourOptions, forgetting: number) {
    this.name = options.name;
    const prior = options.prior
      ? { slope: bandwidthToMsPerByte(options.prior.bandwidthMbps), intercept: options.prior.rttMs }
      : undefined;
    this.link = new AffineRls({ forgetting, xScale: LINK_X_SCALE, ...(prior ? { prior } : {}) });
  }

  get hasAdvertisement(): boolean {
    return this.advertisement !== null;
  }

  /** Usable as a candidate: reachable, and it has told us its costs at least once. */
  get usable(): boolean {
    return !this.down && this.advertisement !== null;
  }

  /** Records a reply: a link sample and the neighbour's fresh advertisement. */
  heard(now: number, bytes: number, networkMs: number, advertisement: Advertisement | undefined): void {
    this.confirmWanted = this.link.update(bytes, Math.max(0, networkMs)) === 'outlier';
    if (advertisement) {
      this.advertisement = advertisement;
      this.advertisedAt = now;
      // The advertisement already counts the work we sent before it was made.
      this.sentSinceMs = 0;
    }
    this.lastContact = now;
    this.down = false;
  }

  /** Work sent that the neighbour will queue behind what it last advertised. */
  sent(now: number, expectedMs: number): void {
    this.sentSinceMs = this.pendingMs(now) + expectedMs;
    this.sentAt = now;
    this.lastUsed = now;
  }

  markDown(now: number): void {
    if (!this.down) this.downSince = now;
    this.down = true;
  }

  private pendingMs(now: number): number {
    return Math.max(0, this.sentSinceMs - (now - this.sentAt));
  }

  /** The neighbour as the decision rule sees it now; null if it cannot be used. */
  view(now: number): NeighbourView | null {
    const adv = this.advertisement;
    if (this.down || adv === null) return null;
    // Its advertised queue drains while we are not told otherwise; our own later sends add to it.
    const queueMs = Math.max(0, adv.queueMs - (now - this.advertisedAt)) + this.pendingMs(now);
    return {
      name: this.name,
      link: { rttMs: this.link.intercept, msPerByte: this.link.slope },
      local: adv.local,
      queueMs,
      remote: adv.remote,
    };
  }
}
