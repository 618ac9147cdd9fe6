/**
 * Whether this device's runtime can serve, kept current from two sides: a local call that could
 * not reach it marks it down at once (a killed runtime refuses connections), and a readiness probe
 * every RUNTIME_PROBE_MS notices a frozen one and notices when it is back. The mapper's /readyz,
 * its pings and whether local is a candidate all follow it, so neighbours stop sending work to a
 * device whose runtime is gone.
 */
export class RuntimeHealth {
  private current = true;
  private probing = false;

  constructor(private readonly o: { probe: () => Promise<boolean>; onChange: (up: boolean) => void }) {}

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
      this.set(await this.o.probe());
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
