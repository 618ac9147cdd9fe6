import { TrackedFit } from './tracked-fit.js';
import type { NeighbourView } from './rank.js';
import { bandwidthToMsPerByte, type Advertisement, type LinkParams } from './types.js';

export interface NeighbourOptions {
  name: string;
  /** optional prior for the link, replaced by what is measured */
  prior?: { rttMs: number; bandwidthMbps: number };
}

/** Bytes of a reply (outputs, timings and an advertisement), for the one-way time back. */
const REPLY_BYTES = 512;
/**
 * A round trip scatters mostly with its RTT (queues, radio scheduling), much less with the bytes'
 * serialisation time: the link's noise is modelled as relative to RTT + a quarter of the transfer.
 */
const LINK_SLOPE_NOISE_SHARE = 0.25;
/** A reply this many σ of the link's noise later than predicted is evidence on its own. */
const OVERDUE_SIGMA = 4;
/** Change intervals remembered per link. */
const CHANGE_INTERVALS = 8;
/** Bytes on the wire are divided by this inside the link fit so both coefficients are well scaled. */
const LINK_X_SCALE = 65536;
/** A reply with at least this many bytes (request and answer, or ping and reply) tells the bandwidth. */
const BANDWIDTH_EVIDENCE_BYTES = 1024;

/**
 * What one device knows about one neighbour: the learned link, the neighbour's last advertisement,
 * the work this device sent it since, and whether it is reachable. Pure state; the engine feeds it
 * timestamps.
 */
export class NeighbourState {
  readonly name: string;
  readonly link: TrackedFit;
  private advertisement: Advertisement | null = null;
  /** when the neighbour made its last advertisement, in our clock (reply time − one way back) */
  private advertisedAt = 0;
  /**
   * our requests it has not answered yet: when sent, when expected to arrive, their expected compute
   * there, and the work each adds to its queue (less than its compute where requests share batches)
   */
  private readonly inflight = new Map<number, { sentAt: number; bytes: number; arrivesAt: number; expectedMs: number; addedMs: number }>();
  private nextId = 1;
  /** last time anything was heard from it (a response or a ping reply), or -Infinity */
  lastContact = -Infinity;
  /** last time a request or ping was sent to it, or -Infinity */
  lastUsed = -Infinity;
  /** failed last time; skipped until a ping answers */
  down = false;
  pingInFlight = false;
  pingsSent = 0;
  /**
   * ms per byte as the link model had it after the last reply large enough to show the bandwidth
   * (a payload ping or a request), or 0 before one. After an alarm the model restarts from a few
   * samples, and under the energy objective those are empty pings: its slope then says nothing, and
   * a ping's cost judged by it would be nil.
   */
  measuredMsPerByte = 0;
  /** the end node's radio energy charged to this neighbour's routine pings (the energy ping budget), J */
  pingsJ = 0;
  /** ... and to its bandwidth probes weighed by their value (bandwidthProbe), J */
  valuedProbesJ = 0;
  /** a reply looked far off the link model: ping at once to tell a change from a one-off */
  confirmWanted = false;
  /**
   * While a surprising reply awaits its confirmation, decisions take it at its word: the link is
   * believed this many times slower (or faster) than the model says. One round trip later the
   * confirming ping settles it either way.
   */
  private surprise = 1;
  /** pings to send at once after the link changed, one of each size, so RTT and bandwidth are both re-measured */
  reprobe = 0;
  /** when the link model last detected a change, and the change before, or -Infinity */
  lastChangeAt = -Infinity;
  previousChangeAt = -Infinity;
  /** the latest intervals between detected changes, ms, oldest first: how long a regime tends to last */
  readonly changeIntervals: number[] = [];
  /** the last change was an alarm (not a switch) whose re-probe has not yet told whether it was false */
  private alarmToCheck = false;
  /** previousChangeAt before that alarm, to restore if it was false */
  private alarmPreviousChangeAt = -Infinity;
  /** whether that alarm added an interval (and pushed none out) */
  private alarmAddedInterval = false;

  /**
   * Take an overdue reply as evidence (see overdueLink). The engine turns it on under the energy
   * objective, where one request sent on a link that has just slowed costs its whole radio time.
   */
  private readonly overdueEvidence: boolean;

  constructor(options: NeighbourOptions, forgetting: number, overdueEvidence = false) {
    this.name = options.name;
    this.overdueEvidence = overdueEvidence;
    const prior = options.prior
      ? { slope: bandwidthToMsPerByte(options.prior.bandwidthMbps), intercept: options.prior.rttMs }
      : undefined;
    this.link = new TrackedFit({
      forgetting,
      xScale: LINK_X_SCALE,
      slopeNoiseShare: LINK_SLOPE_NOISE_SHARE,
      regimeMemory: true,
      slopeEvidenceX: BANDWIDTH_EVIDENCE_BYTES,
      ...(prior ? { prior } : {}),
    });
  }

  get hasAdvertisement(): boolean {
    return this.advertisement !== null;
  }

  /** Usable as a candidate: reachable, and it has told us its costs at least once. */
  get usable(): boolean {
    return !this.down && this.advertisement !== null;
  }

  /**
   * Records a reply: a link sample, the neighbour's fresh advertisement, and (for a request) that
   * the request is no longer in flight.
   */
  heard(now: number, bytes: number, networkMs: number, advertisement: Advertisement | undefined, requestId?: number): void {
    const predicted = this.link.predict(bytes);
    const verdict = this.link.update(bytes, Math.max(0, networkMs), now);
    this.confirmWanted = verdict === 'suspect' || verdict === 'outlier';
    this.surprise = this.confirmWanted && predicted > 0 ? Math.max(0, networkMs) / predicted : 1;
    // A switch back to the remembered regime needs no re-measuring: both its RTT and its
    // bandwidth are known. An alarm restarts the fit from a few samples: re-probe both sizes.
    if (verdict === 'change') this.reprobe = 2;
    // Once the re-probe after an alarm has measured both sizes, a link that is where it was before
    // the alarm did not change: the alarm was false, and its interval would teach the probing-by-
    // value model (probe-value.ts) that the link changes far more often than it does.
    if (this.overdueEvidence && this.alarmToCheck && verdict !== 'change' && verdict !== 'switch' && this.reprobe === 0 && this.pingInFlight === false) {
      this.alarmToCheck = false;
      if (this.link.matchesLatestRegime()) {
        if (this.alarmAddedInterval) this.changeIntervals.pop();
        this.lastChangeAt = this.previousChangeAt;
        this.previousChangeAt = this.alarmPreviousChangeAt;
      }
    }
    if (verdict === 'change') {
      this.alarmToCheck = true;
      this.alarmPreviousChangeAt = this.previousChangeAt;
      this.alarmAddedInterval = Number.isFinite(this.lastChangeAt) && this.changeIntervals.length < CHANGE_INTERVALS;
    } else if (verdict === 'switch') this.alarmToCheck = false;
    if (verdict === 'change' || verdict === 'switch') {
      if (Number.isFinite(this.lastChangeAt)) {
        this.changeIntervals.push(now - this.lastChangeAt);
        if (this.changeIntervals.length > CHANGE_INTERVALS) this.changeIntervals.shift();
      }
      this.previousChangeAt = this.lastChangeAt;
      this.lastChangeAt = now;
    }
    if (bytes >= BANDWIDTH_EVIDENCE_BYTES) this.measuredMsPerByte = this.link.slope;
    if (requestId !== undefined) this.inflight.delete(requestId);
    if (advertisement) {
      this.advertisement = advertisement;
      this.advertisedAt = now - this.oneWayMs(REPLY_BYTES);
    }
    this.lastContact = now;
    this.down = false;
  }

  /** A request sent to the neighbour; returns its id for heard() or forget(). `addedMs`: its work in the neighbour's queue (default expectedMs). */
  sent(now: number, bytes: number, expectedMs: number, addedMs = expectedMs): number {
    const id = this.nextId++;
    this.inflight.set(id, { sentAt: now, bytes: bytes + REPLY_BYTES, arrivesAt: now + this.oneWayMs(bytes), expectedMs, addedMs });
    this.lastUsed = now;
    return id;
  }

  /**
   * When the earliest reply to a request in flight is expected, ms from now (0 if already due), or
   * Infinity with none in flight: that reply will measure the link without a ping.
   */
  nextReplyInMs(now: number): number {
    let soonest = Infinity;
    for (const r of this.inflight.values()) soonest = Math.min(soonest, r.sentAt + this.link.predict(r.bytes) + r.expectedMs - now);
    return Math.max(0, soonest);
  }

  /** A request that failed: it no longer loads the neighbour. */
  forget(requestId: number): void {
    this.inflight.delete(requestId);
  }

  private oneWayMs(bytes: number): number {
    return this.link.intercept / 2 + bytes * this.link.slope;
  }

  /**
   * The neighbour's queue wait now: its advertised queue, draining from when it was made, plus the
   * work we sent that reached (or will reach) it after that, each piece queued on arrival (FIFO).
   */
  private queueMs(advertisedQueueMs: number, now: number): number {
    let t = this.advertisedAt;
    let work = advertisedQueueMs;
    let future = 0;
    for (const r of this.inflight.values()) {
      if (r.arrivesAt <= this.advertisedAt) continue; // already in the advertised queue
      if (r.arrivesAt > now) {
        future += r.addedMs;
        continue;
      }
      if (r.arrivesAt > t) {
        work = Math.max(0, work - (r.arrivesAt - t));
        t = r.arrivesAt;
      }
      work += r.addedMs;
    }
    return Math.max(0, work - (now - t)) + future;
  }

  /**
   * A request whose reply is overdue tells the link is slower than believed before its reply comes:
   * its round trip is at least the time since it was sent (less its expected compute). When one is
   * overdue by more than OVERDUE_SIGMA of the link's noise, decisions see the link as the fastest
   * remembered regime that could have kept it that long, or, if none could, as slow as that bound
   * whether the RTT or the bandwidth is to blame (the reply will tell which, one round trip later).
   */
  private overdueLink(now: number): LinkParams | null {
    let worst: { bytes: number; waitMs: number } | null = null;
    let worstExcess = 0;
    for (const r of this.inflight.values()) {
      const waitMs = now - r.sentAt - r.expectedMs;
      const excess = waitMs - this.link.predict(r.bytes) - OVERDUE_SIGMA * this.link.noiseAt(r.bytes);
      if (excess > worstExcess) {
        worstExcess = excess;
        worst = { bytes: r.bytes, waitMs };
      }
    }
    if (!worst) return null;
    let best: LinkParams | null = null;
    let bestMs = Infinity;
    for (const alt of this.link.alternatives) {
      const ms = alt.intercept + alt.slope * worst.bytes;
      if (ms >= worst.waitMs && ms < bestMs) {
        bestMs = ms;
        best = { rttMs: alt.intercept, msPerByte: alt.slope };
      }
    }
    if (best) return best;
    const rtt = this.link.intercept;
    const msPerByte = this.link.slope;
    return { rttMs: Math.max(rtt, worst.waitMs - msPerByte * worst.bytes), msPerByte: Math.max(msPerByte, (worst.waitMs - rtt) / worst.bytes) };
  }

  /** The neighbour as the decision rule sees it now; null if it cannot be used. */
  view(now: number): NeighbourView | null {
    const adv = this.advertisement;
    if (this.down || adv === null) return null;
    const queueMs = this.queueMs(adv.queueMs, now);
    const overdue = this.overdueEvidence && this.inflight.size > 0 ? this.overdueLink(now) : null;
    return {
      name: this.name,
      link: overdue ?? { rttMs: this.link.intercept * this.surprise, msPerByte: this.link.slope * this.surprise },
      local: adv.local,
      queueMs,
      remote: adv.remote,
      ...(adv.added ? { added: adv.added } : {}),
    };
  }
}
