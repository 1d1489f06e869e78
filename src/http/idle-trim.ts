/**
 * Gives memory back once the server goes quiet. After a burst of requests the process holds what
 * the burst needed: JavaScriptCore's heap grows to its high-water mark and is only collected when
 * more allocation asks for it, mimalloc keeps freed pages for reuse, SQLite's page cache stays
 * full, and the compiled code of every function the requests ran stays resident. The trim runs in
 * two stages, each at most once per quiet period and never while a request is being served:
 *
 *  - light, `lightMs` (2 s) after the last request: first the deferred work registered in `quiet`
 *    (its garbage and compiled code then go with the rest), then what is cheap to get back (see
 *    MemoryTrim);
 *  - deep, `deepMs` (30 s) after it: JavaScriptCore also drops its compiled code.
 *
 * Why two. Dropping the compiled code is the largest single saving (~11 MiB of the settled RSS of
 * bench/memory.ts) but the next request pays for it: measured with bench/pause.ts (one 100-frame
 * answer after a pause, medians of six), a request after a 3 s pause cost 22.6 ms of CPU with
 * its first text at 21 ms when the code was dropped 2 s into every pause, against 2.6 ms and
 * 2.9 ms without a trim, and 3.7 ms and 3.7 ms with only the light stage. An agent's tool loop
 * pauses for seconds between requests (a build, a test run); 30 s without any request is a server
 * at rest, where a one-off recompile costs nobody anything noticeable.
 * One instance per server (src/http/dialects.ts), shared by every dialect route.
 */

/** The part of a SQLite connection the trim uses (bun:sqlite's Database). */
export type SqliteExec = { exec(sql: string): unknown };

/** The two stages of the trim. */
export type MemoryTrim = { light(): void; deep(): void };

/**
 * The trim itself, measured by bench/memory.ts (idle RSS after 1,000 requests):
 *  light:
 *  - `PRAGMA shrink_memory`: SQLite frees its page cache (up to 2 MiB by default, full after a few
 *    hundred request-log rows; −2.3 MiB). The next query reads its pages again from the OS's file
 *    cache; nothing on the request path waits for that (the request log is written in batches).
 *  - Bun.gc(true): a synchronous full collection of JavaScriptCore's heap, then mimalloc returning
 *    its free pages.
 *  deep: the light stage again, then
 *  - Bun.shrink(): JavaScriptCore drops compiled code and releases the heap blocks the collection
 *    emptied. Settled RSS of the executable (bench/memory.ts, 35 s idle): 74.6 MiB; with
 *    Bun.shrink() alone at this stage 80.7 MiB (the fresh collection before it matters), and
 *    without the deep stage 87.4.
 */
export function memoryTrim(sqlite?: SqliteExec): MemoryTrim {
  return {
    light() {
      try {
        sqlite?.exec("PRAGMA shrink_memory;");
      } catch {
        // A closed or busy database only means there is nothing to give back this time.
      }
      Bun.gc(true);
    },
    deep() {
      this.light();
      Bun.shrink();
    },
  };
}

export type IdleTrimOptions = {
  /** Quiet time before the light stage (ms). */
  lightMs?: number;
  /** Quiet time before the deep stage (ms), counted from the same last request. */
  deepMs?: number;
  /**
   * Work deferred to a quiet moment, run at the light stage before the trim (Services.onQuiet).
   * Read when the stage runs, so hooks added later are included; one that throws is skipped.
   */
  quiet?: ReadonlyArray<() => void>;
};

export class IdleTrim {
  private inFlight = 0;
  /** A request ran since the last light / deep stage. */
  private lightDue = false;
  private deepDue = false;
  private lightTimer: ReturnType<typeof setTimeout> | undefined;
  private deepTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly lightMs: number;
  private readonly deepMs: number;
  private readonly quiet: ReadonlyArray<() => void>;
  /** Stages run so far (tests, the bench). */
  trims = 0;
  deepTrims = 0;

  constructor(
    opts: IdleTrimOptions = {},
    private readonly trim: MemoryTrim = memoryTrim(),
  ) {
    this.lightMs = opts.lightMs ?? 2_000;
    this.deepMs = Math.max(opts.deepMs ?? 30_000, this.lightMs);
    this.quiet = opts.quiet ?? [];
  }

  /** A request started. */
  begin(): void {
    this.inFlight++;
    this.lightDue = this.deepDue = true;
    this.clearTimers();
  }

  /** A request (its whole response body included) finished. */
  end(): void {
    if (--this.inFlight > 0 || !this.deepDue) return;
    if (this.lightDue) {
      this.lightTimer = this.after(this.lightMs, () => {
        this.lightDue = false;
        this.trims++;
        for (const hook of this.quiet) {
          try {
            hook();
          } catch {
            // Deferred work reports its own failures; the trim runs regardless.
          }
        }
        this.trim.light();
      });
    }
    this.deepTimer = this.after(this.deepMs, () => {
      this.deepDue = false;
      this.deepTrims++;
      this.trim.deep();
    });
  }

  /** Runs `stage` after `ms` unless a request is in flight by then; a pending stage never keeps the process alive. */
  private after(ms: number, stage: () => void): ReturnType<typeof setTimeout> {
    const t = setTimeout(() => {
      if (this.inFlight === 0) stage();
    }, ms);
    t.unref?.();
    return t;
  }

  stop(): void {
    this.clearTimers();
  }

  private clearTimers(): void {
    clearTimeout(this.lightTimer);
    clearTimeout(this.deepTimer);
    this.lightTimer = this.deepTimer = undefined;
  }
}
