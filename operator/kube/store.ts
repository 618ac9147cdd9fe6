/**
 * An informer's objects by namespace/name, with indexes kept up to date as objects come and go
 * (client-go's indexer): always by namespace, plus any named index function the cache is given
 * (owner, topology, …). A reconcile then reads the few objects it needs instead of scanning a
 * whole kind: with 600 Deployments, "the ones this topology owns" is a map lookup.
 */
import type { KubernetesObject } from '@kubernetes/client-node';

/** The index values of an object (none: the object is not in that index). */
export type IndexFn<T> = (obj: T) => readonly string[];

/** The index every store has: by metadata.namespace ('' for cluster-scoped objects). */
export const NAMESPACE_INDEX = 'namespace';

interface Index<T> {
  fn: IndexFn<T>;
  /** index value → the objects (by key) that have it */
  values: Map<string, Map<string, T>>;
}

export class IndexedStore<T extends KubernetesObject> {
  private readonly objects = new Map<string, T>();
  private readonly indexes = new Map<string, Index<T>>();

  constructor(indexers: Readonly<Record<string, IndexFn<T>>> = {}) {
    this.indexes.set(NAMESPACE_INDEX, { fn: (o) => [o.metadata?.namespace ?? ''], values: new Map() });
    for (const [name, fn] of Object.entries(indexers)) {
      if (this.indexes.has(name)) throw new Error(`index ${name} is defined twice`);
      this.indexes.set(name, { fn, values: new Map() });
    }
  }

  get size(): number {
    return this.objects.size;
  }

  get(key: string): T | undefined {
    return this.objects.get(key);
  }

  has(key: string): boolean {
    return this.objects.has(key);
  }

  keys(): IterableIterator<string> {
    return this.objects.keys();
  }

  values(): T[] {
    return [...this.objects.values()];
  }

  /** Stores `obj` under `key`; returns what it replaces. */
  set(key: string, obj: T): T | undefined {
    const old = this.objects.get(key);
    if (old) this.unindex(key, old);
    this.objects.set(key, obj);
    for (const index of this.indexes.values()) {
      for (const value of index.fn(obj)) {
        let members = index.values.get(value);
        if (!members) index.values.set(value, (members = new Map()));
        members.set(key, obj);
      }
    }
    return old;
  }

  /** Removes the object under `key`; returns it. */
  delete(key: string): T | undefined {
    const old = this.objects.get(key);
    if (!old) return undefined;
    this.unindex(key, old);
    this.objects.delete(key);
    return old;
  }

  /** The objects whose index `name` has `value`; a clear error for an index the store lacks. */
  byIndex(name: string, value: string): T[] {
    const index = this.indexes.get(name);
    if (!index) throw new Error(`no index ${name}: this cache has ${[...this.indexes.keys()].join(', ')}`);
    const members = index.values.get(value);
    return members ? [...members.values()] : [];
  }

  private unindex(key: string, obj: T): void {
    for (const index of this.indexes.values()) {
      for (const value of index.fn(obj)) {
        const members = index.values.get(value);
        members?.delete(key);
        if (members?.size === 0) index.values.delete(value);
      }
    }
  }
}
