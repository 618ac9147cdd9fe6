/**
 * Leader election on a coordination.k8s.io Lease, as client-go does it: the holder renews every
 * retry period; a candidate takes over a lease whose record it has seen unchanged for a whole lease
 * duration (measured on its own clock, so clocks need not agree); optimistic concurrency
 * (resourceVersion) settles races.
 *
 * A leader stops leading once it has not renewed for the renew deadline, whatever its requests are
 * doing: a renewal still hanging at the deadline is abandoned (its AbortSignal fires), so a hung
 * connection cannot keep a replica acting as leader after another one may have taken over (the
 * renew deadline is shorter than the lease duration others wait). The manager gives the elector a
 * client of its own whose requests time out after half the renew deadline (controller-runtime:
 * max(renewDeadline / 2, 1 s)), so one hung request leaves room for another attempt.
 */
import { silentLogger, type Logger } from '../../runtime/log.js';
import { unrefTimer, type SetTimer } from '../../runtime/timer.js';
import { isConflict, isNotFound } from './api-errors.js';
import { pathOf, RESOURCES } from './resources.js';
import type { KubeRest } from './rest.js';

export interface LeaseTimings {
  /** how long others wait on an unchanged record before taking over (default 15 s) */
  leaseDurationMs: number;
  /** a leader that has not renewed for this long stops leading (default 10 s) */
  renewDeadlineMs: number;
  /** between attempts (default 2 s) */
  retryPeriodMs: number;
}

/** controller-runtime's defaults. */
export const LEASE_DEFAULTS: LeaseTimings = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2000 };

/** The request timeout of the elector's own client: half the renew deadline, at least 1 s (as controller-runtime). */
export function leaseRequestTimeoutMs(renewDeadlineMs: number): number {
  return Math.max(renewDeadlineMs / 2, 1000);
}

export interface LeaseOptions extends Partial<LeaseTimings> {
  /** the elector's own client (see leaseRequestTimeoutMs), not the one reconciles queue on */
  rest: Pick<KubeRest, 'request'>;
  namespace: string;
  name: string;
  identity: string;
  logger?: Logger;
  /** injected for tests */
  now?: () => number;
  setTimer?: SetTimer;
}

interface LeaseObject {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
}

/** MicroTime, as the API wants it. */
const microTime = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export class LeaderElector {
  private observed = '';
  private observedAt = 0;
  private stopped = false;
  private leading = false;
  private lastRenew = 0;
  private timer: { cancel(): void } | undefined;
  private inFlight: AbortController | undefined;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly setTimer: SetTimer;
  private readonly t: LeaseTimings;

  constructor(private readonly o: LeaseOptions) {
    this.logger = o.logger ?? silentLogger;
    this.now = o.now ?? Date.now;
    this.setTimer = o.setTimer ?? unrefTimer;
    this.t = {
      leaseDurationMs: o.leaseDurationMs ?? LEASE_DEFAULTS.leaseDurationMs,
      renewDeadlineMs: o.renewDeadlineMs ?? LEASE_DEFAULTS.renewDeadlineMs,
      retryPeriodMs: o.retryPeriodMs ?? LEASE_DEFAULTS.retryPeriodMs,
    };
    if (this.t.renewDeadlineMs >= this.t.leaseDurationMs) throw new Error(`leader election: the renew deadline (${this.t.renewDeadlineMs} ms) must be shorter than the lease duration (${this.t.leaseDurationMs} ms)`);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  private get where(): string {
    return `${this.o.namespace}/${this.o.name}`;
  }

  private path(name?: string): string {
    return pathOf(RESOURCES.lease, this.o.namespace, name);
  }

  /** One attempt to take or keep the lease; true when we hold it afterwards. */
  async tryAcquireOrRenew(signal?: AbortSignal): Promise<boolean> {
    const now = this.now();
    const send = <T>(req: Parameters<KubeRest['request']>[0]): Promise<T> => this.o.rest.request<T>({ ...req, ...(signal ? { signal } : {}) });
    let current: LeaseObject | undefined;
    try {
      current = await send<LeaseObject>({ method: 'GET', path: this.path(this.o.name) });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const spec = { holderIdentity: this.o.identity, leaseDurationSeconds: Math.ceil(this.t.leaseDurationMs / 1000), renewTime: microTime(now) };
    if (!current) {
      try {
        await send({
          method: 'POST',
          path: this.path(),
          body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.o.name, namespace: this.o.namespace }, spec: { ...spec, acquireTime: microTime(now), leaseTransitions: 0 } },
        });
        return true;
      } catch (err) {
        if (isConflict(err)) return false;
        throw err;
      }
    }
    const holder = current.spec?.holderIdentity ?? '';
    const record = `${holder}|${current.spec?.renewTime ?? ''}`;
    if (record !== this.observed) {
      this.observed = record;
      this.observedAt = now;
    }
    const heldByOther = holder !== '' && holder !== this.o.identity;
    const duration = (current.spec?.leaseDurationSeconds ?? Math.ceil(this.t.leaseDurationMs / 1000)) * 1000;
    if (heldByOther && this.observedAt + duration > now) return false;
    const transitions = (current.spec?.leaseTransitions ?? 0) + (holder === this.o.identity ? 0 : 1);
    try {
      await send({
        method: 'PUT',
        path: this.path(this.o.name),
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: current.metadata,
          spec: { ...spec, acquireTime: holder === this.o.identity ? (current.spec?.acquireTime ?? microTime(now)) : microTime(now), leaseTransitions: transitions },
        },
      });
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  /** One attempt, abandoned after `withinMs` (its requests aborted); false when it failed. */
  private async attempt(withinMs: number): Promise<boolean> {
    const abort = new AbortController();
    this.inFlight = abort;
    const timer = this.setTimer(() => abort.abort(new Error(`no answer within the renew deadline's ${Math.round(withinMs)} ms`)), withinMs);
    try {
      // The race makes the deadline hold even for a client that ignores the signal.
      return await Promise.race([
        this.tryAcquireOrRenew(abort.signal),
        new Promise<never>((_, reject) => abort.signal.addEventListener('abort', () => reject(abort.signal.reason as Error), { once: true })),
      ]);
    } catch (err) {
      this.logger.warn('lease request failed', { lease: this.where, error: (err as Error).message });
      return false;
    } finally {
      timer.cancel();
      if (this.inFlight === abort) this.inFlight = undefined;
    }
  }

  /**
   * Campaigns until elected, then renews; calls onStarted once elected and onStopped (once) when
   * leadership is lost. stop() while leading calls neither: the caller is the one stopping.
   */
  run(callbacks: { onStarted: () => void; onStopped: () => void }): void {
    const { retryPeriodMs, renewDeadlineMs } = this.t;
    const next = (ms: number): void => {
      this.timer = this.setTimer(() => void tick(), ms);
    };
    const tick = async (): Promise<void> => {
      if (this.stopped) return;
      if (!this.leading) {
        // Campaigning: a failed attempt costs nothing but the next one.
        const started = this.now();
        const ok = await this.attempt(renewDeadlineMs);
        if (this.stopped) return;
        if (ok) {
          this.leading = true;
          // Counted from before the write: others may have seen the record from then on.
          this.lastRenew = started;
          this.logger.info('became the leader', { lease: this.where, identity: this.o.identity });
          callbacks.onStarted();
        }
        return next(retryPeriodMs);
      }
      // Leading: renew, but never past the deadline.
      const deadline = this.lastRenew + renewDeadlineMs;
      const started = this.now();
      const ok = deadline > started && (await this.attempt(deadline - started));
      if (this.stopped) return;
      const now = this.now();
      if (ok) {
        this.lastRenew = started;
        return next(retryPeriodMs);
      }
      if (now >= deadline) {
        this.leading = false;
        this.logger.error('lost the lease: could not renew it within the renew deadline', { lease: this.where, renewDeadlineMs });
        callbacks.onStopped();
        return;
      }
      next(Math.min(retryPeriodMs, deadline - now));
    };
    void tick();
  }

  /** Stops campaigning; a leader gives the lease up so another replica need not wait it out. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.inFlight?.abort(new Error('stopping'));
    if (!this.leading) return;
    this.leading = false;
    try {
      const current = await this.o.rest.request<LeaseObject>({ method: 'GET', path: this.path(this.o.name) });
      if (current.spec?.holderIdentity !== this.o.identity) return;
      await this.o.rest.request({
        method: 'PUT',
        path: this.path(this.o.name),
        body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: current.metadata, spec: { ...current.spec, holderIdentity: '', leaseDurationSeconds: 1 } },
      });
    } catch (err) {
      this.logger.warn('could not release the lease', { lease: this.where, error: (err as Error).message });
    }
  }
}
