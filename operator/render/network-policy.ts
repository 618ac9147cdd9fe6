/**
 * With `crime operator --network-policy`: two NetworkPolicies per topology. Every device's mapper
 * port accepts only the same topology's mappers (and, when given, the namespaces allowed to scrape
 * metrics); the entry device's port stays open to clients. Pure.
 */
import type { KubernetesObject, V1ObjectMeta } from '@kubernetes/client-node';

/** JSON as the API takes it (client-node's model names `from` `_from`). */
type NetworkPolicy = KubernetesObject & { metadata: V1ObjectMeta; spec: Record<string, unknown> };
import type { Topology } from '../../runtime/topology/topology.js';
import { LABELS, labelsFor, labelValue, selectorFor } from './names.js';
import { ownerReference, type Owner } from './owner.js';

export function renderNetworkPolicies(topology: Topology, owner: Owner, metricsNamespaces: readonly string[]): NetworkPolicy[] {
  const devices = { [LABELS.topology]: labelValue(topology.name), [LABELS.component]: 'device' };
  const port = [{ port: 'http', protocol: 'TCP' }];
  const metadata = (name: string): V1ObjectMeta => ({ name, namespace: owner.namespace, labels: labelsFor(topology.name), ownerReferences: [ownerReference(owner)] });
  const entry = topology.devices.find((d) => d.entry);
  return [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: metadata(`${topology.name}-peers`),
      spec: {
        podSelector: { matchLabels: devices },
        policyTypes: ['Ingress'],
        ingress: [
          { from: [{ podSelector: { matchLabels: devices } }], ports: port },
          ...(metricsNamespaces.length > 0 ? [{ from: metricsNamespaces.map((ns) => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } } })), ports: port }] : []),
        ],
      },
    },
    ...(entry
      ? [{
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: metadata(`${topology.name}-entry`),
          spec: { podSelector: { matchLabels: selectorFor(topology.name, entry.name) }, policyTypes: ['Ingress'], ingress: [{ ports: port }] },
        } satisfies NetworkPolicy]
      : []),
  ];
}
