import type { RollupReader } from "../../logs/request-reads";
import type { KeyUsage, RollingStats, Series } from "./rolling";

const MINUTE = 60_000;
const HOUR = 3_600_000;

/** The dashboard's recent traffic and the keys page's 24 h usage per key. */
export interface Traffic {
  /** `count` buckets of `stepMs` (a whole number of minutes) ending with the current one. */
  series(stepMs: number, count: number): Promise<Series>;
  /** Requests/tokens/errors per client key since `since`. */
  keyUsageSince(since: number): Promise<Map<string, KeyUsage>>;
}

/** One instance (SQLite): the in-memory minute buckets, kept current from this process's bus. */
export function localTraffic(rolling: RollingStats): Traffic {
  return {
    series: async (stepMs, count) => rolling.series(stepMs, count),
    keyUsageSince: async (since) => rolling.keyUsageSince(since),
  };
}

/**
 * Several instances (PostgreSQL): the bus only sees this instance's requests, so each view reads
 * the cluster's aggregates instead — one GROUP BY over at most an hour of minute rows or a day
 * of hour rows per chart, and a day of minute rows per key for the keys page.
 */
export class ClusterTraffic implements Traffic {
  constructor(private readonly rollups: RollupReader, private readonly now: () => number = Date.now) {}

  async series(stepMs: number, count: number): Promise<Series> {
    const stepMin = Math.max(1, Math.round(stepMs / MINUTE));
    const endMin = (Math.floor(this.now() / MINUTE / stepMin) + 1) * stepMin;
    const start = (endMin - stepMin * count) * MINUTE;
    const step = stepMin * MINUTE;
    const buckets = Array.from({ length: count }, (_, i) => ({ i, requests: 0, tokens: 0, errors: 0 }));
    // Whole hours read the hour aggregates (same buckets, a sixtieth of the rows).
    const source = step % HOUR === 0 ? HOUR : MINUTE;
    for (const p of await this.rollups.series(source, step, start, endMin * MINUTE)) {
      const b = buckets[Math.floor((p.bucket - start) / step)];
      if (!b) continue;
      b.requests += p.requests;
      b.tokens += p.inputTokens + p.outputTokens;
      b.errors += p.errors;
    }
    const sum = (f: (b: (typeof buckets)[number]) => number) => buckets.reduce((a, b) => a + f(b), 0);
    return { start, stepMs: step, buckets, requests: sum((b) => b.requests), tokens: sum((b) => b.tokens), errors: sum((b) => b.errors) };
  }

  async keyUsageSince(since: number): Promise<Map<string, KeyUsage>> {
    const from = Math.floor(since / MINUTE) * MINUTE;
    const out = new Map<string, KeyUsage>();
    for (const s of await this.rollups.breakdown(MINUTE, "key", from, this.now() + MINUTE, 100_000)) {
      if (s.value) out.set(s.value, { clientKeyId: s.value, requests: s.requests, tokens: s.inputTokens + s.outputTokens, errors: s.errors });
    }
    return out;
  }
}
