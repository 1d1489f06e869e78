/**
 * The bodies of the fake's side calls: GetUsageLimits (per-account quota, FakeQuota),
 * ListAvailableProfiles, and the older names of the ListAvailableModels catalogue (models.ts).
 */
import { FAKE_MODELS, fakeModelsBody } from "./models";

export type FakeQuota = {
  /** Base CREDIT breakdown (currentUsageWithPrecision / usageLimitWithPrecision). */
  used?: number;
  limit?: number;
  subscriptionTitle?: string;
  /** Active free trial on top of the base limit; omitted → no freeTrialInfo. */
  freeTrial?: { used: number; limit: number; status?: "ACTIVE" | "EXPIRED"; expiry?: number /* epoch s */ };
  bonuses?: Array<{ code: string; used: number; limit: number; status?: "ACTIVE" | "EXHAUSTED" | "EXPIRED"; expiresAt?: number /* epoch s */ }>;
  /** Epoch seconds. */
  nextDateReset?: number;
};

export function usageLimitsBody(q: FakeQuota, user: { email: string; userId: string }): Record<string, unknown> {
  // Defaults relative to now so a fake trial/bonus is never accidentally expired.
  const nowSec = Math.floor(Date.now() / 1000);
  const d = new Date();
  const reset = q.nextDateReset ?? Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) / 1000;
  const used = q.used ?? 12.5;
  const limit = q.limit ?? 50;
  const title = q.subscriptionTitle ?? "KIRO FREE";
  const breakdown: Record<string, unknown> = {
    resourceType: "CREDIT",
    displayName: "Credit",
    displayNamePlural: "Credits",
    unit: "INVOCATIONS",
    currency: "USD",
    currentUsage: Math.floor(used),
    currentUsageWithPrecision: used,
    usageLimit: Math.floor(limit),
    usageLimitWithPrecision: limit,
    currentOverages: 0,
    currentOveragesWithPrecision: 0.0,
    overageCap: 0,
    overageCapWithPrecision: 0.0,
    overageRate: 0.04,
    overageCharges: 0.0,
    nextDateReset: reset,
  };
  if (q.freeTrial) {
    breakdown.freeTrialInfo = {
      freeTrialStatus: q.freeTrial.status ?? "ACTIVE",
      freeTrialExpiry: q.freeTrial.expiry ?? nowSec + 30 * 86400,
      currentUsage: Math.floor(q.freeTrial.used),
      currentUsageWithPrecision: q.freeTrial.used,
      usageLimit: Math.floor(q.freeTrial.limit),
      usageLimitWithPrecision: q.freeTrial.limit,
    };
  }
  if (q.bonuses) {
    breakdown.bonuses = q.bonuses.map((b) => ({
      bonusCode: b.code,
      displayName: `${b.code} bonus`,
      status: b.status ?? "ACTIVE",
      expiresAt: b.expiresAt ?? nowSec + 14 * 86400,
      currentUsage: b.used,
      usageLimit: b.limit,
    }));
  }
  return {
    daysUntilReset: Math.max(0, Math.ceil((reset - nowSec) / 86400)),
    nextDateReset: reset,
    limits: [],
    overageConfiguration: { overageStatus: "DISABLED" },
    subscriptionInfo: {
      subscriptionTitle: title,
      type: title === "KIRO FREE" ? "Q_DEVELOPER_STANDALONE_FREE" : "Q_DEVELOPER_STANDALONE_PRO",
      overageCapability: "OVERAGE_INCAPABLE",
      upgradeCapability: "UPGRADE_CAPABLE",
      subscriptionManagementTarget: "PURCHASE",
    },
    userInfo: user,
    usageBreakdownList: [breakdown],
  };
}

/** Kept for callers of the old names; the catalogue lives in models.ts. */
export const AVAILABLE_MODELS = FAKE_MODELS;
export const modelsBody = fakeModelsBody;

export function profilesBody(profileArn: string | undefined): Record<string, unknown> {
  return {
    profiles: profileArn
      ? [
          { arn: profileArn, profileName: "fake-profile", status: "ACTIVE", profileType: "KIRO", description: "fake" },
        ]
      : [],
    nextToken: null,
  };
}
