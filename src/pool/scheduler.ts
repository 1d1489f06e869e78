/**
 * Background work beside the request path (architecture.md: nothing on the request path waits on
 * housekeeping):
 *  - proactive refresh ~10 min before expiry, jittered per account so a pool imported at once does
 *    not refresh at once; bounded concurrency; the TokenManager keeps it single-flight per account
 *    (a request needing the same account joins the same refresh instead of starting another);
 *  - quota polling, staggered, plus soon after each 402;
 *  - a probe that re-enables auto-disabled accounts once they work again.
 * Cooling/exhausted accounts need no timer: the pool revives them when their until-time passes.
 */
import { createHash } from "node:crypto";
import { KiroError } from "../kiro/errors";
import { getUsageLimits } from "../kiro/usage";
import type { AccountPool, Rec } from "./pool";
import { AUTO_DISABLED } from "./pool";

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

  constructor(private readonly pool: AccountPool, private readonly upstream: Parameters<typeof getUsageLimits>[1], private readonly log: { info: (m: string, f?: Record<string, unknown>) => void; warn: (m: string, f?: Record<string, unknown>) => void }, opts: SchedulerOptions = {}) {
    this.o = {
      tickMs: opts.tickMs ?? 30_000,
      refreshAheadMs: opts.refreshAheadMs ?? 10 * 60_000,
      jitterMs: opts.jitterMs ?? 2 * 60_000,
      concurrency: opts.concurrency ?? 4,
      quotaIntervalMs: opts.quotaIntervalMs ?? 15 * 60_000,
      probeIntervalMs: opts.probeIntervalMs ?? 5 * 60_000,
    };
    this.now = opts.now ?? Date.now;
    pool.quotaWanted = (id) => this.enqueue(`quota:${id}`, () => this.pollQuota(id));
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
    if (this.pool.quotaWanted) this.pool.quotaWanted = undefined;
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
    for (const rec of this.pool.records()) {
      const id = rec.row.id;
      const b = this.backoff.get(id);
      if (b && b.nextAt > now) continue;
      if (rec.row.state === "disabled") {
        if (probe && rec.row.stateReason?.startsWith(AUTO_DISABLED)) this.enqueue(`probe:${id}`, () => this.probe(id));
        continue;
      }
      if (this.refreshDue(rec, now)) this.enqueue(`refresh:${id}`, () => this.refresh(id));
      else if (this.quotaDue(rec, now)) this.enqueue(`quota:${id}`, () => this.pollQuota(id));
    }
  }

  private offset(id: string, span: number): number {
    return createHash("sha256").update(id).digest().readUInt32BE(0) % Math.max(1, span);
  }

  private refreshDue(rec: Rec, now: number): boolean {
    if (rec.row.kind === "api_key") return false;
    const exp = rec.row.accessExpiresAt;
    return exp == null || exp - now < this.o.refreshAheadMs + this.offset(rec.row.id, this.o.jitterMs);
  }

  private quotaDue(rec: Rec, now: number): boolean {
    const at = rec.row.quotaFetchedAt;
    return at == null || now - at > this.o.quotaIntervalMs + this.offset(`q${rec.row.id}`, this.o.jitterMs);
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
    // ≥ 30 s apart (§2.4), doubling, capped at 10 min.
    b.nextAt = this.now() + Math.min(30_000 * 2 ** (b.failures - 1), 10 * 60_000);
    this.backoff.set(id, b);
    this.log.warn(`background ${what} failed for account ${this.pool.rec(id)?.row.label ?? id}: ${err instanceof KiroError ? err.cls : String(err)}`, { accountId: id });
  }

  private async refresh(id: string): Promise<void> {
    const rec = this.pool.rec(id);
    if (!rec || rec.row.state === "disabled" || !this.refreshDue(rec, this.now())) return;
    try {
      await this.pool.credentialsFor(rec, true, rec.plain.access);
      this.backoff.delete(id);
    } catch (err) {
      this.pool.refreshFailed(rec, err);
      this.failed(id, "refresh", err);
    }
  }

  private async pollQuota(id: string): Promise<void> {
    const rec = this.pool.rec(id);
    if (!rec || rec.row.state === "disabled") return;
    try {
      await this.pool.checkQuota(id);
      this.backoff.delete(id);
    } catch (err) {
      this.failed(id, "quota poll", err);
    }
  }

  private async probe(id: string): Promise<void> {
    const rec = this.pool.rec(id);
    if (!rec) return;
    try {
      const creds = await this.pool.credentialsFor(rec, rec.row.kind !== "api_key", rec.plain.access);
      const q = await getUsageLimits(creds, this.upstream);
      this.pool.applyQuota(rec, q);
      this.pool.probeSucceeded(id);
      this.log.info(`probe: account ${rec.row.label} works again`, { accountId: id });
    } catch (err) {
      if (err instanceof KiroError && err.cls === "dead_refresh_token") this.pool.refreshFailed(rec, err);
      this.failed(id, "probe", err);
    }
  }
}
