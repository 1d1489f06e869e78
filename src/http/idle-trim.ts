/**
 * Gives memory back once the server goes quiet. After a burst of requests the process holds what
 * the burst needed: JavaScriptCore's heap grows to its high-water mark and is only collected when
 * more allocation asks for it, mimalloc keeps freed pages for reuse, and SQLite's page cache stays
 * full. When no request has been in flight for `idleMs`, `memoryTrim` runs once (see there); it
 * runs at most once per quiet period and never while a request is being served, so it costs no
 * request any latency. One instance per server (src/http/dialects.ts), shared by every dialect route.
 */

/** The part of a SQLite connection the trim uses (bun:sqlite's Database). */
export type SqliteExec = { exec(sql: string): unknown };

/**
 * The trim itself, measured by bench/memory.ts (idle RSS after 1,000 requests):
 *  - `PRAGMA shrink_memory`: SQLite frees its page cache (up to 2 MiB by default, full after a few
 *    hundred request-log rows; −2.3 MiB). The next query reads its pages again from the OS's file
 *    cache; nothing on the request path waits for that (the request log is written in batches).
 *  - Bun.gc(true): a synchronous full collection of JavaScriptCore's heap, then mimalloc returning
 *    its free pages.
 *  - Bun.shrink(): JavaScriptCore drops compiled code and releases the heap blocks the collection
 *    emptied (−9 MiB).
 */
export function memoryTrim(sqlite?: SqliteExec): () => void {
  return () => {
    try {
      sqlite?.exec("PRAGMA shrink_memory;");
    } catch {
      // A closed or busy database only means there is nothing to give back this time.
    }
    Bun.gc(true);
    Bun.shrink();
  };
}

export class IdleTrim {
  private inFlight = 0;
  /** A request ran since the last trim. */
  private dirty = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Trims done (tests, the bench). */
  trims = 0;

  constructor(
    private readonly idleMs = 2000,
    private readonly trim: () => void = memoryTrim(),
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
