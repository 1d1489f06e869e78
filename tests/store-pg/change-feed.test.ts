import { describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { announce, ChangeFeed, diffVersions, rowVersions, type Change } from "../../src/db/pg/change-feed";
import { runPgMigrations } from "../../src/db/pg/migrate";
import { usePostgres } from "../support/postgres";

const pg = usePostgres();

/** Resolves when `check` holds, re-checking on each event the caller signals; fails after `ms`. */
function until(check: () => boolean, ms = 10_000): { poke(): void; done: Promise<void> } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const done = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
  const timer = setTimeout(() => reject(new Error(`condition not met within ${ms} ms`)), ms);
  const poke = () => { if (check()) { clearTimeout(timer); resolve(); } };
  return { poke, done };
}

describe("diffVersions", () => {
  test("changed, added and removed rows", () => {
    const mem = new Map([["a", 1], ["b", 2], ["gone", 3]]);
    const db = new Map([["a", 1], ["b", 5], ["new", 1]]);
    expect(diffVersions(mem, db)).toEqual({ changed: ["b", "new"], removed: ["gone"] });
  });
});

describe.skipIf(!pg.available)("change feed between instances", () => {
  test("an announced change reaches the other instance, not the writer; a silent write is found by the reconcile", async () => {
    const url = await pg.newDatabase("feed");
    const a = new SQL(url, { max: 2 });
    const b = new SQL(url, { max: 2 });
    await runPgMigrations(a);
    const seenByA: Change[] = [];
    const seenByB: Change[] = [];
    // B's memory: settings versions it has loaded.
    const memB = new Map<string, number>();
    const repairedByB: string[] = [];
    const waitB = until(() => seenByB.length > 0 && repairedByB.includes("silent"));
    const feedA = new ChangeFeed(a, { instanceId: "A", onChange: (c) => { seenByA.push(c); }, reconcile: () => {}, reconcileMs: 60_000 });
    const feedB = new ChangeFeed(b, {
      instanceId: "B",
      onChange: (c) => { seenByB.push(c); waitB.poke(); },
      reconcile: async () => {
        const now = await rowVersions(b, "settings");
        const { changed } = diffVersions(memB, now);
        for (const id of changed) { memB.set(id, now.get(id)!); repairedByB.push(id); }
        waitB.poke();
      },
      reconcileMs: 200,
    });
    try {
      await Promise.all([feedA.start(), feedB.start()]);
      await a.begin(async (tx) => {
        await tx`insert into settings (key, value, updated_at) values ('announced', '{}', 1)`;
        await announce(tx, { table: "settings", id: "announced", from: "A" });
      });
      // Written without an announcement (a missed notification): only the reconcile can see it.
      await a`insert into settings (key, value, updated_at) values ('silent', '{}', 2)`;
      await waitB.done;
      expect(seenByB).toEqual([{ table: "settings", id: "announced", from: "A" }]);
      expect(seenByA).toEqual([]);
    } finally {
      await Promise.all([feedA.stop(), feedB.stop()]);
      await Promise.all([a.close(), b.close()]);
    }
  });

  test("a rolled-back transaction announces nothing", async () => {
    const url = await pg.newDatabase("feed");
    const a = new SQL(url, { max: 2 });
    const b = new SQL(url, { max: 2 });
    const seen: Change[] = [];
    const wait = until(() => seen.length > 0);
    const feed = new ChangeFeed(b, { instanceId: "B", onChange: (c) => { seen.push(c); wait.poke(); }, reconcile: () => {}, reconcileMs: 60_000 });
    try {
      await feed.start();
      await expect(a.begin(async (tx) => {
        await announce(tx, { table: "accounts", id: "rolled-back", from: "A" });
        throw new Error("abort");
      })).rejects.toThrow("abort");
      await announce(a, { table: "accounts", id: "committed", from: "A" });
      await wait.done;
      // Notifications arrive in commit order: had the first been sent, it would be here first.
      expect(seen.map((c) => c.id)).toEqual(["committed"]);
    } finally {
      await feed.stop();
      await Promise.all([a.close(), b.close()]);
    }
  });

  test("after the listening connection is cut, the feed listens again and reconciles", async () => {
    const url = await pg.newDatabase("feed");
    const a = new SQL(url, { max: 2 });
    const b = new SQL(url, { max: 2 });
    let reconciles = 0;
    const seen: Change[] = [];
    const firstReconcile = until(() => reconciles >= 1);
    const feed = new ChangeFeed(b, { instanceId: "B", onChange: (c) => { seen.push(c); }, reconcile: () => { reconciles++; firstReconcile.poke(); again.poke(); }, reconcileMs: 60_000 });
    // Replaced before it is awaited: a placeholder whose timer never runs.
    let again: { poke(): void; done: Promise<void> } = { poke: () => {}, done: Promise.resolve() };
    try {
      await feed.start();
      await firstReconcile.done; // the initial LISTEN counts as (re-)established
      const before = reconciles;
      again = until(() => reconciles > before);
      await a`select pg_terminate_backend(pid) from pg_stat_activity where query ilike 'listen%' and pid <> pg_backend_pid()`;
      await again.done;
      const got = until(() => seen.some((c) => c.id === "after-reconnect"));
      const poke = setInterval(() => { void announce(a, { table: "accounts", id: "after-reconnect", from: "A" }); got.poke(); }, 100);
      try { await got.done; } finally { clearInterval(poke); }
    } finally {
      await feed.stop();
      await Promise.all([a.close(), b.close()]);
    }
  }, 30_000);
});
