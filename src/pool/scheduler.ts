/**
 * Background work beside the request path (nothing on the request path waits on housekeeping):
 *  - proactive refresh ~10 min before expiry, jittered per account so a pool imported at once does
 *    not refresh at once; bounded concurrency; the TokenManager keeps it single-flight per account
 *    (a request needing the same account joins the same refresh instead of starting another);
 *  - quota polling, staggered, right after a refresh when it is due, plus soon after each 402;
 *  - a probe that re-enables auto-disabled accounts once they work again.
 * Cooling/exhausted accounts need no timer: the pool revives them when their until-time passes.
 */
import { createHash } from "node:crypto";
import { KiroError } from "../kiro/errors";
import type { KiroUpstreamConfig } from "../kiro/config";
import type { AccountPool } from "./pool";
import { AUTO_DISABLED } from "./records";
import type { AccountView } from "./types";

export type SchedulerOptions = {
  tickMs?: number;
  refreshAheadMs?: number;
  /** Spread of the per-account refresh/quota offsets. */
  jitterMs?: number;
  concurrency?: number;
  quotaIntervalMs?: number;
  probeIntervalMs?: number;
  now?: () => number;
};

type Backoff = { failures: number; nextAt: number };

export class PoolScheduler {
  private timer?: ReturnType<typeof setInterval>;
  private readonly queue: Array<{ key: string; run: () => Promise<void> }> = [];
  private readonly queued = new Set<string>();
  private running = 0;
  private waiters: Array<() => void> = [];
  private readonly backoff = new Map<string, Backoff>();
  private lastProbeAt = 0;
  private readonly o: Required<Omit<SchedulerOptions, "now">>;
  private readonly now: () => number;

  /**
   * `_upstream` is unused (the pool holds the upstream configuration); kept so existing callers
   * compile.
   */
  constructor(private readonly pool: AccountPool, _upstream: KiroUpstreamConfig, private readonly log: { info: (m: string, f?: Record<string, unknown>) => void; warn: (m: string, f?: Record<string, unknown>) => void }, opts: SchedulerOptions = {}) {
    this.o = {
      tickMs: opts.tickMs ?? 30_000,
      refreshAheadMs: opts.refreshAheadMs ?? 10 * 60_000,
      jitterMs: opts.jitterMs ?? 2 * 60_000,
      concurrency: opts.concurrency ?? 4,
      quotaIntervalMs: opts.quotaIntervalMs ?? 15 * 60_000,
      probeIntervalMs: opts.probeIntervalMs ?? 5 * 60_000,
    };
    this.now = opts.now ?? Date.now;
    pool.onQuotaWanted((id) => this.enqueue(`quota:${id}`, () => this.pollQuota(id)));
  }

  start(): void {
    if (this.timer) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.o.tickMs);
    (this.timer as { unref?: () => void }).unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
    this.queued.clear();
    this.pool.onQuotaWanted(undefined);
  }

  /** Resolves when every queued task has finished (tests). */
  idle(): Promise<void> {
    if (!this.running && !this.queue.length) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  /** One pass over the accounts: O(n) in the background, cheap (no I/O unless work is due). */
  tick(): void {
    const now = this.now();
    // Ended cooldowns become active (and say so in the log) even when no request arrives.
    this.pool.recoverDue(now);
    const probe = now - this.lastProbeAt >= this.o.probeIntervalMs;
    if (probe) this.lastProbeAt = now;
    for (const a of this.pool.list()) {
      const id = a.id;
      const b = this.backoff.get(id);
      if (b && b.nextAt > now) continue;
      if (a.state === "disabled") {
        if (probe && a.stateReason?.startsWith(AUTO_DISABLED)) this.enqueue(`probe:${id}`, () => this.probe(id));
        continue;
      }
      if (this.refreshDue(a, now)) this.enqueue(`refresh:${id}`, () => this.refresh(id));
      else if (this.quotaDue(a, now)) this.enqueue(`quota:${id}`, () => this.pollQuota(id));
    }
  }

  private offset(id: string, span: number): number {
    return createHash("sha256").update(id).digest().readUInt32BE(0) % Math.max(1, span);
  }

  private refreshDue(a: AccountView, now: number): boolean {
    if (a.kind === "api_key") return false;
    const exp = a.accessExpiresAt;
    return exp == null || exp - now < this.o.refreshAheadMs + this.offset(a.id, this.o.jitterMs);
  }

  private quotaDue(a: AccountView, now: number): boolean {
    const at = a.quotaFetchedAt;
    return at == null || now - at > this.o.quotaIntervalMs + this.offset(`q${a.id}`, this.o.jitterMs);
  }

  private enqueue(key: string, run: () => Promise<void>): void {
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push({ key, run });
    this.pump();
  }

  private pump(): void {
    while (this.running < this.o.concurrency && this.queue.length) {
      const task = this.queue.shift()!;
      this.running++;
      task
        .run()
        .catch(() => { /* each task records its own failure */ })
        .finally(() => {
          this.running--;
          this.queued.delete(task.key);
          this.pump();
          if (!this.running && !this.queue.length) for (const w of this.waiters.splice(0)) w();
        });
    }
  }

  private failed(id: string, what: string, err: unknown): void {
    const b = this.backoff.get(id) ?? { failures: 0, nextAt: 0 };
    b.failures++;
    // At least 30 s apart (the auth service throttles faster retries), doubling, capped at 10 min.
    b.nextAt = this.now() + Math.min(30_000 * 2 ** (b.failures - 1), 10 * 60_000);
    this.backoff.set(id, b);
    this.log.warn(`background ${what} failed for account ${this.pool.get(id)?.label ?? id}: ${err instanceof KiroError ? err.cls : String(err)}`, { accountId: id });
  }

  private async refresh(id: string): Promise<void> {
    const a = this.pool.get(id);
    if (!a || a.state === "disabled" || !this.refreshDue(a, this.now())) return;
    try {
      await this.pool.refreshAhead(id, this.o.refreshAheadMs + this.offset(id, this.o.jitterMs));
      this.backoff.delete(id);
      // A due quota poll follows at once instead of at the next tick: an account imported at
      // start (refreshed by the first tick) shows its quota and models right away.
      const after = this.pool.get(id);
      if (after && after.state !== "disabled" && this.quotaDue(after, this.now())) this.enqueue(`quota:${id}`, () => this.pollQuota(id));
    } catch (err) {
      this.failed(id, "refresh", err);
    }
  }

  private async pollQuota(id: string): Promise<void> {
    const a = this.pool.get(id);
    if (!a || a.state === "disabled") return;
    try {
      await this.pool.checkQuota(id);
      this.backoff.delete(id);
    } catch (err) {
      this.failed(id, "quota poll", err);
    }
  }

  private async probe(id: string): Promise<void> {
    const a = this.pool.get(id);
    if (!a) return;
    try {
      await this.pool.probe(id);
      this.log.info(`probe: account ${a.label} works again`, { accountId: id });
    } catch (err) {
      this.failed(id, "probe", err);
    }
  }
}
