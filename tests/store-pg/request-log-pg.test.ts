/**
 * The PostgreSQL request log the panel reads: rows stored by several instances at once are each
 * counted once in the usage aggregates, the aggregates equal the SQLite fold of the same rows, a
 * row stored twice (`migrate-store` run again) is not counted twice, old minute/hour aggregates are
 * pruned, and the log queries (prefix filters, keyset pages, one row, per-instance counts) answer
 * as the SQLite ones do.
 */
import { describe, expect, test } from "bun:test";
import { openPg, type PgDb } from "../../src/db/pg/client";
import { runPgMigrations } from "../../src/db/pg/migrate";
import { pruneRollups, storeRequestLog, type PgRequestLogRow } from "../../src/db/pg/request-log";
import { PgRequestLogReader, PgRollupReader } from "../../src/db/pg/request-reads";
import { requestRollup } from "../../src/db/schema-pg";
import { openDb } from "../../src/db/client";
import { runMigrations } from "../../src/db/migrate";
import { EventBus } from "../../src/logs/bus";
import { RequestLogWriter } from "../../src/logs/request-log";
import { DAY, HOUR, MINUTE, RequestRollups, STEPS } from "../../src/logs/request-rollup";
import type { Dim } from "../../src/logs/request-reads";
import { usePostgres } from "../support/postgres";

const pg = usePostgres();
const BASE = Date.parse("2026-12-01T10:00:00Z");
const DIMS: Dim[] = ["total", "model", "account", "key"];

async function pools(n: number): Promise<{ dbs: PgDb[]; close: () => Promise<unknown> }> {
  const url = await pg.newDatabase("reqlog");
  const dbs = Array.from({ length: n }, () => openPg(url, { max: 3 }));
  await runPgMigrations(dbs[0]!.$client);
  return { dbs, close: () => Promise.all(dbs.map((d) => d.$client.close())) };
}

/** Varied rows: some without model, key, tokens or latency; some errors; spread over a few hours. */
function rows(instance: string, n: number, offset = 0): PgRequestLogRow[] {
  return Array.from({ length: n }, (_, j) => {
    const i = j + offset;
    return {
      requestId: `${instance}-r${i}`, at: BASE + i * 7_919, dialect: i % 2 ? "openai" : "anthropic", model: i % 3 ? `m-${i % 4}` : null, accountId: `acc-${i % 5}`,
      clientKeyId: i % 6 ? `k${i % 2}` : null, clientKeyName: i % 6 ? `key_${i % 2}` : null, status: i % 9 ? 200 : 500, inputTokens: i, outputTokens: i % 7 ? 3 : null,
      cachedTokens: i % 4 ? i : null, latencyMs: i % 11 ? 100 + i : null, credits: i % 5 ? 0.25 : null, instanceId: instance,
    };
  });
}

describe.skipIf(!pg.available)("PostgreSQL request log and its aggregates", () => {
  test("three instances storing at once: every row counted once, the same sums as the SQLite fold; a second store adds nothing", async () => {
    const c = await pools(3);
    try {
      const batches = c.dbs.map((_, i) => rows(`node-${i}`, 600));
      // Each instance stores its rows in chunks, all three at once, with overlapping buckets.
      await Promise.all(c.dbs.map(async (db, i) => {
        for (let k = 0; k < 600; k += 100) expect(await storeRequestLog(db, batches[i]!.slice(k, k + 100))).toBe(100);
      }));
      expect(await storeRequestLog(c.dbs[1]!, batches[0]!.slice(0, 50))).toBe(0);

      // The same rows through the SQLite writer and fold.
      const lite = openDb(":memory:");
      runMigrations(lite);
      const writer = new RequestLogWriter(lite, new EventBus());
      for (const b of batches) for (const { instanceId: _i, ...r } of b) writer.record(r);
      writer.flush();
      const fold = new RequestRollups(lite, () => {}, () => BASE + DAY);
      fold.catchUp();

      const reader = new PgRollupReader(c.dbs[2]!);
      const from = BASE - DAY;
      const to = BASE + 2 * DAY;
      for (const step of STEPS) {
        expect(await reader.series(step, step, from, to)).toEqual(await fold.series(step, step, from, to));
        for (const dim of DIMS) {
          const sort = <T extends { value: string; bucket?: number }>(xs: T[]) => xs.sort((x, y) => (x.bucket ?? 0) - (y.bucket ?? 0) || (x.value < y.value ? -1 : 1));
          expect(sort(await reader.breakdown(step, dim, from, to, 1000))).toEqual(sort(await fold.breakdown(step, dim, from, to, 1000)));
          expect(sort(await reader.seriesBy(step, HOUR * (step === DAY ? 24 : 1), dim, from, to))).toEqual(sort(await fold.seriesBy(step, HOUR * (step === DAY ? 24 : 1), dim, from, to)));
        }
      }
      const day = await reader.series(DAY, DAY, from, to);
      expect(day.reduce((a, p) => a + p.requests, 0)).toBe(1800);
      expect(await reader.update(5000)).toBe(0);
      lite.$client.close();
    } finally {
      await c.close();
    }
  });

  test("pruning keeps minute rows two days and hour rows forty days; day rows stay", async () => {
    const c = await pools(1);
    try {
      const db = c.dbs[0]!;
      const now = BASE + 100 * DAY;
      await storeRequestLog(db, [
        { requestId: "old", at: BASE, dialect: "openai", status: 200, instanceId: "a" },
        { requestId: "month", at: now - 30 * DAY, dialect: "openai", status: 200, instanceId: "a" },
        { requestId: "new", at: now - HOUR, dialect: "openai", status: 200, instanceId: "a" },
      ]);
      await pruneRollups(db, now);
      const left = await db.select({ step: requestRollup.step }).from(requestRollup);
      // Buckets left per step (each bucket has one row per dimension here: one model, account and key).
      const count = (step: number) => left.filter((r) => r.step === step).length / DIMS.length;
      expect(count(MINUTE)).toBe(1);
      expect(count(HOUR)).toBe(2);
      expect(count(DAY)).toBe(3);
    } finally {
      await c.close();
    }
  });

  test("log queries: prefix filters ignore case and take % and _ literally, keyset pages and ranges, one row, counts per instance", async () => {
    const c = await pools(1);
    try {
      const db = c.dbs[0]!;
      await storeRequestLog(db, [...rows("node-a", 70), ...rows("node-b", 40, 1000)]);
      await storeRequestLog(db, [
        { requestId: "x1", at: BASE, dialect: "openai", status: 200, model: "claude-haiku-4-5", clientKeyName: "ci_bot", instanceId: "edge_1", requestBody: "{}" },
        { requestId: "x2", at: BASE, dialect: "openai", status: 200, model: "claude-sonnet-4-5", clientKeyName: "ci-bot", instanceId: "edge-2" },
      ]);
      const log = new PgRequestLogReader(db);
      const ids = async (f: Parameters<PgRequestLogReader["page"]>[0]) => (await log.page(f)).map((r) => r.requestId).sort();
      expect(await ids({ model: "CLAUDE-HAIKU" })).toEqual(["x1"]);
      expect(await ids({ key: "ci_" })).toEqual(["x1"]);
      expect(await ids({ key: "ci" })).toEqual(["x1", "x2"]);
      expect(await ids({ model: "%" })).toEqual([]);
      expect(await ids({ instance: "edge_" })).toEqual(["x1"]);
      expect(await ids({ instance: "EDGE" })).toEqual(["x1", "x2"]);
      // Keyset paging over the whole log: every row once, newest id first, no body in list rows.
      const seen: number[] = [];
      for (let before: number | undefined; ;) {
        const page = await log.page({ before });
        seen.push(...page.map((r) => r.id));
        expect(page.every((r) => !("requestBody" in r))).toBe(true);
        if (page.length < 50) break;
        before = page.at(-1)!.id;
      }
      expect(seen.length).toBe(112);
      expect(new Set(seen).size).toBe(112);
      expect(seen).toEqual([...seen].sort((a, b) => b - a));
      const errorsB = await log.page({ status: "error", instance: "node-b" });
      expect(errorsB.length).toBe(rows("node-b", 40, 1000).filter((r) => r.status >= 400).length);
      // The CSV's range: time order, small batches, the end excluded.
      const got: string[] = [];
      for await (const batch of log.range(BASE, BASE + 60 * 7_919, 7)) got.push(...batch.map((r) => r.requestId));
      expect(got.length).toBe(60 + 2);
      expect(new Set(got).size).toBe(got.length);
      const one = (await log.page({ model: "claude-haiku" }))[0]!;
      expect(await log.get(one.id)).toMatchObject({ requestId: "x1", instanceId: "edge_1", requestBody: "{}" });
      expect(await log.get(10 ** 12)).toBeNull();
      expect(await log.get(Number.NaN)).toBeNull();
      const counts = await log.instanceCounts(0);
      // Most requests first (the order of the two ties depends on the database's collation).
      expect(counts.map((x) => [x.instanceId, x.requests]).slice(0, 2)).toEqual([["node-a", 70], ["node-b", 40]]);
      expect(counts.slice(2).map((x) => [x.instanceId, x.requests]).sort()).toEqual([["edge-2", 1], ["edge_1", 1]]);
      expect(counts[0]!.errors).toBe(rows("node-a", 70).filter((r) => r.status >= 400).length);
      expect(counts[0]!.tokens).toBe(rows("node-a", 70).reduce((a, r) => a + (r.inputTokens ?? 0) + (r.outputTokens ?? 0), 0));
      expect(await log.instanceCounts(BASE + 10 * DAY)).toEqual([]);
    } finally {
      await c.close();
    }
  });
});
