/** Namespaces for tests, usable at once for pods (their "default" ServiceAccount exists). */
import { CoreV1Api, type KubeConfig, type V1Namespace } from '@kubernetes/client-node';
import { isConflict } from '../operator/kube/api-errors.js';

/**
 * Creates the namespace with `labels`, and its "default" ServiceAccount: the ServiceAccount admission
 * plugin rejects pods until it exists, and without kube-controller-manager nobody else creates it.
 */
export async function createNamespace(kc: KubeConfig, name: string, labels: Record<string, string> = {}): Promise<V1Namespace> {
  const core = kc.makeApiClient(CoreV1Api);
  const ns = await core.createNamespace({ body: { metadata: { name, labels } } });
  try {
    await core.createNamespacedServiceAccount({ namespace: name, body: { metadata: { name: 'default' } } });
  } catch (err) {
    // kube-controller-manager created it first.
    if (!isConflict(err)) throw err;
  }
  return ns;
}
