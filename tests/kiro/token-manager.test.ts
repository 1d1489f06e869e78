/**
 * TokenManager timing on an injected clock: spacing only after a failed refresh (doubling), never
 * after a success; expired tokens refreshed before use; short-lived tokens refreshed once per
 * lifetime and still used; error texts that say what happened.
 */
import { describe, expect, test } from "bun:test";
import type { RefreshResult } from "../../src/kiro/auth";
import { KiroError } from "../../src/kiro/errors";
import { TokenManager, type TokenAccount } from "../../src/kiro/token-manager";

const upstream = { region: "us-east-1" };

/** A clock, a scripted refresh (each call answers with the next outcome) and one account. */
function setup(lifetimeMs: number) {
  const clock = { now: 1_000_000 };
  const outcomes: Array<"ok" | KiroError> = [];
  let n = 0;
  const calls: number[] = [];
  const tm = new TokenManager({
    upstream,
    now: () => clock.now,
    refresh: async (): Promise<RefreshResult> => {
      calls.push(clock.now);
      const o = outcomes.shift() ?? "ok";
      if (o !== "ok") throw o;
      n++;
      return { accessToken: `access-${n}`, refreshToken: `refresh-${n}`, expiresAt: clock.now + lifetimeMs };
    },
  });
  const acct: TokenAccount = {
    id: "a",
    kind: "social",
    refreshToken: "refresh-0",
    authRegion: "us-east-1",
    machineId: "m",
    persist(r) {
      acct.refreshToken = r.refreshToken ?? acct.refreshToken;
      acct.accessToken = r.accessToken;
      acct.expiresAt = r.expiresAt;
    },
  };
  return { clock, outcomes, calls, tm, acct };
}

async function rejects(p: Promise<unknown>): Promise<KiroError> {
  try {
    await p;
  } catch (e) {
    return e as KiroError;
  }
  throw new Error("expected a rejection");
}

describe("short-lived tokens", () => {
  test("a 2-second token is refreshed once per lifetime, in its last quarter; a success never delays the next refresh", async () => {
    const { clock, calls, tm, acct } = setup(2_000);
    expect(await tm.getAccessToken(acct)).toBe("access-1");
    // Inside its first three quarters: used as is, however often it is asked for.
    for (const dt of [0, 100, 700, 1_400]) {
      clock.now = 1_000_000 + dt;
      expect(await tm.getAccessToken(acct)).toBe("access-1");
    }
    expect(calls).toHaveLength(1);
    // Last quarter: one refresh, 1.6 s after the previous successful one (no 30-s spacing).
    clock.now = 1_001_600;
    expect(await tm.getAccessToken(acct)).toBe("access-2");
    expect(await tm.getAccessToken(acct)).toBe("access-2");
    expect(calls).toHaveLength(2);
    // Expired (nobody asked for a while): refreshed before use.
    clock.now = 1_010_000;
    expect(await tm.getAccessToken(acct)).toBe("access-3");
    expect(calls).toHaveLength(3);
  });

  test("a new token that is already short-lived is still used", async () => {
    const { calls, tm, acct } = setup(50);
    acct.accessToken = "imported";
    acct.expiresAt = 1_000_000 + 60_000; // inside the 5-min margin → refresh
    expect(await tm.getAccessToken(acct)).toBe("access-1");
    expect(await tm.getAccessToken(acct)).toBe("access-1");
    expect(calls).toHaveLength(1);
  });

  test("concurrent callers of an expired token share one refresh", async () => {
    const { clock, calls, tm, acct } = setup(2_000);
    await tm.getAccessToken(acct);
    clock.now += 5_000;
    const got = await Promise.all(Array.from({ length: 20 }, () => tm.getAccessToken(acct)));
    expect(new Set(got)).toEqual(new Set(["access-2"]));
    expect(calls).toHaveLength(2);
  });
});

describe("after a failed refresh", () => {
  test("attempts are spaced 30 s, then 60 s (doubling); a success resets the spacing", async () => {
    const { clock, outcomes, calls, tm, acct } = setup(2_000);
    const fail = () => new KiroError("transient", "auth service answered 503", { status: 503 });
    outcomes.push(fail(), fail());
    const e1 = await rejects(tm.getAccessToken(acct));
    expect(e1.upstreamMessage).toBe("auth service answered 503");
    // Within 30 s: no attempt, and the error says what happened and when the next attempt is.
    clock.now += 10_000;
    const e2 = await rejects(tm.getAccessToken(acct));
    expect(calls).toHaveLength(1);
    expect(e2.cls).toBe("transient");
    expect(e2.upstreamMessage).toBe("no access token yet and the last token refresh failed (10 s ago: auth service answered 503); next attempt in 20 s");
    clock.now += 20_000;
    await rejects(tm.getAccessToken(acct)); // second attempt, fails again
    expect(calls).toHaveLength(2);
    clock.now += 59_000;
    expect((await rejects(tm.getAccessToken(acct))).upstreamMessage).toContain("the last 2 token refreshes failed (59 s ago");
    expect(calls).toHaveLength(2);
    clock.now += 1_000;
    expect(await tm.getAccessToken(acct)).toBe("access-1");
    expect(calls).toHaveLength(3);
    // Success: the next refresh (token in its last quarter) is not held back.
    clock.now += 1_600;
    expect(await tm.getAccessToken(acct)).toBe("access-2");
    expect(calls).toHaveLength(4);
  });

  test("an expired token whose refresh just failed names the failure; a forced refresh is never held back", async () => {
    const { clock, outcomes, calls, tm, acct } = setup(2_000);
    await tm.getAccessToken(acct);
    clock.now += 1_600;
    outcomes.push(new KiroError("transient", "connection reset"));
    // Last quarter, refresh fails: the still-valid token serves.
    expect(await tm.getAccessToken(acct)).toBe("access-1");
    clock.now += 1_000; // now expired
    const e = await rejects(tm.getAccessToken(acct));
    expect(e.upstreamMessage).toBe("the access token expired and the last token refresh failed (1 s ago: connection reset); next attempt in 29 s");
    expect(calls).toHaveLength(2);
    // The service rejected the bearer: forced refreshes ignore the spacing.
    expect(await tm.getAccessToken(acct, { force: true, rejectedToken: "access-1" })).toBe("access-2");
    expect(calls).toHaveLength(3);
  });
});
