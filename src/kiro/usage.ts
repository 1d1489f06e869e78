/**
 * Side calls (docs/upstream.md, Side calls): GetUsageLimits → QuotaSnapshot, ListAvailableModels
 * (cached ~30 min per account, as the official client does), ListAvailableProfiles (first ACTIVE profile
 * gives an IdC account its ARN). They follow the chat endpoint families: B/C/pinned host use the
 * restJson paths on the chat host; family A uses the management host (awsJson) for models and
 * profiles. 404/DNS/connect failures move to the next family like chat does.
 */
import type { KiroUpstreamConfig } from "./config";
import type { Endpoint, EndpointSelector } from "./endpoints";
import type { KiroCredentials } from "./client";
import { sideCall, sideHeaders, type SideRequest } from "./side-call";

export type QuotaSnapshot = {
  used: number;
  limit: number;
  remaining: number;
  /** Epoch ms of the next reset (nextDateReset). */
  resetAt?: number;
  /** Plan without the "KIRO " prefix, e.g. "FREE", "PRO", "PRO+". */
  subscription?: string;
  email?: string;
  userId?: string;
  fetchedAt: number;
};

export type AvailableModel = {
  modelId: string;
  modelName?: string;
  description?: string;
  rateMultiplier?: number;
  rateUnit?: string;
  tokenLimits?: { maxInputTokens?: number; maxOutputTokens?: number };
  supportedInputTypes?: string[];
};

export type AvailableProfile = { arn: string; profileName: string; status: string };

export type SideCallOptions = { endpoints?: EndpointSelector; signal?: AbortSignal; now?: () => number };

const SIDE_TIMEOUT_MS = 30_000;
const MODELS_CACHE_MS = 30 * 60 * 1000;
const MAX_PAGES = 10;

type Json = Record<string, unknown>;

function num(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

/** One side call across the endpoint families; the answer's JSON body. */
function sideJson(creds: KiroCredentials, upstream: KiroUpstreamConfig, opts: SideCallOptions, request: (ep: Endpoint) => SideRequest): Promise<Json> {
  const run = { endpoints: opts.endpoints, signal: opts.signal, timeoutMs: SIDE_TIMEOUT_MS };
  return sideCall(creds, upstream, run, request, async (res) => (await res.json()) as Json);
}

/** Remaining credits: the CREDIT breakdown's limit plus an active free trial and active bonuses, minus
 * the same sums of usage (the union of what kiro.rs and AIClient-2-API count); exported for tests and the pool's poller. */
export function quotaFromUsageLimits(body: Json, now = Date.now()): QuotaSnapshot {
  const list = Array.isArray(body.usageBreakdownList)
    ? (body.usageBreakdownList as Json[])
    : body.usageBreakdown && typeof body.usageBreakdown === "object"
      ? [body.usageBreakdown as Json]
      : [];
  const b = list.find((x) => x.resourceType === "CREDIT") ?? list[0];
  let limit = 0;
  let used = 0;
  let resetSec = num(body.nextDateReset);
  if (b) {
    limit += num(b.usageLimitWithPrecision) ?? num(b.usageLimit) ?? 0;
    used += num(b.currentUsageWithPrecision) ?? num(b.currentUsage) ?? 0;
    resetSec ??= num(b.nextDateReset);
    const trial = b.freeTrialInfo as Json | undefined;
    if (trial && trial.freeTrialStatus === "ACTIVE") {
      const expiry = num(trial.freeTrialExpiry);
      if (expiry === undefined || expiry * 1000 > now) {
        limit += num(trial.usageLimitWithPrecision) ?? num(trial.usageLimit) ?? 0;
        used += num(trial.currentUsageWithPrecision) ?? num(trial.currentUsage) ?? 0;
      }
    }
    for (const bonus of Array.isArray(b.bonuses) ? (b.bonuses as Json[]) : []) {
      const expiresAt = num(bonus.expiresAt);
      if (bonus.status !== "ACTIVE" || (expiresAt !== undefined && expiresAt * 1000 <= now)) continue;
      limit += num(bonus.usageLimit) ?? 0;
      used += num(bonus.currentUsage) ?? 0;
    }
  }
  const sub = body.subscriptionInfo as Json | undefined;
  const title = typeof sub?.subscriptionTitle === "string" ? sub.subscriptionTitle : undefined;
  const user = body.userInfo as Json | undefined;
  return {
    used,
    limit,
    remaining: Math.max(0, limit - used),
    resetAt: resetSec !== undefined ? Math.round(resetSec * 1000) : undefined,
    subscription: title?.replace(/^KIRO\s+/i, ""),
    email: typeof user?.email === "string" ? user.email : undefined,
    userId: typeof user?.userId === "string" ? user.userId : undefined,
    fetchedAt: now,
  };
}

export async function getUsageLimits(
  creds: KiroCredentials,
  upstream: KiroUpstreamConfig,
  opts: SideCallOptions = {},
): Promise<QuotaSnapshot> {
  const q = new URLSearchParams({ origin: "AI_EDITOR", resourceType: "AGENTIC_REQUEST", isEmailRequired: "true" });
  if (creds.profileArn) q.set("profileArn", creds.profileArn);
  const body = await sideJson(creds, upstream, opts, (ep) => ({
    url: `${ep.baseUrl}/getUsageLimits?${q}`,
    method: "GET",
    headers: sideHeaders(creds),
  }));
  return quotaFromUsageLimits(body, (opts.now ?? Date.now)());
}

/**
 * Model lists fetched in the last 30 minutes, per account: the owner (the pool's quota poller)
 * holds one, so two servers in one process never share an answer. Each new list drops the
 * expired ones, so an account removed from the pool leaves nothing behind for longer than that.
 */
export class ModelListCache {
  private readonly lists = new Map<string, { at: number; models: AvailableModel[] }>();

  /** Cache key: the credential has no account id, but machineId is per account. */
  static key(creds: KiroCredentials): string {
    return `${creds.machineId}|${creds.profileArn ?? ""}|${creds.region}`;
  }

  fresh(key: string, now: number): AvailableModel[] | undefined {
    const hit = this.lists.get(key);
    return hit && now - hit.at < MODELS_CACHE_MS ? hit.models : undefined;
  }

  set(key: string, now: number, models: AvailableModel[]): void {
    for (const [k, v] of this.lists) if (now - v.at >= MODELS_CACHE_MS) this.lists.delete(k);
    this.lists.set(key, { at: now, models });
  }

  /** Lists held (fresh or not yet dropped). */
  get size(): number {
    return this.lists.size;
  }
}

/** The account's model list; with `cache`, a list fetched in the last 30 minutes is reused. */
export async function listAvailableModels(
  creds: KiroCredentials,
  upstream: KiroUpstreamConfig,
  opts: SideCallOptions & { cache?: ModelListCache } = {},
): Promise<AvailableModel[]> {
  const now = (opts.now ?? Date.now)();
  const key = ModelListCache.key(creds);
  const hit = opts.cache?.fresh(key, now);
  if (hit) return hit;
  const models: AvailableModel[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const body = await sideJson(creds, upstream, opts, (ep) => {
      if (ep.family === "A" && ep.managementUrl !== ep.baseUrl) {
        // Family A: awsJson on the management host (as the kiro.rs fork by 2ue does in its CLI mode).
        const q = new URLSearchParams({ origin: "KIRO_CLI" });
        if (creds.profileArn) q.set("profileArn", creds.profileArn);
        if (nextToken) q.set("nextToken", nextToken);
        return {
          url: `${ep.managementUrl}/?${q}`,
          method: "POST",
          headers: sideHeaders(creds, {
            "content-type": "application/x-amz-json-1.0",
            "x-amz-target": "AmazonCodeWhispererService.ListAvailableModels",
            ...(creds.profileArn ? { "x-amzn-kiro-profile-arn": creds.profileArn } : {}),
          }),
          body: JSON.stringify({ origin: "KIRO_CLI", profileArn: creds.profileArn, nextToken }),
        };
      }
      const q = new URLSearchParams({ origin: "AI_EDITOR", maxResults: "50" });
      if (creds.profileArn) q.set("profileArn", creds.profileArn);
      if (nextToken) q.set("nextToken", nextToken);
      return { url: `${ep.baseUrl}/ListAvailableModels?${q}`, method: "GET", headers: sideHeaders(creds) };
    });
    for (const m of Array.isArray(body.models) ? (body.models as Json[]) : []) {
      if (typeof m.modelId !== "string") continue;
      models.push({
        modelId: m.modelId,
        modelName: typeof m.modelName === "string" ? m.modelName : undefined,
        description: typeof m.description === "string" ? m.description : undefined,
        rateMultiplier: num(m.rateMultiplier),
        rateUnit: typeof m.rateUnit === "string" ? m.rateUnit : undefined,
        tokenLimits: m.tokenLimits as AvailableModel["tokenLimits"],
        supportedInputTypes: Array.isArray(m.supportedInputTypes) ? (m.supportedInputTypes as string[]) : undefined,
      });
    }
    nextToken = typeof body.nextToken === "string" && body.nextToken ? body.nextToken : undefined;
    if (!nextToken) break;
  }
  opts.cache?.set(key, now, models);
  return models;
}

export async function listAvailableProfiles(
  creds: KiroCredentials,
  upstream: KiroUpstreamConfig,
  opts: SideCallOptions = {},
): Promise<AvailableProfile[]> {
  const out: AvailableProfile[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const body = await sideJson(creds, upstream, opts, (ep) =>
      ep.family === "A" && ep.managementUrl !== ep.baseUrl
        ? {
            url: `${ep.managementUrl}/listAvailableProfiles`,
            method: "POST",
            headers: sideHeaders(creds, { "content-type": "application/json" }),
            body: JSON.stringify(nextToken ? { nextToken } : {}),
          }
        : {
            url: `${ep.baseUrl}/ListAvailableProfiles`,
            method: "POST",
            headers: sideHeaders(creds, { "content-type": "application/json" }),
            body: JSON.stringify({ maxResults: 10, ...(nextToken ? { nextToken } : {}) }),
          },
    );
    // The kiro.rs fork by 2ue also accepts a capitalised key.
    const profiles = (body.profiles ?? body.Profiles) as Json[] | undefined;
    for (const p of Array.isArray(profiles) ? profiles : []) {
      const arn = p.arn ?? p.profileArn ?? p.profileARN;
      if (typeof arn !== "string") continue;
      out.push({
        arn,
        profileName: typeof p.profileName === "string" ? p.profileName : "",
        status: typeof p.status === "string" ? p.status : "ACTIVE",
      });
    }
    nextToken = typeof body.nextToken === "string" && body.nextToken ? body.nextToken : undefined;
    if (!nextToken) break;
  }
  return out;
}

/** The ARN an IdC account should use: the first ACTIVE profile (the official client's rule). */
export function firstActiveProfileArn(profiles: AvailableProfile[]): string | undefined {
  return profiles.find((p) => p.status === "ACTIVE")?.arn;
}
