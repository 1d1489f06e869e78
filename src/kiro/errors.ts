/**
 * Upstream failures → one UpstreamErrorClass each. classifyUpstreamError() is the single function
 * that maps an upstream answer (HTTP status + body + headers, in-stream exception, refresh-endpoint
 * answer or network failure) to a class, through the ordered rule table CLASSIFY_RULES below.
 * What each class means for the pool and for the client is the error table in
 * src/core/error-table.ts; docs/errors.md is rendered from both.
 */
import { SYNTHETIC_REASONS, type UpstreamErrorClass } from "../core/error-table";

export { SYNTHETIC_REASONS, type UpstreamErrorClass };

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

export type ClassifyInput = {
  status?: number;
  /** Raw response text or an already parsed JSON value. */
  body?: unknown;
  headers?: Headers | Record<string, string>;
  /** In-stream `:exception-type` (or `:error-code`) when the failure came inside a 200 stream. */
  exceptionType?: string;
  /** What fetch threw (DNS, connect refused, reset, timeout…). */
  networkError?: unknown;
  /** Which endpoint answered: the refresh endpoints have their own dead-token rules. */
  source?: "chat" | "refresh" | "side";
};

/**
 * Exception name → HTTP status (the service's REST-JSON bindings), used for in-stream
 * exceptions, which arrive inside a 200 response.
 */
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

/** fetch error codes meaning "this host is not served here": try the next endpoint family. */
export const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
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

// ---------------------------------------------------------------------------------------------
// The ordered rule table. The first rule that matches decides the class. A rule matches when
// its `source` (if any) and `status` (if any) fit and, when it names signals, at least one of
// them is present. The real bearer-invalid 403 carries no exception name, so rules go by status,
// `reason` and message text, and use exception names only as one more signal.
// ---------------------------------------------------------------------------------------------

export type StatusMatch = number | { min: number; max?: number };

export type ClassifyRule = {
  cls: UpstreamErrorClass;
  /** Only answers of the token refresh endpoints. */
  source?: "refresh";
  status?: StatusMatch;
  /** The upstream `reason` (also nested as `{"error":{"reason"}}`) is one of these. */
  reasons?: readonly string[];
  /** Appears anywhere in the reason or the raw body (case-sensitive, e.g. when the service wraps it). */
  tokens?: readonly string[];
  /** The body or message contains this, ignoring case (written lower-case here). */
  text?: readonly string[];
  /** The exception name (x-amzn-errortype header, body `code` / `__type`, in-stream `:exception-type`). */
  names?: readonly string[];
  /**
   * The error's `reason` when the upstream sent none: a fixed (often synthetic) value, the token
   * that matched, or the exception name.
   */
  fallbackReason?: string | { from: "token" | "name" };
  /** The upstream answers this rule is for (rendered into docs/errors.md). */
  note: string;
};

const QUOTA_REASONS = ["MONTHLY_REQUEST_COUNT", "OVERAGE_REQUEST_LIMIT_EXCEEDED", "DAILY_REQUEST_COUNT"];

export const CLASSIFY_RULES: readonly ClassifyRule[] = [
  // Token refresh endpoints (OIDC for IAM Identity Center accounts, the social-login service).
  {
    cls: "dead_refresh_token",
    source: "refresh",
    text: ["invalid_grant", "invalid refresh token provided", "bad credentials", "invalidclient", "invalid_client"],
    names: ["InvalidGrantException", "InvalidClientException"],
    fallbackReason: { from: "name" },
    note: "Refresh endpoint: 400 `invalid_grant` / `Invalid refresh token provided`, 401 `InvalidClientException` (client registration expired), social 401 `Bad credentials`",
  },
  {
    cls: "transient",
    source: "refresh",
    fallbackReason: { from: "name" },
    note: "Any other refresh-endpoint answer (429, 5xx, other 400s): retry the refresh later",
  },
  // Chat and side calls: reasons and texts that decide whatever the status.
  {
    cls: "quota_exhausted",
    tokens: QUOTA_REASONS,
    fallbackReason: { from: "token" },
    note: "Monthly, overage or daily quota used up: 402 or 429, matched anywhere in the body",
  },
  {
    cls: "model_capacity",
    tokens: ["INSUFFICIENT_MODEL_CAPACITY"],
    text: ["experiencing high traffic"],
    fallbackReason: "INSUFFICIENT_MODEL_CAPACITY",
    note: "The model has no capacity (seen as 429, 400 and 503)",
  },
  {
    cls: "expired_token",
    text: ["the bearer token included in the request is invalid"],
    note: "Access token expired or revoked: 403 (sometimes 401) with no exception name",
  },
  {
    cls: "expired_token",
    text: ["user is not authorized to make this call"],
    fallbackReason: SYNTHETIC_REASONS.reauthRequired,
    note: "403 AccessDeniedException: the token is no longer accepted; recurring after a refresh means re-login",
  },
  {
    cls: "suspended",
    tokens: ["TEMPORARILY_SUSPENDED"],
    text: ["temporarily suspended", "temporarily is suspended", "locked your account"],
    fallbackReason: "TEMPORARILY_SUSPENDED",
    note: "Account suspended: 403 with the reason, or (one endpoint family) `reason: null` and only the message",
  },
  {
    cls: "account_blocked",
    reasons: ["FEATURE_NOT_SUPPORTED", "INVALID_KMS_GRANT", "CUSTOMER_KMS_KEY_DISABLED", "CUSTOMER_KMS_KEY_INVALID_KEY_POLICY", "MISMATCHED_KMS_KEY"],
    note: "403 plan lacks the feature; 400/409 enterprise profile with an unusable encryption key",
  },
  {
    cls: "bad_request",
    reasons: ["UNAUTHORIZED_CUSTOMIZATION_RESOURCE_ACCESS", "UNAUTHORIZED_WORKSPACE_CONTEXT_FEATURE_ACCESS"],
    note: "403 for a customization or workspace field we should never send: retrying on any account cannot help",
  },
  {
    cls: "input_too_long",
    names: ["ContentLengthExceededException"],
    fallbackReason: { from: "name" },
    note: "`ContentLengthExceededException`, if it is ever classified (the stream decoder normally turns it into stop reason `max_tokens`)",
  },
  {
    cls: "input_too_long",
    reasons: ["CONTENT_LENGTH_EXCEEDS_THRESHOLD", "PROMPT_TOO_LONG"],
    text: ["input is too long", "exceeded max chat context length"],
    note: "400 prompt longer than the model's context",
  },
  {
    cls: "invalid_model",
    reasons: ["INVALID_MODEL_ID"],
    text: ["invalid model. please select a different model"],
    fallbackReason: "INVALID_MODEL_ID",
    note: "400 `Invalid model. Please select a different model.`: this account's plan lacks the model",
  },
  {
    cls: "bad_request",
    text: ["profilearn is required"],
    fallbackReason: SYNTHETIC_REASONS.profileArnRequired,
    note: "400 from an endpoint family that needs a profile ARN the account does not have (the Kiro client then tries the next family)",
  },
  {
    cls: "transient",
    reasons: ["CONVERSATION_LIMIT_EXCEEDED"],
    note: "402 conversation limit: neither the client's mistake nor the account's",
  },
  {
    cls: "throttled",
    text: ["due to suspicious activity"],
    fallbackReason: SYNTHETIC_REASONS.suspiciousActivity,
    note: "429 abuse throttle `Due to suspicious activity…`: long cooldown",
  },
  {
    cls: "model_capacity",
    reasons: ["MODEL_TEMPORARILY_UNAVAILABLE"],
    text: ["encountered unexpectedly high load"],
    fallbackReason: SYNTHETIC_REASONS.highLoad,
    note: "500 model temporarily unavailable / `Encountered unexpectedly high load…`",
  },
  // Whatever else: by status (an in-stream exception's status comes from its name).
  { cls: "bad_request", status: 400, note: "Any other 400: malformed request, tool, image or document problems" },
  { cls: "expired_token", status: 401, note: "Any other 401: refresh once, then as a 403" },
  { cls: "quota_exhausted", status: 402, note: "Any other 402" },
  { cls: "forbidden", status: 403, note: "Any other 403, including nameless ones" },
  { cls: "endpoint_unavailable", status: 404, note: "404 with any body: this endpoint is not served here" },
  { cls: "throttled", status: 429, note: "Any other 429: per-account rate limit" },
  { cls: "model_capacity", status: 503, note: "503 ServiceUnavailableException: the service's throttling, retried with backoff" },
  { cls: "transient", status: { min: 500 }, note: "Other 5xx" },
  { cls: "transient", status: 408, note: "408 request timeout" },
  { cls: "bad_request", status: { min: 400, max: 499 }, note: "Any other 4xx" },
  { cls: "transient", note: "No status at all, or an unnamed in-stream failure" },
];

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

/** Exception naming rule: x-amzn-errortype (before ':'), body code, body __type (after '#'). */
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
  // Refresh hosts do not change with the endpoint family, so there is nothing to fall back to.
  if (input.source !== "refresh" && code && UNREACHABLE_CODES.has(code)) {
    return new KiroError("endpoint_unavailable", text, { reason: code, cause: err });
  }
  return new KiroError("transient", text, { reason: code, cause: err });
}

/** What the rules look at, extracted once per answer. */
type Signals = {
  source?: ClassifyInput["source"];
  status?: number;
  reason?: string;
  name?: string;
  /** Body text and message, lower-cased. */
  lowerText: string;
  /** Upstream reason and body text, as sent. */
  rawText: string;
};

function statusFits(m: StatusMatch | undefined, status: number | undefined): boolean {
  if (m === undefined) return true;
  if (status === undefined) return false;
  if (typeof m === "number") return status === m;
  return status >= m.min && (m.max === undefined || status <= m.max);
}

/** Whether the rule matches, and the token it matched (for `fallbackReason: {from: "token"}`). */
function matchRule(rule: ClassifyRule, s: Signals): { token?: string } | undefined {
  if (rule.source === "refresh" && s.source !== "refresh") return undefined;
  if (!statusFits(rule.status, s.status)) return undefined;
  const hasSignals = rule.reasons || rule.tokens || rule.text || rule.names;
  if (!hasSignals) return {};
  const token = rule.tokens?.find((t) => s.rawText.includes(t));
  if (token) return { token };
  if (s.reason !== undefined && rule.reasons?.includes(s.reason)) return {};
  if (rule.text?.some((t) => s.lowerText.includes(t))) return {};
  if (s.name !== undefined && rule.names?.includes(s.name)) return {};
  return undefined;
}

/** Index of the first matching rule (the last rule matches anything) and the token it matched. */
function firstMatchingRule(s: Signals): { index: number; token?: string } {
  for (let index = 0; index < CLASSIFY_RULES.length; index++) {
    const m = matchRule(CLASSIFY_RULES[index]!, s);
    if (m) return { index, token: m.token };
  }
  throw new Error("CLASSIFY_RULES must end with a rule that matches anything");
}

/** Map one upstream failure to the class that decides the pool action and the client's error. */
export function classifyUpstreamError(input: ClassifyInput): KiroError {
  return classifyWithRule(input).error;
}

/**
 * The classification and what decided it: the index of the CLASSIFY_RULES entry, or "network"
 * for a failure without an answer (classified by its error code, see UNREACHABLE_CODES).
 */
export function classifyWithRule(input: ClassifyInput): { error: KiroError; rule: number | "network" } {
  if (input.networkError !== undefined) return { error: classifyNetwork(input), rule: "network" };

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

  const { index, token } = firstMatchingRule({
    source: input.source,
    status,
    reason: upstreamReason,
    name,
    lowerText: `${text} ${message}`.toLowerCase(),
    rawText: `${upstreamReason ?? ""} ${text}`,
  });
  const rule = CLASSIFY_RULES[index]!;
  const fb = rule.fallbackReason;
  const fallback = typeof fb === "string" ? fb : fb?.from === "token" ? token : fb?.from === "name" ? name : undefined;
  return { error: new KiroError(rule.cls, message, { status, reason: upstreamReason ?? fallback, retryAfterMs }), rule: index };
}
