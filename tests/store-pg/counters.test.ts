import { describe, expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import { openPg, type PgDb } from "../../src/db/pg/client";
import { addAccountCounters, addKeyUsage } from "../../src/db/pg/counters";
import { runPgMigrations } from "../../src/db/pg/migrate";
import { PgAccountRepo } from "../../src/db/pg/repos/accounts";
import { WriteQueue } from "../../src/db/pg/repos/queue";
import type { AccountCounters } from "../../src/db/repos";
import { SecretBox } from "../../src/crypto/secret-box";
import { createLogger } from "../../src/logs/logger";
import { EventBus } from "../../src/logs/bus";
import { accounts, clientKeys } from "../../src/db/schema-pg";
import { usePostgres } from "../support/postgres";

const pg = usePostgres();

async function instances(n: number): Promise<{ dbs: PgDb[]; close: () => Promise<unknown> }> {
  const url = await pg.newDatabase("counters");
  const dbs = Array.from({ length: n }, () => openPg(url, { max: 3 }));
  await runPgMigrations(dbs[0]!.$client);
  return { dbs, close: () => Promise.all(dbs.map((d) => d.$client.close())) };
}

const key = (id: string, extra: Partial<typeof clientKeys.$inferInsert> = {}) => ({ id, name: id, keyHash: `hash-${id}`, keyPrefix: "sk-kiro-", createdAt: 1, ...extra });

describe.skipIf(!pg.available)("counters added by several instances", () => {
  test("three instances flushing concurrently: no usage is lost, every flush returns the cluster total", async () => {
    const c = await instances(3);
    try {
      await c.dbs[0]!.insert(clientKeys).values([key("k1", { monthlyTokenBudget: 1_000_000 }), key("k2")]);
      const month = "2026-12";
      // 3 instances × 20 flushes each, touching both keys in opposite orders.
      const flushes = c.dbs.flatMap((db, i) => Array.from({ length: 20 }, (_, j) => {
        const d = [{ id: "k1", tokens: 100 + i, requests: 1, lastUsedAt: 1000 + j }, { id: "k2", tokens: 7, requests: 2, lastUsedAt: 2000 }];
        return addKeyUsage(db, j % 2 ? d.reverse() : d, month);
      }));
      const results = await Promise.all(flushes);
      const [k1] = await c.dbs[1]!.select().from(clientKeys).where(eq(clientKeys.id, "k1"));
      expect(k1).toMatchObject({ tokensThisMonth: 20 * (100 + 101 + 102), requests: 60, budgetMonth: month, lastUsedAt: 1019 });
      // Each flush saw a total that includes its own delta and never more than the final total.
      const k1Totals = results.map((r) => r.find((t) => t.id === "k1")!.tokensThisMonth);
      expect(Math.max(...k1Totals)).toBe(k1!.tokensThisMonth);
      expect(new Set(k1Totals).size).toBe(60); // every flush observed a distinct, serialised total
    } finally {
      await c.close();
    }
  });

  test("a new month starts the count again", async () => {
    const c = await instances(1);
    try {
      await c.dbs[0]!.insert(clientKeys).values(key("k", { tokensThisMonth: 5000, budgetMonth: "2026-11", requests: 9 }));
      expect(await addKeyUsage(c.dbs[0]!, [{ id: "k", tokens: 10, requests: 1, lastUsedAt: 5 }], "2026-12")).toEqual([{ id: "k", tokensThisMonth: 10, budgetMonth: "2026-12", requests: 10 }]);
      expect(await addKeyUsage(c.dbs[0]!, [{ id: "k", tokens: 5, requests: 1, lastUsedAt: 6 }], "2026-12")).toEqual([{ id: "k", tokensThisMonth: 15, budgetMonth: "2026-12", requests: 11 }]);
      expect(await addKeyUsage(c.dbs[0]!, [{ id: "unknown", tokens: 5, requests: 1, lastUsedAt: 6 }], "2026-12")).toEqual([]);
    } finally {
      await c.close();
    }
  });

  test("account request and error counts from two instances add up; last use only moves forward", async () => {
    const c = await instances(2);
    try {
      await c.dbs[0]!.insert(accounts).values({ id: "a", kind: "social", machineId: "m", fingerprint: "f", refreshTokenEnc: "v1:x", createdAt: 1, updatedAt: 1 });
      await Promise.all([
        ...Array.from({ length: 10 }, () => addAccountCounters(c.dbs[0]!, [{ id: "a", requests: 3, errors: 1, lastUsedAt: 500 }])),
        ...Array.from({ length: 10 }, () => addAccountCounters(c.dbs[1]!, [{ id: "a", requests: 2, errors: 0, lastUsedAt: 400 }])),
      ]);
      const [row] = await c.dbs[0]!.select({ requests: accounts.requests, errors: accounts.errors, lastUsedAt: accounts.lastUsedAt }).from(accounts);
      expect(row).toEqual({ requests: 50, errors: 10, lastUsedAt: 500 });
    } finally {
      await c.close();
    }
  });

  test("two instances flushing the same accounts in opposite orders never deadlock (counters and last-writer fields land)", async () => {
    const c = await instances(2);
    try {
      const ids = ["acct-a", "acct-b", "acct-c"];
      await c.dbs[0]!.insert(accounts).values(ids.map((id) => ({ id, kind: "social" as const, machineId: "m", fingerprint: `f-${id}`, refreshTokenEnc: "v1:x", createdAt: 1, updatedAt: 1 })));
      const box = await SecretBox.fromSecret("counters test secret, long enough");
      const lines: string[] = [];
      const repos = await Promise.all(c.dbs.map(async (db, i) => {
        const bus = new EventBus();
        bus.on((e) => { if (e.kind === "log" && e.level !== "debug" && e.level !== "info") lines.push(`${i}: ${e.msg} ${JSON.stringify(e.fields ?? {})}`); });
        const queue = new WriteQueue(createLogger(bus));
        return { queue, repo: await PgAccountRepo.open(db, box, queue, `node-${i}`) };
      }));
      const rounds = 40;
      const row = (id: string, n: number, i: number): AccountCounters =>
        ({ id, requests: n, errors: n % 3 === 0 ? 1 : 0, consecutiveFailures: n % 5, lastUsedAt: 1000 + n, quotaJson: `{"n":${n},"by":${i}}`, quotaFetchedAt: n });
      // Each instance flushes every account each round: instance 0 in id order, instance 1 reversed,
      // both at once, each flush one queued write per instance.
      for (let n = 0; n <= rounds; n++) {
        repos[0]!.repo.writeCounters(ids.map((id) => row(id, n, 0)));
        repos[1]!.repo.writeCounters([...ids].reverse().map((id) => row(id, n, 1)));
        await Promise.all(repos.map((r) => r.queue.flush()));
      }
      expect(lines).toEqual([]);
      const stored = await c.dbs[0]!.select({ id: accounts.id, requests: accounts.requests, lastUsedAt: accounts.lastUsedAt, consecutiveFailures: accounts.consecutiveFailures, quotaFetchedAt: accounts.quotaFetchedAt }).from(accounts);
      // The first flush is each instance's baseline; every later round adds 1 request per instance.
      for (const id of ids) expect(stored.find((r) => r.id === id)).toEqual({ id, requests: 2 * rounds, lastUsedAt: 1000 + rounds, consecutiveFailures: rounds % 5, quotaFetchedAt: rounds });
    } finally {
      await c.close();
    }
  }, 60_000);

  test("a flush never replaces a quota polled later (another instance's) with an estimate from an older poll", async () => {
    const c = await instances(2);
    try {
      await c.dbs[0]!.insert(accounts).values({ id: "q", kind: "social", machineId: "m", fingerprint: "f-q", refreshTokenEnc: "v1:x", createdAt: 1, updatedAt: 1 });
      const read = async () => (await c.dbs[0]!.select({ quotaJson: accounts.quotaJson, quotaFetchedAt: accounts.quotaFetchedAt, requests: accounts.requests }).from(accounts))[0];
      const flush = (db: PgDb, quotaJson: string | null, quotaFetchedAt: number | null) =>
        addAccountCounters(db, [{ id: "q", requests: 1, errors: 0, lastUsedAt: 1, consecutiveFailures: 0, quotaJson, quotaFetchedAt }]);
      // Instance 1 polled at 200; instance 0 still estimates from its poll at 100.
      await flush(c.dbs[1]!, '{"remaining":50}', 200);
      await flush(c.dbs[0]!, '{"remaining":70}', 100);
      expect(await read()).toEqual({ quotaJson: '{"remaining":50}', quotaFetchedAt: 200, requests: 2 });
      // An estimate from the same poll, or a newer poll, replaces it; an instance that never polled leaves it.
      await flush(c.dbs[0]!, '{"remaining":48}', 200);
      expect(await read()).toEqual({ quotaJson: '{"remaining":48}', quotaFetchedAt: 200, requests: 3 });
      await flush(c.dbs[1]!, null, null);
      expect(await read()).toEqual({ quotaJson: '{"remaining":48}', quotaFetchedAt: 200, requests: 4 });
      await flush(c.dbs[0]!, '{"remaining":100}', 300);
      expect(await read()).toEqual({ quotaJson: '{"remaining":100}', quotaFetchedAt: 300, requests: 5 });
    } finally {
      await c.close();
    }
  });

  test("a write given up is logged with the database's own message, not the statement and its parameters", async () => {
    const c = await instances(1);
    try {
      const lines: Array<{ msg: string; error: unknown }> = [];
      const bus = new EventBus();
      bus.on((e) => { if (e.kind === "log") lines.push({ msg: e.msg, error: e.fields?.error }); });
      const queue = new WriteQueue(createLogger(bus), 1);
      queue.push("a failing write", () => c.dbs[0]!.execute(sql`select 1 / ${0}::int`).then(() => {}));
      await queue.flush();
      expect(lines).toEqual([{ msg: "database write given up after 1 attempts: a failing write", error: "division by zero" }]);
    } finally {
      await c.close();
    }
  });
});
