import type { MappingEngine, ThresholdRange } from '../engine/engine.js';
import type { Decision, Estimate, Objective } from '../engine/types.js';
import { policyDevice, type MappingPolicy } from '../mapping-policy.js';

export interface PolicyRouterOptions {
  policy: MappingPolicy;
  /** with device:<name>: the neighbour on the way there (MapperConfig.via); absent: serve locally */
  via?: string | undefined;
  engine: MappingEngine;
  /** told once per objective when the threshold policy fixes its thresholds (the mapper logs them) */
  onThresholds?: (objective: Objective, ranges: readonly ThresholdRange[]) => void;
}

/**
 * The candidates a request tries, in order, under the topology's mapping policy
 * (runtime/mapping-policy.ts). `crime` takes the engine's ranking; the fixed policies pin one target
 * and fall back only to local, as the simulator's single-device policies do, and count that
 * fallback like any other (crime_mapper_fallbacks_total). A pinned neighbour is tried even when the
 * engine believes it down or does not know it yet: a fixed policy does not adapt.
 */
export class PolicyRouter {
  readonly policy: MappingPolicy;
  private readonly via: string | undefined;
  private readonly engine: MappingEngine;
  private readonly onThresholds: PolicyRouterOptions['onThresholds'];
  /** the `threshold` policy's tables, one per objective, fixed the first time they could be */
  private readonly frozen = new Map<Objective, ThresholdRange[]>();
  private routed = false;

  constructor(o: PolicyRouterOptions) {
    this.policy = o.policy;
    this.via = policyDevice(o.policy) === undefined ? undefined : o.via;
    this.engine = o.engine;
    this.onThresholds = o.onThresholds;
  }

  /**
   * Whether the engine's background work (pings, self-calibration) still serves the policy: always
   * under crime; under a fixed policy only until it routes its first request (the threshold policy
   * needs the initial calibration and pings to fix its thresholds). A fixed policy then costs what
   * it costs in the simulator: nothing beyond its requests.
   */
  get learning(): boolean {
    return this.policy === 'crime' || !this.routed;
  }

  /** The thresholds a `threshold` router fixed for this objective, if it has. */
  thresholds(objective: Objective): readonly ThresholdRange[] | undefined {
    return this.frozen.get(objective);
  }

  /**
   * The candidates to try, in order; `pinned` when the first is where the policy pins the request
   * (a fixed policy), so it may take the request's whole budget: for a fixed policy, late is not failed.
   */
  plan(decision: Decision): { candidates: Estimate[]; pinned: boolean } {
    const { ranked, n } = decision;
    const local = ranked.filter((e) => e.kind === 'local');
    if (this.policy === 'crime') return { candidates: ranked, pinned: false };
    if (this.policy === 'local') {
      this.routed = true;
      return { candidates: local, pinned: true };
    }
    if (this.policy === 'threshold') {
      const table = this.table(decision.objective);
      if (!table) return { candidates: ranked, pinned: false }; // the initial calibration is not complete: decide as CRIME meanwhile
      this.routed = true;
      const target = table.find((r) => n >= r.fromSteps && n <= r.toSteps)?.target ?? 'local';
      return { candidates: target === 'local' ? local : [this.estimate(target, ranked), ...local], pinned: true };
    }
    this.routed = true;
    return { candidates: this.via === undefined ? local : [this.estimate(this.via, ranked), ...local], pinned: true };
  }

  private table(objective: Objective): ThresholdRange[] | undefined {
    let table = this.frozen.get(objective);
    if (!table) {
      table = this.engine.staticThresholds(objective) ?? undefined;
      if (table) {
        this.frozen.set(objective, table);
        this.onThresholds?.(objective, table);
      }
    }
    return table;
  }

  /** The engine's estimate for a pinned neighbour, or one with nothing known when it has none. */
  private estimate(target: string, ranked: readonly Estimate[]): Estimate {
    return (
      ranked.find((e) => e.target === target) ?? { target, kind: 'neighbour', cost: Number.POSITIVE_INFINITY, latencyMs: 0, energyJ: 0, networkMs: 0, queueMs: 0 }
    );
  }
}
