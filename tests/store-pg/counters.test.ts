import { describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { openPg, type PgDb } from "../../src/db/pg/client";
import { addAccountCounters, addKeyUsage } from "../../src/db/pg/counters";
import { runPgMigrations } from "../../src/db/pg/migrate";
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
});
