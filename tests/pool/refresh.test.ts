/**
 * Token refresh: single-flight per account under concurrency, proactive background refresh
 * (bounded, only accounts that are due), rotation bookkeeping, dead tokens, quota polling.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { refreshAccessToken } from "../../src/kiro/auth";
import { AccountPool } from "../../src/pool/pool";
import { PoolScheduler } from "../../src/pool/scheduler";
import { fingerprintOf } from "../../src/pool/store";
import { isUnavailable, type PoolLease } from "../../src/pool/types";
import type { DomainEvent } from "../../src/logs/bus";
import { type FakeKiro, startFakeKiro } from "../fake-kiro/server";
import { addBoth, drive, longToken, servicesFor } from "./helpers";

let fake: FakeKiro;
beforeAll(async () => {
  fake = await startFakeKiro();
});
afterAll(() => fake.stop());
beforeEach(() => fake.reset());

function leases(pool: AccountPool, n: number): PoolLease[] {
  return Array.from({ length: n }, () => {
    const l = pool.acquire();
    if (isUnavailable(l)) throw new Error(l.message);
    return l;
  });
}

describe("single-flight refresh", () => {
  test("50 concurrent credentials() while the token expires → exactly one refresh call", async () => {
    const s = await servicesFor(fake);
    s.settings.update({ perAccountConcurrency: 64 });
    let skew = 0;
    const pool = new AccountPool(s, { now: () => Date.now() + skew });
    const { id } = await addBoth(fake, pool, { refreshToken: longToken("sf") });
    await pool.refreshNow(id);
    // 59 minutes later the 1-hour token has 1 minute left: inside the 5-minute margin.
    skew = 59 * 60_000;
    const before = fake.refreshCalls.length;
    const ls = leases(pool, 50);
    const creds = await Promise.all(ls.map((l) => l.credentials()));
    expect(fake.refreshCalls.length - before).toBe(1);
    expect(new Set(creds.map((c) => c.accessToken)).size).toBe(1);
    expect(pool.get(id)!.accessExpiresAt).toBeGreaterThan(Date.now() + 50 * 60_000);
    for (const l of ls) l.release();
    pool.close();
  });

  test("50 concurrent forced refreshes after a bearer-invalid answer → one refresh call", async () => {
    const s = await servicesFor(fake);
    s.settings.update({ perAccountConcurrency: 64 });
    const { id, fake: fa } = await addBoth(fake, s.pool, { refreshToken: longToken("sf2") });
    const ls = leases(s.pool, 50);
    await Promise.all(ls.map((l) => l.credentials())); // one refresh (no token yet)
    fa.expireAccessTokens();
    const before = fake.refreshCalls.length;
    const fresh = await Promise.all(ls.map((l) => l.credentials({ forceRefresh: true })));
    expect(fake.refreshCalls.length - before).toBe(1);
    expect(new Set(fresh.map((c) => c.accessToken)).size).toBe(1);
    for (const l of ls) l.release();
    expect(s.pool.get(id)!.state).toBe("active");
    s.pool.close();
  });
});

describe("rotation", () => {
  test("a rotated refresh token is stored; re-importing the old copy is recognised", async () => {
    const s = await servicesFor(fake);
    const original = longToken("rot");
    const { id, fake: fa } = await addBoth(fake, s.pool, { refreshToken: original });
    const events: DomainEvent[] = [];
    s.bus.on((e) => { if (e.kind === "refresh") events.push(e); });
    await s.pool.refreshNow(id);
    expect(fa.currentRefreshToken).not.toBe(original);
    expect(s.pool.get(id)!.fingerprint).toBe(fingerprintOf(fa.currentRefreshToken));
    expect(events[0]?.data).toMatchObject({ accountId: id, rotated: true });
    const again = await s.pool.upsert({ kind: "social", refreshToken: original });
    expect(again).toEqual({ id, outcome: "skipped", why: "older copy of a token this account has since rotated" });
    expect(s.pool.list()).toHaveLength(1);
    // The stored token is the one that works now.
    expect((await drive(s, "after rotation")).servedBy).toBe(id);
    s.pool.close();
  });
});

describe("scheduler", () => {
  test("refreshes only accounts due within ~10 min, with bounded concurrency", async () => {
    const s = await servicesFor(fake);
    let running = 0, maxRunning = 0;
    const pool = new AccountPool(s, {
      refresh: async (input, up) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await Bun.sleep(20);
        try { return await refreshAccessToken(input, up); } finally { running--; }
      },
    });
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push((await addBoth(fake, pool, { refreshToken: longToken(`due${i}`) })).id);
    // One account whose token is not due (imported with an access token valid for an hour) and
    // whose quota was just polled.
    const far = fake.addAccount({ refreshToken: longToken("far") });
    const tok = await refreshAccessToken({ kind: "social", refreshToken: far.refreshToken, authRegion: "us-east-1", machineId: "f".repeat(64) }, s.upstream);
    const farId = (await pool.upsert({ kind: "social", refreshToken: tok.refreshToken ?? far.refreshToken, accessToken: tok.accessToken, expiresAt: tok.expiresAt })).id;
    await pool.checkQuota(farId);
    expect(pool.get(farId)!.quotaFetchedAt).toBeGreaterThan(0);
    const farPolledAt = pool.get(farId)!.quotaFetchedAt;
    const sched = new PoolScheduler(pool, s.upstream, s.log, { concurrency: 3, jitterMs: 1000 });
    const before = fake.refreshCalls.length;
    const usageCalls = () => fake.requests.filter((r) => r.path === "/getUsageLimits").length;
    const usageBefore = usageCalls();
    sched.tick();
    await sched.idle();
    expect(fake.refreshCalls.length - before).toBe(8);
    expect(maxRunning).toBeLessThanOrEqual(3);
    expect(maxRunning).toBeGreaterThan(1);
    for (const id of ids) expect(pool.get(id)!.accessExpiresAt!).toBeGreaterThan(Date.now() + 50 * 60_000);
    // Each refreshed account's quota (never fetched, so due) was polled right after its refresh,
    // in the same pass; the account polled a moment ago was not polled again.
    for (const id of ids) expect(pool.get(id)!.quota?.remaining).toBeGreaterThanOrEqual(0);
    expect(usageCalls() - usageBefore).toBe(8);
    expect(pool.get(farId)!.quotaFetchedAt).toBe(farPolledAt);
    // Next tick: nothing is due, so nothing is called.
    const refreshes = fake.refreshCalls.length;
    const polls = usageCalls();
    sched.tick();
    await sched.idle();
    expect(fake.refreshCalls.length).toBe(refreshes);
    expect(usageCalls()).toBe(polls);
    sched.stop();
    pool.close();
  });

  test("a dead refresh token found in the background disables the account", async () => {
    const s = await servicesFor(fake);
    const { id } = await addBoth(fake, s.pool, { refreshToken: longToken("dead"), behaviour: { dead: true } });
    const sched = new PoolScheduler(s.pool, s.upstream, s.log);
    sched.tick();
    await sched.idle();
    expect(s.pool.get(id)).toMatchObject({ state: "disabled", stateReason: "refresh token rejected" });
    sched.stop();
    s.pool.close();
  });

  test("a 402 triggers a quota poll; an IdC account refreshes through OIDC with its client secret", async () => {
    const s = await servicesFor(fake);
    const sched = new PoolScheduler(s.pool, s.upstream, s.log, { tickMs: 3_600_000 });
    const { id, fake: fa } = await addBoth(fake, s.pool, { refreshToken: longToken("idc"), kind: "idc", clientId: "cid", clientSecret: "csecret-value", behaviour: { quota: true } });
    fa.quota = { used: 50, limit: 50, nextDateReset: 4102444800 };
    const r = await drive(s, "hi");
    expect(r.unavailable?.reason).toBe("all_exhausted");
    await Bun.sleep(10);
    await sched.idle();
    const v = s.pool.get(id)!;
    expect(v.quota?.remaining).toBe(0);
    expect(v.stateUntil).toBe(4102444800_000);
    expect(fake.refreshCalls.some((c) => c.kind === "idc")).toBe(true);
    sched.stop();
    s.pool.close();
  });
});
