/**
 * What the panel reads from the request log, the same on either engine: one page of rows, one
 * row, a time range for the CSV export, per-instance counts, and the aggregates of the usage charts.
 * SQLite: RequestLogQueries (src/logs/request-log.ts) and RequestRollups (src/logs/request-rollup.ts)
 * over this process's database, answering with resolved promises. PostgreSQL:
 * src/db/pg/request-log.ts over the table every instance writes to, so the panel of any instance
 * shows the whole cluster.
 */
import { sql, type Column } from "drizzle-orm";
import type { requestLog } from "../db/schema";

/** A stored row, every column; `instanceId` (the instance that served it) exists only in PostgreSQL mode. */
export type RequestDetail = typeof requestLog.$inferSelect & { instanceId?: string | null };
/** A row as the log list shows it: every column but the stored body. */
export type RequestRow = Omit<RequestDetail, "requestBody">;

/** Filters of the request log page. Model, account, key and instance match by prefix. */
export type RequestFilter = { status?: "ok" | "error"; model?: string; account?: string; key?: string; dialect?: string; instance?: string; before?: number };

/** Requests, errors and tokens one instance served since a time. */
export type InstanceCount = { instanceId: string; requests: number; errors: number; tokens: number };

export const PAGE_SIZE = 50;

export interface RequestLogReader {
  /** True when rows come from several instances and carry their instance id (PostgreSQL). */
  readonly cluster: boolean;
  /** One page of the log (PAGE_SIZE rows), newest first; `before` is the last id of the previous page. */
  page(f: RequestFilter): Promise<RequestRow[]>;
  /** One row with its stored body, or null when it is gone (pruned, or never existed). */
  get(id: number): Promise<RequestDetail | null>;
  /** Rows with `from <= at < to` in time order, in pages of `batch` rows (the CSV export). */
  range(from: number, to: number, batch?: number): AsyncGenerator<RequestRow[]>;
  /** Requests per instance since `since`, most first (empty on SQLite: one instance). */
  instanceCounts(since: number): Promise<InstanceCount[]>;
}

/** Sums of one bucket (or one dimension value over a range). */
export type Totals = { requests: number; errors: number; inputTokens: number; outputTokens: number; cachedTokens: number; latencyMsSum: number; latencyCount: number; credits: number };
export type Point = Totals & { bucket: number };
export type Share = Totals & { value: string };
export type Dim = "total" | "model" | "account" | "key";

/** The usage charts' aggregates (table request_rollup): per minute, hour and day, in total and per model, account and key. */
export interface RollupReader {
  /**
   * Brings the aggregates up to what this instance has logged (SQLite folds at most `limit` new
   * log rows; PostgreSQL folds rows as they are stored and only sends this instance's queued
   * rows). Answers how many log rows are still waiting to be folded.
   */
  update(limit: number): Promise<number>;
  /** Totals per bucket of `group` ms (a multiple of `step`) over [from, to), from the "total" dimension. */
  series(step: number, group: number, from: number, to: number): Promise<Point[]>;
  /** Per-bucket totals of each value of a dimension over [from, to). */
  seriesBy(step: number, group: number, dim: Dim, from: number, to: number): Promise<Array<Point & { value: string }>>;
  /** Totals per value of a dimension over [from, to), most requests first. */
  breakdown(step: number, dim: Dim, from: number, to: number, limit?: number): Promise<Share[]>;
}

/** The rollup table's summed counters (either engine's table: the columns have the same names). */
type RollupCounters = Record<"requests" | "errors" | "inputTokens" | "outputTokens" | "cachedTokens" | "latencyMsSum" | "latencyCount" | "credits", Column>;

/** SELECT list of a Point's counters over grouped rollup rows, the same on both engines. */
export function rollupSums(t: RollupCounters) {
  const sum = (c: Column) => sql<number>`sum(${c})`.mapWith(Number);
  return {
    requests: sum(t.requests),
    errors: sum(t.errors),
    inputTokens: sum(t.inputTokens),
    outputTokens: sum(t.outputTokens),
    cachedTokens: sum(t.cachedTokens),
    latencyMsSum: sum(t.latencyMsSum),
    latencyCount: sum(t.latencyCount),
    credits: sum(t.credits),
  };
}
