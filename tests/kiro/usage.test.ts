/**
 * Side calls against the fake and the remaining-quota math (docs/upstream.md, Side calls): CREDIT breakdown +
 * active free trial + active, unexpired bonuses; plan title without "KIRO ".
 */
import { describe, expect, test } from "bun:test";
import { KiroError } from "../../src/kiro/errors";
import {
  firstActiveProfileArn,
  getUsageLimits,
  listAvailableModels,
  ModelListCache,
  listAvailableProfiles,
  quotaFromUsageLimits,
  type AvailableModel,
} from "../../src/kiro/usage";
import { useFakeKiro } from "../support/kiro";

const kiro = useFakeKiro();
const creds = kiro.creds;

describe("quota math", () => {
  const now = 1_790_000_000_000; // before every expiry below
  test("the documented example: credits + active trial + active bonus", () => {
    const q = quotaFromUsageLimits(
      {
        nextDateReset: 1790812800.0,
        subscriptionInfo: { subscriptionTitle: "KIRO FREE" },
        userInfo: { email: "person@example.com", userId: "user-1" },
        usageBreakdownList: [
          {
            resourceType: "CREDIT",
            currentUsage: 12, currentUsageWithPrecision: 12.5, usageLimit: 50, usageLimitWithPrecision: 50.0,
            freeTrialInfo: { freeTrialStatus: "ACTIVE", freeTrialExpiry: 1791676800.0, currentUsageWithPrecision: 120.25, usageLimitWithPrecision: 500.0 },
            bonuses: [{ bonusCode: "WELCOME", status: "ACTIVE", expiresAt: 1791158400.0, currentUsage: 2.5, usageLimit: 10.0 }],
          },
        ],
      },
      now,
    );
    expect(q.limit).toBe(560);
    expect(q.used).toBe(135.25);
    expect(q.remaining).toBe(424.75);
    expect(q.resetAt).toBe(1790812800000);
    expect(q.subscription).toBe("FREE");
    expect(q).toMatchObject({ email: "person@example.com", userId: "user-1", fetchedAt: now });
  });

  test("expired trial, exhausted/expired bonuses and non-CREDIT breakdowns do not count", () => {
    const q = quotaFromUsageLimits(
      {
        subscriptionInfo: { subscriptionTitle: "KIRO PRO+" },
        usageBreakdownList: [
          { resourceType: "VIBE", currentUsage: 999, usageLimit: 999 },
          {
            resourceType: "CREDIT", currentUsage: 1000, usageLimit: 1000, nextDateReset: 1.7908128e9,
            freeTrialInfo: { freeTrialStatus: "EXPIRED", currentUsage: 1, usageLimit: 500 },
            bonuses: [
              { status: "EXHAUSTED", currentUsage: 10, usageLimit: 10 },
              { status: "ACTIVE", expiresAt: 1_000_000_000, currentUsage: 0, usageLimit: 100 }, // expired in 2001
              { status: "ACTIVE", currentUsage: 5, usageLimit: 20 },
            ],
          },
        ],
      },
      now,
    );
    expect(q.limit).toBe(1020);
    expect(q.used).toBe(1005);
    expect(q.remaining).toBe(15);
    expect(q.subscription).toBe("PRO+");
    expect(q.resetAt).toBe(1790812800000);
  });

  test("overuse never gives negative remaining; empty body is zero", () => {
    expect(quotaFromUsageLimits({ usageBreakdownList: [{ currentUsage: 60, usageLimit: 50 }] }, now).remaining).toBe(0);
    expect(quotaFromUsageLimits({}, now)).toMatchObject({ used: 0, limit: 0, remaining: 0 });
  });
});

describe("side calls against the fake", () => {
  test("getUsageLimits: query string, bearer, runtime UA, snapshot", async () => {
    const c = await creds({ email: "a@example.com", quota: { used: 10, limit: 50, freeTrial: { used: 100, limit: 500 }, bonuses: [{ code: "W", used: 1, limit: 10 }], subscriptionTitle: "KIRO PRO" } });
    const q = await getUsageLimits(c, kiro.upstream);
    expect(q.limit).toBe(560);
    expect(q.used).toBe(111);
    expect(q.remaining).toBe(449);
    expect(q.subscription).toBe("PRO");
    expect(q.email).toBe("a@example.com");
    const rec = kiro.fake.requests.at(-1)!;
    expect(rec.method).toBe("GET");
    expect(rec.path).toBe("/getUsageLimits");
    const qs = new URLSearchParams(rec.query);
    expect(qs.get("origin")).toBe("AI_EDITOR");
    expect(qs.get("resourceType")).toBe("AGENTIC_REQUEST");
    expect(qs.get("isEmailRequired")).toBe("true");
    expect(qs.get("profileArn")).toBe(c.profileArn!);
    expect(rec.headers["user-agent"]).toContain("api/codewhispererruntime#1.0.0");
    expect(rec.headers["content-type"]).toBeUndefined(); // only on POSTs
  });

  test("getUsageLimits with an invalid token → expired_token", async () => {
    const c = await creds();
    await expect(getUsageLimits({ ...c, accessToken: "nope" }, kiro.upstream)).rejects.toMatchObject({ cls: "expired_token" });
  });

  test("listAvailableModels with a cache reuses an account's list for ~30 min; another cache, or none, fetches", async () => {
    const c = await creds();
    let now = 5_000_000;
    const cache = new ModelListCache();
    const models = await listAvailableModels(c, kiro.upstream, { cache, now: () => now });
    expect(models.map((m) => m.modelId)).toContain("claude-sonnet-4.5");
    expect(models.find((m) => m.modelId === "claude-sonnet-4.5")?.tokenLimits?.maxInputTokens).toBe(200000);
    const calls = () => kiro.fake.requests.filter((r) => r.path === "/ListAvailableModels").length;
    expect(calls()).toBe(1);
    now += 29 * 60_000;
    expect(await listAvailableModels(c, kiro.upstream, { cache, now: () => now })).toBe(models);
    expect(calls()).toBe(1);
    // Another server's cache (or none) shares nothing with this one.
    await listAvailableModels(c, kiro.upstream, { cache: new ModelListCache(), now: () => now });
    await listAvailableModels(c, kiro.upstream, { now: () => now });
    expect(calls()).toBe(3);
    now += 2 * 60_000;
    await listAvailableModels(c, kiro.upstream, { cache, now: () => now });
    expect(calls()).toBe(4);
  });

  test("ModelListCache: a new list drops the expired ones (an account gone from the pool is not kept)", () => {
    const cache = new ModelListCache();
    const list = [{ modelId: "claude-sonnet-4.5" }] as AvailableModel[];
    cache.set("removed-account", 0, list);
    cache.set("other", 10 * 60_000, list);
    expect(cache.size).toBe(2);
    cache.set("other", 30 * 60_000, list);
    expect(cache.fresh("removed-account", 30 * 60_000)).toBeUndefined();
    expect(cache.size).toBe(1);
    expect(cache.fresh("other", 30 * 60_000)).toBe(list);
  });

  test("listAvailableProfiles: IdC account finds its ARN; Builder ID gets 403", async () => {
    const c = await creds({ kind: "idc" });
    expect(c.profileArn).toBeUndefined();
    const profiles = await listAvailableProfiles(c, kiro.upstream);
    expect(profiles).toEqual([{ arn: "arn:aws:codewhisperer:us-east-1:123456789012:profile/FAKEIDCPROFILE", profileName: "fake-profile", status: "ACTIVE" }]);
    expect(firstActiveProfileArn(profiles)).toBe(profiles[0]!.arn);
    expect(firstActiveProfileArn([{ arn: "x", profileName: "p", status: "CREATING" }])).toBeUndefined();

    const builderId = await creds({ kind: "idc", profileArn: null });
    const e = await listAvailableProfiles(builderId, kiro.upstream).catch((err) => err);
    expect(e).toBeInstanceOf(KiroError);
    expect((e as KiroError).cls).toBe("forbidden");
  });
});
