/**
 * Refresh against the fake upstream (social + IdC, rotation, dead tokens) and the TokenManager
 * policy: single flight, persist-before-use, 30 s spacing, keep a valid token on transient failure.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { refreshAccessToken, type RefreshResult } from "../../src/kiro/auth";
import type { KiroUpstreamConfig } from "../../src/kiro/config";
import { KiroError } from "../../src/kiro/errors";
import { type TokenAccount, TokenManager } from "../../src/kiro/token-manager";
import { type FakeKiro, startFakeKiro } from "../fake-kiro/server";
import { kiroRejection } from "../support/kiro";

let fake: FakeKiro;
let upstream: KiroUpstreamConfig;
const RT = (tag: string) => `aorA${tag}`.padEnd(120, "x");

beforeAll(async () => {
  fake = await startFakeKiro();
  upstream = { ...fake.upstream };
});
afterAll(() => fake.stop());
beforeEach(() => fake.reset());

const rejects = kiroRejection;

describe("social refresh", () => {
  test("returns a token, rotates the refresh token, sends the KRS headers", async () => {
    const acct = fake.addAccount({ refreshToken: RT("social1"), accessTokenTtlSec: 600 });
    const before = Date.now();
    const r = await refreshAccessToken({ kind: "social", refreshToken: RT("social1"), authRegion: "us-east-1", machineId: "m".repeat(64) }, upstream);
    expect(r.accessToken).toBe(acct.accessToken!);
    expect(r.refreshToken).toBe(acct.currentRefreshToken);
    expect(r.refreshToken).not.toBe(RT("social1"));
    expect(r.profileArn).toStartWith("arn:aws:codewhisperer:us-east-1:");
    expect(r.expiresAt).toBeGreaterThanOrEqual(before + 600_000);
    expect(r.expiresAt).toBeLessThan(before + 610_000);
    const rec = fake.requests.at(-1)!;
    expect(rec.path).toBe("/refreshToken");
    expect(rec.body).toEqual({ refreshToken: RT("social1") });
    expect(rec.headers["user-agent"]).toBe(`KiroIDE-0.11.107-${"m".repeat(64)}`);
    expect(rec.headers["content-type"]).toBe("application/json");
    expect(rec.headers.authorization).toBeUndefined();
  });

  test("the rotated-away token is dead (401 Bad credentials → dead_refresh_token)", async () => {
    fake.addAccount({ refreshToken: RT("social2") });
    await refreshAccessToken({ kind: "social", refreshToken: RT("social2"), authRegion: "us-east-1", machineId: "m" }, upstream);
    const e = await rejects(refreshAccessToken({ kind: "social", refreshToken: RT("social2"), authRegion: "us-east-1", machineId: "m" }, upstream));
    expect(e.cls).toBe("dead_refresh_token");
    expect(e.status).toBe(401);
  });

  test("dead behaviour → dead_refresh_token", async () => {
    fake.addAccount({ refreshToken: RT("social3"), behaviour: { dead: true } });
    const e = await rejects(refreshAccessToken({ kind: "social", refreshToken: RT("social3"), authRegion: "us-east-1", machineId: "m" }, upstream));
    expect(e.cls).toBe("dead_refresh_token");
  });
});

describe("IdC refresh", () => {
  test("camelCase JSON body with grantType, rotation, no Authorization header", async () => {
    const acct = fake.addAccount({ refreshToken: RT("idc1"), kind: "idc" });
    const r = await refreshAccessToken(
      { kind: "idc", refreshToken: RT("idc1"), clientId: acct.clientId, clientSecret: acct.clientSecret, authRegion: "us-east-1", machineId: "m" },
      upstream,
    );
    expect(r.accessToken).toBe(acct.accessToken!);
    expect(r.refreshToken).toBe(acct.currentRefreshToken);
    expect(r.profileArn).toBeUndefined(); // OIDC never returns one
    const rec = fake.requests.at(-1)!;
    expect(rec.path).toBe("/token");
    expect(rec.body).toEqual({ clientId: acct.clientId, clientSecret: acct.clientSecret, grantType: "refresh_token", refreshToken: RT("idc1") });
    expect(rec.headers.authorization).toBeUndefined();
    expect(rec.headers["amz-sdk-invocation-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(fake.refreshCalls).toEqual([{ refreshToken: RT("idc1"), at: rec.at, kind: "idc" }]);
  });

  test("old token after rotation → invalid_grant → dead_refresh_token", async () => {
    const acct = fake.addAccount({ refreshToken: RT("idc2"), kind: "idc" });
    const input = { kind: "idc" as const, refreshToken: RT("idc2"), clientId: acct.clientId, clientSecret: acct.clientSecret, authRegion: "us-east-1", machineId: "m" };
    await refreshAccessToken(input, upstream);
    const e = await rejects(refreshAccessToken(input, upstream));
    expect(e.cls).toBe("dead_refresh_token");
    expect(e.status).toBe(400);
    expect(e.upstreamMessage).toContain("Invalid refresh token provided");
  });

  test("wrong client secret → InvalidClientException → dead_refresh_token", async () => {
    const acct = fake.addAccount({ refreshToken: RT("idc3"), kind: "idc" });
    const e = await rejects(
      refreshAccessToken({ kind: "idc", refreshToken: RT("idc3"), clientId: acct.clientId, clientSecret: "wrong", authRegion: "us-east-1", machineId: "m" }, upstream),
    );
    expect(e.cls).toBe("dead_refresh_token");
    expect(e.status).toBe(401);
  });

  test("missing client registration is dead without calling upstream", async () => {
    const e = await rejects(refreshAccessToken({ kind: "idc", refreshToken: RT("idc4"), authRegion: "us-east-1", machineId: "m" }, upstream));
    expect(e.cls).toBe("dead_refresh_token");
    expect(fake.requests.length).toBe(0);
  });

  test("unreachable auth host is transient (no family fallback for auth)", async () => {
    const e = await rejects(
      refreshAccessToken({ kind: "social", refreshToken: RT("x"), authRegion: "us-east-1", machineId: "m" }, { region: "us-east-1", authUrl: "http://127.0.0.1:1" }),
    );
    expect(e.cls).toBe("transient");
  });
});

test("api_key: the key is the bearer, far expiry, no upstream call", async () => {
  const r = await refreshAccessToken({ kind: "api_key", refreshToken: "ksk_abc", authRegion: "us-east-1", machineId: "m" }, upstream);
  expect(r.accessToken).toBe("ksk_abc");
  expect(r.expiresAt).toBeGreaterThan(Date.now() + 365 * 24 * 3600 * 1000);
  expect(fake.requests.length).toBe(0);
});

describe("TokenManager", () => {
  function account(refreshToken: string, extra: Partial<TokenAccount> = {}, log: string[] = []): TokenAccount & { stored: RefreshResult[] } {
    const acct = {
      id: `acct-${refreshToken.slice(4, 12)}`,
      kind: "social" as const,
      refreshToken,
      authRegion: "us-east-1",
      machineId: "m".repeat(64),
      stored: [] as RefreshResult[],
      async persist(result: RefreshResult) {
        log.push("persist:start");
        await Bun.sleep(20); // a slow DB write: nothing may use the new token before it finished
        acct.stored.push(result);
        acct.refreshToken = result.refreshToken ?? acct.refreshToken;
        acct.accessToken = result.accessToken;
        acct.expiresAt = result.expiresAt;
        log.push("persist:done");
      },
      ...extra,
    };
    return acct;
  }

  test("50 concurrent callers of an expiring account → exactly one refresh; rotation persisted before use", async () => {
    const fa = fake.addAccount({ refreshToken: RT("tm1") });
    const log: string[] = [];
    // 2 minutes left: inside the 5-minute window.
    const acct = account(RT("tm1"), { accessToken: "old-token", expiresAt: Date.now() + 120_000 }, log);
    const tm = new TokenManager({ upstream });
    const tokens = await Promise.all(
      Array.from({ length: 50 }, () =>
        tm.getAccessToken(acct).then((t) => {
          log.push("token-used");
          return t;
        }),
      ),
    );
    expect(fake.refreshCalls.length).toBe(1);
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).not.toBe("old-token");
    expect(acct.stored.length).toBe(1);
    // The rotated refresh token that was persisted is the one the fake now accepts.
    expect(acct.stored[0]!.refreshToken).toBe(fa.currentRefreshToken);
    expect(acct.refreshToken).toBe(fa.currentRefreshToken);
    // Ordering: the persist callback completed before any caller got the new token.
    expect(log.indexOf("persist:done")).toBeLessThan(log.indexOf("token-used"));
    expect(log.filter((l) => l === "persist:done").length).toBe(1);
    // The token works on the data plane and the persisted refresh token is the live one.
    const live = fake.refreshCalls[0]!;
    expect(live.refreshToken).toBe(RT("tm1"));
    const again = await refreshAccessToken({ kind: "social", refreshToken: acct.refreshToken, authRegion: "us-east-1", machineId: "m" }, upstream);
    expect(again.accessToken.length).toBeGreaterThan(0);
  });

  test("a valid token with > 5 min left is returned without refreshing; needsRefresh reflects the margin", async () => {
    const tm = new TokenManager({ upstream });
    const acct = account(RT("tm2"), { accessToken: "fresh", expiresAt: Date.now() + 20 * 60_000 });
    expect(tm.needsRefresh(acct)).toBe(false);
    expect(tm.needsRefresh(acct, 30 * 60_000)).toBe(true);
    expect(await tm.getAccessToken(acct)).toBe("fresh");
    expect(fake.refreshCalls.length).toBe(0);
    expect(tm.needsRefresh({ ...acct, accessToken: undefined })).toBe(true);
    expect(tm.needsRefresh({ ...acct, expiresAt: undefined })).toBe(true);
  });

  test("force refreshes even a fresh token; rejectedToken dedupes concurrent forced refreshes", async () => {
    fake.addAccount({ refreshToken: RT("tm3") });
    const tm = new TokenManager({ upstream });
    const acct = account(RT("tm3"), { accessToken: "revoked", expiresAt: Date.now() + 50 * 60_000 });
    const [a, b] = await Promise.all([
      tm.getAccessToken(acct, { force: true, rejectedToken: "revoked" }),
      tm.getAccessToken(acct, { force: true, rejectedToken: "revoked" }),
    ]);
    expect(a).toBe(b);
    expect(a).not.toBe("revoked");
    // A late 403 on the already replaced token does not trigger another refresh.
    expect(await tm.getAccessToken(acct, { force: true, rejectedToken: "revoked" })).toBe(a);
    expect(fake.refreshCalls.length).toBe(1);
  });

  test("transient refresh failure keeps the still-valid old token; attempts are ≥ 30 s apart", async () => {
    let now = 1_000_000;
    let calls = 0;
    const tm = new TokenManager({
      upstream,
      now: () => now,
      refresh: async () => {
        calls++;
        throw new KiroError("transient", "auth service 503", { status: 503 });
      },
    });
    const acct = account(RT("tm4"), { accessToken: "old", expiresAt: now + 60_000 });
    expect(await tm.getAccessToken(acct)).toBe("old");
    expect(calls).toBe(1);
    now += 10_000;
    expect(await tm.getAccessToken(acct)).toBe("old"); // inside 30 s: no new attempt
    expect(calls).toBe(1);
    now += 25_000;
    expect(await tm.getAccessToken(acct)).toBe("old");
    expect(calls).toBe(2);
    // Once the old token really expired, the failure surfaces so the pool can fail over.
    now += 60_000;
    const e = await rejects(tm.getAccessToken(acct));
    expect(e.cls).toBe("transient");
  });

  test("dead refresh token surfaces even when the old token is still valid", async () => {
    fake.addAccount({ refreshToken: RT("tm5"), behaviour: { dead: true } });
    const tm = new TokenManager({ upstream });
    const acct = account(RT("tm5"), { accessToken: "old", expiresAt: Date.now() + 60_000 });
    const e = await rejects(tm.getAccessToken(acct));
    expect(e.cls).toBe("dead_refresh_token");
    expect(acct.stored.length).toBe(0);
  });

  test("a failing persist means the new token is never handed out", async () => {
    fake.addAccount({ refreshToken: RT("tm6") });
    const tm = new TokenManager({ upstream });
    const acct = account(RT("tm6"), {
      persist: () => {
        throw new Error("disk full");
      },
    });
    await expect(tm.getAccessToken(acct)).rejects.toThrow("disk full");
  });

  test("IdC account through the manager uses the rotated token on the next refresh", async () => {
    const fa = fake.addAccount({ refreshToken: RT("tm7"), kind: "idc", accessTokenTtlSec: 60 });
    const tm = new TokenManager({ upstream, minAttemptIntervalMs: 0 });
    const acct = account(RT("tm7"), { kind: "idc", clientId: fa.clientId, clientSecret: fa.clientSecret });
    const t1 = await tm.getAccessToken(acct);
    // The service rejects t1 (forced refresh): the refresh must present the rotated token.
    const t2 = await tm.getAccessToken(acct, { force: true, rejectedToken: t1 });
    expect(t2).not.toBe(t1);
    expect(fake.refreshCalls.map((c) => c.refreshToken)).toEqual([RT("tm7"), acct.stored[0]!.refreshToken!]);
    expect(acct.refreshToken).toBe(fa.currentRefreshToken);
  });
});
