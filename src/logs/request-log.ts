import { lt } from "drizzle-orm";
import type { Db } from "../db/client";
import { requestLog } from "../db/schema";
import type { EventBus } from "./bus";

export type RequestLogEntry = typeof requestLog.$inferInsert;

/**
 * Writes finished requests to the request_log table. Rows are queued and inserted in one short
 * transaction per batch (bun:sqlite is synchronous: one insert per request would stall streams
 * under load). Every entry also goes on the bus as a "request" event for live views.
 */
export class RequestLogWriter {
  private queue: RequestLogEntry[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;

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
    this.db.transaction((tx) => { for (const r of rows) tx.insert(requestLog).values(r).run(); }, { behavior: "immediate" });
  }

  /** Deletes rows older than the retention period; runs on a timer, never on the request path. */
  prune(retentionDays: number, now = Date.now()): number {
    return this.db.delete(requestLog).where(lt(requestLog.at, now - retentionDays * 86_400_000)).run().changes;
  }
}
