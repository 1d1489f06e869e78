/**
 * Remembers which requests reached the turn runner, which logs their summary line, so the app-level
 * access log only speaks up for /v1 requests that never reached a turn (bad key, bad body).
 * One instance per server, created at boot and shared by the turn runner and src/app.ts.
 */
export class TurnSummaries {
  private readonly summarised = new Set<string>();

  mark(requestId: string): void {
    this.summarised.add(requestId);
    // Bounded: ids are consumed by take() right after the response; this only guards leaks.
    if (this.summarised.size > 10_000) this.summarised.clear();
  }

  /** Whether a turn took this request (and forget it). */
  take(requestId: string): boolean {
    return this.summarised.delete(requestId);
  }
}
