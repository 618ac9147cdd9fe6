import type { PowerModel } from './types.js';

/** How long the entry's parts are busy for one request, ping or calibration run (ms). */
export interface EnergyTimes {
  computeMs?: number;
  txMs?: number;
  rxMs?: number;
  /** waiting with the radio idle: the round trip and the callee's time */
  idleMs?: number;
}

/**
 * Joules the entry spends: the one energy model that the engine's estimates, its probe costs and
 * the simulator's accounting all use, so what the engine minimises is what the simulator charges.
 */
export function energyJ(power: PowerModel, t: EnergyTimes): number {
  return (power.activeW * (t.computeMs ?? 0) + power.txW * (t.txMs ?? 0) + power.rxW * (t.rxMs ?? 0) + power.idleW * (t.idleMs ?? 0)) / 1000;
}
