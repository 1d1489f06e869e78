import { and, type Column, desc, eq, getTableColumns, gte, lt, sql, type SQL } from "drizzle-orm";
import { likeLiteral } from "../../logs/request-log";
import {
  PAGE_SIZE, rollupSums, type Dim, type InstanceCount, type Point, type RequestDetail, type RequestFilter, type RequestLogReader, type RequestRow, type RollupReader, type Share,
} from "../../logs/request-reads";
import { requestLog, requestRollup } from "../schema-pg";
import type { PgDb } from "./client";

/** Every column but the (possibly large) request body; the instance id is one of them here. */
const { requestBody: _body, ...LIST_COLUMNS } = getTableColumns(requestLog);

/** `column ILIKE 'text%'` with the text taken literally: ignores case, as SQLite's LIKE does for ASCII. */
const startsWith = (column: Column, text: string) => sql`${column} ILIKE ${likeLiteral(text) + "%"} ESCAPE '\\'`;

/**
 * The panel's request log over the table every instance writes to (src/db/pg/store.ts), so any
 * instance's panel lists the whole cluster's requests with the instance that served each.
 * Paging is keyset on the id (ids follow insertion, near enough to time order for a log view).
 */
export class PgRequestLogReader implements RequestLogReader {
  readonly cluster = true;

  constructor(private readonly db: PgDb) {}

  async page(f: RequestFilter): Promise<RequestRow[]> {
    const where: SQL[] = [];
    if (f.before) where.push(lt(requestLog.id, f.before));
    if (f.status === "ok") where.push(lt(requestLog.status, 400));
    if (f.status === "error") where.push(gte(requestLog.status, 400));
    if (f.dialect) where.push(eq(requestLog.dialect, f.dialect));
    if (f.model) where.push(startsWith(requestLog.model, f.model));
    if (f.account) where.push(startsWith(requestLog.accountLabel, f.account));
    if (f.key) where.push(startsWith(requestLog.clientKeyName, f.key));
    if (f.instance) where.push(startsWith(requestLog.instanceId, f.instance));
    return this.db.select(LIST_COLUMNS).from(requestLog).where(and(...where)).orderBy(desc(requestLog.id)).limit(PAGE_SIZE);
  }

  async get(id: number): Promise<RequestDetail | null> {
    if (!Number.isSafeInteger(id)) return null;
    const [row] = await this.db.select().from(requestLog).where(eq(requestLog.id, id)).limit(1);
    return row ?? null;
  }

  async *range(from: number, to: number, batch = 2000): AsyncGenerator<RequestRow[]> {
    let after: { at: number; id: number } | null = null;
    for (;;) {
      const cond: SQL[] = [gte(requestLog.at, from), lt(requestLog.at, to)];
      if (after) cond.push(sql`(${requestLog.at}, ${requestLog.id}) > (${after.at}::bigint, ${after.id}::bigint)`);
      const rows = await this.db.select(LIST_COLUMNS).from(requestLog).where(and(...cond)).orderBy(requestLog.at, requestLog.id).limit(batch);
      if (!rows.length) return;
      yield rows;
      if (rows.length < batch) return;
      const last = rows[rows.length - 1]!;
      after = { at: last.at, id: last.id };
    }
  }

  /** One GROUP BY over the indexed `at` range (the dashboard asks for the last hour). */
  async instanceCounts(since: number): Promise<InstanceCount[]> {
    const requests = sql<number>`count(*)`.mapWith(Number);
    return this.db.select({
      instanceId: sql<string>`coalesce(${requestLog.instanceId}, '')`,
      requests,
      errors: sql<number>`count(*) filter (where ${requestLog.status} >= 400)`.mapWith(Number),
      tokens: sql<number>`coalesce(sum(coalesce(${requestLog.inputTokens}, 0) + coalesce(${requestLog.outputTokens}, 0)), 0)`.mapWith(Number),
    }).from(requestLog).where(gte(requestLog.at, since)).groupBy(requestLog.instanceId).orderBy(desc(requests), requestLog.instanceId);
  }
}

const SUMS = rollupSums(requestRollup);
const grouped = (group: number) => sql<number>`(${requestRollup.bucket} / ${sql.raw(String(Math.trunc(group)))}) * ${sql.raw(String(Math.trunc(group)))}`.mapWith(Number);

/**
 * The usage aggregates of the whole cluster. Each instance adds its rows to them in the same
 * transaction that stores the rows (storeRequestLog in src/db/pg/request-log.ts), so there is no
 * fold to run here: `update` only waits for this instance's queued rows.
 */
export class PgRollupReader implements RollupReader {
  constructor(private readonly db: PgDb, private readonly flushPending: () => Promise<void> = async () => {}) {}

  async update(_limit: number): Promise<number> {
    await this.flushPending();
    return 0;
  }

  private range(step: number, dim: Dim, from: number, to: number): SQL | undefined {
    return and(eq(requestRollup.step, step), eq(requestRollup.dim, dim), gte(requestRollup.bucket, from), lt(requestRollup.bucket, to));
  }

  async series(step: number, group: number, from: number, to: number): Promise<Point[]> {
    const b = grouped(group);
    return this.db.select({ bucket: b, ...SUMS }).from(requestRollup).where(this.range(step, "total", from, to)).groupBy(b).orderBy(b);
  }

  async seriesBy(step: number, group: number, dim: Dim, from: number, to: number): Promise<Array<Point & { value: string }>> {
    const b = grouped(group);
    return this.db.select({ bucket: b, value: requestRollup.value, ...SUMS }).from(requestRollup).where(this.range(step, dim, from, to)).groupBy(b, requestRollup.value);
  }

  async breakdown(step: number, dim: Dim, from: number, to: number, limit = 50): Promise<Share[]> {
    return this.db.select({ value: requestRollup.value, ...SUMS }).from(requestRollup).where(this.range(step, dim, from, to))
      .groupBy(requestRollup.value).orderBy(sql`sum(${requestRollup.requests}) desc`, requestRollup.value).limit(limit);
  }
}
