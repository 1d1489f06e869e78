/**
 * The one table of upstream failures: for every upstream error class, who is at fault, what the
 * account pool does (decision + account state), whether a failure after the first byte is
 * reported to the pool, and what the client gets (a TurnErrorKind; its HTTP status is in
 * ./errors.ts, each dialect maps the kind to its own error type).
 *
 * Which upstream answers land in which class is decided by the ordered rule table in
 * src/kiro/errors.ts; how the pool computes cooldowns and reset dates is src/pool/failover.ts,
 * which reads its decisions from this table. docs/errors.md is rendered from both tables
 * (tests/kiro/errors-doc.test.ts fails when it differs).
 *
 * Core owns the class names so that the turn runner and the dialects never import src/kiro.
 */
import { TurnError, type TurnErrorKind } from "./errors";

export const UPSTREAM_ERROR_CLASSES = [
  "expired_token",
  "dead_refresh_token",
  "suspended",
  "account_blocked",
  "quota_exhausted",
  "throttled",
  "model_capacity",
  "invalid_model",
  "bad_request",
  "input_too_long",
  "forbidden",
  "endpoint_unavailable",
  "transient",
] as const;

export type UpstreamErrorClass = (typeof UPSTREAM_ERROR_CLASSES)[number];

/**
 * Synthetic `reason` values for answers whose handling differs from their class default but that
 * carry no upstream reason of their own. Real upstream reasons are kept verbatim.
 */
export const SYNTHETIC_REASONS = {
  reauthRequired: "REAUTH_REQUIRED",
  profileArnRequired: "PROFILE_ARN_REQUIRED",
  suspiciousActivity: "SUSPICIOUS_ACTIVITY",
  highLoad: "HIGH_LOAD",
  timeout: "TIMEOUT",
} as const;

/** What each synthetic reason stands for and what it changes (rendered into docs/errors.md). */
export const SYNTHETIC_REASON_NOTES: Readonly<Record<keyof typeof SYNTHETIC_REASONS, string>> = {
  reauthRequired: "403 `User is not authorized to make this call`: a refresh may not help; rejected again after a refresh, the account is disabled (re-login required).",
  profileArnRequired: "`profileArn is required for this request`: the endpoint family wants a profile ARN the account lacks; the Kiro client moves that account to the next family and remembers it for an hour.",
  suspiciousActivity: "429 `Due to suspicious activity…`: an abuse throttle; the cooldown is the abuseCooldownMs setting (30 minutes) instead of cooldownBaseMs, doubled per repeat up to 8×, and never shorter than the service's Retry-After.",
  highLoad: "500 `Encountered unexpectedly high load…` without `MODEL_TEMPORARILY_UNAVAILABLE`.",
  timeout: "Our own timer fired before the upstream answered (response headers or first token); the client gets a timeout (504) instead of 502, and the account is not penalized.",
};

/** Who caused the failure. A client fault never reaches an account's counters. */
export type Fault = "client" | "account" | "upstream" | "server";

export type PoolDecisionAction = "retry_same" | "next_account" | "return_to_client";

/**
 * What happens to the account. `count_failure` counts toward auto-disable (the
 * maxConsecutiveFailures setting); `model_unsupported` remembers (in memory) that this account's
 * plan lacks the model, without penalty.
 */
export type AccountStateChangeKind = "none" | "count_failure" | "disable" | "exhaust" | "cool" | "model_unsupported";

export type PoolAction = {
  /**
   * Retry on the same account before anything else: once after a forced token refresh, or with
   * backoff a bounded number of times. Omitted: no retry on the same account.
   */
  retrySame?: "once_after_refresh" | "with_backoff";
  /** What the caller does when it does not (or no longer) retry the same account. */
  then: "next_account" | "return_to_client";
  /** What happens to the account when `then` is reached. */
  state: AccountStateChangeKind;
  /** Upstream (or synthetic) reason → a different account state. */
  stateByReason?: Readonly<Record<string, AccountStateChangeKind>>;
  /** No HTTP answer at all (network error, our own timer, a cut stream): this state instead. */
  stateWithoutAnswer?: AccountStateChangeKind;
};

export type ClientRow = {
  kind: TurnErrorKind;
  /** `{upstream}` = the upstream message, `{validModels}` = the client-facing model names. */
  message: string;
  /** Retry-After: the upstream's, else when the pool's earliest account is back; `or_30s` adds a 30 s fallback. */
  retryAfter?: "upstream_or_pool" | "upstream_or_pool_or_30s";
  /** The request field at fault (OpenAI `param`). */
  param?: "model";
  /** Upstream (or synthetic) reason → a different client row. */
  byReason?: Readonly<Record<string, Omit<ClientRow, "byReason">>>;
};

export type ErrorClassRow = {
  fault: Fault;
  pool: PoolAction;
  /** After the first byte reached the client: whether the failure is still reported to the pool. */
  reportedMidStream: boolean;
  client: ClientRow;
  /** What the code does with this class, in words (rendered into docs/errors.md). */
  description: string;
};

const NO_ACCOUNT = "no Kiro account can serve this request: {upstream}";
const UPSTREAM = "upstream error: {upstream}";

export const ERROR_TABLE: Readonly<Record<UpstreamErrorClass, ErrorClassRow>> = {
  expired_token: {
    fault: "account",
    pool: { retrySame: "once_after_refresh", then: "next_account", state: "count_failure", stateByReason: { [SYNTHETIC_REASONS.reauthRequired]: "disable" } },
    reportedMidStream: true,
    client: { kind: "no_account", message: NO_ACCOUNT, retryAfter: "upstream_or_pool" },
    description:
      "The access token expired or was revoked. The pool forces one token refresh and retries the same account once. If the fresh token is rejected too, the account counts a failure and the request moves to the next account; `REAUTH_REQUIRED` rejected again after the refresh disables the account (`re-login required: …`).",
  },
  dead_refresh_token: {
    fault: "account",
    pool: { then: "next_account", state: "disable" },
    reportedMidStream: true,
    client: { kind: "no_account", message: NO_ACCOUNT, retryAfter: "upstream_or_pool" },
    description:
      "The refresh token or the client registration is dead. The account is disabled (`refresh token rejected`) until it is imported again; the request moves to the next account.",
  },
  suspended: {
    fault: "account",
    pool: { then: "next_account", state: "disable" },
    reportedMidStream: true,
    client: { kind: "no_account", message: NO_ACCOUNT, retryAfter: "upstream_or_pool" },
    description:
      "The account is suspended. It is disabled with the service's message (`suspended: …`) and never retried; the request moves to the next account.",
  },
  account_blocked: {
    fault: "account",
    pool: { then: "next_account", state: "disable" },
    reportedMidStream: true,
    client: { kind: "no_account", message: NO_ACCOUNT, retryAfter: "upstream_or_pool" },
    description:
      "The account's plan lacks the feature, or its enterprise profile is misconfigured (encryption key reasons). The account is disabled (`blocked: …`); the request moves to the next account.",
  },
  quota_exhausted: {
    fault: "account",
    pool: { then: "next_account", state: "exhaust" },
    reportedMidStream: true,
    client: { kind: "no_account", message: NO_ACCOUNT, retryAfter: "upstream_or_pool" },
    description:
      "The account's monthly, overage or daily quota is used up. It is exhausted until the reset: the next 00:00 UTC for `DAILY_REQUEST_COUNT`, else the reset date of the last quota check, else the 1st of next month 00:00 UTC; the pool asks for a fresh quota check. The request moves to the next account.",
  },
  throttled: {
    fault: "account",
    pool: { then: "next_account", state: "cool" },
    reportedMidStream: false,
    client: { kind: "rate_limited", message: "rate limited by Kiro: {upstream}", retryAfter: "upstream_or_pool_or_30s" },
    description:
      "The account's request rate is too high. It cools down until the service's Retry-After (up to a day), else cooldownBaseMs·2ⁿ over consecutive 429s with ±20 % jitter (capped at cooldownMaxMs); `SUSPICIOUS_ACTIVITY` cools for the abuseCooldownMs setting (30 minutes, doubling per repeat up to 8×, at least the Retry-After). The request moves to the next account at once.",
  },
  model_capacity: {
    fault: "upstream",
    pool: { retrySame: "with_backoff", then: "next_account", state: "none" },
    reportedMidStream: false,
    client: { kind: "overloaded", message: "{upstream}", retryAfter: "upstream_or_pool" },
    description:
      "The model or the service is overloaded, not the account. The same account is retried up to 2 times after a random wait between half and all of 500 ms·2ⁿ (at most 8 s), then the request moves to the next account. No penalty.",
  },
  invalid_model: {
    fault: "account",
    pool: { then: "next_account", state: "model_unsupported" },
    reportedMidStream: false,
    client: { kind: "not_found", message: "{upstream}; valid models: {validModels}", param: "model" },
    description:
      "The upstream refused the model for this account (typically opus on a FREE plan). The pool remembers that for this account (in memory, no penalty) and moves the request to an account that may serve the model; it returns the error to the client only when no other account could. A model name outside the catalogue never gets here: the turn runner answers 404 before choosing an account.",
  },
  bad_request: {
    fault: "client",
    pool: { then: "return_to_client", state: "none" },
    reportedMidStream: false,
    client: { kind: "invalid_request", message: "{upstream}" },
    description:
      "The upstream rejected the request's content. It is returned to the client as it is: no retry on this or another account, no penalty. Two answers in this class are the server's doing rather than the client's (an `UNAUTHORIZED_*` 403 for a field we should not send, and `PROFILE_ARN_REQUIRED` once no endpoint family is left to try); they are returned the same way. `THINKING_SIGNATURE_INVALID` and `INVALID_CONVERSATION_ID` get no special retry.",
  },
  input_too_long: {
    fault: "client",
    pool: { then: "return_to_client", state: "none" },
    reportedMidStream: false,
    client: { kind: "input_too_long", message: "prompt is too long: {upstream}" },
    description:
      "The prompt exceeds the model's context. Returned to the client, no retry, no penalty. The turn runner adds its own size estimate to the message (`prompt is too long: N tokens (estimated) > W maximum; upstream said: …`) so clients can decide to compact.",
  },
  forbidden: {
    fault: "account",
    pool: { then: "next_account", state: "count_failure" },
    reportedMidStream: false,
    client: { kind: "no_account", message: NO_ACCOUNT, retryAfter: "upstream_or_pool" },
    description:
      "Any other 403. The account counts a failure (disabled after the maxConsecutiveFailures setting in a row); the request moves to the next account.",
  },
  endpoint_unavailable: {
    fault: "upstream",
    pool: { then: "next_account", state: "none" },
    reportedMidStream: false,
    client: { kind: "upstream", message: UPSTREAM },
    description:
      "This endpoint is not served here (404, DNS failure, connection refused or timed out, TLS failure). The Kiro client first tries the next endpoint family by itself; when none is left the request moves to the next account. No penalty: an outage must not disable the whole pool.",
  },
  transient: {
    fault: "upstream",
    pool: { then: "next_account", state: "count_failure", stateWithoutAnswer: "none" },
    reportedMidStream: false,
    client: { kind: "upstream", message: UPSTREAM, byReason: { [SYNTHETIC_REASONS.timeout]: { kind: "timeout", message: "{upstream}" } } },
    description:
      "5xx and 408 answers, `CONVERSATION_LIMIT_EXCEEDED`, network errors, our own first-token timer, unnamed in-stream failures, refresh-endpoint failures that are not a dead token. The request moves to the next account; an answer with a status counts a failure, no answer at all does not. The turn runner allows 3 such hand-overs per request (10 attempts in all). A failed refresh keeps a still-valid old access token.",
  },
};

/** The part of an upstream failure the tables need (src/kiro's KiroError has these fields). */
export type UpstreamFailure = {
  cls: UpstreamErrorClass;
  upstreamMessage: string;
  reason?: string;
  retryAfterMs?: number;
};

/** A client-fault class: always returned to the client, never counted against an account. */
export function isClientFault(cls: UpstreamErrorClass): boolean {
  return ERROR_TABLE[cls].fault === "client";
}

/** Whether a failure of this class after the first byte is still reported to the pool. */
export function reportedMidStream(cls: UpstreamErrorClass): boolean {
  return ERROR_TABLE[cls].reportedMidStream;
}

/** The client row for one failure (the class row, or its reason-specific override). */
export function clientRowFor(cls: UpstreamErrorClass, reason?: string): Omit<ClientRow, "byReason"> {
  // An unknown class (none exists at the type level) is answered like `transient`, as the pool does.
  const row = (ERROR_TABLE[cls] ?? ERROR_TABLE.transient).client;
  return (reason !== undefined ? row.byReason?.[reason] : undefined) ?? row;
}

/** The TurnErrorKind the client gets for a class (and reason). */
export function clientKindFor(cls: UpstreamErrorClass, reason?: string): TurnErrorKind {
  return clientRowFor(cls, reason).kind;
}

export type ClientErrorContext = {
  /** Epoch ms when the pool's earliest account is usable again (Retry-After fallback). */
  poolRetryAt?: number;
  /** Client-facing model names, for the invalid-model message. */
  validModelNames: () => readonly string[];
  now?: number;
};

/**
 * The error a client gets for an upstream failure returned by the pool (or left over when no
 * account could serve): kind, message and Retry-After from the class row.
 */
export function clientErrorFor(e: UpstreamFailure, ctx: ClientErrorContext): TurnError {
  const row = clientRowFor(e.cls, e.reason);
  const message = row.message
    .replace("{upstream}", () => e.upstreamMessage)
    .replace("{validModels}", () => ctx.validModelNames().join(", "));
  let retryAfterSeconds: number | undefined;
  if (row.retryAfter) {
    const now = ctx.now ?? Date.now();
    retryAfterSeconds = e.retryAfterMs
      ? Math.max(1, Math.ceil(e.retryAfterMs / 1000))
      : ctx.poolRetryAt
        ? Math.max(1, Math.ceil((ctx.poolRetryAt - now) / 1000))
        : undefined;
    if (retryAfterSeconds === undefined && row.retryAfter === "upstream_or_pool_or_30s") retryAfterSeconds = 30;
  }
  return new TurnError(row.kind, message, {
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
    ...(row.param ? { param: row.param } : {}),
    cause: e,
  });
}
