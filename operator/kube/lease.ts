/**
 * Leader election on a coordination.k8s.io Lease, as client-go does it: the holder renews every
 * retry period; a candidate takes over a lease whose record it has seen unchanged for a whole lease
 * duration (measured on its own clock, so clocks need not agree); a leader that cannot renew within
 * the renew deadline stops leading. Optimistic concurrency (resourceVersion) settles races.
 */
import { silentLogger, type Logger } from '../../runtime/log.js';
import { isConflict, isNotFound } from './api-errors.js';
import { pathOf, RESOURCES } from './resources.js';
import type { KubeRest } from './rest.js';

export interface LeaseOptions {
  rest: KubeRest;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  logger?: Logger;
  now?: () => number;
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
  private timer: NodeJS.Timeout | undefined;
  private readonly logger: Logger;
  private readonly now: () => number;

  constructor(private readonly o: LeaseOptions) {
    this.logger = o.logger ?? silentLogger;
    this.now = o.now ?? Date.now;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  private get durationMs(): number {
    return this.o.leaseDurationMs ?? 15_000;
  }

  private path(name?: string): string {
    return pathOf(RESOURCES.lease, this.o.namespace, name);
  }

  /** One attempt to take or keep the lease; true when we hold it afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.now();
    let current: LeaseObject | undefined;
    try {
      current = await this.o.rest.request<LeaseObject>({ method: 'GET', path: this.path(this.o.name) });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const spec = { holderIdentity: this.o.identity, leaseDurationSeconds: Math.ceil(this.durationMs / 1000), renewTime: microTime(now) };
    if (!current) {
      try {
        await this.o.rest.request({
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
    const duration = (current.spec?.leaseDurationSeconds ?? Math.ceil(this.durationMs / 1000)) * 1000;
    if (heldByOther && this.observedAt + duration > now) return false;
    const transitions = (current.spec?.leaseTransitions ?? 0) + (holder === this.o.identity ? 0 : 1);
    try {
      await this.o.rest.request({
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

  /**
   * Campaigns until elected, then renews; calls onStarted once elected and onStopped (once) when
   * leadership is lost or stop() is called while leading.
   */
  run(callbacks: { onStarted: () => void; onStopped: () => void }): void {
    const retry = this.o.retryPeriodMs ?? 2000;
    const deadline = this.o.renewDeadlineMs ?? 10_000;
    let lastRenew = 0;
    const tick = async (): Promise<void> => {
      if (this.stopped) return;
      let ok = false;
      try {
        ok = await this.tryAcquireOrRenew();
      } catch (err) {
        this.logger.warn('lease request failed', { lease: `${this.o.namespace}/${this.o.name}`, error: (err as Error).message });
      }
      if (this.stopped) return;
      const now = this.now();
      if (ok) {
        lastRenew = now;
        if (!this.leading) {
          this.leading = true;
          this.logger.info('became the leader', { lease: `${this.o.namespace}/${this.o.name}`, identity: this.o.identity });
          callbacks.onStarted();
        }
      } else if (this.leading && now - lastRenew > deadline) {
        this.leading = false;
        this.logger.error('lost the lease: could not renew it in time', { lease: `${this.o.namespace}/${this.o.name}`, renewDeadlineMs: deadline });
        callbacks.onStopped();
        return;
      }
      this.timer = setTimeout(() => void tick(), retry);
    };
    void tick();
  }

  /** Stops campaigning; a leader gives the lease up so another replica need not wait it out. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
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
      this.logger.warn('could not release the lease', { error: (err as Error).message });
    }
  }
}
