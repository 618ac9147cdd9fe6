/**
 * Clients that act as a ServiceAccount, authenticated by a token from the TokenRequest API (what a
 * projected service account token in a pod would hold), so RBAC rules are exercised for real.
 */
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { isNotFound } from '../operator/kube/api-errors.js';
import type { ControlPlane } from './controlplane.js';

export interface ServiceAccountClientOptions {
  namespace: string;
  name: string;
  /** Create the ServiceAccount if it does not exist (default true). */
  create?: boolean;
  expirationSeconds?: number;
}

/** A token for the ServiceAccount, from the TokenRequest API. */
export async function serviceAccountToken(cp: ControlPlane, options: ServiceAccountClientOptions): Promise<string> {
  const core = cp.admin().makeApiClient(CoreV1Api);
  const { namespace, name } = options;
  if (options.create ?? true) {
    try {
      await core.readNamespacedServiceAccount({ namespace, name });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
    }
  }
  const request = await core.createNamespacedServiceAccountToken({
    namespace,
    name,
    body: { spec: { audiences: [], expirationSeconds: options.expirationSeconds ?? 3600 } },
  });
  const token = request.status?.token;
  if (token === undefined || token === '') throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
  return token;
}

/** A KubeConfig that authenticates as system:serviceaccount:<namespace>:<name>. */
export async function serviceAccountConfig(cp: ControlPlane, options: ServiceAccountClientOptions): Promise<KubeConfig> {
  const token = await serviceAccountToken(cp, options);
  return cp.withToken(`system:serviceaccount:${options.namespace}:${options.name}`, token, options.namespace);
}
