/**
 * Gives memory back once the server goes quiet. After a burst of requests the process holds what
 * the burst needed: JavaScriptCore's heap grows to its high-water mark and is only collected when
 * more allocation asks for it, and mimalloc keeps freed pages for reuse. When no request has been
 * in flight for `idleMs`, one synchronous full collection (Bun.gc(true): JavaScriptCore's GC, then
 * mimalloc returning its free pages) and Bun.shrink() (JavaScriptCore releases the heap blocks the
 * collection emptied; bench/memory.ts measured idle RSS after 1,000 requests 119 → 110 MiB with
 * it) bring the resident size back down; it runs at most once per
 * quiet period and never while a request is being served, so it costs no request any latency.
 * One instance per server (src/http/dialects.ts), shared by every dialect route.
 */
export class IdleTrim {
  private inFlight = 0;
  /** A request ran since the last trim. */
  private dirty = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Trims done (tests, the bench). */
  trims = 0;

  constructor(
    private readonly idleMs = 2000,
    private readonly trim: () => void = () => {
      Bun.gc(true);
      Bun.shrink();
    },
  ) {}

  /** A request started. */
  begin(): void {
    this.inFlight++;
    this.dirty = true;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /** A request (its whole response body included) finished. */
  end(): void {
    if (--this.inFlight > 0 || !this.dirty) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.inFlight > 0) return;
      this.dirty = false;
      this.trims++;
      this.trim();
    }, this.idleMs);
    // A pending trim never keeps the process alive.
    this.timer.unref?.();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
