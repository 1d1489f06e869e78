/**
 * One row per failover rule (docs/CONTRACTS.md src/pool, the class table in docs/errors.md), driven through the
 * real pool + openChat against the fake Kiro: the failing account's new state, which account
 * finally served, and what the caller got. Strategy "priority" makes account A the first pick.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { firstOfNextMonthUtc } from "../../src/pool/failover";
import { AUTO_DISABLED } from "../../src/pool/pool";
import { PoolScheduler } from "../../src/pool/scheduler";
import { isUnavailable } from "../../src/pool/types";
import type { Services } from "../../src/services";
import { type FakeAccount, type FakeBehaviour, type FakeKiro, startFakeKiro } from "../fake-kiro/server";
import { addBoth, drive, longToken, servicesFor } from "./helpers";

let fake: FakeKiro;
beforeAll(async () => {
  fake = await startFakeKiro();
});
afterAll(() => fake.stop());
beforeEach(() => fake.reset());

async function setup(behaviourA: FakeBehaviour, opts: { settings?: Parameters<Services["settings"]["update"]>[0] } = {}) {
  const s = await servicesFor(fake);
  s.settings.update({ strategy: "priority", ...opts.settings });
  const a = await addBoth(fake, s.pool, { refreshToken: longToken("A"), label: "A", behaviour: behaviourA });
  const b = await addBoth(fake, s.pool, { refreshToken: longToken("B"), label: "B" });
  return { s, a, b };
}

type Row = {
  name: string;
  behaviour: FakeBehaviour;
  /** Runs before the measured request (e.g. warm the token, then expire it). */
  before?: (ctx: { s: Services; a: { fake: FakeAccount; id: string } }) => Promise<void>;
  state: string;
  reason?: RegExp;
  servedBy: "A" | "B" | null;
  callerGets: string; // "text" or the error class returned to the client
  firstDecision: string;
  check?: (ctx: { s: Services; aId: string; t0: number }) => void;
};

const rows: Row[] = [
  {
    name: "expired access token → refresh once, retry the same account",
    behaviour: {},
    before: async ({ s, a }) => {
      expect((await drive(s, "warm up")).servedBy).toBe(a.id);
      a.fake.expireAccessTokens();
    },
    state: "active",
    servedBy: "A",
    callerGets: "text",
    firstDecision: "retry_same+forceRefresh",
  },
  {
    name: "dead refresh token → disabled (refresh token rejected), next account",
    behaviour: { dead: true },
    state: "disabled",
    reason: /^refresh token rejected$/,
    servedBy: "B",
    callerGets: "text",
    firstDecision: "next_account",
  },
  {
    name: "suspended → disabled with the service message, next account",
    behaviour: { suspended: true },
    state: "disabled",
    reason: /suspended: .*temporarily is suspended/,
    servedBy: "B",
    callerGets: "text",
    firstDecision: "next_account",
  },
  {
    name: "402 without a known reset → exhausted until the 1st of next month UTC, next account",
    behaviour: { quota: true },
    state: "exhausted",
    reason: /quota exhausted \(MONTHLY_REQUEST_COUNT\)/,
    servedBy: "B",
    callerGets: "text",
    firstDecision: "next_account",
    check: ({ s, aId, t0 }) => expect(s.pool.get(aId)!.stateUntil).toBe(firstOfNextMonthUtc(t0)),
  },
  {
    name: "402 with a polled quota → exhausted until the quota's reset date",
    behaviour: { quota: true },
    before: async ({ s, a }) => {
      a.fake.quota = { used: 50, limit: 50, nextDateReset: 4102444800 };
      const q = await s.pool.checkQuota(a.id);
      expect(q.resetAt).toBe(4102444800_000);
      // checkQuota saw 0 credits left: it already marks the account exhausted; re-open it to see the 402 path.
      s.pool.setEnabled(a.id, true);
    },
    state: "exhausted",
    servedBy: "B",
    callerGets: "text",
    firstDecision: "next_account",
    check: ({ s, aId }) => expect(s.pool.get(aId)!.stateUntil).toBe(4102444800_000),
  },
  {
    name: "429 → cooling for Retry-After, next account",
    behaviour: { throttleCalls: 1, retryAfterSec: 7 },
    state: "cooling",
    reason: /throttled/,
    servedBy: "B",
    callerGets: "text",
    firstDecision: "next_account",
    check: ({ s, aId, t0 }) => {
      const until = s.pool.get(aId)!.stateUntil!;
      expect(until - t0).toBeGreaterThanOrEqual(7000);
      expect(until - t0).toBeLessThan(9000);
    },
  },
  {
    name: "model capacity → retry the same account after a backoff delay, no penalty",
    behaviour: { capacityCalls: 1 },
    state: "active",
    servedBy: "A",
    callerGets: "text",
    firstDecision: "retry_same+delay",
    check: ({ s, aId }) => expect(s.pool.get(aId)!.consecutiveFailures).toBe(0),
  },
  {
    name: "input too long → returned to the client, no failover",
    behaviour: { inputTooLong: true },
    state: "active",
    servedBy: null,
    callerGets: "input_too_long",
    firstDecision: "return_to_client",
  },
  {
    name: "transient 500 before the first byte → next account, failure counted",
    behaviour: { transient500Calls: 1 },
    state: "active",
    servedBy: "B",
    callerGets: "text",
    firstDecision: "next_account",
    check: ({ s, aId }) => expect(s.pool.get(aId)!.consecutiveFailures).toBe(1),
  },
];

describe("failover table", () => {
  for (const row of rows) {
    test(row.name, async () => {
      const { s, a, b } = await setup(row.behaviour);
      await row.before?.({ s, a });
      const t0 = Date.now();
      const r = await drive(s, "hello");
      const view = s.pool.get(a.id)!;
      expect(view.state).toBe(row.state as typeof view.state);
      if (row.reason) expect(view.stateReason ?? "").toMatch(row.reason);
      const served = r.servedBy === a.id ? "A" : r.servedBy === b.id ? "B" : null;
      expect(served).toBe(row.servedBy);
      if (row.callerGets === "text") expect(r.text).toContain("Fake Kiro says: hello");
      else expect(r.error?.cls).toBe(row.callerGets as never);
      const d = r.decisions[0]!;
      expect(d.accountId).toBe(a.id);
      const shown = d.decision.action + (d.decision.forceRefresh ? "+forceRefresh" : "") + (d.decision.delayMs ? "+delay" : "");
      expect(shown).toBe(row.firstDecision);
      // Lasting = the failure took A out for this request (every row's A keeps its first new state).
      expect(d.decision.lasting).toBe(row.state !== "active");
      row.check?.({ s, aId: a.id, t0 });
      if (row.servedBy !== "B") expect(b.fake.chatCalls).toBe(0);
      s.pool.close();
    });
  }
});

describe("beyond single rows", () => {
  test("expired twice with a fresh token → failure counted, next account", async () => {
    const { s, a, b } = await setup({});
    await drive(s, "warm");
    // Every token the fake issues for A is expired immediately: the forced refresh does not help.
    a.fake.expireAccessTokens();
    const lease = s.pool.acquire();
    if (isUnavailable(lease)) throw new Error("unavailable");
    const { KiroError } = await import("../../src/kiro/errors");
    const bearer = new KiroError("expired_token", "The bearer token included in the request is invalid.", { status: 403 });
    expect(lease.failure(bearer)).toEqual({ action: "retry_same", forceRefresh: true, lasting: false });
    await lease.credentials({ forceRefresh: true });
    expect(lease.failure(bearer)).toEqual({ action: "next_account", lasting: false });
    lease.release();
    expect(s.pool.get(a.id)!.consecutiveFailures).toBe(1);
    expect((await drive(s, "again")).servedBy).toBe(a.id); // A works again once its token is fresh
    expect(b.fake.chatCalls).toBe(0);
    s.pool.close();
  });

  test("N consecutive failures auto-disable; the probe re-enables an account that recovered", async () => {
    const { s, a } = await setup({ transient500Calls: 2 }, { settings: { maxConsecutiveFailures: 2 } });
    await drive(s, "one");
    await drive(s, "two");
    const v = s.pool.get(a.id)!;
    expect(v.state).toBe("disabled");
    expect(v.stateReason).toStartWith(AUTO_DISABLED);
    const sched = new PoolScheduler(s.pool, s.upstream, s.log, { probeIntervalMs: 0, tickMs: 60_000 });
    sched.tick();
    await sched.idle();
    expect(s.pool.get(a.id)!.state).toBe("active");
    sched.stop();
    s.pool.close();
  });

  test("lasting: the failure that auto-disables is lasting, the ones before it are not", async () => {
    const { s, a } = await setup({}, { settings: { maxConsecutiveFailures: 2 } });
    const { KiroError } = await import("../../src/kiro/errors");
    const err = () => new KiroError("transient", "Internal server error", { status: 500 });
    const lease = s.pool.acquire();
    if (isUnavailable(lease)) throw new Error("unavailable");
    expect(lease.accountId).toBe(a.id);
    expect(lease.failure(err())).toEqual({ action: "next_account", lasting: false });
    expect(lease.failure(err())).toEqual({ action: "next_account", lasting: true });
    lease.release();
    expect(s.pool.get(a.id)!.state).toBe("disabled");
    s.pool.close();
  });

  test("lasting: a refused model is lasting (next account while another serves it, else the client hears it)", async () => {
    const { s, a, b } = await setup({});
    const { KiroError } = await import("../../src/kiro/errors");
    const refused = () => new KiroError("invalid_model", "Invalid model. Please select a different model.", { status: 400, reason: "INVALID_MODEL_ID" });
    const first = s.pool.acquire({ model: "claude-opus-4.5" });
    if (isUnavailable(first)) throw new Error("unavailable");
    expect(first.accountId).toBe(a.id);
    expect(first.failure(refused())).toEqual({ action: "next_account", lasting: true });
    first.release();
    expect(s.pool.get(a.id)!.state).toBe("active");
    const second = s.pool.acquire({ model: "claude-opus-4.5", exclude: new Set([a.id]) });
    if (isUnavailable(second)) throw new Error("unavailable");
    expect(second.accountId).toBe(b.id);
    expect(second.failure(refused())).toEqual({ action: "return_to_client", lasting: true });
    second.release();
    // Neither is picked for that model any more; other models still are.
    expect(s.pool.acquire({ model: "claude-opus-4.5" })).toMatchObject({ unavailable: true });
    const other = s.pool.acquire({ model: "claude-sonnet-4.5" });
    expect(isUnavailable(other)).toBe(false);
    if (!isUnavailable(other)) other.release();
    s.pool.close();
  });

  test("cooling accounts become usable again when their time passes", async () => {
    const { s, a } = await setup({ throttleCalls: 1, retryAfterSec: 1 });
    expect((await drive(s, "first")).servedBy).not.toBe(a.id);
    expect(s.pool.get(a.id)!.state).toBe("cooling");
    await Bun.sleep(1100);
    // Priority is sticky on the account that took over; A is usable again for anyone else.
    const others = new Set(s.pool.list().filter((v) => v.id !== a.id).map((v) => v.id));
    const lease = s.pool.acquire({ exclude: others });
    expect(isUnavailable(lease) ? lease.reason : lease.accountId).toBe(a.id);
    expect(s.pool.get(a.id)!.state).toBe("active");
    s.pool.close();
  });

  test("nothing usable → PoolUnavailable says why and when", async () => {
    const s = await servicesFor(fake);
    expect(s.pool.acquire()).toMatchObject({ unavailable: true, reason: "none_configured" });
    await addBoth(fake, s.pool, { refreshToken: longToken("q1"), behaviour: { quota: true } });
    await addBoth(fake, s.pool, { refreshToken: longToken("q2"), behaviour: { quota: true } });
    const r = await drive(s, "hi");
    expect(r.unavailable?.reason).toBe("all_exhausted");
    expect(r.unavailable?.retryAt).toBe(firstOfNextMonthUtc(Date.now()));
    expect(r.unavailable?.message).toMatch(/^all 2 accounts are out of credits until \d{4}-\d\d-01 00:00 UTC$/);
    expect(r.error?.cls).toBe("quota_exhausted");
    s.pool.close();
  });

  test("all throttled → all_cooling with the shortest cooldown as retryAt", async () => {
    const s = await servicesFor(fake);
    await addBoth(fake, s.pool, { refreshToken: longToken("c1"), behaviour: { throttleCalls: 1, retryAfterSec: 30 } });
    await addBoth(fake, s.pool, { refreshToken: longToken("c2"), behaviour: { throttleCalls: 1, retryAfterSec: 10 } });
    const t0 = Date.now();
    const r = await drive(s, "hi");
    expect(r.unavailable?.reason).toBe("all_cooling");
    expect(r.unavailable!.retryAt! - t0).toBeGreaterThanOrEqual(10_000);
    expect(r.unavailable!.retryAt! - t0).toBeLessThan(12_000);
    s.pool.close();
  });
});
