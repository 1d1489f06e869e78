/**
 * Budget checks of keys near their budget on PostgreSQL (ClientKeys over the real PgKeyRepo, two
 * "instances" = two connection pools on one database, no change feed so that memory lags on
 * purpose): far from the budget nothing asks the database; near it the admission reads the
 * cluster total and each usage is written at once; a database that does not answer admits on the
 * instance's own count with a warning.
 */
import { describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { SecretBox } from "../../src/crypto/secret-box";
import { openPg, type PgDb } from "../../src/db/pg/client";
import { runPgMigrations } from "../../src/db/pg/migrate";
import { PgKeyRepo } from "../../src/db/pg/repos/keys";
import { WriteQueue } from "../../src/db/pg/repos/queue";
import { clientKeys } from "../../src/db/schema-pg";
import { ClientKeys } from "../../src/keys/client-keys";
import type { Logger } from "../../src/logs/logger";
import { usePostgres } from "../support/postgres";

const pg = usePostgres();

type Line = { level: string; msg: string; fields?: Record<string, unknown> };
function recordingLogger(lines: Line[]): Logger {
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => void lines.push({ level, msg, fields });
  const log: Logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error"), child: () => log };
  return log;
}

type Node = { db: PgDb; queue: WriteQueue; repo: PgKeyRepo; keys: ClientKeys; lines: Line[]; calls: { clusterUsage: number; addUsageNow: number } };

async function node(url: string, id: string): Promise<Node> {
  const db = openPg(url, { max: 2 });
  const lines: Line[] = [];
  // One attempt, no pause: a write to a closed pool is given up at once instead of retried for seconds.
  const queue = new WriteQueue(recordingLogger(lines), 1, 0);
  const repo = await PgKeyRepo.open(db, queue, id);
  const calls = { clusterUsage: 0, addUsageNow: 0 };
  const { clusterUsage, addUsageNow } = repo;
  repo.clusterUsage = (k) => (calls.clusterUsage++, clusterUsage.call(repo, k));
  repo.addUsageNow = (u) => (calls.addUsageNow++, addUsageNow.call(repo, u));
  return { db, queue, repo, keys: new ClientKeys(repo, await SecretBox.fromSecret("near-budget-test-secret")), lines, calls };
}

async function stored(db: PgDb, id: string): Promise<number> {
  const [row] = await db.select({ t: clientKeys.tokensThisMonth }).from(clientKeys).where(eq(clientKeys.id, id));
  return row!.t;
}

/** Batched usage stays unwritten until flushed by hand (the timer's 100 ms must not decide what a test sees). */
function holdBatches(n: Node): void {
  Object.defineProperty(n.repo, "flushDelayMs", { value: 600_000 });
}

const keyRow = (id: string, budget: number | null) => ({ id, name: id, keyHash: `hash-${id}`, keyPrefix: "sk-kiro-", createdAt: 1, monthlyTokenBudget: budget });

describe.skipIf(!pg.available)("keys near their budget on a shared database", () => {
  test("near the budget the admission reads the cluster total (usage memory has not seen); far from it, or without a budget, nothing asks the database", async () => {
    const url = await pg.newDatabase("near");
    const setup = openPg(url, { max: 1 });
    await runPgMigrations(setup.$client);
    await setup.insert(clientKeys).values([keyRow("tight", 1000), keyRow("far", 1_000_000_000), keyRow("free", null)]);
    const [a, b] = [await node(url, "a"), await node(url, "b")];
    try {
      const key = (n: Node, id: string) => n.keys.list().find((k) => k.id === id)!;
      // Far from the budget, or no budget: memory answers (no promise), usage goes to the batch.
      for (const id of ["far", "free"]) {
        expect(a.keys.clusterBudgetCheck(key(a, id))).toBeNull();
        expect(a.keys.recordUsage(id, 500)).toBeUndefined();
      }
      expect(a.calls).toEqual({ clusterUsage: 0, addUsageNow: 0 });
      expect(a.keys.clusterBudgetCheck(key(a, "tight"))).toBeNull(); // nothing used yet: far

      // B serves the key: one large request makes it near there, so its usage is written at once.
      await b.keys.recordUsage("tight", 600);
      expect(b.calls.addUsageNow).toBe(1);
      expect(await stored(setup, "tight")).toBe(600);
      // A serves it too: near for A as well; the write's answer brings B's usage into A's memory.
      await a.keys.recordUsage("tight", 300);
      expect(key(a, "tight").tokensThisMonth).toBe(900);
      // B again: the cluster is over the budget now; A's memory (900) does not know.
      await b.keys.recordUsage("tight", 150);
      expect(await stored(setup, "tight")).toBe(1050);
      expect(a.keys.denyReason(key(a, "tight"), "claude-sonnet-4-5")).toBeNull();
      const check = a.keys.clusterBudgetCheck(key(a, "tight"));
      expect(check).toBeInstanceOf(Promise);
      expect(await check).toBe("this API key used its monthly budget of 1000 tokens");
      expect(a.calls.clusterUsage).toBe(1);
      // The answer also brought memory up to date.
      expect(key(a, "tight").tokensThisMonth).toBe(1050);
      expect(a.keys.denyReason(key(a, "tight"), "claude-sonnet-4-5")).toBe("this API key used its monthly budget of 1000 tokens");
      // The batched usage of the far keys lands too.
      await a.repo.flush();
      expect(await stored(setup, "far")).toBe(500);
      expect(await stored(setup, "free")).toBe(500);
    } finally {
      for (const n of [a, b]) await n.db.$client.close();
      await setup.$client.close();
    }
  });

  /**
   * One instance serving a key of 100,000 tokens (10 % of it, 10,000, is the margin while requests
   * are small and slow) whose batches stay unwritten until flushed by hand; three small requests
   * minutes apart are counted far from the budget and batched (300 tokens not written yet).
   */
  async function heldUsage(name: string, run: (a: Node, setup: PgDb, live: ReturnType<Node["keys"]["list"]>[number], t0: number) => Promise<void>) {
    const url = await pg.newDatabase(name);
    const setup = openPg(url, { max: 1 });
    await runPgMigrations(setup.$client);
    await setup.insert(clientKeys).values([keyRow(name, 100_000)]);
    const a = await node(url, "a");
    holdBatches(a);
    try {
      // The live record, taken once: list() writes the batch first, which these tests keep unwritten.
      const live = a.keys.list().find((k) => k.id === name)!;
      const t0 = Date.now();
      for (let i = 0; i < 3; i++) expect(a.keys.recordUsage(name, 100, t0 + i * 120_000)).toBeUndefined();
      expect(a.calls.addUsageNow).toBe(0);
      await run(a, setup, live, t0);
    } finally {
      a.keys.flushUsage();
      await a.db.$client.close();
      await setup.$client.close();
    }
  }
  const monthOf = (t: number) => new Date(t).toISOString().slice(0, 7);

  test("usage batched while the key was far is never missing near the budget: the first usage written at once carries it", async () => {
    await heldUsage("held", async (a, setup, held, t0) => {
      // Another instance has used most of the budget meanwhile (straight into the table).
      await setup.update(clientKeys).set({ tokensThisMonth: 99_750, budgetMonth: monthOf(t0) }).where(eq(clientKeys.id, "held"));
      // One request makes the key near for this instance (its memory: 300 + 95,000 = 95,300 used).
      const near = a.keys.recordUsage("held", 95_000, t0 + 400_000);
      expect(near).toBeInstanceOf(Promise);
      await near;
      // Written at once with the 300 still batched: nothing of this instance's is missing.
      expect(a.calls.addUsageNow).toBe(1);
      expect(await stored(setup, "held")).toBe(99_750 + 95_300);
      // Nothing is left in the batch to be written twice.
      a.keys.flushUsage();
      await a.repo.flush();
      expect(await stored(setup, "held")).toBe(99_750 + 95_300);
      expect(held.tokensThisMonth).toBe(99_750 + 95_300);
    });
  });

  test("an admission near the budget counts this instance's batched usage the cluster total does not hold yet", async () => {
    await heldUsage("own", async (a, setup, own, t0) => {
      // Another instance took the table to 99,750; this instance heard of 92,000 so far (a late
      // notification): memory 92,300 is near the budget, so the admission reads the cluster total.
      await setup.update(clientKeys).set({ tokensThisMonth: 99_750, budgetMonth: monthOf(t0) }).where(eq(clientKeys.id, "own"));
      a.keys.applyTotals([{ id: "own", tokensThisMonth: 92_000, requests: 3, budgetMonth: monthOf(t0) }]);
      expect(own.tokensThisMonth).toBe(92_300);
      const check = a.keys.clusterBudgetCheck(own, t0 + 400_000);
      expect(check).toBeInstanceOf(Promise);
      // 99,750 in the table + the 300 this instance has not written: 100,050, over the budget.
      expect(await check).toBe("this API key used its monthly budget of 100000 tokens");
      expect(a.calls.clusterUsage).toBe(1);
      // Once written, the table holds it too.
      a.keys.flushUsage();
      await a.repo.flush();
      expect(await stored(setup, "own")).toBe(100_050);
    });
  });

  test("a database that does not answer: the key near its budget is admitted on this instance's count, with a warning; its usage is queued", async () => {
    const url = await pg.newDatabase("near-down");
    const setup = openPg(url, { max: 1 });
    await runPgMigrations(setup.$client);
    await setup.insert(clientKeys).values(keyRow("tight", 1000));
    const a = await node(url, "a");
    try {
      const key = () => a.keys.list().find((k) => k.id === "tight")!;
      await a.keys.recordUsage("tight", 400);
      expect(a.calls.addUsageNow).toBe(1);
      await a.db.$client.close();
      // Near (400 of 1000 with 400-token requests): the cluster is asked, cannot answer, memory decides.
      expect(await a.keys.clusterBudgetCheck(key())).toBeNull();
      const warnings = a.lines.filter((l) => l.level === "warn");
      expect(warnings.map((l) => l.msg)).toEqual(["budget check: the database did not answer; a key near its budget is admitted on this instance's count"]);
      expect(warnings[0]!.fields).toMatchObject({ key: "tight" });
      // The usage write fails at once and goes to the batched queue (which gives up here after one attempt).
      await a.keys.recordUsage("tight", 400);
      expect(key().tokensThisMonth).toBe(800);
      await a.repo.flush();
      expect(a.lines.map((l) => l.msg)).toContain("usage of a key near its budget not written at once; queued with the batched usage");
      expect(a.lines.some((l) => l.level === "error" && l.msg.startsWith("database write given up"))).toBe(true);
      // Memory still refuses once this instance alone counts the key over its budget.
      await a.keys.recordUsage("tight", 400);
      expect(a.keys.denyReason(key(), "claude-sonnet-4-5")).toBe("this API key used its monthly budget of 1000 tokens");
      await a.repo.flush();
      // An outage does not log every request: one line per kind of failure per 10 s.
      expect(await a.keys.clusterBudgetCheck({ ...key(), tokensThisMonth: 0 })).toBeNull();
      expect(a.lines.filter((l) => l.level === "warn").map((l) => l.msg)).toEqual([
        "budget check: the database did not answer; a key near its budget is admitted on this instance's count",
        "usage of a key near its budget not written at once; queued with the batched usage",
      ]);
    } finally {
      await setup.$client.close();
    }
  });
});
