import { describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { join } from "node:path";
import { LockTimeoutError, lockKey, tryWithAdvisoryLock, withAdvisoryLock } from "../../src/db/pg/lock";
import { usePostgres } from "../support/postgres";

const pg = usePostgres();

describe("lockKey", () => {
  test("a stable signed 64-bit key per name", () => {
    expect(lockKey("refresh:a")).toBe(lockKey("refresh:a"));
    expect(lockKey("refresh:a")).not.toBe(lockKey("refresh:b"));
    const k = lockKey("migrate");
    expect(k >= -(2n ** 63n) && k < 2n ** 63n).toBe(true);
  });
});

describe.skipIf(!pg.available)("cluster locks on PostgreSQL advisory locks", () => {
  test("one holder at a time across separate connection pools; waiters get it when it is released", async () => {
    const url = await pg.newDatabase("lock");
    const a = new SQL(url, { max: 2 });
    const b = new SQL(url, { max: 2 });
    try {
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      let signalHeld!: () => void;
      const heldSignal = new Promise<void>((r) => (signalHeld = r));
      const holder = withAdvisoryLock(a, "refresh:acct-1", async () => {
        signalHeld();
        await released;
        return "a-done";
      });
      await heldSignal;
      expect(await tryWithAdvisoryLock(b, "refresh:acct-1", async () => "b")).toEqual({ acquired: false });
      // A different name is independent.
      expect(await tryWithAdvisoryLock(b, "refresh:acct-2", async () => "b2")).toEqual({ acquired: true, value: "b2" });
      await expect(withAdvisoryLock(b, "refresh:acct-1", async () => "b", { timeoutMs: 150 })).rejects.toBeInstanceOf(LockTimeoutError);
      const waiter = withAdvisoryLock(b, "refresh:acct-1", async () => "b-got-it", { timeoutMs: 15_000 });
      release();
      expect(await holder).toBe("a-done");
      expect(await waiter).toBe("b-got-it");
      // Connections went back to the pools with no lock left behind.
      const [{ n }] = await a`select count(*)::int as n from pg_locks where locktype = 'advisory'`;
      expect(n).toBe(0);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test("an error inside the critical section releases the lock", async () => {
    const url = await pg.newDatabase("lock");
    const a = new SQL(url, { max: 1 });
    try {
      await expect(withAdvisoryLock(a, "x", async () => { throw new Error("boom"); })).rejects.toThrow("boom");
      expect(await tryWithAdvisoryLock(a, "x", async () => 1)).toEqual({ acquired: true, value: 1 });
    } finally {
      await a.close();
    }
  });

  test("kill -9 of the holding process frees the lock at once (no lease to time out)", async () => {
    const url = await pg.newDatabase("lock");
    const child = Bun.spawn([process.execPath, join(import.meta.dir, "lock-holder.ts"), url, "refresh:acct-9"], { stdout: "pipe", stderr: "inherit" });
    const reader = child.stdout.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain("held");
    const b = new SQL(url, { max: 1 });
    try {
      expect(await tryWithAdvisoryLock(b, "refresh:acct-9", async () => 1)).toEqual({ acquired: false });
      child.kill("SIGKILL");
      await child.exited;
      const started = Date.now();
      expect(await withAdvisoryLock(b, "refresh:acct-9", async () => "taken over", { timeoutMs: 15_000 })).toBe("taken over");
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      reader.releaseLock();
      await b.close();
    }
  });
});
