/**
 * Upstream error classes. One class per pool action (see docs/errors.md for the table).
 * classifyUpstreamError() (same file) is the single function that maps an upstream answer
 * (HTTP status + body + headers, in-stream exception, refresh-endpoint answer or network
 * failure) to one of these.
 */
export type UpstreamErrorClass =
  | "expired_token" // bearer invalid / 401: refresh once and retry the same account
  | "dead_refresh_token" // invalid_grant, Bad credentials, InvalidClient: disable account
  | "suspended" // TEMPORARILY_SUSPENDED etc: disable with the service's message
  | "account_blocked" // FEATURE_NOT_SUPPORTED, KMS/profile misconfig: disable
  | "quota_exhausted" // 402 MONTHLY_REQUEST_COUNT / overage / daily: exhausted until reset
  | "throttled" // 429 per-account rate: cool down, next account
  | "model_capacity" // INSUFFICIENT_MODEL_CAPACITY / high load: backoff retry, no penalty
  | "invalid_model" // INVALID_MODEL_ID
  | "bad_request" // 400 with reason: return to client
  | "input_too_long" // CONTENT_LENGTH_EXCEEDS_THRESHOLD etc: return to client
  | "forbidden" // other 403: count failure, next account
  | "endpoint_unavailable" // 404 / DNS / connect refused: try next endpoint family
  | "transient"; // 5xx, network, timeout: next account (bounded)

export class KiroError extends Error {
  readonly cls: UpstreamErrorClass;
  /** Upstream HTTP status when there was one. */
  readonly status?: number;
  /** Upstream `reason` field (e.g. MONTHLY_REQUEST_COUNT) when present. */
  readonly reason?: string;
  /** From Retry-After, in ms. */
  readonly retryAfterMs?: number;
  /** Upstream message, safe to show to a client (never contains our secrets). */
  readonly upstreamMessage: string;

  constructor(
    cls: UpstreamErrorClass,
    upstreamMessage: string,
    extra: { status?: number; reason?: string; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(`${cls}: ${upstreamMessage}`, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = "KiroError";
    this.cls = cls;
    this.upstreamMessage = upstreamMessage;
    this.status = extra.status;
    this.reason = extra.reason;
    this.retryAfterMs = extra.retryAfterMs;
  }
}

// ---------------------------------------------------------------------------------------------
// Classification (kiro-upstream.md §7, rows 1–34, and §2.6). The real bearer-invalid 403 has no
// exception name, so we classify by status + `reason` + message substrings, never by name alone.
// ---------------------------------------------------------------------------------------------

export type ClassifyInput = {
  status?: number;
  /** Raw response text or an already parsed JSON value. */
  body?: unknown;
  headers?: Headers | Record<string, string>;
  /** In-stream `:exception-type` (or `:error-code`) when the failure came inside a 200 stream. */
  exceptionType?: string;
  /** What fetch threw (DNS, connect refused, reset, timeout…). */
  networkError?: unknown;
  /** Which endpoint answered: the refresh endpoints have their own dead-token rules (rows 32–34). */
  source?: "chat" | "refresh" | "side";
};

/**
 * Synthetic `reason` values for rows whose pool action differs from the class default but whose
 * upstream answer carries no reason of its own. Real upstream reasons are kept verbatim.
 */
export const SYNTHETIC_REASONS = {
  reauthRequired: "REAUTH_REQUIRED", // row 2
  profileArnRequired: "PROFILE_ARN_REQUIRED", // row 24
  suspiciousActivity: "SUSPICIOUS_ACTIVITY", // row 16
  highLoad: "HIGH_LOAD", // row 27 without MODEL_TEMPORARILY_UNAVAILABLE
  timeout: "TIMEOUT", // our own timer fired before upstream answered
} as const;

/** Exception name → HTTP status (SDK restJson1 bindings), used for in-stream exceptions. */
const EXCEPTION_STATUS: Record<string, number> = {
  ValidationException: 400,
  AccessDeniedException: 403,
  ResourceNotFoundException: 404,
  ConflictException: 409,
  ServiceQuotaExceededException: 402,
  ThrottlingException: 429,
  InternalServerException: 500,
  ServiceUnavailableException: 503,
};

const QUOTA_REASONS = ["MONTHLY_REQUEST_COUNT", "OVERAGE_REQUEST_LIMIT_EXCEEDED", "DAILY_REQUEST_COUNT"];
const INPUT_TOO_LONG_REASONS = ["CONTENT_LENGTH_EXCEEDS_THRESHOLD", "PROMPT_TOO_LONG"];
const KMS_REASONS = [
  "INVALID_KMS_GRANT",
  "CUSTOMER_KMS_KEY_DISABLED",
  "CUSTOMER_KMS_KEY_INVALID_KEY_POLICY",
  "MISMATCHED_KMS_KEY",
];
const BUILDER_BUG_403_REASONS = [
  "UNAUTHORIZED_CUSTOMIZATION_RESOURCE_ACCESS",
  "UNAUTHORIZED_WORKSPACE_CONTEXT_FEATURE_ACCESS",
];
const SUSPENDED_MARKERS = ["temporarily suspended", "temporarily is suspended", "locked your account"];
const DEAD_REFRESH_MARKERS = ["invalid_grant", "invalid refresh token provided", "bad credentials", "invalidclient", "invalid_client"];
/** fetch error codes meaning "this host is not served here" (row 26): try the next family. */
const UNREACHABLE_CODES = new Set([
  "ENOTFOUND",
  "EAI_AGAIN",
  "EAI_NONAME",
  "ECONNREFUSED",
  "ConnectionRefused",
  "FailedToOpenSocket",
  "ETIMEDOUT", // connect timeout
  "ConnectionTimeout",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "CERT_HAS_EXPIRED",
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "TLSHandshakeFailed",
]);

type Parsed = { json?: Record<string, unknown>; text: string };

function parseBody(body: unknown): Parsed {
  if (body === undefined || body === null) return { text: "" };
  if (typeof body === "string") {
    try {
      const v = JSON.parse(body);
      return { json: v && typeof v === "object" ? (v as Record<string, unknown>) : undefined, text: body };
    } catch {
      return { text: body };
    }
  }
  if (body instanceof Uint8Array) return parseBody(new TextDecoder().decode(body));
  if (typeof body === "object") return { json: body as Record<string, unknown>, text: JSON.stringify(body) };
  return { text: String(body) };
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v.length > 0 ? v : undefined;
}

function header(headers: ClassifyInput["headers"], name: string): string | undefined {
  if (!headers) return undefined;
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** Retry-After: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** SDK naming rule: x-amzn-errortype (before ':'), body code, body __type (after '#'). */
function errorName(input: ClassifyInput, json?: Record<string, unknown>): string | undefined {
  const h = header(input.headers, "x-amzn-errortype");
  if (h) return h.split(":")[0]!.trim();
  const code = str(json?.code) ?? str(json?.__type) ?? str(json?.error && typeof json.error === "object" ? (json.error as Record<string, unknown>).__type : undefined);
  if (code) return code.split("#").pop()!.split(":")[0]!;
  return input.exceptionType;
}

function nested(json: Record<string, unknown> | undefined, key: string): string | undefined {
  if (!json) return undefined;
  const direct = str(json[key]) ?? str(json[key[0]!.toUpperCase() + key.slice(1)]);
  if (direct) return direct;
  const err = json.error;
  if (err && typeof err === "object") return str((err as Record<string, unknown>)[key]);
  return undefined;
}

function networkCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 3 && e && typeof e === "object"; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function classifyNetwork(input: ClassifyInput): KiroError {
  const err = input.networkError;
  if (err instanceof KiroError) return err;
  const code = networkCode(err);
  const message = err instanceof Error ? err.message : String(err);
  const text = `network error${code ? ` ${code}` : ""}: ${message}`;
  // Refresh hosts do not change with the family, so there is nothing to fall back to (row 34).
  if (input.source !== "refresh" && code && UNREACHABLE_CODES.has(code)) {
    return new KiroError("endpoint_unavailable", text, { reason: code, cause: err });
  }
  return new KiroError("transient", text, { reason: code, cause: err });
}

function has(hay: string, needles: readonly string[]): boolean {
  return needles.some((n) => hay.includes(n));
}

/** Map one upstream failure to the class that decides the pool action (§7). */
export function classifyUpstreamError(input: ClassifyInput): KiroError {
  if (input.networkError !== undefined) return classifyNetwork(input);

  const { json, text } = parseBody(input.body);
  const name = errorName(input, json);
  const upstreamReason = nested(json, "reason");
  const rawMessage =
    nested(json, "message") ?? nested(json, "error_description") ?? (json ? str(json.error) : undefined) ?? text.trim();
  const statusFromName = name ? EXCEPTION_STATUS[name] : undefined;
  // In-stream exceptions arrive under a 200: the exception name is the real status.
  const status = input.status && input.status !== 200 ? input.status : (statusFromName ?? input.status);
  const message = rawMessage || (name ? name : status ? `HTTP ${status}` : "upstream error");
  const retryAfterMs = parseRetryAfter(header(input.headers, "retry-after"));
  const lowerText = `${text} ${message}`.toLowerCase();
  const upperAll = `${upstreamReason ?? ""} ${text}`;
  const make = (cls: UpstreamErrorClass, reason = upstreamReason) =>
    new KiroError(cls, message, { status, reason, retryAfterMs });

  if (input.source === "refresh") {
    // Rows 32–33 / §2.6: the refresh token or client registration is dead.
    if (has(lowerText, DEAD_REFRESH_MARKERS) || name === "InvalidGrantException" || name === "InvalidClientException") {
      return make("dead_refresh_token", upstreamReason ?? name);
    }
    return make("transient", upstreamReason ?? name); // row 34: keep old token, retry later
  }

  // Rows 9, 10, 12, 13: quota reasons win wherever they appear (LSP matches anywhere in the body).
  const quota = QUOTA_REASONS.find((r) => upperAll.includes(r));
  if (quota) return make("quota_exhausted", upstreamReason ?? quota);
  // Row 14: capacity is the model's problem, not the account's.
  if (upperAll.includes("INSUFFICIENT_MODEL_CAPACITY") || lowerText.includes("experiencing high traffic")) {
    return make("model_capacity", upstreamReason ?? "INSUFFICIENT_MODEL_CAPACITY");
  }
  // Row 1 (403, sometimes 401).
  if (lowerText.includes("the bearer token included in the request is invalid")) return make("expired_token");
  // Row 2.
  if (lowerText.includes("user is not authorized to make this call")) {
    return make("expired_token", upstreamReason ?? SYNTHETIC_REASONS.reauthRequired);
  }
  // Row 3.
  if (upperAll.includes("TEMPORARILY_SUSPENDED") || has(lowerText, SUSPENDED_MARKERS)) {
    return make("suspended", upstreamReason ?? "TEMPORARILY_SUSPENDED");
  }
  // Row 4.
  if (upstreamReason === "FEATURE_NOT_SUPPORTED") return make("account_blocked");
  // Row 25.
  if (upstreamReason && KMS_REASONS.includes(upstreamReason)) return make("account_blocked");
  // Row 5: we sent something we never should; no retry on any account.
  if (upstreamReason && BUILDER_BUG_403_REASONS.includes(upstreamReason)) return make("bad_request");
  // Row 17 (also ContentLengthExceededException when someone classifies row 30 as an error).
  if (
    (upstreamReason && INPUT_TOO_LONG_REASONS.includes(upstreamReason)) ||
    lowerText.includes("input is too long") ||
    lowerText.includes("exceeded max chat context length") ||
    name === "ContentLengthExceededException"
  ) {
    return make("input_too_long", upstreamReason ?? (name === "ContentLengthExceededException" ? name : undefined));
  }
  // Row 18.
  if (upstreamReason === "INVALID_MODEL_ID" || lowerText.includes("invalid model. please select a different model")) {
    return make("invalid_model", upstreamReason ?? "INVALID_MODEL_ID");
  }
  // Row 24: family A without an ARN; client.ts falls back to family B for profile-less accounts.
  if (lowerText.includes("profilearn is required")) {
    return make("bad_request", upstreamReason ?? SYNTHETIC_REASONS.profileArnRequired);
  }
  // Row 11: retry with a new conversationId, then fail over: not a client error, not the account's fault.
  if (upstreamReason === "CONVERSATION_LIMIT_EXCEEDED") return make("transient");
  // Row 16: abuse throttle, longer cooldown.
  if (lowerText.includes("due to suspicious activity")) {
    return make("throttled", upstreamReason ?? SYNTHETIC_REASONS.suspiciousActivity);
  }
  // Row 27.
  if (
    upstreamReason === "MODEL_TEMPORARILY_UNAVAILABLE" ||
    lowerText.includes("encountered unexpectedly high load")
  ) {
    return make("model_capacity", upstreamReason ?? SYNTHETIC_REASONS.highLoad);
  }

  switch (status) {
    case 400: // rows 19–23 (reason kept so the turn runner can apply 22/23 retries)
      return make("bad_request");
    case 401: // row 8: refresh once, then as 403
      return make("expired_token");
    case 402: // unknown 402 reasons are still quota answers
      return make("quota_exhausted");
    case 403: // rows 6–7
      return make("forbidden");
    case 404: // row 26
      return make("endpoint_unavailable");
    case 429: // row 15
      return make("throttled");
    case 503: // row 29: throttling class in the LSP → backoff retry without penalty
      return make("model_capacity");
  }
  if (status !== undefined && status >= 500) return make("transient"); // row 28
  if (status === 408) return make("transient"); // row 28
  if (status !== undefined && status >= 400) return make("bad_request");
  return make("transient"); // rows 28/31: unnamed in-stream failure or no status at all
}

/** The pool action per class (rendered in docs/errors.md). */
export const ERROR_ACTIONS: Record<UpstreamErrorClass, { action: string; description: string }> = {
  expired_token: {
    action: "refresh_and_retry_same",
    description:
      "Access token expired or revoked (403/401 bearer invalid, 'User is not authorized', other 401). Force one refresh and retry once on the same account; if it recurs with a fresh token count a failure and fail over (REAUTH_REQUIRED recurring → disable). Client: 401 only if no account is left.",
  },
  dead_refresh_token: {
    action: "disable",
    description:
      "Refresh token or client registration is dead (invalid_grant, Invalid refresh token provided, InvalidClientException, Bad credentials). Disable the account until re-imported; fail over.",
  },
  suspended: {
    action: "disable",
    description:
      "Account suspended (TEMPORARILY_SUSPENDED, 'temporarily (is) suspended', 'locked your account'). Disable with the service's message; never retry on this account. Client: 503 if no account is left.",
  },
  account_blocked: {
    action: "disable",
    description:
      "Plan/feature blocked (FEATURE_NOT_SUPPORTED) or enterprise profile misconfigured (KMS reasons). Disable with the reason; fail over. Client: 503 if no account is left.",
  },
  quota_exhausted: {
    action: "exhaust_until_reset",
    description:
      "Monthly/overage/daily quota used (MONTHLY_REQUEST_COUNT, OVERAGE_REQUEST_LIMIT_EXCEEDED, DAILY_REQUEST_COUNT, other 402). Unusable until nextDateReset (daily: next 00:00 UTC); fail over, no retry. All exhausted → client 429 with Retry-After = earliest reset.",
  },
  throttled: {
    action: "cool_down",
    description:
      "Per-account rate limit (429 without a quota/capacity reason; SUSPICIOUS_ACTIVITY gets a long base). Cool down this account (Retry-After or exponential), fail over immediately. All cooling → client 429.",
  },
  model_capacity: {
    action: "backoff_retry",
    description:
      "Model/service overloaded (INSUFFICIENT_MODEL_CAPACITY, MODEL_TEMPORARILY_UNAVAILABLE, high-load 500, 503). Backoff retry (≤ 3 attempts), may try another account, no penalty. Client: 529 overloaded / 503.",
  },
  invalid_model: {
    action: "return_to_client",
    description:
      "INVALID_MODEL_ID. Opus on a FREE account → fail over to a paid account; else retry once with the legacy id if one exists; else 400 model_not_found.",
  },
  bad_request: {
    action: "return_to_client",
    description:
      "Request shape rejected (REQUEST_BODY_INVALID*, 'Improperly formed request.', TOOL_*, IMAGE_*, DOCUMENT_*, other 400). No retry, log the redacted body. Special reasons: THINKING_SIGNATURE_INVALID → retry once without reasoningContent; INVALID_CONVERSATION_ID → retry once with a new id; PROFILE_ARN_REQUIRED → get an ARN or use family B; UNAUTHORIZED_* (403) → builder bug, client 500.",
  },
  input_too_long: {
    action: "return_to_client",
    description:
      "Prompt too long (CONTENT_LENGTH_EXCEEDS_THRESHOLD, PROMPT_TOO_LONG, 'Input is too long', 'Exceeded max chat context length.'). No retry, no fail over; client 400 prompt is too long / context_length_exceeded.",
  },
  forbidden: {
    action: "count_failure_next_account",
    description:
      "Any other 403 (incl. nameless/Unknown; also a profileArn sent for a profile-less identity). Count a failure (3 consecutive → disable), fail over. Client: 403 if no account is left.",
  },
  endpoint_unavailable: {
    action: "next_endpoint_family",
    description:
      "404 / DNS failure / connect refused or timed out / TLS failure. Try the next endpoint family; not an account failure. Client: 502 if every family fails.",
  },
  transient: {
    action: "backoff_retry_then_next_account",
    description:
      "5xx, 408, socket reset, our timeout, unnamed in-stream failure, refresh 429/5xx/network, CONVERSATION_LIMIT_EXCEEDED. Backoff retry up to 3 attempts total, fail over after the 2nd; soft failure. Refresh: keep the old token until real expiry. Client: 502.",
  },
};
