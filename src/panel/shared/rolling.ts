import type { RequestLogQueries } from "../../logs/request-log";

/**
 * Last-24-hours traffic kept in memory as one-minute buckets (total and per client key), so the
 * dashboard charts and per-key usage cost O(buckets) instead of a scan of the day's request rows.
 * Seeded once from the request log (one GROUP BY over the indexed `at` range) on first use, then
 * kept current from the bus's "request" events.
 */
const MINUTE = 60_000;
const WINDOW_MIN = 24 * 60 + 60; // a day plus the partial hour at each edge

type Cell = { requests: number; tokens: number; errors: number };
export type Bucket = { i: number; requests: number; tokens: number; errors: number };
export type Series = { start: number; stepMs: number; buckets: Bucket[]; requests: number; tokens: number; errors: number };
export type KeyUsage = { clientKeyId: string; requests: number; tokens: number; errors: number };
export type RequestEvent = { at: number; status: number; clientKeyId?: string | null; inputTokens?: number | null; outputTokens?: number | null };

export class RollingStats {
  private total = new Map<number, Cell>();
  private byKey = new Map<string, Map<number, Cell>>();
  private seeded = false;

  constructor(private readonly log: Pick<RequestLogQueries, "minuteCounts">, private readonly flushPending: () => void, private readonly now: () => number = Date.now) {}

  /** Counts one finished request (ignored until seeded: the seed reads it from the table). */
  add(e: RequestEvent): void {
    if (!this.seeded) return;
    const tokens = (e.inputTokens ?? 0) + (e.outputTokens ?? 0);
    const m = Math.floor(e.at / MINUTE);
    bump(this.total, m, 1, tokens, e.status >= 400 ? 1 : 0);
    if (e.clientKeyId) {
      let k = this.byKey.get(e.clientKeyId);
      if (!k) this.byKey.set(e.clientKeyId, (k = new Map()));
      bump(k, m, 1, tokens, e.status >= 400 ? 1 : 0);
    }
    if (this.total.size > WINDOW_MIN * 1.2) this.trim();
  }

  private seed(): void {
    this.flushPending(); // queued rows go to the table first, so none is counted twice or missed
    const since = (Math.floor(this.now() / MINUTE) - WINDOW_MIN) * MINUTE;
    const rows = this.log.minuteCounts(since);
    this.total.clear();
    this.byKey.clear();
    for (const r of rows) {
      bump(this.total, r.minute, r.requests, r.tokens, r.errors);
      if (r.clientKeyId) {
        let k = this.byKey.get(r.clientKeyId);
        if (!k) this.byKey.set(r.clientKeyId, (k = new Map()));
        bump(k, r.minute, r.requests, r.tokens, r.errors);
      }
    }
    this.seeded = true;
  }

  /** Seeds ahead of the first panel view (called once from a timer shortly after start). */
  warm(): void {
    this.ready();
  }

  private ready(): void {
    if (!this.seeded) this.seed();
  }

  /** `count` buckets of `stepMs` (a whole number of minutes) ending with the current one. */
  series(stepMs: number, count: number): Series {
    this.ready();
    const stepMin = Math.max(1, Math.round(stepMs / MINUTE));
    const endMin = (Math.floor(this.now() / MINUTE / stepMin) + 1) * stepMin;
    const startMin = endMin - stepMin * count;
    const buckets: Bucket[] = Array.from({ length: count }, (_, i) => ({ i, requests: 0, tokens: 0, errors: 0 }));
    for (const [m, c] of this.total) {
      if (m < startMin || m >= endMin) continue;
      const b = buckets[Math.floor((m - startMin) / stepMin)]!;
      b.requests += c.requests;
      b.tokens += c.tokens;
      b.errors += c.errors;
    }
    const sum = (f: (b: Bucket) => number) => buckets.reduce((a, b) => a + f(b), 0);
    return { start: startMin * MINUTE, stepMs: stepMin * MINUTE, buckets, requests: sum((b) => b.requests), tokens: sum((b) => b.tokens), errors: sum((b) => b.errors) };
  }

  /** Requests/tokens/errors per client key since `since`. */
  keyUsageSince(since: number): Map<string, KeyUsage> {
    this.ready();
    const from = Math.floor(since / MINUTE);
    const out = new Map<string, KeyUsage>();
    for (const [id, cells] of this.byKey) {
      const u: KeyUsage = { clientKeyId: id, requests: 0, tokens: 0, errors: 0 };
      for (const [m, c] of cells) if (m >= from) { u.requests += c.requests; u.tokens += c.tokens; u.errors += c.errors; }
      out.set(id, u);
    }
    return out;
  }

  private trim(): void {
    const oldest = Math.floor(this.now() / MINUTE) - WINDOW_MIN;
    for (const m of this.total.keys()) if (m < oldest) this.total.delete(m);
    for (const cells of this.byKey.values()) for (const m of cells.keys()) if (m < oldest) cells.delete(m);
  }
}

function bump(map: Map<number, Cell>, m: number, n: number, t: number, e: number): void {
  const c = map.get(m);
  if (c) { c.requests += n; c.tokens += t; c.errors += e; }
  else map.set(m, { requests: n, tokens: t, errors: e });
}
