/**
 * The failover policy: KiroError → what the caller does next (FailureDecision) and what happens
 * to the account (StateChange). Which decision and which kind of state change a class gets is
 * read from the error table (src/core/error-table.ts, rendered in docs/errors.md); this file
 * computes the details: cooldown lengths, reset dates, the wording of state reasons. Pure: the
 * pool applies the change.
 */
import {
  type AccountStateChangeKind,
  ERROR_TABLE,
  type PoolAction,
  SYNTHETIC_REASONS,
  UPSTREAM_ERROR_CLASSES,
  type UpstreamErrorClass,
} from "../core/error-table";
import type { KiroError } from "../kiro/errors";
import { reasonText } from "./reasons";
import type { PolicyDecision as FailureDecision } from "./types";

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
  /** First cooldown after an abuse-detection 429 ("suspicious activity"). */
  abuseCooldownMs?: number;
  random: () => number;
};

export type PolicyOutcome = { decision: FailureDecision; change: StateChange };

/** Capacity problems are the model's, not the account's: a few same-account retries with backoff. */
export const MAX_CAPACITY_RETRIES = 2;
const CAPACITY_BASE_MS = 500;
const CAPACITY_MAX_MS = 8_000;
/** "Due to suspicious activity…" (an abuse throttle) gets a long base: the abuseCooldownMs setting, else this. */
const SUSPICIOUS_BASE_MS = 30 * 60_000;
/** An abuse cooldown doubles per repeat up to this many times its base. */
const SUSPICIOUS_MAX_FACTOR = 8;
/** A reset time the service gives is followed up to this far ahead (beyond: a garbled header). */
const UPSTREAM_RESET_CAP_MS = 24 * 3_600_000;

/** 1st of next month, 00:00 UTC (when the monthly quota resets), when the reset date is unknown. */
export function firstOfNextMonthUtc(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

export function nextMidnightUtc(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
}

/**
 * Exponential cooldown with ±20 % jitter, capped at `max`; when the service says when its limit
 * resets (Retry-After), the cooldown ends exactly then instead (up to a day ahead).
 */
export function cooldownMs(
  ctx: Pick<LeaseContext, "throttleStreak" | "cooldownBaseMs" | "cooldownMaxMs" | "random">,
  retryAfterMs?: number,
  base = ctx.cooldownBaseMs,
  max = Math.max(ctx.cooldownMaxMs, base),
): number {
  if (retryAfterMs !== undefined && retryAfterMs > 0) return Math.min(retryAfterMs, UPSTREAM_RESET_CAP_MS);
  const exp = Math.min(max, base * 2 ** Math.min(ctx.throttleStreak, 20));
  return Math.round(exp * (0.8 + 0.4 * ctx.random()));
}

/**
 * Abuse detection ("suspicious activity"): the abuseCooldownMs setting, doubled per consecutive
 * 429 up to eight times that, and never shorter than the reset the service gives — going back
 * to the account as soon as the limit lifts is what turns the temporary limit into a suspension.
 */
export function abuseCooldownMs(ctx: Pick<LeaseContext, "throttleStreak" | "cooldownBaseMs" | "cooldownMaxMs" | "random" | "abuseCooldownMs">, retryAfterMs?: number): number {
  const base = ctx.abuseCooldownMs ?? SUSPICIOUS_BASE_MS;
  const own = cooldownMs(ctx, undefined, base, Math.max(ctx.cooldownMaxMs, base * SUSPICIOUS_MAX_FACTOR));
  return retryAfterMs !== undefined && retryAfterMs > 0 ? Math.max(own, Math.min(retryAfterMs, UPSTREAM_RESET_CAP_MS)) : own;
}

const NEXT: FailureDecision = { action: "next_account" };
const RETURN: FailureDecision = { action: "return_to_client" };
const NONE: StateChange = { kind: "none" };

type Rule = (err: KiroError, ctx: LeaseContext) => PolicyOutcome;

/** The account state a class row asks for, given this failure's reason and whether it had an answer. */
export function stateKindFor(action: PoolAction, err: KiroError): AccountStateChangeKind {
  if (err.reason !== undefined && action.stateByReason?.[err.reason]) return action.stateByReason[err.reason]!;
  if (action.stateWithoutAnswer && isOutage(err)) return action.stateWithoutAnswer;
  return action.state;
}

/** The state reason shown on the panel when an account is disabled. */
function disableReason(err: KiroError): string {
  if (err.reason === SYNTHETIC_REASONS.reauthRequired) return reasonText("state.reauth", { upstream: err.upstreamMessage });
  switch (err.cls) {
    case "dead_refresh_token":
      return reasonText("state.refreshRejected");
    case "suspended":
      return reasonText("state.suspended", { upstream: err.upstreamMessage });
    default:
      return reasonText("state.blocked", { upstream: err.upstreamMessage });
  }
}

function stateChange(kind: AccountStateChangeKind, err: KiroError, ctx: LeaseContext): StateChange {
  switch (kind) {
    case "none":
    case "count_failure":
    case "model_unsupported":
      return { kind };
    case "disable":
      return { kind, reason: disableReason(err) };
    case "exhaust": {
      const until =
        err.reason === "DAILY_REQUEST_COUNT"
          ? nextMidnightUtc(ctx.now)
          : ctx.quotaResetAt && ctx.quotaResetAt > ctx.now
            ? ctx.quotaResetAt
            : firstOfNextMonthUtc(ctx.now);
      return { kind, until, reason: reasonText("state.quotaExhausted", { detail: err.reason ?? err.status ?? "402" }) };
    }
    case "cool": {
      if (err.reason === SYNTHETIC_REASONS.suspiciousActivity) {
        return { kind, until: ctx.now + abuseCooldownMs(ctx, err.retryAfterMs), reason: reasonText("state.abuse") };
      }
      return { kind, until: ctx.now + cooldownMs(ctx, err.retryAfterMs), reason: reasonText("state.throttled", { detail: err.reason ?? err.status ?? "429" }) };
    }
  }
}

/** A same-account retry the row asks for, or undefined when it is used up (or there is none). */
function retrySame(action: PoolAction, ctx: LeaseContext): FailureDecision | undefined {
  if (action.retrySame === "once_after_refresh") return ctx.refreshedOnce ? undefined : { action: "retry_same", forceRefresh: true };
  if (action.retrySame === "with_backoff") {
    if (ctx.capacityRetries >= MAX_CAPACITY_RETRIES) return undefined;
    // A random wait between half and all of the cap, so parallel requests do not retry in lockstep.
    const cap = Math.min(CAPACITY_MAX_MS, CAPACITY_BASE_MS * 2 ** ctx.capacityRetries);
    return { action: "retry_same", delayMs: Math.round(cap / 2 + (cap / 2) * ctx.random()) };
  }
  return undefined;
}

function ruleFor(cls: UpstreamErrorClass): Rule {
  const row = ERROR_TABLE[cls];
  // A client's mistake is returned as it is: no retry, and the account is not touched.
  if (row.fault === "client") return () => ({ decision: RETURN, change: NONE });
  const action = row.pool;
  return (err, ctx) => {
    const retry = retrySame(action, ctx);
    if (retry) return { decision: retry, change: NONE };
    return { decision: action.then === "return_to_client" ? RETURN : NEXT, change: stateChange(stateKindFor(action, err), err, ctx) };
  };
}

/** Class → rule, built from the error table. */
export const POLICY: Readonly<Record<UpstreamErrorClass, Rule>> = Object.fromEntries(
  UPSTREAM_ERROR_CLASSES.map((cls) => [cls, ruleFor(cls)]),
) as Record<UpstreamErrorClass, Rule>;

/** No HTTP answer at all (network error, our first-token timer, a cut stream) or no endpoint. */
export function isOutage(err: KiroError): boolean {
  return err.cls === "endpoint_unavailable" || err.reason === SYNTHETIC_REASONS.timeout || (err.cls === "transient" && err.status === undefined);
}

export function decide(err: KiroError, ctx: LeaseContext): PolicyOutcome {
  const rule = POLICY[err.cls] ?? POLICY.transient;
  return rule(err, ctx);
}
