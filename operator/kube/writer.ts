/**
 * Every write the operator makes: server-side apply of rendered children (field manager
 * crime-operator, force, as controllers should), create-once, delete, and the topology's status
 * (applied on the status subresource, so fields it no longer has are removed).
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../render/names.js';
import { isNotFound } from './api-errors.js';
import { pathOf, RESOURCES, type Resource } from './resources.js';
import type { KubeRest } from './rest.js';

const byKind = new Map<string, Resource>(Object.values(RESOURCES).map((r) => [r.kind, r]));

function resourceOf(obj: KubernetesObject): Resource {
  const r = byKind.get(obj.kind ?? '');
  if (!r) throw new Error(`the operator does not write ${obj.kind ?? 'objects without a kind'}`);
  return r;
}

function nameOf(obj: KubernetesObject): { namespace: string; name: string } {
  const { namespace, name } = obj.metadata ?? {};
  if (!namespace || !name) throw new Error(`${obj.kind ?? 'object'} needs metadata.namespace and metadata.name`);
  return { namespace, name };
}

export class KubeWriter {
  constructor(private readonly rest: KubeRest) {}

  apply<T extends KubernetesObject>(obj: T): Promise<T> {
    const { namespace, name } = nameOf(obj);
    return this.rest.request<T>({
      method: 'PATCH',
      path: pathOf(resourceOf(obj), namespace, name),
      query: { fieldManager: FIELD_MANAGER, force: 'true' },
      body: obj,
      contentType: 'application/apply-patch+yaml',
    });
  }

  create<T extends KubernetesObject>(obj: T): Promise<T> {
    return this.rest.request<T>({ method: 'POST', path: pathOf(resourceOf(obj), nameOf(obj).namespace), query: { fieldManager: FIELD_MANAGER }, body: obj });
  }

  /** Deletes in the background (dependents go through the garbage collector); absent is fine. */
  async remove(resource: Resource, namespace: string, name: string): Promise<void> {
    try {
      await this.rest.request({ method: 'DELETE', path: pathOf(resource, namespace, name), body: { propagationPolicy: 'Background' } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  applyStatus(namespace: string, name: string, status: unknown): Promise<unknown> {
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
