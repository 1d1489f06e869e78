import type { Logger } from "../../../logs/logger";

/**
 * The PostgreSQL repositories' writes, off the request path: each write is queued and sent in
 * order (one at a time, so a row's writes land in the order they were made). A failed write is
 * retried with a growing pause and logged; after `maxAttempts` it is dropped with an error line
 * (memory keeps the state; the next write of the row, or the reconcile, repairs the difference).
 */
export class WriteQueue {
  private readonly ops: Array<{ what: string; run: () => Promise<void> }> = [];
  private running: Promise<void> | null = null;
  private idle: Array<() => void> = [];

  constructor(readonly log?: Logger, readonly maxAttempts = 6, readonly pauseMs = 250) {}

  /** Queues a write; returns at once. */
  push(what: string, run: () => Promise<void>): void {
    this.ops.push({ what, run });
    this.running ??= this.drain();
  }

  /** Writes queued (or running) for which `what` starts with the prefix. */
  has(prefix: string): boolean {
    return this.ops.some((o) => o.what.startsWith(prefix)) || this.current?.startsWith(prefix) === true;
  }

  get size(): number {
    return this.ops.length + (this.current ? 1 : 0);
  }

  /**
   * Resolves once no write whose `what` starts with `prefix` is queued or running (stored or given
   * up), without waiting for the rest of the queue.
   */
  settled(prefix: string): Promise<void> {
    if (!this.has(prefix)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ prefix, resolve }));
  }

  private waiters: Array<{ prefix: string; resolve: () => void }> = [];

  /** Resolves once everything queued so far is stored (or given up). */
  flush(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private current: string | null = null;

  private async drain(): Promise<void> {
    while (this.ops.length) {
      const op = this.ops.shift()!;
      this.current = op.what;
      for (let attempt = 1; ; attempt++) {
        try {
          await op.run();
          break;
        } catch (e) {
          const error = writeError(e);
          if (attempt >= this.maxAttempts) {
            this.log?.error(`database write given up after ${attempt} attempts: ${op.what}`, { error });
            break;
          }
          this.log?.warn(`database write failed, retrying: ${op.what}`, { error, attempt });
          await Bun.sleep(this.pauseMs * 2 ** (attempt - 1));
        }
      }
      this.current = null;
      if (this.waiters.length) this.waiters = this.waiters.filter((w) => this.has(w.prefix) || (w.resolve(), false));
    }
    this.running = null;
    for (const fn of this.idle.splice(0)) fn();
  }
}

/**
 * What went wrong, as the database said it ("deadlock detected", "connection closed"): drizzle
 * wraps the driver's error in one that quotes the statement and its parameters, which say little
 * and may hold stored values.
 */
export function writeError(e: unknown): string {
  const cause = (e as { cause?: unknown })?.cause;
  if (cause instanceof Error && cause.message) return cause.message;
  return e instanceof Error ? e.message : String(e);
}
