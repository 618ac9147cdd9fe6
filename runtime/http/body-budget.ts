/**
 * The bytes of request bodies being received and decoded at once, all requests together, against
 * one bound: however many clients send large bodies at the same time, bodies take at most this
 * much memory (decoding takes a few times more, also bounded by it). Bytes are counted as they
 * arrive, not as declared, so a slow client announcing a large body reserves nothing.
 */
export class BodyBudget {
  private used = 0;

  /** `limit`: read on every take, so a reloaded configuration applies at once */
  constructor(private readonly limit: () => number) {}

  get inUse(): number {
    return this.used;
  }

  /** Takes `bytes` if they fit; false (nothing taken) if they do not. */
  take(bytes: number): boolean {
    if (this.used + bytes > this.limit()) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }
}
