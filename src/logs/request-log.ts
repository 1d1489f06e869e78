import type { Statement } from "bun:sqlite";
import { and, type Column, desc, eq, getTableColumns, gte, lt, sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/client";
import { requestLog } from "../db/schema";
import type { EventBus } from "./bus";
import { PAGE_SIZE, type InstanceCount, type RequestDetail, type RequestFilter, type RequestLogReader, type RequestRow } from "./request-reads";

export { PAGE_SIZE, type RequestDetail, type RequestFilter, type RequestRow } from "./request-reads";
export type RequestLogEntry = typeof requestLog.$inferInsert;

/**
 * Writes finished requests to the request_log table. Rows are queued and inserted in one short
 * transaction per batch, off the request path (a timer, or every 200 rows), through one prepared
 * statement: bun:sqlite is synchronous, and building a drizzle insert per row cost ~0.1 ms of
 * query building each (bench/stream.ts profile). Every entry also goes on the bus as a "request"
 * event for live views.
 *
 * With a `sink` (PostgreSQL mode: the cluster's shared table) the sink is the log: nothing is kept
 * in this process's SQLite, which there is an in-memory database — a private copy would grow with
 * every request until the retention period ended (30 days of traffic in RAM).
 */
export class RequestLogWriter {
  private queue: RequestLogEntry[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private insert?: { stmt: Statement; columns: Array<{ key: keyof RequestLogEntry; fallback: unknown }> };

  /** `sink`, when given, receives every batch instead of this database (PostgreSQL mode: the cluster's shared log). */
  constructor(private readonly db: Db, private readonly bus: EventBus, private readonly flushMs = 200, private readonly sink?: (rows: RequestLogEntry[]) => void) {}

  record(entry: RequestLogEntry): void {
    this.queue.push(entry);
    this.bus.emit({ kind: "request", at: entry.at, requestId: entry.requestId, data: { ...entry, requestBody: undefined } });
    if (this.queue.length >= 200) this.flush();
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), this.flushMs);
  }

  flush(): void {
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    if (!this.queue.length) return;
    const rows = this.queue;
    this.queue = [];
    if (this.sink) return this.sink(rows);
    const ins = (this.insert ??= this.prepare());
    const client = this.db.$client;
    client.transaction(() => {
      for (const r of rows) ins.stmt.run(...ins.columns.map((c) => toDriver(r[c.key] ?? c.fallback)));
    }).immediate();
  }

  /** One INSERT for every column but the autoincrement id, in the table's column order. */
  private prepare(): NonNullable<RequestLogWriter["insert"]> {
    const columns = Object.entries(getTableColumns(requestLog))
      .filter(([key]) => key !== "id")
      .map(([key, col]) => ({ key: key as keyof RequestLogEntry, name: col.name, fallback: col.hasDefault ? col.default : null }));
    const stmt = this.db.$client.prepare(
      `INSERT INTO request_log (${columns.map((c) => `"${c.name}"`).join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
    );
    return { stmt, columns };
  }

  /** Deletes rows older than the retention period; runs on a timer, never on the request path. */
  prune(retentionDays: number, now = Date.now()): number {
    // drizzle types bun-sqlite's run() as void; at runtime it is bun:sqlite's Changes object.
    const r = this.db.delete(requestLog).where(lt(requestLog.at, now - retentionDays * 86_400_000)).run() as unknown as { changes: number };
    return r.changes;
  }
}

/** bun:sqlite binds numbers, strings and null; booleans (mode "boolean" columns) are stored as 0/1. */
function toDriver(v: unknown): string | number | null {
  if (v === undefined || v === null) return null;
  if (typeof v === "boolean") return v ? 1 : 0;
  return v as string | number;
}

/** The one column list for list views: every column of the table but the (possibly large) request body. */
const { requestBody: _body, ...LIST_COLUMNS } = getTableColumns(requestLog);

/** The list columns' names in table order (the CSV export's header; PostgreSQL mode adds the instance id). */
export const LIST_COLUMN_KEYS = Object.keys(LIST_COLUMNS) as Array<keyof RequestRow>;

/** Requests, tokens and errors of one client key (or none) in one minute. */
export type MinuteCount = { clientKeyId: string | null; minute: number; requests: number; tokens: number; errors: number };

/** Text for a LIKE pattern that matches itself literally (escape character: backslash). */
export function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** `column LIKE 'text%'` with the text taken literally. SQLite's LIKE ignores ASCII case, which suits a search box. */
const startsWith = (column: Column, text: string) => sql`${column} LIKE ${likeLiteral(text) + "%"} ESCAPE '\\'`;

/**
 * Read-side queries over this process's request log (for the panel; one instance, so no instance
 * column and no instance filter). Request paging is keyset on the id, so no page costs more than
 * its own rows whatever the table size. bun:sqlite is synchronous: each query runs when called and
 * its promise is already resolved.
 */
export class RequestLogQueries implements RequestLogReader {
  readonly cluster = false;

  constructor(private readonly db: Db) {}

  async page(f: RequestFilter): Promise<RequestRow[]> {
    const where: SQL[] = [];
    if (f.before) where.push(lt(requestLog.id, f.before));
    if (f.status === "ok") where.push(lt(requestLog.status, 400));
    if (f.status === "error") where.push(gte(requestLog.status, 400));
    if (f.dialect) where.push(eq(requestLog.dialect, f.dialect));
    if (f.model) where.push(startsWith(requestLog.model, f.model));
    if (f.account) where.push(startsWith(requestLog.accountLabel, f.account));
    if (f.key) where.push(startsWith(requestLog.clientKeyName, f.key));
    return this.db.select(LIST_COLUMNS).from(requestLog).where(and(...where)).orderBy(desc(requestLog.id)).limit(PAGE_SIZE).all();
  }

  async get(id: number): Promise<RequestDetail | null> {
    if (!Number.isSafeInteger(id)) return null;
    return this.db.select().from(requestLog).where(eq(requestLog.id, id)).get() ?? null;
  }

  /** Keyset pages of `batch` rows, so an export of millions of rows never holds them all in memory. */
  async *range(from: number, to: number, batch = 2000): AsyncGenerator<RequestRow[]> {
    let after: { at: number; id: number } | null = null;
    for (;;) {
      const cond: SQL[] = [gte(requestLog.at, from), lt(requestLog.at, to)];
      if (after) cond.push(sql`(${requestLog.at}, ${requestLog.id}) > (${after.at}, ${after.id})`);
      const rows = this.db.select(LIST_COLUMNS).from(requestLog).where(and(...cond)).orderBy(requestLog.at, requestLog.id).limit(batch).all();
      if (!rows.length) return;
      yield rows;
      if (rows.length < batch) return;
      const last = rows[rows.length - 1]!;
      after = { at: last.at, id: last.id };
    }
  }

  async instanceCounts(_since: number): Promise<InstanceCount[]> {
    return [];
  }

  /** Per-minute counts (total and per client key) since `since`: one GROUP BY over the indexed `at` range. */
  minuteCounts(since: number): MinuteCount[] {
    const minute = sql<number>`${requestLog.at} / 60000`;
    return this.db.select({
      clientKeyId: requestLog.clientKeyId,
      minute,
      requests: sql<number>`count(*)`,
      tokens: sql<number>`coalesce(sum(coalesce(${requestLog.inputTokens}, 0) + coalesce(${requestLog.outputTokens}, 0)), 0)`,
      errors: sql<number>`sum(${requestLog.status} >= 400)`,
    }).from(requestLog).where(gte(requestLog.at, since)).groupBy(requestLog.clientKeyId, minute).all();
  }
}
