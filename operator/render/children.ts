/**
 * Everything a topology renders, from the parsed spec alone: per device a Deployment and a Service,
 * one ConfigMap with every mapper's configuration (rendered by the same renderMapperConfig `crime
 * up` uses), and the token Secret. Pure; the reconciler applies what differs from what it observes.
 */
import { randomBytes } from 'node:crypto';
import type { KubernetesObject, V1ConfigMap, V1Secret, V1Service } from '@kubernetes/client-node';
import { unixAddress } from '../../runtime/http/unix-socket.js';
import { formatMapperConfig } from '../../runtime/mapper/config.js';
import { renderMapperConfig } from '../../runtime/topology/mapper-config.js';
import type { Topology } from '../../runtime/topology/topology.js';
import { renderDeployment } from './deployment.js';
import { childNames, labelsFor, selectorFor } from './names.js';
import { renderNetworkPolicies } from './network-policy.js';
import { POD, type RenderOptions } from './options.js';
import { ownerReference, type Owner } from './owner.js';

/** The in-cluster base URL of a device's mapper (its Service). */
export function deviceEndpoint(topology: string, namespace: string, device: string): string {
  return `http://${childNames(topology).service(device)}.${namespace}.svc:${POD.mapperPort}`;
}

export function renderService(topology: Topology, device: string, owner: Owner): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: childNames(topology.name).service(device), namespace: owner.namespace, labels: labelsFor(topology.name, device), ownerReferences: [ownerReference(owner)] },
    spec: {
      type: 'ClusterIP',
      selector: selectorFor(topology.name, device),
      ports: [{ name: 'http', port: POD.mapperPort, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

export function renderConfigMap(topology: Topology, owner: Owner): V1ConfigMap {
  const data: Record<string, string> = {};
  for (const d of topology.devices) {
    const config = renderMapperConfig(topology, d.name, {
      listen: { host: '0.0.0.0', port: POD.mapperPort },
      runtimeUrl: unixAddress(POD.runtimeSocket),
      neighbourUrl: (n) => deviceEndpoint(topology.name, owner.namespace, n),
      tokenFile: `${POD.tokenDir}/${POD.tokenKey}`,
    });
    data[`${d.name}.yaml`] = formatMapperConfig(config);
  }
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: childNames(topology.name).configMap, namespace: owner.namespace, labels: labelsFor(topology.name), ownerReferences: [ownerReference(owner)] },
    data,
  };
}

/** A new random token; the reconciler renders the Secret only when it does not exist yet. */
export function renderSecret(topology: Topology, owner: Owner, token = randomBytes(32).toString('base64url')): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: childNames(topology.name).secret, namespace: owner.namespace, labels: labelsFor(topology.name), ownerReferences: [ownerReference(owner)] },
    type: 'Opaque',
    stringData: { [POD.tokenKey]: token },
  };
}

/** Every child but the Secret, in apply order (configuration before the pods that mount it). */
export function renderChildren(topology: Topology, owner: Owner, options: RenderOptions): KubernetesObject[] {
  return [
    renderConfigMap(topology, owner),
    ...topology.devices.map((d) => renderService(topology, d.name, owner)),
    ...topology.devices.map((d) => renderDeployment(topology, d, owner, options)),
    ...(options.networkPolicy ? renderNetworkPolicies(topology, owner, options.networkPolicy.metricsNamespaces) : []),
  ];
}
