/**
 * Selection strategies, load spread, session affinity, per-account concurrency cap and
 * strategy changes at runtime (no upstream needed: quotas are set directly).
 */
import { describe, expect, test } from "bun:test";
import type { AccountPool } from "../../src/pool/pool";
import { Fenwick, Selector } from "../../src/pool/selection";
import { isUnavailable, type PoolLease } from "../../src/pool/types";
import type { Services } from "../../src/services";
import { longToken, makeServices } from "./helpers";

async function poolWith(n: number, credits?: (i: number) => number): Promise<{ s: Services; ids: string[] }> {
  const s = await makeServices();
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await s.pool.upsert({ kind: "social", refreshToken: longToken(`sel${i}`), label: `acct-${i}` });
    ids.push(r.id);
    if (credits) setCredits(s.pool, r.id, credits(i));
  }
  return { s, ids };
}

function setCredits(pool: AccountPool, id: string, remaining: number) {
  pool.applyQuota(id, { used: 0, limit: remaining, remaining, fetchedAt: Date.now() });
}

function pickMany(pool: AccountPool, n: number, opts: Parameters<AccountPool["acquire"]>[0] = {}): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const l = pool.acquire(opts);
    if (isUnavailable(l)) throw new Error(l.message);
    counts.set(l.accountId, (counts.get(l.accountId) ?? 0) + 1);
    l.release();
  }
  return counts;
}

describe("balanced", () => {
  test("10 healthy accounts, equal credits: nobody gets more than 2× the fair share", async () => {
    const { s, ids } = await poolWith(10, () => 100);
    const counts = pickMany(s.pool, 10_000);
    for (const id of ids) {
      expect(counts.get(id) ?? 0).toBeLessThan(2000);
      expect(counts.get(id) ?? 0).toBeGreaterThan(500);
    }
  });

  test("an account with 10× the remaining credits gets clearly more", async () => {
    const { s, ids } = await poolWith(10, (i) => (i === 3 ? 1000 : 100));
    const counts = pickMany(s.pool, 10_000);
    const rich = counts.get(ids[3]!)!;
    const others = ids.filter((_, i) => i !== 3).map((id) => counts.get(id) ?? 0);
    expect(rich).toBeGreaterThan(4 * Math.max(...others));
  });

  test("load lowers the weight: a busy account is picked less, never piled onto", async () => {
    const { s, ids } = await poolWith(2, () => 100);
    const held: PoolLease[] = [];
    for (let i = 0; i < 3; i++) {
      const l = s.pool.acquire({ exclude: new Set([ids[1]!]) });
      if (isUnavailable(l)) throw new Error(l.message);
      held.push(l);
    }
    const counts = pickMany(s.pool, 4000);
    // weights 100/(1+3) vs 100/1 → about 20 % vs 80 %
    expect(counts.get(ids[0]!)!).toBeLessThan(counts.get(ids[1]!)! / 2);
    for (const l of held) l.release();
  });
});

describe("round-robin and priority", () => {
  test("round-robin cycles through every account evenly", async () => {
    const { s, ids } = await poolWith(5);
    s.settings.update({ strategy: "round-robin" });
    const counts = pickMany(s.pool, 500);
    for (const id of ids) expect(counts.get(id)).toBe(100);
  });

  test("priority sticks to the first account in order until it is unusable", async () => {
    const { s, ids } = await poolWith(3);
    s.pool.setPriority(ids[2]!, -1); // most preferred
    s.settings.update({ strategy: "priority" });
    expect([...pickMany(s.pool, 50).keys()]).toEqual([ids[2]!]);
    s.pool.setEnabled(ids[2]!, false);
    expect([...pickMany(s.pool, 50).keys()]).toEqual([ids[0]!]);
  });

  test("strategy changes take effect on the next pick", async () => {
    const { s, ids } = await poolWith(4);
    s.settings.update({ strategy: "priority" });
    expect(pickMany(s.pool, 20).size).toBe(1);
    s.settings.update({ strategy: "round-robin" });
    expect(pickMany(s.pool, 20).size).toBe(ids.length);
  });
});

describe("affinity and concurrency", () => {
  test("a conversation stays on one account while it is usable", async () => {
    const { s } = await poolWith(8, () => 100);
    const first = pickMany(s.pool, 1, { conversationId: "conv-1" });
    const id = [...first.keys()][0]!;
    expect([...pickMany(s.pool, 30, { conversationId: "conv-1" }).keys()]).toEqual([id]);
    s.pool.setEnabled(id, false);
    const moved = [...pickMany(s.pool, 10, { conversationId: "conv-1" }).keys()];
    expect(moved).toHaveLength(1);
    expect(moved[0]).not.toBe(id);
  });

  test("per-account concurrency cap; all_busy when every account is at the cap", async () => {
    const { s, ids } = await poolWith(2);
    s.settings.update({ perAccountConcurrency: 2 });
    const held: PoolLease[] = [];
    for (let i = 0; i < 4; i++) {
      const l = s.pool.acquire();
      if (isUnavailable(l)) throw new Error(l.message);
      held.push(l);
    }
    for (const id of ids) expect(held.filter((l) => l.accountId === id)).toHaveLength(2);
    const none = s.pool.acquire();
    expect(isUnavailable(none) && none.reason).toBe("all_busy");
    held[0]!.release();
    held[0]!.release(); // idempotent
    const again = s.pool.acquire();
    expect(isUnavailable(again) ? again.reason : again.accountId).toBe(held[0]!.accountId);
  });

  test("all disabled → all_disabled", async () => {
    const { s, ids } = await poolWith(2);
    for (const id of ids) s.pool.setEnabled(id, false);
    expect(s.pool.acquire()).toMatchObject({ unavailable: true, reason: "all_disabled" });
    expect(s.pool.summary()).toMatchObject({ total: 2, disabled: 2, usable: 0 });
  });
});

describe("data structures", () => {
  test("Fenwick find matches a linear scan", () => {
    const f = new Fenwick(37);
    const w = Array.from({ length: 37 }, (_, i) => (i % 5 === 0 ? 0 : i));
    w.forEach((x, i) => f.set(i, x));
    const total = w.reduce((a, b) => a + b, 0);
    expect(f.total()).toBe(total);
    for (let r = 0; r < total; r += 7) {
      let acc = 0, want = -1;
      for (let i = 0; i < w.length; i++) { acc += w[i]!; if (acc > r) { want = i; break; } }
      expect(f.find(r)).toBe(want);
    }
  });

  test("Selector keeps its pickable list consistent through add/remove", () => {
    const sel = new Selector(() => 0.5);
    for (let i = 0; i < 100; i++) sel.set(i, 1);
    for (let i = 0; i < 100; i += 2) sel.set(i, 0);
    expect(sel.pickableCount).toBe(50);
    const seen = new Set<number>();
    for (let i = 0; i < 50; i++) seen.add(sel.pick("round-robin"));
    expect([...seen].every((x) => x % 2 === 1)).toBe(true);
    expect(seen.size).toBe(50);
  });
});
