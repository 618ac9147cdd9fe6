/**
 * A cache of one kind of object kept current by list + watch, that survives what client-node 1.4's
 * informer does not (it stops on any error but 410, and a watch can stall silently, #596 #958 #2432):
 *   - a watch error restarts the watch with capped exponential backoff (never a tight loop, #1933);
 *   - 410 Gone (or an ERROR event) relists;
 *   - watches carry a server-side timeout and bookmarks, and a watchdog restarts one that has been
 *     silent for longer than that timeout allows;
 *   - a periodic relist replays every object as `resync`, so a missed event is never lost for good.
 * Handlers see `add`, `update`, `delete` and `resync`; they must be idempotent (a relist replays).
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { silentLogger, type Logger } from '../../runtime/log.js';
import { isGone, statusCode } from './api-errors.js';
import { apiVersionOf, pathOf, type Resource } from './resources.js';
import { KubeRest, type KubeClientConfig } from './rest.js';

export type InformerEvent = 'add' | 'update' | 'delete' | 'resync';
export type Handler<T> = (event: InformerEvent, obj: T) => void;

/** What the reconciler needs of an informer: a read-only cache and change notifications. */
export interface Informer<T extends KubernetesObject> {
  get(namespace: string, name: string): T | undefined;
  list(namespace?: string): T[];
  on(handler: Handler<T>): void;
  /** resolves once the first list is in the cache */
  synced(): Promise<void>;
}

/** Starts a watch; `done` is called once when it ends (null: the server closed it normally). */
export type WatchFn = (path: string, query: Record<string, string>, onEvent: (type: string, obj: unknown) => void, done: (err: unknown) => void) => Promise<{ abort(): void }>;

/**
 * Watches through `rest` (KubeRest.watch), or through a client of their own for a configuration
 * (client-node's KubeConfig included).
 */
export function watchWith(source: KubeRest | KubeClientConfig): WatchFn {
  const rest = source instanceof KubeRest ? source : new KubeRest(source);
  return (path, query, onEvent, done) => rest.watch(path, query, onEvent, done);
}

export interface InformerOptions {
  rest: KubeRest;
  watch: WatchFn;
  resource: Resource;
  /** one namespace, or every namespace */
  namespace?: string;
  labelSelector?: string;
  logger?: Logger;
  /** server-side watch timeout (default 300 s); the watchdog allows this plus 30 s of silence */
  watchTimeoutSeconds?: number;
  /** full relist period (default 10 min) */
  relistMs?: number;
  /** objects per list request (default 500) */
  pageSize?: number;
  backoff?: { initialMs: number; maxMs: number };
  /** counts restarts, by why, for metrics */
  onRestart?: (reason: 'error' | 'gone' | 'stall' | 'relist') => void;
  /**
   * What the cache keeps of each object (default: all but metadata.managedFields, which nobody
   * reads and which is often half of an object's size).
   */
  transform?: (obj: KubernetesObject) => KubernetesObject;
}

/** The object without metadata.managedFields. */
export function withoutManagedFields(obj: KubernetesObject): KubernetesObject {
  if (!obj.metadata?.managedFields) return obj;
  const { managedFields: _managedFields, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

type Meta = { namespace?: string; name?: string; resourceVersion?: string };
const metaOf = (o: KubernetesObject): Meta => (o.metadata ?? {}) as Meta;
const keyOf = (o: KubernetesObject): string => `${metaOf(o).namespace ?? ''}/${metaOf(o).name ?? ''}`;

export class ListWatchInformer<T extends KubernetesObject> implements Informer<T> {
  private readonly objects = new Map<string, T>();
  private readonly handlers: Handler<T>[] = [];
  private resourceVersion = '';
  private running = false;
  private current: { abort(): void } | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private relistTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private relistDue = true;
  private generation = 0;
  private readonly syncedPromise: Promise<void>;
  private markSynced!: () => void;
  private readonly logger: Logger;

  constructor(private readonly o: InformerOptions) {
    this.logger = o.logger ?? silentLogger;
    this.syncedPromise = new Promise((resolve) => (this.markSynced = resolve));
  }

  get(namespace: string, name: string): T | undefined {
    return this.objects.get(`${namespace}/${name}`);
  }

  list(namespace?: string): T[] {
    const all = [...this.objects.values()];
    return namespace === undefined ? all : all.filter((o) => metaOf(o).namespace === namespace);
  }

  on(handler: Handler<T>): void {
    this.handlers.push(handler);
  }

  synced(): Promise<void> {
    return this.syncedPromise;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.relistTimer = setInterval(() => {
      this.relistDue = true;
      this.o.onRestart?.('relist');
      this.restart();
    }, this.o.relistMs ?? 10 * 60_000);
    this.relistTimer.unref();
    void this.cycle();
  }

  stop(): void {
    this.running = false;
    clearInterval(this.relistTimer);
    clearTimeout(this.retryTimer);
    clearTimeout(this.watchdog);
    this.current?.abort();
    this.current = undefined;
  }

  private emit(event: InformerEvent, obj: T): void {
    for (const h of this.handlers) {
      try {
        h(event, obj);
      } catch (err) {
        this.logger.error('informer handler failed', { kind: this.o.resource.kind, error: (err as Error).message });
      }
    }
  }

  /** Ends the current watch so cycle() starts again (relisting when due). */
  private restart(): void {
    this.generation++;
    clearTimeout(this.watchdog);
    this.current?.abort();
    this.current = undefined;
    if (this.running && this.retryTimer === undefined) void this.cycle();
  }

  private path(): string {
    return pathOf(this.o.resource, this.o.namespace);
  }

  /**
   * Lists everything again, an object at a time: each is reduced to what the cache keeps as it
   * arrives, and an object whose resourceVersion has not changed stays the one cached, so a relist
   * costs about one object of transient memory, not a page or a second copy of the world.
   */
  private async relist(): Promise<void> {
    const fresh = new Map<string, T>();
    let cont: string | undefined;
    let rv = '';
    do {
      // Items arrive one at a time (KubeRest.list): the page is never held whole.
      const page = await this.o.rest.list<T>(this.path(), { limit: String(this.o.pageSize ?? 500), continue: cont, labelSelector: this.o.labelSelector }, (raw) => {
        const key = keyOf(raw);
        const old = this.objects.get(key);
        const version = metaOf(raw).resourceVersion;
        // List items carry no apiVersion/kind; handlers and status code read them.
        fresh.set(key, old && version && metaOf(old).resourceVersion === version ? old : this.keep({ apiVersion: apiVersionOf(this.o.resource), kind: this.o.resource.kind, ...raw }));
      });
      cont = page.continue || undefined;
      rv = page.resourceVersion ?? '';
    } while (cont !== undefined);
    for (const [key, obj] of fresh) {
      const old = this.objects.get(key);
      this.objects.set(key, obj);
      if (!old) this.emit('add', obj);
      else if (metaOf(old).resourceVersion !== metaOf(obj).resourceVersion) this.emit('update', obj);
      else this.emit('resync', obj);
    }
    for (const [key, old] of [...this.objects]) {
      if (fresh.has(key)) continue;
      this.objects.delete(key);
      this.emit('delete', old);
    }
    this.resourceVersion = rv;
    this.relistDue = false;
  }

  private armWatchdog(generation: number): void {
    clearTimeout(this.watchdog);
    const silenceMs = ((this.o.watchTimeoutSeconds ?? 300) + 30) * 1000;
    this.watchdog = setTimeout(() => {
      if (generation !== this.generation) return;
      this.logger.warn('watch silent for too long, restarting it', { kind: this.o.resource.kind, silenceMs });
      this.o.onRestart?.('stall');
      this.restart();
    }, silenceMs);
    this.watchdog.unref();
  }

  private async cycle(): Promise<void> {
    if (!this.running) return;
    const generation = ++this.generation;
    try {
      if (this.relistDue || this.resourceVersion === '') {
        await this.relist();
        this.markSynced();
      }
      if (generation !== this.generation || !this.running) return;
      this.armWatchdog(generation);
      let ended = false;
      const handle = await this.o.watch(
        this.path(),
        {
          resourceVersion: this.resourceVersion,
          allowWatchBookmarks: 'true',
          timeoutSeconds: String(this.o.watchTimeoutSeconds ?? 300),
          ...(this.o.labelSelector ? { labelSelector: this.o.labelSelector } : {}),
        },
        (type, obj) => {
          if (generation !== this.generation) return;
          this.armWatchdog(generation);
          this.onWatchEvent(type, obj as T);
        },
        (err) => {
          if (ended) return;
          ended = true;
          if (generation !== this.generation) return;
          this.watchEnded(err);
        },
      );
      if (ended || generation !== this.generation) handle.abort();
      else this.current = handle;
    } catch (err) {
      if (generation === this.generation) this.watchEnded(err);
    }
  }

  private keep(obj: KubernetesObject): T {
    return (this.o.transform ?? withoutManagedFields)(obj) as T;
  }

  private onWatchEvent(type: string, raw: T): void {
    const meta = metaOf(raw);
    if (type === 'BOOKMARK') {
      if (meta.resourceVersion) this.resourceVersion = meta.resourceVersion;
      return;
    }
    if (type === 'ERROR') {
      // A Status object: 410 means our resourceVersion is too old; anything else, start over too.
      this.relistDue = true;
      this.o.onRestart?.(statusCode(raw) === 410 ? 'gone' : 'error');
      this.restart();
      return;
    }
    this.failures = 0;
    if (meta.resourceVersion) this.resourceVersion = meta.resourceVersion;
    const obj = this.keep(raw);
    const key = keyOf(obj);
    if (type === 'DELETED') {
      this.objects.delete(key);
      this.emit('delete', obj);
    } else if (type === 'ADDED' || type === 'MODIFIED') {
      const existed = this.objects.has(key);
      this.objects.set(key, obj);
      this.emit(existed ? 'update' : 'add', obj);
    }
  }

  private watchEnded(err: unknown): void {
    clearTimeout(this.watchdog);
    this.current = undefined;
    if (!this.running) return;
    if (err === null || err === undefined) {
      // The server closed the watch after its timeout: watch again from where we are.
      void this.cycle();
      return;
    }
    if (isGone(err) || (err as { statusCode?: unknown }).statusCode === 410) {
      this.relistDue = true;
      this.o.onRestart?.('gone');
      void this.cycle();
      return;
    }
    this.failures++;
    const { initialMs, maxMs } = this.o.backoff ?? { initialMs: 500, maxMs: 30_000 };
    const delay = Math.min(maxMs, initialMs * 2 ** Math.min(this.failures - 1, 20)) * (0.8 + 0.4 * Math.random());
    this.logger.warn('watch failed, retrying', { kind: this.o.resource.kind, error: (err as Error).message ?? String(err), retryInMs: Math.round(delay) });
    this.o.onRestart?.('error');
    // After an outage the resourceVersion may be too old; a relist is cheap next to missing events.
    if (this.failures > 1) this.relistDue = true;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.cycle();
    }, delay);
    this.retryTimer.unref();
  }
}
