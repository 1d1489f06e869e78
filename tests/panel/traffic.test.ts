/**
 * The dashboard's traffic on several instances (ClusterTraffic, read from the usage aggregates)
 * equals what one instance's in-memory minute buckets (RollingStats) show for the same rows:
 * the same buckets for the hour and day charts, the same 24 h usage per key.
 */
import { describe, expect, test } from "bun:test";
import { openDb } from "../../src/db/client";
import { runMigrations } from "../../src/db/migrate";
import { EventBus } from "../../src/logs/bus";
import { RequestLogQueries, RequestLogWriter } from "../../src/logs/request-log";
import { RequestRollups } from "../../src/logs/request-rollup";
import { RollingStats } from "../../src/panel/shared/rolling";
import { ClusterTraffic } from "../../src/panel/shared/traffic";

describe("cluster traffic", () => {
  test("the same series and per-key usage as the in-memory buckets", async () => {
    const db = openDb(":memory:");
    runMigrations(db);
    const writer = new RequestLogWriter(db, new EventBus());
    const now = Date.parse("2026-12-01T10:17:31Z");
    // Rows over the last 26 hours (some outside the day), with and without a key, some errors.
    for (let i = 0; i < 900; i++) {
      writer.record({
        requestId: `r${i}`, at: now - i * 104_729, dialect: "openai", status: i % 13 ? 200 : 503, clientKeyId: i % 4 ? `k${i % 3}` : null,
        inputTokens: i % 5 ? i : null, outputTokens: i % 7 ? 11 : null,
      });
    }
    writer.flush();
    const rollups = new RequestRollups(db, () => {}, () => now);
    rollups.catchUp();
    const local = new RollingStats(new RequestLogQueries(db), () => {}, () => now);
    const cluster = new ClusterTraffic(rollups, () => now);
    for (const [step, count] of [[60_000, 60], [3_600_000, 24], [15 * 60_000, 96]] as const) {
      const a = local.series(step, count);
      const b = await cluster.series(step, count);
      expect(b).toEqual(a);
      expect(b.requests).toBeGreaterThan(0);
    }
    const since = now - 86_400_000;
    const keys = await cluster.keyUsageSince(since);
    expect([...keys.keys()].sort()).toEqual(["k0", "k1", "k2"]);
    expect(Object.fromEntries(keys)).toEqual(Object.fromEntries(local.keyUsageSince(since)));
    db.$client.close();
  });
});
