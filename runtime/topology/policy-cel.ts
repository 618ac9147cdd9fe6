import { POLICY_MESSAGES, TOPOLOGY_LIMITS } from './topology.js';

/**
 * The CRD's CEL rules on spec for `spec.mapping.policy: device:<name>` (crds/crime.dev_rnntopologies.yaml
 * carries exactly these; runtime/topology/crd-schema.test.ts checks it): the device exists, and the
 * entry reaches it along offloadTo. CEL has no recursion, so reachability is a fixed number of
 * frontier expansions: r0 is the entry, r(k+1) adds every device some device of r(k) offloads to.
 * The CRD environment has no `cel.bind` (Kubernetes 1.34), so each frontier is bound the classic way,
 * as the one element of a list a comprehension runs over (`[value].exists(name, body)`), which keeps
 * the rule linear in size and in estimated cost. With at most TOPOLOGY_LIMITS.devices devices a simple path has at most one
 * fewer hops, so that many expansions reach everything reachable (a cycle, which parseTopology and
 * the operator refuse, only repeats names).
 */
const GUARD = "!has(self.mapping) || !has(self.mapping.policy) || !self.mapping.policy.startsWith('device:')";
const NAMED = "self.devices.exists(d, 'device:' + d.name == self.mapping.policy)";

function reachabilityRule(): string {
  const hops = TOPOLOGY_LIMITS.devices - 1;
  let expr = `r${hops}.exists(n, 'device:' + n == self.mapping.policy)`;
  for (let k = hops; k >= 1; k--) {
    const prev = `r${k - 1}`;
    expr = `[self.devices.filter(d, d.name in ${prev} || self.devices.exists(p, p.name in ${prev} && d.name in p.offloadTo)).map(d, d.name)].exists(r${k}, ${expr})`;
  }
  return `${GUARD} || !${NAMED} || [self.devices.filter(d, d.entry).map(d, d.name)].exists(r0, ${expr})`;
}

export interface CelRule {
  rule: string;
  message: string;
  fieldPath: string;
}

export const POLICY_CEL_RULES: readonly CelRule[] = [
  { rule: `${GUARD} || ${NAMED}`, message: POLICY_MESSAGES.unknownDevice, fieldPath: '.mapping.policy' },
  { rule: reachabilityRule(), message: POLICY_MESSAGES.unreachable, fieldPath: '.mapping.policy' },
];
