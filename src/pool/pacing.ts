/**
 * Pacing per account: how many requests one account may start per pacing window (the accountRpm
 * setting over pacingWindowMs, a minute by default) and the least time between two of them
 * (accountMinSpacingMs). Kiro flags accounts that send bursts ("suspicious activity" 429s), so the
 * pool spreads requests instead of sending them as fast as they come.
 *
 * Each account keeps the start times of its requests within the window. After a start, an
 * account that has no head-room left is "paced" until its next free slot: its selection weight is
 * 0 (the picker prefers accounts with head-room, in O(log n)) and a heap says when it is free
 * again, so nothing scans the accounts to find out.
 */
import { TimeHeap } from "./heap";
import type { AccountTable, Rec } from "./records";

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

/** What the views show about an account's pacing. */
export type PacingView = {
  /** Requests started on the account within the last pacing window. */
  recentRequests: number;
  windowMs: number;
  /** The account's limit per window (0 = none). */
  limit: number;
  /** When the account may start its next request (epoch ms); absent when it may now. */
  nextSlotAt?: number;
};

export class Pacer {
  private readonly heap = new TimeHeap();

  constructor(private readonly table: AccountTable) {}

  limits(): PaceLimits {
    const r = this.table.deps.settings.runtime;
    return { rpm: r.accountRpm, windowMs: r.pacingWindowMs, minSpacingMs: r.accountMinSpacingMs };
  }

  /** Earliest time a new request may start on the account (≤ now: it may start now). */
  nextFree(p: PaceState, now: number, l = this.limits()): number {
    p.trim(now, l.windowMs);
    let t = l.minSpacingMs > 0 ? p.last + l.minSpacingMs : 0;
    const n = p.count();
    if (l.rpm > 0 && n >= l.rpm) t = Math.max(t, p.starts[p.head + n - l.rpm]! + l.windowMs);
    return t;
  }

  /** A request starts on the account now (leased, or retried on the same lease). */
  record(rec: Rec, now: number): void {
    const p = rec.pace;
    p.starts.push(now);
    p.last = Math.max(p.last, now);
    this.update(rec, now);
  }

  /** Paced accounts whose next slot has come get their weight back (O(log n) each). */
  releaseDue(now: number): void {
    for (;;) {
      const t = this.heap.peekTime();
      if (t === undefined || t > now) return;
      const { id } = this.heap.pop()!;
      const rec = this.table.get(id);
      if (!rec || rec.pace.until === 0 || rec.pace.until > now) continue; // stale entry
      rec.pace.until = 0;
      this.table.reweigh(rec);
    }
  }

  /** When the next paced account becomes free (for the queue's wake-up timer). */
  nextWake(): number | undefined {
    return this.heap.peekTime();
  }

  /** After a settings change: every account's head-room recomputed. O(n), rare. */
  relimit(now: number): void {
    const l = this.limits();
    for (const rec of this.table.values()) this.update(rec, now, l);
  }

  view(rec: Rec, now: number): PacingView {
    const l = this.limits();
    const next = this.nextFree(rec.pace, now, l);
    return { recentRequests: rec.pace.count(), windowMs: l.windowMs, limit: l.rpm, ...(next > now ? { nextSlotAt: next } : {}) };
  }

  /** "20 requests per 60 s, one every 1 s": the limits in words, for messages. */
  describe(): string {
    const l = this.limits();
    const parts: string[] = [];
    if (l.rpm > 0) parts.push(`${l.rpm} request${l.rpm === 1 ? "" : "s"} per ${seconds(l.windowMs)}`);
    if (l.minSpacingMs > 0) parts.push(`one every ${seconds(l.minSpacingMs)}`);
    return parts.join(", ") || "no pacing";
  }

  private update(rec: Rec, now: number, l = this.limits()): void {
    const next = this.nextFree(rec.pace, now, l);
    const before = rec.pace.until;
    rec.pace.until = next > now ? next : 0;
    if (rec.pace.until !== 0 && rec.pace.until !== before) this.heap.push(rec.pace.until, rec.row.id);
    if ((before === 0) !== (rec.pace.until === 0)) this.table.reweigh(rec);
  }
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
