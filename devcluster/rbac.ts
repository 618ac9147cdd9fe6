/**
 * The operator's RBAC exactly as the chart ships it (charts/crime-operator/files/rbac-rules.yaml),
 * bound to a ServiceAccount, and a client with that ServiceAccount's token: the operator's tests
 * run with nothing broader.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { KubeRest } from '../operator/kube/rest.js';
import { repoRoot } from './assets.js';
import type { ControlPlane } from './controlplane.js';
import { serviceAccountConfig } from './serviceaccounts.js';

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

export function operatorRules(): { reconcile: PolicyRule[]; leaderElection: PolicyRule[]; networkPolicy: PolicyRule[] } {
  return parseYaml(readFileSync(join(repoRoot(), 'charts', 'crime-operator', 'files', 'rbac-rules.yaml'), 'utf8')) as { reconcile: PolicyRule[]; leaderElection: PolicyRule[]; networkPolicy: PolicyRule[] };
}

/**
 * Grants the shipped rules to `namespace`/`name` (cluster-wide, leases in its namespace; with
 * `networkPolicy`, those rules too, as the chart's networkPolicy.enabled does) and returns its client config.
 */
export async function operatorServiceAccount(cp: ControlPlane, namespace: string, name = 'crime-operator', options: { networkPolicy?: boolean } = {}): Promise<KubeConfig> {
  const rest = new KubeRest(cp.admin());
  const rules = operatorRules();
  const subject = [{ kind: 'ServiceAccount', name, namespace }];
  const rbac = '/apis/rbac.authorization.k8s.io/v1';
  await rest.request({ method: 'POST', path: `${rbac}/clusterroles`, body: { metadata: { name: `${namespace}-${name}` }, rules: [...rules.reconcile, ...(options.networkPolicy ? rules.networkPolicy : [])] } });
  await rest.request({ method: 'POST', path: `${rbac}/clusterrolebindings`, body: { metadata: { name: `${namespace}-${name}` }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `${namespace}-${name}` }, subjects: subject } });
  await rest.request({ method: 'POST', path: `${rbac}/namespaces/${namespace}/roles`, body: { metadata: { name: `${name}-leader-election` }, rules: rules.leaderElection } });
  await rest.request({ method: 'POST', path: `${rbac}/namespaces/${namespace}/rolebindings`, body: { metadata: { name: `${name}-leader-election` }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${name}-leader-election` }, subjects: subject } });
  rest.close();
  return serviceAccountConfig(cp, { namespace, name });
}
