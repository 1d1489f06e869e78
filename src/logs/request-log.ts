import type { Statement } from "bun:sqlite";
import { getTableColumns, lt } from "drizzle-orm";
import type { Db } from "../db/client";
import { requestLog } from "../db/schema";
import type { EventBus } from "./bus";

export type RequestLogEntry = typeof requestLog.$inferInsert;

/**
 * Writes finished requests to the request_log table. Rows are queued and inserted in one short
 * transaction per batch, off the request path (a timer, or every 200 rows), through one prepared
 * statement: bun:sqlite is synchronous, and building a drizzle insert per row cost ~0.1 ms of
 * query building each (bench/stream.ts profile). Every entry also goes on the bus as a "request"
 * event for live views.
 */
export class RequestLogWriter {
  private queue: RequestLogEntry[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private insert?: { stmt: Statement; columns: Array<{ key: keyof RequestLogEntry; fallback: unknown }> };

  constructor(private readonly db: Db, private readonly bus: EventBus, private readonly flushMs = 200) {}

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
