/**
 * Whether this device's runtime can serve, kept current from two sides: a local call that could
 * not reach it marks it down at once (a killed runtime refuses connections), and a readiness probe
 * every RUNTIME_PROBE_MS notices a frozen one and notices when it is back. A probe that gets no
 * answer in time counts only the second time in a row: a runtime busy with one long inference on
 * a backend that holds its event loop must not look dead. The mapper's /readyz, its pings and
 * whether local is a candidate all follow it, so neighbours stop sending work to a device whose
 * runtime is gone.
 */
export type Readiness = 'ready' | 'not-ready' | 'silent';

/** Silent probes in a row that make a runtime count as down. */
const SILENT_PROBES_DOWN = 2;

export class RuntimeHealth {
  private current = true;
  private probing = false;
  private silent = 0;

  constructor(private readonly o: { probe: () => Promise<Readiness>; onChange: (up: boolean) => void }) {}

  get up(): boolean {
    return this.current;
  }

  /** A local call could not reach the runtime, or it said it is not ready. */
  failed(): void {
    this.set(false);
  }

  /** Probes the runtime once (a probe still running is not doubled). */
  async check(): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    try {
      const answer = await this.o.probe();
      this.silent = answer === 'silent' ? this.silent + 1 : 0;
      if (answer === 'ready') this.set(true);
      else if (answer === 'not-ready' || this.silent >= SILENT_PROBES_DOWN) this.set(false);
    } finally {
      this.probing = false;
    }
  }

  private set(up: boolean): void {
    if (up === this.current) return;
    this.current = up;
    this.o.onChange(up);
  }
}
