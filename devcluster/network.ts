/**
 * How the dev cluster's fake nodes differ when pods really run (`crime cluster up --run-pods`): the
 * links between tiers, emulated in user space as `crime up` emulates them, and the compute speed
 * each tier's runtimes emulate, so that on one machine an ARM edge node is still slower than a GPU
 * node. The same numbers as examples/topologies/three-tier.local.yaml.
 */
import type { LinkConditions } from '../local/link-emulator.js';
import type { Tier } from './nodes.js';

export interface DevNetwork {
  /** links between tiers, both directions */
  links: Array<{ between: [Tier, Tier] } & LinkConditions>;
  /** "perStepMs,fixedMs" a tier's runtimes emulate; none runs at this machine's speed */
  compute: Partial<Record<Tier, string>>;
}

export const DEFAULT_NETWORK: DevNetwork = {
  links: [
    { between: ['edge', 'gateway'], rttMs: 10, bandwidthMbps: 50 },
    { between: ['gateway', 'cloud'], rttMs: 30, bandwidthMbps: 100 },
    { between: ['edge', 'cloud'], rttMs: 25, bandwidthMbps: 20 },
  ],
  compute: { edge: '0.3,1', gateway: '0.05,3' },
};

/** The link from a pod on node `from` to an endpoint on node `to`: none within a node or tier. */
export function linkBetween(network: DevNetwork, tierOf: (node: string) => Tier | undefined): (from: string, to: string | undefined) => LinkConditions {
  return (from, to) => {
    const a = tierOf(from);
    const b = to === undefined ? undefined : tierOf(to);
    const link = network.links.find((l) => (l.between[0] === a && l.between[1] === b) || (l.between[0] === b && l.between[1] === a));
    return link ? { rttMs: link.rttMs, bandwidthMbps: link.bandwidthMbps } : { rttMs: 0, bandwidthMbps: Infinity };
  };
}
