/** The API resources the operator reads and writes, and their REST paths. */
export interface Resource {
  group: string;
  version: string;
  plural: string;
  kind: string;
}

const res = (group: string, version: string, plural: string, kind: string): Resource => ({ group, version, plural, kind });

export const RESOURCES = {
  topology: res('crime.dev', 'v1alpha1', 'rnntopologies', 'RnnTopology'),
  deployment: res('apps', 'v1', 'deployments', 'Deployment'),
  service: res('', 'v1', 'services', 'Service'),
  configMap: res('', 'v1', 'configmaps', 'ConfigMap'),
  secret: res('', 'v1', 'secrets', 'Secret'),
  pod: res('', 'v1', 'pods', 'Pod'),
  event: res('', 'v1', 'events', 'Event'),
  lease: res('coordination.k8s.io', 'v1', 'leases', 'Lease'),
  networkPolicy: res('networking.k8s.io', 'v1', 'networkpolicies', 'NetworkPolicy'),
} as const;

export function apiVersionOf(r: Resource): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

/** /api/v1/namespaces/ns/pods[/name[/sub]], or cluster-wide without a namespace. */
export function pathOf(r: Resource, namespace?: string, name?: string, subresource?: string): string {
  const base = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  const ns = namespace === undefined ? '' : `/namespaces/${encodeURIComponent(namespace)}`;
  const one = name === undefined ? '' : `/${encodeURIComponent(name)}${subresource === undefined ? '' : `/${subresource}`}`;
  return `${base}${ns}/${r.plural}${one}`;
}
