/**
 * The store's hot operations on PostgreSQL through Bun's built-in client (drizzle-orm/bun-sql),
 * next to the same operations on bun:sqlite, on a throwaway local cluster (tests/support/postgres.ts).
 * Numbers are per operation, loopback TCP, fsync off: they show the client's own overhead, not a
 * network's. Results and the driver choice are written down in docs/multi-instance.md.
 *
 *   bun bench/pg-store.ts [iterations]
 */
import { eq, sql as dsql } from "drizzle-orm";
import { openDb } from "../src/db/client";
import { runMigrations } from "../src/db/migrate";
import * as lite from "../src/db/schema";
import * as pgs from "../src/db/schema-pg";
import { openPg } from "../src/db/pg/client";
import { runPgMigrations } from "../src/db/pg/migrate";
import { withAdvisoryLock } from "../src/db/pg/lock";
import { startPostgres } from "../tests/support/postgres";

const N = Number(process.argv[2] ?? 400);
const ACCOUNTS = 200;

async function time(fn: (i: number) => unknown, n = N): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < Math.min(20, n); i++) await fn(i); // warm-up
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn(i);
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return { p50: t[Math.floor(n * 0.5)]!, p99: t[Math.floor(n * 0.99)]! };
}

const now = Date.now();
const account = (i: number) => ({ id: `a${i}`, kind: "social" as const, label: `acct ${i}`, machineId: "m".repeat(64), fingerprint: `fp${i}`, refreshTokenEnc: "v1:" + "x".repeat(300), createdAt: now, updatedAt: now });
const logRow = (i: number) => ({ requestId: `r${i}-${Math.random()}`, at: Date.now(), dialect: "openai", model: "claude-sonnet-4.5", accountId: `a${i % ACCOUNTS}`, status: 200, latencyMs: 900, ttftMs: 300, inputTokens: 1200, outputTokens: 300, credits: 0.4 });
const key = { id: "k1", name: "team", keyHash: "h".repeat(64), keyPrefix: "sk-kiro-", createdAt: now, monthlyTokenBudget: 10_000_000_000 };

const cluster = await startPostgres();
const url = await cluster.newDatabase("bench");
const pg = openPg(url, { max: 8 });
const lt = openDb(":memory:");
try {
  await runPgMigrations(pg.$client);
  runMigrations(lt);
  await pg.insert(pgs.accounts).values(Array.from({ length: ACCOUNTS }, (_, i) => account(i)));
  lt.insert(lite.accounts).values(Array.from({ length: ACCOUNTS }, (_, i) => account(i))).run();
  await pg.insert(pgs.clientKeys).values(key);
  lt.insert(lite.clientKeys).values(key).run();

  const rows: Array<[string, { p50: number; p99: number }, { p50: number; p99: number }]> = [];
  const add = async (name: string, pgFn: (i: number) => unknown, ltFn: (i: number) => unknown, n = N) => {
    process.stderr.write(`${name}…\n`);
    rows.push([name, await time(pgFn, n), await time(ltFn, n)]);
  };

  await add("read one account by id",
    (i) => pg.select().from(pgs.accounts).where(eq(pgs.accounts.id, `a${i % ACCOUNTS}`)),
    (i) => lt.select().from(lite.accounts).where(eq(lite.accounts.id, `a${i % ACCOUNTS}`)).get());
  await add("state change (cooldown) by id",
    (i) => pg.update(pgs.accounts).set({ state: "cooling", stateUntil: Date.now() + 2000, updatedAt: Date.now() }).where(eq(pgs.accounts.id, `a${i % ACCOUNTS}`)),
    (i) => lt.update(lite.accounts).set({ state: "cooling", stateUntil: Date.now() + 2000, updatedAt: Date.now() }).where(eq(lite.accounts.id, `a${i % ACCOUNTS}`)).run());
  await add("budget add + read back (atomic)",
    () => pg.update(pgs.clientKeys).set({ tokensThisMonth: dsql`${pgs.clientKeys.tokensThisMonth} + 1500`, requests: dsql`${pgs.clientKeys.requests} + 1` }).where(eq(pgs.clientKeys.id, "k1")).returning({ used: pgs.clientKeys.tokensThisMonth }),
    () => lt.update(lite.clientKeys).set({ tokensThisMonth: dsql`${lite.clientKeys.tokensThisMonth} + 1500`, requests: dsql`${lite.clientKeys.requests} + 1` }).where(eq(lite.clientKeys.id, "k1")).returning({ used: lite.clientKeys.tokensThisMonth }).get());
  await add("request log: batch of 200 rows",
    (i) => pg.insert(pgs.requestLog).values(Array.from({ length: 200 }, (_, j) => ({ ...logRow(i * 200 + j), instanceId: "bench" }))),
    (i) => lt.insert(lite.requestLog).values(Array.from({ length: 200 }, (_, j) => logRow(i * 200 + j))).run(), Math.min(N, 100));
  await add(`reconcile: all ${ACCOUNTS} accounts`,
    () => pg.select().from(pgs.accounts),
    () => lt.select().from(lite.accounts).all(), Math.min(N, 200));
  rows.push(["cluster lock + unlock (advisory)", await time(() => withAdvisoryLock(pg.$client, "bench", async () => {})), { p50: NaN, p99: NaN }]);

  // Change feed: NOTIFY on one pool, delivery on another's LISTEN connection.
  const other = openPg(url, { max: 2 }); // NOTIFY reaches listeners of the same database only
  let deliver: (() => void) | null = null;
  const sub = await pg.$client.listen("bench_changes", () => deliver?.());
  const notifyTimes = await time(async () => {
    const got = new Promise<void>((r) => (deliver = r));
    await other.$client.notify("bench_changes", "{}");
    await got;
  });
  await sub.unlisten();
  await other.$client.close();
  rows.push(["NOTIFY → LISTEN delivery", notifyTimes, { p50: NaN, p99: NaN }]);

  const f = (x: number) => (Number.isNaN(x) ? "—" : `${x.toFixed(3)} ms`);
  console.log(`PostgreSQL ${cluster.version} (Bun SQL + drizzle-orm/bun-sql) vs bun:sqlite (:memory:), ${N} iterations, loopback`);
  console.log(`${"operation".padEnd(36)} ${"pg p50".padStart(10)} ${"pg p99".padStart(10)} ${"sqlite p50".padStart(11)} ${"sqlite p99".padStart(11)}`);
  for (const [name, a, b] of rows) console.log(`${name.padEnd(36)} ${f(a.p50).padStart(10)} ${f(a.p99).padStart(10)} ${f(b.p50).padStart(11)} ${f(b.p99).padStart(11)}`);
} finally {
  await pg.$client.close();
  lt.$client.close();
  await cluster.stop();
}
