import { and, eq, gt, gte, lt, lte, max, sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/client";
import { requestLog, requestRollup, rollupCursor } from "../db/schema";
import { rollupSums, type Dim, type Point, type RollupReader, type Share } from "./request-reads";

export type { Dim, Point, Share, Totals } from "./request-reads";

/**
 * Aggregates of the request log for usage charts: counts per minute, hour and day, in total and
 * per model, account and client key (table request_rollup). They are built from the log rows past
 * a cursor (one GROUP BY per step and dimension over the new rows only), so a chart over a month
 * reads at most a few thousand aggregate rows however many millions of log rows there are.
 * Minute rows are kept two days and hour rows 40 days (day rows stay); the log keeps its own
 * retention, so old charts outlive pruned log rows.
 */
export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;
export const STEPS = [MINUTE, HOUR, DAY] as const;
export type Step = (typeof STEPS)[number];
/** How long rows of each step are kept (PostgreSQL keeps its rollups the same way). */
export const KEEP: Record<Step, number> = { [MINUTE]: 2 * DAY, [HOUR]: 40 * DAY, [DAY]: Infinity };
/** Log rows folded in per transaction, so catching up on millions of rows never holds the database long. */
const CHUNK = 100_000;
const CURSOR = "request_log";

const DIM_COLUMN = {
  total: sql<string>`''`,
  model: sql<string>`coalesce(${requestLog.model}, '')`,
  account: sql<string>`coalesce(${requestLog.accountId}, '')`,
  key: sql<string>`coalesce(${requestLog.clientKeyId}, '')`,
} as const;

const SUMS = rollupSums(requestRollup);

export class RequestRollups implements RollupReader {
  private lastPrune = 0;

  constructor(private readonly db: Db, private readonly flushPending: () => void = () => {}, private readonly now: () => number = Date.now) {}

  async update(limit: number): Promise<number> {
    this.catchUp(limit);
    return this.pending();
  }

  /** The last log id already counted. */
  cursor(): number {
    return this.db.select({ lastId: rollupCursor.lastId }).from(rollupCursor).where(eq(rollupCursor.name, CURSOR)).get()?.lastId ?? 0;
  }

  /** Log ids not folded in yet (0 when the rollups are current; counts ids, so deleted rows count too). */
  pending(): number {
    const top = this.db.select({ id: max(requestLog.id) }).from(requestLog).get()?.id ?? 0;
    return Math.max(0, top - this.cursor());
  }

  /**
   * Folds log rows past the cursor into the aggregates, at most `limit` rows (all when omitted).
   * Returns how many log ids it moved past, so a background loop knows when it is done.
   */
  catchUp(limit = Infinity): number {
    this.flushPending();
    const top = this.db.select({ id: max(requestLog.id) }).from(requestLog).get()?.id ?? 0;
    let from = this.cursor();
    const start = from;
    while (from < top && from - start < limit) {
      const to = Math.min(top, from + Math.min(CHUNK, limit - (from - start)));
      this.db.transaction((tx) => {
        for (const step of STEPS) for (const dim of Object.keys(DIM_COLUMN) as Dim[]) this.fold(tx as unknown as Db, step, dim, from, to);
        tx.insert(rollupCursor).values({ name: CURSOR, lastId: to }).onConflictDoUpdate({ target: rollupCursor.name, set: { lastId: to } }).run();
      }, { behavior: "immediate" });
      from = to;
    }
    if (this.now() - this.lastPrune > HOUR) this.prune();
    return from - start;
  }

  /** One INSERT … SELECT … GROUP BY … ON CONFLICT: adds the rows (from, to] to the aggregates of one step and dimension. */
  private fold(db: Db, step: Step, dim: Dim, from: number, to: number): void {
    const bucket = sql<number>`(${requestLog.at} / ${sql.raw(String(step))}) * ${sql.raw(String(step))}`;
    const value = DIM_COLUMN[dim];
    const rows = db.select({
      step: sql<number>`${sql.raw(String(step))}`.as("step"),
      dim: sql<Dim>`${dim}`.as("dim"),
      bucket: bucket.as("bucket"),
      value: value.as("value"),
      requests: sql<number>`count(*)`.as("requests"),
      errors: sql<number>`sum(${requestLog.status} >= 400)`.as("errors"),
      inputTokens: sql<number>`coalesce(sum(${requestLog.inputTokens}), 0)`.as("input_tokens"),
      outputTokens: sql<number>`coalesce(sum(${requestLog.outputTokens}), 0)`.as("output_tokens"),
      cachedTokens: sql<number>`coalesce(sum(${requestLog.cachedTokens}), 0)`.as("cached_tokens"),
      latencyMsSum: sql<number>`coalesce(sum(${requestLog.latencyMs}), 0)`.as("latency_ms_sum"),
      latencyCount: sql<number>`count(${requestLog.latencyMs})`.as("latency_count"),
      credits: sql<number>`coalesce(sum(${requestLog.credits}), 0)`.as("credits"),
    }).from(requestLog).where(and(gt(requestLog.id, from), lte(requestLog.id, to))).groupBy(sql`bucket`, sql`value`);
    const add = (c: SQL.Aliased | { name: string }) => sql.raw(`"${(c as { name: string }).name}" + excluded."${(c as { name: string }).name}"`);
    db.insert(requestRollup).select(rows).onConflictDoUpdate({
      target: [requestRollup.step, requestRollup.dim, requestRollup.bucket, requestRollup.value],
      set: {
        requests: add(requestRollup.requests), errors: add(requestRollup.errors), inputTokens: add(requestRollup.inputTokens),
        outputTokens: add(requestRollup.outputTokens), cachedTokens: add(requestRollup.cachedTokens), latencyMsSum: add(requestRollup.latencyMsSum),
        latencyCount: add(requestRollup.latencyCount), credits: add(requestRollup.credits),
      },
    }).run();
  }

  private prune(): void {
    this.lastPrune = this.now();
    for (const step of STEPS) {
      if (KEEP[step] === Infinity) continue;
      this.db.delete(requestRollup).where(and(eq(requestRollup.step, step), lt(requestRollup.bucket, this.now() - KEEP[step]))).run();
    }
  }

  async series(step: Step, group: number, from: number, to: number): Promise<Point[]> {
    const b = sql<number>`(${requestRollup.bucket} / ${sql.raw(String(group))}) * ${sql.raw(String(group))}`.mapWith(Number);
    return this.db.select({ bucket: b, ...SUMS }).from(requestRollup)
      .where(and(eq(requestRollup.step, step), eq(requestRollup.dim, "total"), gte(requestRollup.bucket, from), lt(requestRollup.bucket, to)))
      .groupBy(b).orderBy(b).all();
  }

  async seriesBy(step: Step, group: number, dim: Dim, from: number, to: number): Promise<Array<Point & { value: string }>> {
    const b = sql<number>`(${requestRollup.bucket} / ${sql.raw(String(group))}) * ${sql.raw(String(group))}`.mapWith(Number);
    return this.db.select({ bucket: b, value: requestRollup.value, ...SUMS }).from(requestRollup)
      .where(and(eq(requestRollup.step, step), eq(requestRollup.dim, dim), gte(requestRollup.bucket, from), lt(requestRollup.bucket, to)))
      .groupBy(b, requestRollup.value).all();
  }

  async breakdown(step: Step, dim: Dim, from: number, to: number, limit = 50): Promise<Share[]> {
    const requests = SUMS.requests;
    return this.db.select({ value: requestRollup.value, ...SUMS }).from(requestRollup)
      .where(and(eq(requestRollup.step, step), eq(requestRollup.dim, dim), gte(requestRollup.bucket, from), lt(requestRollup.bucket, to)))
      .groupBy(requestRollup.value).orderBy(sql`${requests} desc`).limit(limit).all();
  }
}
