import { and, eq, lt, sql } from "drizzle-orm";
import { KEEP, STEPS } from "../../logs/request-rollup";
import type { Dim, Totals } from "../../logs/request-reads";
import { requestLog, requestRollup } from "../schema-pg";
import type { PgDb } from "./client";

type Tx = Parameters<Parameters<PgDb["transaction"]>[0]>[0];
export type PgRequestLogRow = typeof requestLog.$inferInsert;
type RollupRow = Totals & { step: number; dim: Dim; bucket: number; value: string };

/** What the aggregates are made of, read back from the rows an INSERT really stored. */
const FOLDED = {
  at: requestLog.at, model: requestLog.model, accountId: requestLog.accountId, clientKeyId: requestLog.clientKeyId, status: requestLog.status,
  inputTokens: requestLog.inputTokens, outputTokens: requestLog.outputTokens, cachedTokens: requestLog.cachedTokens, latencyMs: requestLog.latencyMs, credits: requestLog.credits,
};
type Folded = { [K in keyof typeof FOLDED]: (typeof requestLog.$inferSelect)[K] };
const DIMS: Dim[] = ["total", "model", "account", "key"];
const dimValue = (r: Folded, dim: Dim): string =>
  dim === "model" ? r.model ?? "" : dim === "account" ? r.accountId ?? "" : dim === "key" ? r.clientKeyId ?? "" : "";

/**
 * The usage charts' aggregates of some log rows (every step and dimension), the same sums the
 * SQLite fold computes (src/logs/request-rollup.ts), sorted by primary key: two instances adding
 * to the same buckets then lock those rows in the same order and cannot deadlock.
 */
export function rollupRows(rows: Folded[]): RollupRow[] {
  const out = new Map<string, RollupRow>();
  for (const r of rows) {
    for (const step of STEPS) {
      const bucket = Math.floor(r.at / step) * step;
      for (const dim of DIMS) {
        const value = dimValue(r, dim);
        const id = `${step}\u0000${dim}\u0000${bucket}\u0000${value}`;
        let a = out.get(id);
        if (!a) out.set(id, (a = { step, dim, bucket, value, requests: 0, errors: 0, inputTokens: 0, outputTokens: 0, cachedTokens: 0, latencyMsSum: 0, latencyCount: 0, credits: 0 }));
        a.requests += 1;
        if (r.status >= 400) a.errors += 1;
        a.inputTokens += r.inputTokens ?? 0;
        a.outputTokens += r.outputTokens ?? 0;
        a.cachedTokens += r.cachedTokens ?? 0;
        if (r.latencyMs != null) { a.latencyMsSum += r.latencyMs; a.latencyCount += 1; }
        a.credits += r.credits ?? 0;
      }
    }
  }
  const cmp = (x: string | number, y: string | number) => (x < y ? -1 : x > y ? 1 : 0);
  return [...out.values()].sort((x, y) => cmp(x.step, y.step) || cmp(x.dim, y.dim) || cmp(x.bucket, y.bucket) || cmp(x.value, y.value));
}

const SUMMED = ["requests", "errors", "input_tokens", "output_tokens", "cached_tokens", "latency_ms_sum", "latency_count", "credits"] as const;
const ADD = Object.fromEntries(
  (["requests", "errors", "inputTokens", "outputTokens", "cachedTokens", "latencyMsSum", "latencyCount", "credits"] as const)
    .map((k, i) => [k, sql.raw(`request_rollup.${SUMMED[i]} + excluded.${SUMMED[i]}`)]),
);

/**
 * Stores request-log rows in the shared table and adds the rows it really inserted (a row already
 * there — `migrate-store` run twice — is skipped and not counted) to the usage aggregates, in one
 * transaction: every row is counted once, whichever instance wrote it, and no fold has to find the
 * rows later (ids from a sequence commit out of order across instances, so a cursor over them
 * could pass a row that commits late). Answers how many rows were inserted.
 */
export async function storeRequestLog(db: PgDb | Tx, rows: PgRequestLogRow[]): Promise<number> {
  if (!rows.length) return 0;
  return db.transaction(async (tx) => {
    const stored = await tx.insert(requestLog).values(rows).onConflictDoNothing().returning(FOLDED);
    const agg = rollupRows(stored);
    if (agg.length) {
      await tx.insert(requestRollup).values(agg)
        .onConflictDoUpdate({ target: [requestRollup.step, requestRollup.dim, requestRollup.bucket, requestRollup.value], set: ADD });
    }
    return stored.length;
  });
}

/** Deletes minute and hour aggregates past their keep time (day rows stay), as the SQLite rollups do. */
export async function pruneRollups(db: PgDb, now = Date.now()): Promise<void> {
  for (const step of STEPS) {
    if (KEEP[step] === Infinity) continue;
    await db.delete(requestRollup).where(and(eq(requestRollup.step, step), lt(requestRollup.bucket, now - KEEP[step])));
  }
}
