/**
 * A cache of one kind of object kept current by list + watch, that survives what client-node 1.4's
 * informer does not (it stops on any error but 410, and a watch can stall silently, #596 #958 #2432):
 *   - one loop, one list or watch at a time: a relist asked for while a list is under way is that
 *     list, and a list that finishes after stop() changes nothing, so the cache never goes back to
 *     an older state;
 *   - every failure (a refused or cut watch, a failed list, an ERROR event such as 410 Gone or
 *     "too large resource version", a watch the server closes at once) waits out a capped
 *     exponential backoff before the next attempt, as client-go's reflector does: a persistent
 *     error never becomes back-to-back LIST+WATCH;
 *   - watches carry a server-side timeout and bookmarks, and a watchdog restarts one that has been
 *     silent for longer than that timeout allows;
 *   - a periodic relist replays every object as `resync`, so a missed event is never lost for good.
 * The cache is indexed by namespace and by the index functions it is given (store.ts).
 * Handlers see `add`, `update`, `delete` and `resync`; they must be idempotent (a relist replays).
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { backoffDelay, type BackoffPolicy } from '../../runtime/backoff.js';
import { silentLogger, type Logger } from '../../runtime/log.js';
import { unrefTimer, type SetTimer } from '../../runtime/timer.js';
import { ApiError, isGone, statusCode } from './api-errors.js';
import { apiVersionOf, pathOf, type Resource } from './resources.js';
import { KubeRest, type KubeClientConfig } from './rest.js';
import { IndexedStore, NAMESPACE_INDEX, type IndexFn } from './store.js';

export type InformerEvent = 'add' | 'update' | 'delete' | 'resync';
export type Handler<T> = (event: InformerEvent, obj: T) => void;

/** What the reconciler needs of an informer: a read-only, indexed cache and change notifications. */
export interface Informer<T extends KubernetesObject> {
  get(namespace: string, name: string): T | undefined;
  /** every object, or those of one namespace (an index lookup, not a scan) */
  list(namespace?: string): T[];
  /** the objects whose index `index` has `value` (see kube/indexes.ts); an unknown index throws */
  byIndex(index: string, value: string): T[];
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

export type RestartReason = 'error' | 'gone' | 'stall' | 'relist';

export interface InformerOptions<T extends KubernetesObject = KubernetesObject> {
  rest: Pick<KubeRest, 'list'>;
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
  /** after failures (default 0.5 s doubling to 30 s, ±20 %) */
  backoff?: BackoffPolicy;
  /** counts restarts, by why, for metrics */
  onRestart?: (reason: RestartReason) => void;
  /**
   * What the cache keeps of each object (default: all but metadata.managedFields, which nobody
   * reads and which is often half of an object's size).
   */
  transform?: (obj: KubernetesObject) => KubernetesObject;
  /** indexes beside the namespace one, by name (kube/indexes.ts) */
  indexers?: Readonly<Record<string, IndexFn<T>>>;
  /** injected for tests */
  setTimer?: SetTimer;
  now?: () => number;
  random?: () => number;
}

export const WATCH_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 30_000, jitter: 0.2 };

/** A watch the server closes this soon without a single event is a failure (client-go: 1 s). */
const SHORT_WATCH_MS = 1000;

/** The object without metadata.managedFields. */
export function withoutManagedFields(obj: KubernetesObject): KubernetesObject {
  if (!obj.metadata?.managedFields) return obj;
  const { managedFields: _managedFields, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

type Meta = { namespace?: string; name?: string; resourceVersion?: string };
const metaOf = (o: KubernetesObject): Meta => (o.metadata ?? {}) as Meta;
const keyOf = (o: KubernetesObject): string => `${metaOf(o).namespace ?? ''}/${metaOf(o).name ?? ''}`;

/** How a watch ended: the server closed it; we ended it (relist due, stall, stop); it failed. */
type WatchEnd = { kind: 'closed'; short: boolean } | { kind: 'interrupted' } | { kind: 'failed'; error: unknown; event: boolean };

export class ListWatchInformer<T extends KubernetesObject> implements Informer<T> {
  private readonly store: IndexedStore<T>;
  private readonly handlers: Handler<T>[] = [];
  private resourceVersion = '';
  private running = false;
  /** bumped by start() and stop(): a loop, list or watch of an older run changes nothing */
  private run = 0;
  private relistDue = true;
  private listing = false;
  private failures = 0;
  /** ends the running watch, if one runs */
  private interrupt: (() => void) | undefined;
  /** ends the backoff wait, if one runs */
  private wake: (() => void) | undefined;
  private relistTimer: { cancel(): void } | undefined;
  private readonly syncedPromise: Promise<void>;
  private markSynced!: () => void;
  private readonly logger: Logger;
  private readonly setTimer: SetTimer;
  private readonly now: () => number;

  constructor(private readonly o: InformerOptions<T>) {
    this.logger = o.logger ?? silentLogger;
    this.setTimer = o.setTimer ?? unrefTimer;
    this.now = o.now ?? Date.now;
    this.store = new IndexedStore<T>(o.indexers);
    this.syncedPromise = new Promise((resolve) => (this.markSynced = resolve));
  }

  get(namespace: string, name: string): T | undefined {
    return this.store.get(`${namespace}/${name}`);
  }

  list(namespace?: string): T[] {
    return namespace === undefined ? this.store.values() : this.store.byIndex(NAMESPACE_INDEX, namespace);
  }

  byIndex(index: string, value: string): T[] {
    return this.store.byIndex(index, value);
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
    const run = ++this.run;
    this.armRelist(run);
    void this.loop(run);
  }

  stop(): void {
    this.running = false;
    this.run++;
    this.relistTimer?.cancel();
    this.interrupt?.();
    this.wake?.();
  }

  private armRelist(run: number): void {
    this.relistTimer = this.setTimer(() => {
      if (run !== this.run) return;
      this.requestRelist();
      this.armRelist(run);
    }, this.o.relistMs ?? 10 * 60_000);
  }

  /** The periodic relist: ends the watch so the loop lists again; a list under way already is one. */
  private requestRelist(): void {
    if (this.listing) return;
    this.relistDue = true;
    this.o.onRestart?.('relist');
    this.interrupt?.();
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

  private path(): string {
    return pathOf(this.o.resource, this.o.namespace);
  }

  /** List, then watch from there, until stopped; one step at a time. */
  private async loop(run: number): Promise<void> {
    while (run === this.run) {
      let end: WatchEnd;
      try {
        if (this.relistDue || this.resourceVersion === '') {
          const listed = await this.listAll();
          // Stopped meanwhile: what was listed is older than whatever comes after.
          if (run !== this.run) return;
          this.commit(listed.objects, listed.resourceVersion);
          this.markSynced();
        }
        end = await this.watchOnce(run);
      } catch (err) {
        end = { kind: 'failed', error: err, event: false };
      }
      if (run !== this.run) return;
      const delay = this.afterWatch(end);
      if (delay > 0) await this.sleep(delay);
    }
  }

  /**
   * Lists everything, an object at a time: each is reduced to what the cache keeps as it arrives,
   * and an object whose resourceVersion has not changed stays the one cached, so a relist costs
   * about one object of transient memory, not a page or a second copy of the world.
   */
  private async listAll(): Promise<{ objects: Map<string, T>; resourceVersion: string }> {
    this.listing = true;
    try {
      const objects = new Map<string, T>();
      let cont: string | undefined;
      let resourceVersion = '';
      do {
        // Items arrive one at a time (KubeRest.list): the page is never held whole.
        const page = await this.o.rest.list<T>(this.path(), { limit: String(this.o.pageSize ?? 500), continue: cont, labelSelector: this.o.labelSelector }, (raw) => {
          const key = keyOf(raw);
          const old = this.store.get(key);
          const version = metaOf(raw).resourceVersion;
          // List items carry no apiVersion/kind; handlers and status code read them.
          objects.set(key, old && version && metaOf(old).resourceVersion === version ? old : this.keep({ apiVersion: apiVersionOf(this.o.resource), kind: this.o.resource.kind, ...raw }));
        });
        cont = page.continue || undefined;
        resourceVersion = page.resourceVersion ?? '';
      } while (cont !== undefined);
      return { objects, resourceVersion };
    } finally {
      this.listing = false;
    }
  }

  /** Makes the cache what a list saw, telling handlers what changed (and the rest as resync). */
  private commit(fresh: Map<string, T>, resourceVersion: string): void {
    for (const [key, obj] of fresh) {
      const old = this.store.set(key, obj);
      if (!old) this.emit('add', obj);
      else if (metaOf(old).resourceVersion !== metaOf(obj).resourceVersion) this.emit('update', obj);
      else this.emit('resync', obj);
    }
    for (const key of [...this.store.keys()]) {
      if (fresh.has(key)) continue;
      const old = this.store.delete(key);
      if (old) this.emit('delete', old);
    }
    this.resourceVersion = resourceVersion;
    this.relistDue = false;
  }

  /** One watch from the cache's resourceVersion; resolves when it ends, however it ends. */
  private watchOnce(run: number): Promise<WatchEnd> {
    return new Promise<WatchEnd>((resolve) => {
      const startedAt = this.now();
      let events = 0;
      let handle: { abort(): void } | undefined;
      let ended = false;
      let watchdog: { cancel(): void } | undefined;
      const end = (how: WatchEnd): void => {
        if (ended) return;
        ended = true;
        watchdog?.cancel();
        if (this.interrupt === interrupt) this.interrupt = undefined;
        handle?.abort();
        resolve(how);
      };
      const interrupt = (): void => end({ kind: 'interrupted' });
      this.interrupt = interrupt;
      const silenceMs = ((this.o.watchTimeoutSeconds ?? 300) + 30) * 1000;
      const arm = (): void => {
        watchdog?.cancel();
        watchdog = this.setTimer(() => {
          if (ended || run !== this.run) return;
          this.logger.warn('watch silent for too long, restarting it', { kind: this.o.resource.kind, silenceMs });
          this.o.onRestart?.('stall');
          end({ kind: 'interrupted' });
        }, silenceMs);
      };
      arm();
      this.o
        .watch(
          this.path(),
          {
            resourceVersion: this.resourceVersion,
            allowWatchBookmarks: 'true',
            timeoutSeconds: String(this.o.watchTimeoutSeconds ?? 300),
            ...(this.o.labelSelector ? { labelSelector: this.o.labelSelector } : {}),
          },
          (type, obj) => {
            if (ended || run !== this.run) return;
            arm();
            // A Status object: 410 Gone, "too large resource version", or another server-side error.
            if (type === 'ERROR') return end({ kind: 'failed', error: new ApiError(statusCode(obj) ?? 500, obj, `watch ${this.path()}: ERROR event`), event: true });
            events++;
            this.onWatchEvent(type, obj as T);
          },
          (err) => end(err === null || err === undefined ? { kind: 'closed', short: events === 0 && this.now() - startedAt < SHORT_WATCH_MS } : { kind: 'failed', error: err, event: false }),
        )
        .then(
          (h) => {
            handle = h;
            if (ended) h.abort();
          },
          (err: unknown) => end({ kind: 'failed', error: err, event: false }),
        );
    });
  }

  /** What to do after a watch ended: the wait before the next step (0: at once). */
  private afterWatch(end: WatchEnd): number {
    if (end.kind === 'interrupted') return 0;
    if (end.kind === 'closed' && !end.short) {
      // The server closed the watch after its timeout: a healthy watch; watch again from here.
      this.failures = 0;
      return 0;
    }
    const error = end.kind === 'failed' ? end.error : new Error(`watch ${this.path()}: closed at once without an event`);
    const gone = isGone(error) || (error as { statusCode?: unknown }).statusCode === 410;
    this.failures++;
    // Gone or an ERROR event: our resourceVersion is no good. After an outage it may be too old
    // too; a relist is cheap next to missing events.
    if (gone || (end.kind === 'failed' && end.event) || this.failures > 1) this.relistDue = true;
    const delay = backoffDelay(this.o.backoff ?? WATCH_BACKOFF, this.failures, this.o.random);
    this.logger.warn('watch failed, retrying', { kind: this.o.resource.kind, error: (error as Error).message ?? String(error), failures: this.failures, retryInMs: Math.round(delay) });
    this.o.onRestart?.(gone ? 'gone' : 'error');
    return delay;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.setTimer(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        timer.cancel();
        this.wake = undefined;
        resolve();
      };
    });
  }

  private keep(obj: KubernetesObject): T {
    return (this.o.transform ?? withoutManagedFields)(obj) as T;
  }

  private onWatchEvent(type: string, raw: T): void {
    // Any event but ERROR shows the watch works: the next failure starts the backoff afresh.
    this.failures = 0;
    const meta = metaOf(raw);
    if (meta.resourceVersion) this.resourceVersion = meta.resourceVersion;
    if (type === 'BOOKMARK') return;
    const obj = this.keep(raw);
    const key = keyOf(obj);
    if (type === 'DELETED') {
      this.store.delete(key);
      this.emit('delete', obj);
    } else if (type === 'ADDED' || type === 'MODIFIED') {
      const existed = this.store.set(key, obj) !== undefined;
      this.emit(existed ? 'update' : 'add', obj);
    }
  }
}

