/**
 * Self-heal after an outage, IdC profile lookup, per-account proxy, the remaining failover rows
 * (429 without Retry-After, DAILY_REQUEST_COUNT, REAUTH_REQUIRED), no retry after the first byte,
 * and the pool's events on the bus.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import type { RefreshInput } from "../../src/kiro/auth";
import { KiroError, SYNTHETIC_REASONS } from "../../src/kiro/errors";
import type { DomainEvent } from "../../src/logs/bus";
import { decide, nextMidnightUtc } from "../../src/pool/failover";
import { parseImportText } from "../../src/pool/import";
import { AUTO_DISABLED, AccountPool, NO_PROFILE } from "../../src/pool/pool";
import { AccountStore } from "../../src/pool/store";
import { isUnavailable, type PoolLease } from "../../src/pool/types";
import type { Services } from "../../src/services";
import { startFakeKiro, type FakeKiro } from "../fake-kiro/server";
import { fakeRefreshToken, startE2E } from "../support/e2e";
import { addBoth, servicesFor } from "./helpers";

let fake: FakeKiro;
beforeAll(async () => {
  fake = await startFakeKiro();
});
afterAll(() => fake.stop());
beforeEach(() => fake.reset());

function leaseOf(s: Services | AccountPool, opts = {}): PoolLease {
  const pool = s instanceof AccountPool ? s : s.pool;
  const l = pool.acquire(opts);
  if (isUnavailable(l)) throw new Error(`unavailable: ${l.message}`);
  return l;
}

function events(s: Services): DomainEvent[] {
  const out: DomainEvent[] = [];
  s.bus.on((e) => {
    if (e.kind !== "log") out.push(e);
  });
  return out;
}

const network = () => new KiroError("transient", "network error ECONNRESET: socket closed");
const http500 = () => new KiroError("transient", "Encountered an unexpected error", { status: 500 });

describe("self-heal", () => {
  test("outages (network, timeout, no endpoint) do not count toward auto-disable; 5xx answers do", () => {
    const ctx = { now: 0, refreshedOnce: false, capacityRetries: 0, throttleStreak: 0, cooldownBaseMs: 1000, cooldownMaxMs: 60_000, random: () => 0.5 };
    expect(decide(network(), ctx).change.kind).toBe("none");
    expect(decide(new KiroError("transient", "no answer", { reason: SYNTHETIC_REASONS.timeout }), ctx).change.kind).toBe("none");
    expect(decide(new KiroError("endpoint_unavailable", "ENOTFOUND"), ctx).change.kind).toBe("none");
    expect(decide(http500(), ctx).change.kind).toBe("count_failure");
  });

  test("an upstream outage leaves every account enabled", async () => {
    const s = await servicesFor(fake);
    s.settings.update({ maxConsecutiveFailures: 2 });
    const a = await addBoth(fake, s.pool, { refreshToken: fakeRefreshToken() });
    for (let i = 0; i < 5; i++) {
      const l = leaseOf(s);
      expect(l.failure(i % 2 ? network() : new KiroError("transient", "no answer", { reason: SYNTHETIC_REASONS.timeout })).action).toBe("next_account");
      l.release();
    }
    expect(s.pool.get(a.id)).toMatchObject({ state: "active", consecutiveFailures: 0, errors: 5 });
    s.pool.close();
  });

  test("every account auto-disabled → one trial on the least recently failed; success re-enables it", async () => {
    const s = await servicesFor(fake);
    s.settings.update({ maxConsecutiveFailures: 1, strategy: "priority" });
    const a = await addBoth(fake, s.pool, { refreshToken: fakeRefreshToken(), label: "A" });
    const b = await addBoth(fake, s.pool, { refreshToken: fakeRefreshToken(), label: "B" });
    const first = leaseOf(s);
    first.failure(http500());
    first.release();
    await Bun.sleep(5);
    const second = leaseOf(s);
    second.failure(http500());
    second.release();
    expect(s.pool.list().map((v) => v.stateReason?.startsWith(AUTO_DISABLED))).toEqual([true, true]);
    const trial = leaseOf(s);
    expect(trial.accountId).toBe(first.accountId); // failed least recently
    // One trial at a time per account: a concurrent request tries the other one, then nothing.
    const other = leaseOf(s);
    expect(other.accountId).toBe(second.accountId);
    expect(s.pool.acquire()).toMatchObject({ unavailable: true, reason: "all_disabled" });
    other.release();
    await trial.credentials();
    trial.success({});
    trial.release();
    expect(s.pool.get(first.accountId)!.state).toBe("active");
    expect([a.id, b.id]).toContain(first.accountId);
    s.pool.close();
  });

  test("no trial while another account is merely cooling or exhausted, nor for operator-disabled ones", async () => {
    const s = await servicesFor(fake);
    const a = await addBoth(fake, s.pool, { refreshToken: fakeRefreshToken() });
    s.pool.setEnabled(a.id, false);
    expect(s.pool.acquire()).toMatchObject({ unavailable: true, reason: "all_disabled" });
    s.pool.close();
  });
});

describe("IdC profile ARN lookup (first ACTIVE profile, stored once)", () => {
  const idc = (profileArn?: string | null) => ({ refreshToken: fakeRefreshToken(), kind: "idc" as const, clientId: `cid-${crypto.randomUUID()}`, clientSecret: `sec-${crypto.randomUUID()}`, profileArn });
  const profileCalls = () => fake.requests.filter((r) => /listavailableprofiles/i.test(r.path)).length;

  test("first credentials look the ARN up once and store it", async () => {
    const s = await servicesFor(fake);
    const a = await addBoth(fake, s.pool, idc());
    const l = leaseOf(s);
    const creds = await l.credentials();
    l.release();
    expect(creds.profileArn).toBe(a.fake.profileArn!);
    expect(s.pool.get(a.id)!.profileArn).toBe(a.fake.profileArn!);
    const l2 = leaseOf(s);
    expect((await l2.credentials()).profileArn).toBe(a.fake.profileArn!);
    l2.release();
    expect(profileCalls()).toBe(1);
    s.pool.close();
  });

  test("403 (Builder ID) stores a 'none' marker: no ARN sent, no second lookup", async () => {
    const s = await servicesFor(fake);
    const a = await addBoth(fake, s.pool, idc(null));
    for (let i = 0; i < 3; i++) {
      const l = leaseOf(s);
      expect((await l.credentials()).profileArn).toBeUndefined();
      l.release();
    }
    expect(profileCalls()).toBe(1);
    expect(new AccountStore(s.db).loadAll().find((r) => r.id === a.id)!.profileArn).toBe(NO_PROFILE);
    expect(s.pool.get(a.id)!.profileArn).toBeUndefined();
    s.pool.close();
  });
});

describe("per-account proxy", () => {
  test("imported from kiro2api (proxyUrl) and KAM (proxy), kept on update, invalid ones refused", async () => {
    const s = await servicesFor(fake);
    const k2a = parseImportText(JSON.stringify([{ auth: "Social", refreshToken: fakeRefreshToken(), proxyUrl: "http://user:pw@127.0.0.1:3128" }]));
    const kam = parseImportText(JSON.stringify({ accounts: [{ email: "p@example.com", proxy: "http://127.0.0.1:8080", credentials: { refreshToken: fakeRefreshToken() } }] }));
    if ("error" in k2a || "error" in kam) throw new Error("parse failed");
    const r1 = await s.pool.upsert(k2a.entries[0]!.input!);
    const r2 = await s.pool.upsert(kam.entries[0]!.input!);
    const stored = (id: string) => new AccountStore(s.db).loadAll().find((r) => r.id === id)!;
    expect(stored(r1.id).proxy).toBe("http://user:pw@127.0.0.1:3128");
    expect(stored(r2.id).proxy).toBe("http://127.0.0.1:8080");
    // An update without a proxy keeps it.
    await s.pool.upsert({ ...kam.entries[0]!.input!, proxy: undefined, label: "renamed" });
    expect(stored(r2.id)).toMatchObject({ proxy: "http://127.0.0.1:8080", label: "renamed" });
    expect(s.pool.get(r2.id)!.label).toBe("renamed");
    expect(await s.pool.upsert({ kind: "social", refreshToken: fakeRefreshToken(), proxy: "socks-nonsense" })).toMatchObject({ outcome: "skipped" });
    s.pool.close();
  });

  test("the account's proxy reaches the refresh call and the chat credentials", async () => {
    const s = await servicesFor(fake);
    const seen: RefreshInput[] = [];
    const pool = new AccountPool(s, {
      refresh: async (input) => {
        seen.push(input);
        return { accessToken: "aoa-access", expiresAt: Date.now() + 3600_000 };
      },
    });
    await pool.upsert({ kind: "social", refreshToken: fakeRefreshToken(), proxy: "http://127.0.0.1:3128" });
    const l = leaseOf(pool);
    const creds = await l.credentials();
    l.release();
    expect(seen[0]!.proxy).toBe("http://127.0.0.1:3128");
    expect(creds.proxy).toBe("http://127.0.0.1:3128");
    pool.close();
    s.pool.close();
  });
});

describe("failover rows not covered by the table", () => {
  test("429 without Retry-After → exponential cooldown (base, 2×base, 4×base)", async () => {
    const s = await servicesFor(fake);
    const pool = new AccountPool(s, { random: () => 0.5 }); // jitter factor exactly 1
    const base = s.settings.runtime.cooldownBaseMs;
    const { id } = await pool.upsert({ kind: "social", refreshToken: fakeRefreshToken() });
    const spans: number[] = [];
    for (let i = 0; i < 3; i++) {
      pool.setEnabled(id, true);
      const l = leaseOf(pool);
      const t0 = Date.now();
      expect(l.failure(new KiroError("throttled", "Too many requests", { status: 429 })).action).toBe("next_account");
      l.release();
      spans.push(pool.get(id)!.stateUntil! - t0);
    }
    expect(pool.get(id)!.state).toBe("cooling");
    for (const [i, span] of spans.entries()) expect(Math.abs(span - Math.min(base * 2 ** i, s.settings.runtime.cooldownMaxMs))).toBeLessThan(50);
    pool.close();
    s.pool.close();
  });

  test("DAILY_REQUEST_COUNT → exhausted until the next 00:00 UTC", async () => {
    const s = await servicesFor(fake);
    const a = await addBoth(fake, s.pool, { refreshToken: fakeRefreshToken() });
    const l = leaseOf(s);
    expect(l.failure(new KiroError("quota_exhausted", "daily limit", { status: 429, reason: "DAILY_REQUEST_COUNT" })).action).toBe("next_account");
    l.release();
    expect(s.pool.get(a.id)).toMatchObject({ state: "exhausted", stateUntil: nextMidnightUtc(Date.now()) });
    s.pool.close();
  });

  test("REAUTH_REQUIRED: refresh once, then disabled (re-login required)", async () => {
    const s = await servicesFor(fake);
    const a = await addBoth(fake, s.pool, { refreshToken: fakeRefreshToken() });
    const l = leaseOf(s);
    const reauth = () => new KiroError("expired_token", "User is not authorized to make this call", { status: 403, reason: "REAUTH_REQUIRED" });
    expect(l.failure(reauth())).toEqual({ action: "retry_same", forceRefresh: true, lasting: false });
    await l.credentials({ forceRefresh: true });
    expect(l.failure(reauth())).toEqual({ action: "next_account", lasting: true });
    l.release();
    expect(s.pool.get(a.id)!.state).toBe("disabled");
    expect(s.pool.get(a.id)!.stateReason).toStartWith("re-login required");
    s.pool.close();
  });

  test("no retry once bytes reached the client: a mid-stream exception ends the stream, one chat call", async () => {
    const e = await startE2E({ accounts: [{}, {}] });
    try {
      const res = await fetch(`${e.url}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": e.clientKey, "anthropic-version": "2023-06-01" },
        body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 64, stream: true, messages: [{ role: "user", content: "[[fake:exception]]" }] }),
      });
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toContain("content_block_delta");
      expect(text).toContain("event: error");
      expect(e.accounts[0]!.chatCalls + e.accounts[1]!.chatCalls).toBe(1);
    } finally {
      await e.stop();
    }
  });
});

describe("events on the bus", () => {
  test("import, selection, quota, account state and failed refreshes (request path included)", async () => {
    const s = await servicesFor(fake);
    const seen = events(s);
    const good = await addBoth(fake, s.pool, { refreshToken: fakeRefreshToken() });
    const dead = await addBoth(fake, s.pool, { refreshToken: fakeRefreshToken(), behaviour: { dead: true } });
    await s.pool.checkQuota(good.id);
    s.pool.setEnabled(good.id, false);
    const l = leaseOf(s);
    expect(l.accountId).toBe(dead.id);
    const err = await l.credentials().catch((x) => x);
    expect(err).toBeInstanceOf(KiroError);
    l.failure(err);
    l.release();
    const kinds = new Set(seen.map((e) => e.kind));
    for (const k of ["import", "selection", "quota", "account", "refresh"]) expect(kinds.has(k as DomainEvent["kind"])).toBe(true);
    expect(seen.find((e) => e.kind === "refresh" && e.data.ok === false)?.data).toMatchObject({ accountId: dead.id, cls: "dead_refresh_token", requestPath: true });
    expect(seen.find((e) => e.kind === "account" && e.data.accountId === dead.id)?.data).toMatchObject({ state: "disabled", reason: "refresh token rejected" });
    s.pool.close();
  });
});

describe("views never show an ended cooldown", () => {
  test("summary, list and get recover accounts whose cooling time has passed", async () => {
    const { makeServices } = await import("../support/app");
    const { AccountPool } = await import("../../src/pool/pool");
    const { isUnavailable } = await import("../../src/pool/types");
    const s = await makeServices();
    let now = Date.UTC(2026, 10, 29, 12, 0, 0);
    const pool = new AccountPool(s, { now: () => now } as never);
    const r = await pool.upsert({ kind: "social", refreshToken: "aor" + "x".repeat(150), label: "a" });
    const lease = pool.acquire({});
    if (isUnavailable(lease)) throw new Error(lease.message);
    // A 429 with Retry-After 2 s cools the account down.
    lease.failure(new KiroError("throttled", "Too many requests", { status: 429, retryAfterMs: 2000 }));
    lease.release();
    expect(pool.summary().cooling).toBe(1);
    now += 2500;
    // No request arrives; the views alone must show the account active again.
    expect(pool.summary()).toMatchObject({ cooling: 0, active: 1 });
    expect(pool.get(r.id)!.state).toBe("active");
    expect(pool.list()[0]!.state).toBe("active");
    pool.close();
  });
});
