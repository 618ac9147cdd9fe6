/**
 * Every call a reconcile makes to the API server itself (the caches answer everything else):
 * - who holds a name the caches cannot see (they watch only objects with the operator's labels):
 *   the live object's metadata, never its content (a Secret's data is never read), through a list
 *   by name, which the operator's RBAC grants where a get is not;
 * - server-side apply of rendered children (field manager crime-operator), forced only where the
 *   caller established that the topology controls the object: force takes fields back from whoever
 *   changed them, which is right for our objects and never for somebody else's;
 * - create-once (the token Secret), delete with the uid as a precondition (only the object that was
 *   looked at), and the topology's status (applied on the status subresource, so fields it no
 *   longer has are removed).
 */
import type { KubernetesObject, V1ObjectMeta } from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../render/names.js';
import { isNotFound } from './api-errors.js';
import { pathOf, RESOURCES, type Resource } from './resources.js';
import type { KubeRequest } from './rest.js';

const byKind = new Map<string, Resource>(Object.values(RESOURCES).map((r) => [r.kind, r]));

/** The resource of an object the operator writes (by its kind). */
export function resourceOf(obj: KubernetesObject): Resource {
  const r = byKind.get(obj.kind ?? '');
  if (!r) throw new Error(`the operator does not write ${obj.kind ?? 'objects without a kind'}`);
  return r;
}

function nameOf(obj: KubernetesObject): { namespace: string; name: string } {
  const { namespace, name } = obj.metadata ?? {};
  if (!namespace || !name) throw new Error(`${obj.kind ?? 'object'} needs metadata.namespace and metadata.name`);
  return { namespace, name };
}

/** Lists of metadata only (PartialObjectMetadataList), whatever the kind. */
const METADATA_ONLY = 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json';

/** What KubeWriter needs of KubeRest. */
export interface RestRequests {
  request<T>(req: KubeRequest): Promise<T>;
}

export class KubeWriter {
  constructor(private readonly rest: RestRequests) {}

  /** The metadata of the object of that name as the API server has it now; undefined if none. */
  async metadata(resource: Resource, namespace: string, name: string): Promise<V1ObjectMeta | undefined> {
    const list = await this.rest.request<{ items?: Array<{ metadata?: V1ObjectMeta }> }>({
      method: 'GET',
      path: pathOf(resource, namespace),
      query: { fieldSelector: `metadata.name=${name}` },
      accept: METADATA_ONLY,
    });
    return list.items?.find((i) => i.metadata?.name === name)?.metadata;
  }

  async apply<T extends KubernetesObject>(obj: T, options: { force: boolean }): Promise<T> {
    const { namespace, name } = nameOf(obj);
    return this.rest.request<T>({
      method: 'PATCH',
      path: pathOf(resourceOf(obj), namespace, name),
      query: { fieldManager: FIELD_MANAGER, ...(options.force ? { force: 'true' } : {}) },
      body: obj,
      contentType: 'application/apply-patch+yaml',
    });
  }

  async create<T extends KubernetesObject>(obj: T): Promise<T> {
    return this.rest.request<T>({ method: 'POST', path: pathOf(resourceOf(obj), nameOf(obj).namespace), query: { fieldManager: FIELD_MANAGER }, body: obj });
  }

  /**
   * Deletes the object if it still has `uid` (a 409 otherwise: somebody else's object now has the
   * name), in the background (dependents go through the garbage collector); absent is fine.
   */
  async remove(resource: Resource, namespace: string, name: string, uid: string): Promise<void> {
    try {
      await this.rest.request({ method: 'DELETE', path: pathOf(resource, namespace, name), body: { propagationPolicy: 'Background', preconditions: { uid } } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async applyStatus(namespace: string, name: string, status: unknown): Promise<unknown> {
    const r = RESOURCES.topology;
    return this.rest.request({
      method: 'PATCH',
      path: pathOf(r, namespace, name, 'status'),
      query: { fieldManager: FIELD_MANAGER, force: 'true' },
      body: { apiVersion: `${r.group}/${r.version}`, kind: r.kind, metadata: { name, namespace }, status },
      contentType: 'application/apply-patch+yaml',
    });
  }
}
