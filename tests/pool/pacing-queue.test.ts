/**
 * The pool's pacing and wait queue through its public API (acquire / acquireWait / list /
 * queueStats) against the fake Kiro's accounts: head-room first, first come first served, a
 * waiter that cannot use a freed account does not hold up the next, bounded waits, aborts, and
 * no waiting when waiting cannot help.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { startFakeKiro, type FakeKiro } from "../fake-kiro/server";
import { isUnavailable, type PoolLease, type PoolUnavailable } from "../../src/pool/types";
import type { Services } from "../../src/services";
import { addBoth, longToken, servicesFor } from "./helpers";

let fake: FakeKiro;
let s: Services | undefined;
beforeAll(async () => {
  fake = await startFakeKiro();
});
afterAll(async () => {
  await fake.stop();
});
afterEach(() => {
  s?.pool.close();
  s = undefined;
});

async function poolOf(n: number, settings: Partial<Services["settings"]["runtime"]>): Promise<{ s: Services; ids: string[] }> {
  s = await servicesFor(fake);
  s.settings.update(settings);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await addBoth(fake, s.pool, { refreshToken: longToken(`q${i}`), label: `q${i}` })).id);
  return { s, ids };
}

function lease(r: PoolLease | PoolUnavailable): PoolLease {
  if (isUnavailable(r)) throw new Error(`expected a lease: ${r.message}`);
  return r;
}

describe("pacing", () => {
  test("accounts with head-room are picked first; a paced account is skipped, not waited for", async () => {
    const { s, ids } = await poolOf(3, { accountRpm: 1, pacingWindowMs: 60_000, accountMinSpacingMs: 0 });
    const got = [0, 1, 2].map(() => lease(s.pool.acquire()));
    expect(new Set(got.map((l) => l.accountId))).toEqual(new Set(ids));
    for (const l of got) l.release();
    // All three used their one request this window: nothing pickable, and it says why and when.
    const none = s.pool.acquire();
    expect(isUnavailable(none) && none.reason).toBe("all_busy");
    expect((none as PoolUnavailable).message).toMatch(/^all 3 accounts are at their limit \(paced at 1 request per 60 s, next free slot at \d\d:\d\d:\d\d UTC\)$/);
    expect((none as PoolUnavailable).retryAt! - Date.now()).toBeGreaterThan(55_000);
    const v = s.pool.list();
    for (const a of v) {
      expect(a.pacing.recentRequests).toBe(1);
      expect(a.pacing.limit).toBe(1);
      expect(a.pacing.nextSlotAt! - Date.now()).toBeGreaterThan(55_000);
    }
  });

  test("minimum spacing: the next request on an account waits for it, then goes", async () => {
    const { s } = await poolOf(1, { accountRpm: 0, accountMinSpacingMs: 300, queueWaitMs: 5000 });
    const a = lease(s.pool.acquire());
    const t0 = Date.now();
    a.release();
    const b = lease(await s.pool.acquireWait());
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    b.release();
    expect(s.pool.get(b.accountId)!.pacing.recentRequests).toBe(2);
  });

  test("a settings change takes effect at once: lifting the limit serves the waiting request", async () => {
    const { s } = await poolOf(1, { accountRpm: 1, pacingWindowMs: 60_000, accountMinSpacingMs: 0, queueWaitMs: 10_000 });
    lease(s.pool.acquire()).release();
    const waiting = s.pool.acquireWait();
    expect(s.pool.queueStats().waiting).toBe(1);
    s.settings.update({ accountRpm: 5 });
    lease(await waiting).release();
    expect(s.pool.queueStats()).toMatchObject({ waiting: 0, queuedTotal: 1, servedTotal: 1 });
  });

  test("a retry on the same lease counts toward the account's pacing", async () => {
    const { s, ids } = await poolOf(1, { accountRpm: 10, accountMinSpacingMs: 0 });
    const l = lease(s.pool.acquire());
    await l.credentials();
    await l.credentials({ forceRefresh: true });
    l.release();
    expect(s.pool.get(ids[0]!)!.pacing.recentRequests).toBe(2);
  });
});

describe("wait queue", () => {
  test("first come, first served when an account frees up", async () => {
    const { s } = await poolOf(1, { perAccountConcurrency: 1, accountRpm: 0, accountMinSpacingMs: 0, queueWaitMs: 10_000 });
    let held = lease(s.pool.acquire());
    const order: number[] = [];
    const waiters = [0, 1, 2, 3, 4].map((i) =>
      s.pool.acquireWait().then((r) => {
        order.push(i);
        return lease(r);
      }),
    );
    expect(s.pool.queueStats().waiting).toBe(5);
    for (let i = 0; i < 5; i++) {
      held.release();
      held = await waiters[i]!;
    }
    held.release();
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(s.pool.queueStats()).toMatchObject({ waiting: 0, queuedTotal: 5, servedTotal: 5, timedOutTotal: 0 });
  });

  test("a newcomer never overtakes a waiting request", async () => {
    const { s } = await poolOf(1, { perAccountConcurrency: 1, accountRpm: 0, accountMinSpacingMs: 0, queueWaitMs: 10_000 });
    const held = lease(s.pool.acquire());
    const first = s.pool.acquireWait();
    held.release(); // frees the account; the waiter is served in a microtask
    const second = s.pool.acquireWait(); // arrives before that microtask ran
    const a = lease(await first);
    expect(s.pool.queueStats().waiting).toBe(1);
    a.release();
    lease(await second).release();
  });

  test("a waiter that cannot use the freed account lets the next one have it", async () => {
    const { s, ids } = await poolOf(2, { perAccountConcurrency: 1, accountRpm: 0, accountMinSpacingMs: 0, queueWaitMs: 10_000 });
    const h1 = lease(s.pool.acquire({ exclude: new Set([ids[1]!]) }));
    const h2 = lease(s.pool.acquire());
    expect([h1.accountId, h2.accountId]).toEqual([ids[0]!, ids[1]!]);
    // The first waiter already tried account 0; the second takes anything.
    const picky = s.pool.acquireWait({ exclude: new Set([ids[0]!]) });
    const any = s.pool.acquireWait();
    h1.release();
    const got = lease(await any);
    expect(got.accountId).toBe(ids[0]!);
    expect(s.pool.queueStats().waiting).toBe(1);
    h2.release();
    expect(lease(await picky).accountId).toBe(ids[1]!);
  });

  test("bounded: after queueWaitMs the answer is all_at_limit with the next free slot", async () => {
    const { s } = await poolOf(1, { accountRpm: 1, pacingWindowMs: 60_000, accountMinSpacingMs: 0, queueWaitMs: 200 });
    lease(s.pool.acquire()).release();
    const t0 = Date.now();
    const r = await s.pool.acquireWait();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    expect(isUnavailable(r) && r.reason).toBe("all_at_limit");
    const u = r as PoolUnavailable;
    expect(u.retryAt! - Date.now()).toBeGreaterThan(55_000);
    expect(u.message).toMatch(/^all 1 account is at their limit \(paced at 1 request per 60 s, next free slot at .*\); waited 0\.\d s in the queue; retry after \d\d:\d\d:\d\d UTC$/);
    expect(s.pool.queueStats()).toMatchObject({ waiting: 0, queuedTotal: 1, timedOutTotal: 1 });
  });

  test("queueWaitMs 0: all_at_limit at once; concurrency-bound only: retry after another wait", async () => {
    const { s } = await poolOf(1, { perAccountConcurrency: 1, accountRpm: 0, accountMinSpacingMs: 0, queueWaitMs: 0 });
    const held = lease(s.pool.acquire());
    const r = await s.pool.acquireWait();
    expect(isUnavailable(r) && r.reason).toBe("all_at_limit");
    expect((r as PoolUnavailable).message).toContain("at their concurrency limit of 1");
    expect((r as PoolUnavailable).retryAt! - Date.now()).toBeGreaterThan(500);
    held.release();
  });

  test("a client that goes away leaves the queue (AbortError), the others stay", async () => {
    const { s } = await poolOf(1, { perAccountConcurrency: 1, accountRpm: 0, accountMinSpacingMs: 0, queueWaitMs: 10_000 });
    const held = lease(s.pool.acquire());
    const ac = new AbortController();
    const gone = s.pool.acquireWait({}, ac.signal);
    const stays = s.pool.acquireWait();
    ac.abort();
    await expect(gone).rejects.toThrow(/client closed the request/);
    expect(s.pool.queueStats()).toMatchObject({ waiting: 1, abandonedTotal: 1 });
    held.release();
    lease(await stays).release();
  });

  test("no waiting when waiting cannot help: every account cooling → all_cooling at once", async () => {
    const { s, ids } = await poolOf(1, { queueWaitMs: 10_000 });
    const l = lease(s.pool.acquire());
    const { KiroError } = await import("../../src/kiro/errors");
    l.failure(new KiroError("throttled", "Too many requests", { status: 429, retryAfterMs: 60_000 }));
    l.release();
    expect(s.pool.get(ids[0]!)!.state).toBe("cooling");
    const r = await s.pool.acquireWait();
    expect(isUnavailable(r) && r.reason).toBe("all_cooling");
    expect(s.pool.queueStats().queuedTotal).toBe(0);
  });

  test("an account that recovers while requests wait serves them", async () => {
    const { s, ids } = await poolOf(2, { perAccountConcurrency: 1, accountRpm: 0, accountMinSpacingMs: 0, queueWaitMs: 10_000 });
    s.pool.setEnabled(ids[1]!, false);
    const held = lease(s.pool.acquire());
    const waiting = s.pool.acquireWait();
    expect(s.pool.queueStats().waiting).toBe(1);
    s.pool.setEnabled(ids[1]!, true);
    expect(lease(await waiting).accountId).toBe(ids[1]!);
    held.release();
  });

  test("shutdown answers every waiter", async () => {
    const { s } = await poolOf(1, { perAccountConcurrency: 1, accountRpm: 0, accountMinSpacingMs: 0, queueWaitMs: 60_000 });
    lease(s.pool.acquire());
    const waiting = s.pool.acquireWait();
    s.pool.close();
    const r = await waiting;
    expect(isUnavailable(r) && r.reason).toBe("all_at_limit");
    expect((r as PoolUnavailable).message).toBe("the server is shutting down");
  });
});
