/**
 * One account's pacing record: the start times of its recent requests, kept by the account's
 * record (records.ts) and read by the pacer (pacing.ts), which holds the rules.
 */
export type PaceLimits = { rpm: number; windowMs: number; minSpacingMs: number };

/** One account's recent request starts (oldest first, from `head`). */
export class PaceState {
  starts: number[] = [];
  head = 0;
  /** The latest start (−∞ before the first). */
  last = Number.NEGATIVE_INFINITY;
  /** Epoch ms until which the account has no head-room; 0 = it has some. */
  until = 0;

  /** Drops starts older than the window. */
  trim(now: number, windowMs: number): void {
    const s = this.starts;
    while (this.head < s.length && s[this.head]! <= now - windowMs) this.head++;
    if (this.head > 32 && this.head * 2 > s.length) {
      this.starts = s.slice(this.head);
      this.head = 0;
    }
  }

  count(): number {
    return this.starts.length - this.head;
  }
}
