/**
 * The failover policy table: KiroError class → what the caller does next (FailureDecision) and
 * what happens to the account (StateChange). Pure: the pool applies the change. Rows follow
 * kiro-upstream.md §7 and docs/CONTRACTS.md (src/pool).
 */
import { SYNTHETIC_REASONS, type KiroError, type UpstreamErrorClass } from "../kiro/errors";
import type { FailureAction as FailureDecision } from "./types";

export type StateChange =
  | { kind: "none" }
  /** Counts toward maxConsecutiveFailures (auto-disable) and the error counter. */
  | { kind: "count_failure" }
  | { kind: "disable"; reason: string }
  | { kind: "exhaust"; until: number; reason: string }
  | { kind: "cool"; until: number; reason: string }
  /** The account does not serve the requested model (plan): remembered per account, no penalty. */
  | { kind: "model_unsupported" };

export type LeaseContext = {
  now: number;
  /** Whether this lease already force-refreshed after an expired-token answer. */
  refreshedOnce: boolean;
  /** Capacity retries already made on this lease. */
  capacityRetries: number;
  /** Consecutive 429s on this account (drives exponential cooldown). */
  throttleStreak: number;
  /** Known reset time from the quota snapshot (epoch ms). */
  quotaResetAt?: number;
  cooldownBaseMs: number;
  cooldownMaxMs: number;
  random: () => number;
};

export type PolicyOutcome = { decision: FailureDecision; change: StateChange };

/** Capacity problems are the model's, not the account's: a few same-account retries with backoff. */
export const MAX_CAPACITY_RETRIES = 2;
const CAPACITY_BASE_MS = 500;
const CAPACITY_MAX_MS = 8_000;
/** §7 row 16: abuse throttle gets a long base. */
const SUSPICIOUS_BASE_MS = 15 * 60_000;

/** 1st of next month, 00:00 UTC (AIC), when the quota reset date is unknown. */
export function firstOfNextMonthUtc(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

export function nextMidnightUtc(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
}

/** Exponential cooldown with ±20 % jitter, capped; a Retry-After from the service wins. */
export function cooldownMs(ctx: Pick<LeaseContext, "throttleStreak" | "cooldownBaseMs" | "cooldownMaxMs" | "random">, retryAfterMs?: number, base = ctx.cooldownBaseMs): number {
  if (retryAfterMs !== undefined && retryAfterMs > 0) return Math.min(retryAfterMs, Math.max(ctx.cooldownMaxMs, base));
  const exp = Math.min(Math.max(ctx.cooldownMaxMs, base), base * 2 ** Math.min(ctx.throttleStreak, 20));
  return Math.round(exp * (0.8 + 0.4 * ctx.random()));
}

const NEXT: FailureDecision = { action: "next_account" };
const RETURN: FailureDecision = { action: "return_to_client" };

type Rule = (err: KiroError, ctx: LeaseContext) => PolicyOutcome;

export const POLICY: Record<UpstreamErrorClass, Rule> = {
  expired_token: (err, ctx) => {
    if (!ctx.refreshedOnce) return { decision: { action: "retry_same", forceRefresh: true }, change: { kind: "none" } };
    // A fresh token was rejected again: "User is not authorized" recurring means re-login.
    if (err.reason === "REAUTH_REQUIRED") return { decision: NEXT, change: { kind: "disable", reason: `re-login required: ${err.upstreamMessage}` } };
    return { decision: NEXT, change: { kind: "count_failure" } };
  },
  dead_refresh_token: () => ({ decision: NEXT, change: { kind: "disable", reason: "refresh token rejected" } }),
  suspended: (err) => ({ decision: NEXT, change: { kind: "disable", reason: `suspended: ${err.upstreamMessage}` } }),
  account_blocked: (err) => ({ decision: NEXT, change: { kind: "disable", reason: `blocked: ${err.upstreamMessage}` } }),
  quota_exhausted: (err, ctx) => {
    const until =
      err.reason === "DAILY_REQUEST_COUNT"
        ? nextMidnightUtc(ctx.now)
        : ctx.quotaResetAt && ctx.quotaResetAt > ctx.now
          ? ctx.quotaResetAt
          : firstOfNextMonthUtc(ctx.now);
    return { decision: NEXT, change: { kind: "exhaust", until, reason: `quota exhausted (${err.reason ?? err.status ?? "402"})` } };
  },
  throttled: (err, ctx) => {
    const base = err.reason === "SUSPICIOUS_ACTIVITY" ? SUSPICIOUS_BASE_MS : ctx.cooldownBaseMs;
    const ms = cooldownMs(ctx, err.retryAfterMs, base);
    return { decision: NEXT, change: { kind: "cool", until: ctx.now + ms, reason: `throttled (${err.reason ?? err.status ?? "429"})` } };
  },
  model_capacity: (_err, ctx) => {
    if (ctx.capacityRetries >= MAX_CAPACITY_RETRIES) return { decision: NEXT, change: { kind: "none" } };
    // Full jitter (AWS SDK style) so parallel requests do not retry in lockstep.
    const cap = Math.min(CAPACITY_MAX_MS, CAPACITY_BASE_MS * 2 ** ctx.capacityRetries);
    return { decision: { action: "retry_same", delayMs: Math.round(cap / 2 + (cap / 2) * ctx.random()) }, change: { kind: "none" } };
  },
  // Row 18: usually opus on a FREE plan. Another account may serve it; the pool turns this into
  // return_to_client when no other account could.
  invalid_model: () => ({ decision: NEXT, change: { kind: "model_unsupported" } }),
  bad_request: () => ({ decision: RETURN, change: { kind: "none" } }),
  input_too_long: () => ({ decision: RETURN, change: { kind: "none" } }),
  forbidden: () => ({ decision: NEXT, change: { kind: "count_failure" } }),
  // An outage of the service or of our network is nobody's account's fault: counting it toward
  // auto-disable would switch off the whole pool for minutes after a blip. Only an answer the
  // service gave (5xx with a status) counts as a soft failure of the account.
  endpoint_unavailable: () => ({ decision: NEXT, change: { kind: "none" } }),
  transient: (err) => ({ decision: NEXT, change: isOutage(err) ? { kind: "none" } : { kind: "count_failure" } }),
};

/** No HTTP answer at all (network error, our first-token timer, a cut stream) or no endpoint. */
export function isOutage(err: KiroError): boolean {
  return err.cls === "endpoint_unavailable" || err.reason === SYNTHETIC_REASONS.timeout || (err.cls === "transient" && err.status === undefined);
}

export function decide(err: KiroError, ctx: LeaseContext): PolicyOutcome {
  const rule = POLICY[err.cls] ?? POLICY.transient;
  return rule(err, ctx);
}
