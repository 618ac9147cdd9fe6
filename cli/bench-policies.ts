import { devicePolicy, parsePolicy, type MappingPolicy } from '../runtime/mapping-policy.js';
import { reachableFromEntry } from '../runtime/offload-graph.js';
import { UsageError } from '../runtime/errors.js';
import { InvalidInputError } from '../runtime/validate.js';
import { entryOf, withPolicy, type Topology } from '../runtime/topology/topology.js';

/**
 * The policies `crime bench mapping` compares: as given (each a policy the topology accepts, crime
 * among them), or crime, local, threshold and every device the entry reaches.
 */
export function benchPolicies(topology: Topology, given: readonly string[] | undefined): MappingPolicy[] {
  if (given === undefined) {
    const entry = entryOf(topology).name;
    return ['crime', 'local', 'threshold', ...reachableFromEntry(topology.devices).filter((d) => d !== entry).map(devicePolicy)];
  }
  const policies = given.map((p) => {
    try {
      return withPolicy(topology, parsePolicy(p, 'policies')).mapping.policy;
    } catch (err) {
      if (err instanceof InvalidInputError) throw new UsageError(`--policies: ${p}: ${err.message}`);
      throw err;
    }
  });
  if (!policies.includes('crime')) throw new UsageError('--policies must include crime: the table compares CRIME with the others');
  if (new Set(policies).size !== policies.length) throw new UsageError('--policies: each policy once');
  return policies;
}
