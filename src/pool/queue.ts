/**
 * The wait queue: when every account that could serve a request is at its pacing or concurrency
 * limit, the request waits here — first come, first served — for at most the queueWaitMs setting,
 * then gets PoolUnavailable "all_at_limit" (the client hears 429 with Retry-After).
 *
 * Fairness: a new request never overtakes a waiting one (it queues behind as soon as anyone
 * waits). When an account gets head-room (a request ended, a pacing slot came, an account
 * recovered or was enabled), the waiters are offered it in arrival order; a waiter that cannot use
 * it (account already tried, model not in its plan) lets the next one have it rather than holding
 * up the line. Nothing here polls: the pool calls `wake()` when an account becomes pickable, and
 * one timer wakes the queue at the next pacing slot or recovery time.
 */
import type { Logger } from "../logs/logger";
import type { Unpicked } from "./views";
import type { AcquireOptions, PoolLease, PoolUnavailable } from "./types";

/** Bound on waiting requests; beyond it a request is answered at once. */
export const MAX_WAITERS = 10_000;
/** The wake-up timer never sleeps longer than this (a recovery may be weeks away; waits are minutes). */
const MAX_TIMER_MS = 60_000;

export type QueueStats = {
  /** Requests waiting now. */
  waiting: number;
  /** Milliseconds the oldest waiting request has waited. */
  oldestWaitMs: number;
  /** Requests that had to wait, since start. */
  queuedTotal: number;
  /** Of those: served by an account after waiting. */
  servedTotal: number;
  /** Of those: answered "all at limit" after the wait (or at once when the queue was full). */
  timedOutTotal: number;
  /** Of those: the client went away while waiting. */
  abandonedTotal: number;
  /** Total time spent waiting by requests that left the queue (ms). */
  waitedMsTotal: number;
};

/** What the queue needs from the pool. */
export type QueueHooks = {
  now: () => number;
  log: Logger;
  /** Recover due accounts and release due pacing slots (before a pick). */
  prepare(now: number): void;
  /** One pick attempt; a lease carries the time the request waited. */
  take(opts: AcquireOptions, now: number, waitedMs: number): PoolLease | Unpicked;
  /** Whether any account is pickable at all (the drain stops at once when none is). */
  anyPickable(): boolean;
  /** The next time an account becomes free by itself (pacing slot, recovery), if any. */
  nextWake(): number | undefined;
  queueWaitMs(): number;
  /** The answer after waiting in vain: the limits in words and when to retry. */
  timedOut(u: PoolUnavailable, waitedMs: number): PoolUnavailable;
};

type Waiter = {
  opts: AcquireOptions;
  since: number;
  resolve: (r: PoolLease | PoolUnavailable) => void;
  reject: (e: Error) => void;
  timer?: ReturnType<typeof setTimeout>;
  signal?: AbortSignal;
  onAbort?: () => void;
  done: boolean;
};

export class WaitQueue {
  private waiters: Waiter[] = [];
  private live = 0;
  private draining = false;
  private drainQueued = false;
  private wakeTimer: ReturnType<typeof setTimeout> | undefined;
  private wakeAt = Infinity;
  private closed = false;
  private readonly stats = { queuedTotal: 0, servedTotal: 0, timedOutTotal: 0, abandonedTotal: 0, waitedMsTotal: 0 };
  /** Waiters in the current episode (from the first waiter until the queue is empty again), for the log. */
  private episode = { queued: 0, maxWaitMs: 0 };

  constructor(private readonly h: QueueHooks) {}

  get size(): number {
    return this.live;
  }

  /**
   * A lease now, a lease after waiting, or why none: at once when waiting cannot help (nothing
   * configured, everything cooling, exhausted or disabled), after the wait when every account
   * that could serve stayed at its limit. Rejects when `signal` aborts while waiting.
   */
  acquire(opts: AcquireOptions, signal?: AbortSignal): Promise<PoolLease | PoolUnavailable> {
    if (signal?.aborted) return Promise.reject(abortError());
    const now = this.h.now();
    if (this.live === 0) {
      this.h.prepare(now);
      const got = this.h.take(opts, now, 0);
      if (!("u" in got)) return Promise.resolve(got);
      if (got.atLimit === 0) return Promise.resolve(got.u);
      if (this.h.queueWaitMs() === 0 || this.closed) return Promise.resolve(this.h.timedOut(got.u, 0));
    } else if (this.live >= MAX_WAITERS || this.closed) {
      const got = this.h.take(opts, now, 0);
      if (!("u" in got)) return Promise.resolve(got);
      if (got.atLimit === 0) return Promise.resolve(got.u);
      this.stats.timedOutTotal++;
      return Promise.resolve(this.h.timedOut(got.u, 0));
    }
    return new Promise((resolve, reject) => {
      const w: Waiter = { opts, since: now, resolve, reject, signal, done: false };
      w.timer = setTimeout(() => this.expire(w), this.h.queueWaitMs());
      if (signal) {
        w.onAbort = () => this.abandon(w);
        signal.addEventListener("abort", w.onAbort, { once: true });
      }
      this.waiters.push(w);
      this.live++;
      this.stats.queuedTotal++;
      if (this.episode.queued++ === 0) {
        this.h.log.info(`every account that can serve is at its pacing or concurrency limit: requests wait up to ${this.h.queueWaitMs()} ms in the queue`);
      }
      this.h.log.debug("request queued for an account", { position: this.live, model: opts.model });
      // An account may be free for this request although earlier waiters could not use it.
      this.drain();
    });
  }

  /** An account became pickable: serve waiters (once per microtask however many accounts changed). */
  wake(): void {
    if (this.live === 0 || this.drainQueued) return;
    this.drainQueued = true;
    queueMicrotask(() => {
      this.drainQueued = false;
      this.drain();
    });
  }

  snapshot(): QueueStats {
    const now = this.h.now();
    const first = this.waiters.find((w) => !w.done);
    return { waiting: this.live, oldestWaitMs: first ? now - first.since : 0, ...this.stats };
  }

  /** Shutdown: every waiter is answered now, and none is given an account any more. */
  close(): void {
    this.closed = true;
    clearTimeout(this.wakeTimer);
    const now = this.h.now();
    for (const w of this.waiters) {
      if (w.done) continue;
      this.settle(w, now);
      this.stats.timedOutTotal++;
      w.resolve({ unavailable: true, reason: "all_at_limit", retryAt: now + 5000, message: "the server is shutting down" });
    }
    this.waiters = [];
  }

  /** Offers free accounts to the waiters in arrival order. */
  drain(): void {
    if (this.draining || this.live === 0 || this.closed) return;
    this.draining = true;
    try {
      const now = this.h.now();
      this.h.prepare(now);
      for (const w of this.waiters) {
        if (this.live === 0 || !this.h.anyPickable()) break;
        if (w.done) continue;
        const got = this.h.take(w.opts, now, now - w.since);
        if (!("u" in got)) {
          this.stats.servedTotal++;
          this.settle(w, now);
          w.resolve(got);
        } else if (got.atLimit === 0) {
          // Waiting cannot help this one any more (its accounts were disabled, cooled, removed).
          this.settle(w, now);
          w.resolve(got.u);
        }
      }
    } finally {
      this.draining = false;
    }
    this.compact();
    this.arm();
  }

  private expire(w: Waiter): void {
    if (w.done) return;
    const now = this.h.now();
    this.h.prepare(now);
    const got = this.h.take(w.opts, now, now - w.since);
    this.settle(w, now);
    if (!("u" in got)) {
      // The slot came just as the time ran out.
      this.stats.servedTotal++;
      w.resolve(got);
    } else {
      this.stats.timedOutTotal++;
      w.resolve(got.atLimit === 0 ? got.u : this.h.timedOut(got.u, now - w.since));
    }
    this.compact();
    this.arm();
  }

  private abandon(w: Waiter): void {
    if (w.done) return;
    this.stats.abandonedTotal++;
    this.settle(w, this.h.now());
    w.reject(abortError());
    this.compact();
    this.arm();
  }

  private settle(w: Waiter, now: number): void {
    w.done = true;
    this.live--;
    clearTimeout(w.timer);
    if (w.signal && w.onAbort) w.signal.removeEventListener("abort", w.onAbort);
    const waited = now - w.since;
    this.stats.waitedMsTotal += waited;
    this.episode.maxWaitMs = Math.max(this.episode.maxWaitMs, waited);
    if (this.live === 0) {
      this.h.log.info(`the account queue is empty again: ${this.episode.queued} request${this.episode.queued === 1 ? "" : "s"} waited, the longest ${this.episode.maxWaitMs} ms`);
      this.episode = { queued: 0, maxWaitMs: 0 };
    }
  }

  private compact(): void {
    if (this.live === 0) this.waiters = [];
    else if (this.waiters.length > 64 && this.live * 2 < this.waiters.length) this.waiters = this.waiters.filter((w) => !w.done);
  }

  /** One timer for the next time an account frees itself (pacing slot or recovery). */
  private arm(): void {
    const at = this.live > 0 ? this.h.nextWake() : undefined;
    if (at === undefined) {
      if (this.wakeTimer) clearTimeout(this.wakeTimer);
      this.wakeTimer = undefined;
      this.wakeAt = Infinity;
      return;
    }
    if (this.wakeTimer && this.wakeAt <= at) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      this.wakeAt = Infinity;
      this.drain();
    }, Math.min(Math.max(0, at - this.h.now()) + 1, MAX_TIMER_MS));
    (this.wakeTimer as { unref?: () => void }).unref?.();
  }
}

function abortError(): Error {
  const e = new Error("client closed the request while it waited for an account");
  e.name = "AbortError";
  return e;
}
