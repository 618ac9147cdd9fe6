/**
 * An in-memory API server (the Writer a reconcile calls) and the operator's caches over it, for
 * unit tests of the Reconciler and the event handlers. The caches use the production indexes and,
 * like the production informers, see only objects with the operator's managed-by label, and only
 * after sync() (a watch event arrives after the write). The API server refuses what the real one
 * would in the cases these tests need: a create of a name that exists (409 AlreadyExists), an apply
 * without force over fields somebody else manages (409 Conflict), a delete whose uid precondition
 * fails (409); anything else on demand (refuse()). The behaviour of the real API server is
 * covered by test/operator.test.ts.
 */
import type { KubernetesObject, V1ConfigMap, V1Deployment, V1NetworkPolicy, V1ObjectMeta, V1Pod, V1Secret, V1Service } from '@kubernetes/client-node';
import { ApiError } from '../kube/api-errors.js';
import { byOwner, byTopologyLabel, INDEX, topologyByName } from '../kube/indexes.js';
import type { Handler, Informer } from '../kube/informer.js';
import type { Resource } from '../kube/resources.js';
import { IndexedStore, NAMESPACE_INDEX, type IndexFn } from '../kube/store.js';
import { FIELD_MANAGER, LABELS } from '../render/names.js';
import type { Caches, RnnTopologyObject, Writer } from '../reconcile/types.js';

export class FakeInformer<T extends KubernetesObject> implements Informer<T> {
  private readonly store: IndexedStore<T>;
  private readonly handlers: Array<Handler<T>> = [];

  constructor(indexers: Readonly<Record<string, IndexFn<T>>> = {}) {
    this.store = new IndexedStore<T>(indexers);
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
    return Promise.resolve();
  }

  /** As a watch event: stores the object and tells the handlers. */
  put(obj: T): void {
    const key = `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
    const old = this.store.set(key, structuredClone(obj));
    for (const h of this.handlers) h(old ? 'update' : 'add', obj);
  }

  remove(namespace: string, name: string): void {
    const old = this.store.delete(`${namespace}/${name}`);
    if (old) for (const h of this.handlers) h('delete', old);
  }
}

export interface FakeCaches extends Caches {
  topologies: FakeInformer<RnnTopologyObject>;
  deployments: FakeInformer<V1Deployment>;
  services: FakeInformer<V1Service>;
  configMaps: FakeInformer<V1ConfigMap>;
  secrets: FakeInformer<V1Secret>;
  pods: FakeInformer<V1Pod>;
  networkPolicies: FakeInformer<V1NetworkPolicy>;
}

export function fakeCaches(): FakeCaches {
  const owned = { [INDEX.owner]: byOwner };
  return {
    topologies: new FakeInformer<RnnTopologyObject>({ [INDEX.topology]: topologyByName }),
    deployments: new FakeInformer<V1Deployment>(owned),
    services: new FakeInformer<V1Service>(owned),
    configMaps: new FakeInformer<V1ConfigMap>(owned),
    secrets: new FakeInformer<V1Secret>(owned),
    pods: new FakeInformer<V1Pod>({ [INDEX.topology]: byTopologyLabel }),
    networkPolicies: new FakeInformer<V1NetworkPolicy>(owned),
  };
}

/** A call the Reconciler made, as tests check them. */
export interface Call {
  verb: 'metadata' | 'apply' | 'create' | 'remove' | 'applyStatus';
  /** Kind/namespace/name */
  ref: string;
  force?: boolean;
  uid?: string;
}

export const apiError = (code: number, reason: string, message: string): ApiError => new ApiError(code, { kind: 'Status', status: 'Failure', code, reason, message }, 'fake API server');

const keyOf = (kind: string, namespace: string, name: string): string => `${kind}/${namespace}/${name}`;

export class FakeApi implements Writer {
  readonly calls: Call[] = [];
  readonly statuses = new Map<string, unknown>();
  private readonly objects = new Map<string, { obj: KubernetesObject; manager: string }>();
  private readonly refusals: Array<(call: Call) => ApiError | undefined> = [];
  private uids = 0;

  /** An object as somebody made it (a user by default: it is then nobody's to force). */
  put<T extends KubernetesObject>(obj: T, manager = 'kubectl'): T {
    const stored = { ...structuredClone(obj), metadata: { ...obj.metadata, uid: obj.metadata?.uid ?? `uid-${++this.uids}` } };
    this.objects.set(keyOf(obj.kind ?? '', obj.metadata?.namespace ?? '', obj.metadata?.name ?? ''), { obj: stored, manager });
    return stored;
  }

  get(kind: string, namespace: string, name: string): KubernetesObject | undefined {
    return this.objects.get(keyOf(kind, namespace, name))?.obj;
  }

  delete(kind: string, namespace: string, name: string): void {
    this.objects.delete(keyOf(kind, namespace, name));
  }

  all(): KubernetesObject[] {
    return [...this.objects.values()].map((o) => o.obj);
  }

  /** Answers the calls `rule` picks with its error, as an API server or an admission webhook would. */
  refuse(rule: (call: Call) => ApiError | undefined): void {
    this.refusals.push(rule);
  }

  writes(): Call[] {
    return this.calls.filter((c) => c.verb !== 'metadata');
  }

  private record(call: Call): void {
    this.calls.push(call);
    for (const rule of this.refusals) {
      const err = rule(call);
      if (err) throw err;
    }
  }

  async metadata(resource: Resource, namespace: string, name: string): Promise<V1ObjectMeta | undefined> {
    this.record({ verb: 'metadata', ref: keyOf(resource.kind, namespace, name) });
    return structuredClone(this.get(resource.kind, namespace, name)?.metadata);
  }

  async apply<T extends KubernetesObject>(obj: T, options: { force: boolean }): Promise<T> {
    const key = keyOf(obj.kind ?? '', obj.metadata?.namespace ?? '', obj.metadata?.name ?? '');
    this.record({ verb: 'apply', ref: key, force: options.force });
    const existing = this.objects.get(key);
    if (existing && existing.manager !== FIELD_MANAGER && !options.force) {
      throw apiError(409, 'Conflict', `Apply failed with 1 conflict: conflict with "${existing.manager}": .spec`);
    }
    return this.put({ ...obj, metadata: { ...obj.metadata, uid: existing?.obj.metadata?.uid } }, FIELD_MANAGER) as T;
  }

  async create<T extends KubernetesObject>(obj: T): Promise<T> {
    const key = keyOf(obj.kind ?? '', obj.metadata?.namespace ?? '', obj.metadata?.name ?? '');
    this.record({ verb: 'create', ref: key });
    if (this.objects.has(key)) throw apiError(409, 'AlreadyExists', `${obj.kind ?? ''} "${obj.metadata?.name ?? ''}" already exists`);
    return this.put(obj, FIELD_MANAGER);
  }

  async remove(resource: Resource, namespace: string, name: string, uid: string): Promise<void> {
    const key = keyOf(resource.kind, namespace, name);
    this.record({ verb: 'remove', ref: key, uid });
    const existing = this.objects.get(key);
    if (!existing) return;
    if (existing.obj.metadata?.uid !== uid) throw apiError(409, 'Conflict', `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${existing.obj.metadata?.uid ?? ''}`);
    this.objects.delete(key);
  }

  async applyStatus(namespace: string, name: string, status: unknown): Promise<unknown> {
    this.record({ verb: 'applyStatus', ref: keyOf('RnnTopology', namespace, name) });
    this.statuses.set(`${namespace}/${name}`, structuredClone(status));
    return status;
  }
}

const CHILD_KINDS = ['Deployment', 'Service', 'ConfigMap', 'Secret', 'NetworkPolicy'] as const;

function childCache(caches: FakeCaches, kind: (typeof CHILD_KINDS)[number]): FakeInformer<KubernetesObject> {
  const byKind = { Deployment: caches.deployments, Service: caches.services, ConfigMap: caches.configMaps, Secret: caches.secrets, NetworkPolicy: caches.networkPolicies };
  return byKind[kind] as unknown as FakeInformer<KubernetesObject>;
}

/**
 * What the production informers would now hold: every child with the managed-by label (events for
 * what changed), and each topology with the status last written.
 */
export function sync(api: FakeApi, caches: FakeCaches): void {
  for (const kind of CHILD_KINDS) {
    const cache = childCache(caches, kind);
    const labelled = api.all().filter((o) => o.kind === kind && o.metadata?.labels?.[LABELS.managedBy] === FIELD_MANAGER);
    const names = new Set(labelled.map((o) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`));
    for (const o of cache.list()) if (!names.has(`${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`)) cache.remove(o.metadata?.namespace ?? '', o.metadata?.name ?? '');
    for (const o of labelled) {
      const cached = cache.get(o.metadata?.namespace ?? '', o.metadata?.name ?? '');
      if (JSON.stringify(cached) !== JSON.stringify(o)) cache.put(o);
    }
  }
  for (const t of caches.topologies.list()) {
    const status = api.statuses.get(`${t.metadata.namespace ?? ''}/${t.metadata.name ?? ''}`);
    if (status !== undefined && JSON.stringify(status) !== JSON.stringify(t.status)) caches.topologies.put({ ...t, status: status as RnnTopologyObject['status'] });
  }
}
