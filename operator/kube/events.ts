/**
 * Kubernetes Events about a topology's transitions (what `kubectl describe rnnt` shows). A repeat
 * of the same event within ten minutes bumps its count instead of adding another. Best effort: an
 * event that cannot be written is logged, never a reason to fail a reconcile.
 */
import { hostname } from 'node:os';
import { silentLogger, type Logger } from '../../runtime/log.js';
import { FIELD_MANAGER } from '../render/names.js';
import { pathOf, RESOURCES } from './resources.js';
import type { KubeRest } from './rest.js';

export interface EventTarget {
  namespace: string;
  name: string;
  uid: string;
}

export type EventType = 'Normal' | 'Warning';

const REPEAT_WINDOW_MS = 10 * 60_000;
const MAX_REMEMBERED = 4096;

export class EventRecorder {
  private readonly recent = new Map<string, { name: string; count: number; at: number }>();
  private readonly instance = hostname();

  constructor(
    private readonly rest: KubeRest,
    private readonly logger: Logger = silentLogger,
    private readonly now: () => number = Date.now,
  ) {}

  async record(target: EventTarget, type: EventType, reason: string, message: string): Promise<void> {
    const key = `${target.uid}|${type}|${reason}|${message}`;
    const seen = this.recent.get(key);
    const at = this.now();
    const stamp = new Date(at).toISOString();
    try {
      if (seen && at - seen.at < REPEAT_WINDOW_MS) {
        seen.count++;
        seen.at = at;
        await this.rest.request({
          method: 'PATCH',
          path: pathOf(RESOURCES.event, target.namespace, seen.name),
          body: { count: seen.count, lastTimestamp: stamp },
          contentType: 'application/merge-patch+json',
        });
        return;
      }
      const created = await this.rest.request<{ metadata?: { name?: string } }>({
        method: 'POST',
        path: pathOf(RESOURCES.event, target.namespace),
        body: {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { generateName: `${target.name}.`, namespace: target.namespace },
          involvedObject: { apiVersion: 'crime.dev/v1alpha1', kind: 'RnnTopology', name: target.name, namespace: target.namespace, uid: target.uid },
          type,
          reason,
          message: message.slice(0, 1024),
          count: 1,
          firstTimestamp: stamp,
          lastTimestamp: stamp,
          source: { component: FIELD_MANAGER },
          reportingComponent: FIELD_MANAGER,
          reportingInstance: this.instance,
        },
      });
      if (this.recent.size >= MAX_REMEMBERED) this.recent.delete(this.recent.keys().next().value as string);
      this.recent.set(key, { name: created.metadata?.name ?? '', count: 1, at });
    } catch (err) {
      this.logger.warn('could not record an event', { topology: `${target.namespace}/${target.name}`, reason, error: (err as Error).message });
    }
  }
}
