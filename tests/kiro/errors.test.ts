/**
 * Every known upstream error answer (chat, in-stream, refresh endpoints, network) classifies to
 * the class that drives the right pool action. Table-driven: one row per upstream answer, named
 * by what the answer is.
 */
import { describe, expect, test } from "bun:test";
import { UPSTREAM_ERROR_CLASSES } from "../../src/core/error-table";
import {
  CLASSIFY_RULES,
  classifyUpstreamError,
  classifyWithRule,
  type ClassifyInput,
  KiroError,
  parseRetryAfter,
  type UpstreamErrorClass,
} from "../../src/kiro/errors";

const NS = "com.amazon.aws.codewhisperer#";
const typed = (name: string, message: string, reason: string | null) => JSON.stringify({ __type: NS + name, message, reason });
const named = (name: string) => ({ "x-amzn-errortype": `${name}:http://internal.amazon.com/coral/com.amazon.aws.codewhisperer/` });

type Row = { row: string; input: ClassifyInput; cls: UpstreamErrorClass; reason?: string };

const rows: Row[] = [
  // The real bearer-invalid answer carries no exception name, as 403 and as 401.
  { row: "bearer invalid 403", input: { status: 403, body: '{"message":"The bearer token included in the request is invalid.","reason":null}' }, cls: "expired_token" },
  { row: "bearer invalid 401", input: { status: 401, body: '{"message":"The bearer token included in the request is invalid."}' }, cls: "expired_token" },
  { row: "user not authorized", input: { status: 403, body: typed("AccessDeniedException", "User is not authorized to make this call", null) }, cls: "expired_token", reason: "REAUTH_REQUIRED" },
  { row: "suspended reason", input: { status: 403, headers: named("AccessDeniedException"), body: typed("AccessDeniedException", "Account suspended", "TEMPORARILY_SUSPENDED") }, cls: "suspended", reason: "TEMPORARILY_SUSPENDED" },
  { row: "suspended, reason null", input: { status: 403, body: '{"message":"Your User ID temporarily is suspended.","reason":null}' }, cls: "suspended" },
  { row: "temporarily suspended text", input: { status: 403, body: '{"message":"This account is temporarily suspended"}' }, cls: "suspended" },
  { row: "locked account", input: { status: 403, body: '{"message":"We have locked your account due to unusual activity"}' }, cls: "suspended" },
  { row: "feature not supported", input: { status: 403, body: typed("AccessDeniedException", "Feature not supported", "FEATURE_NOT_SUPPORTED") }, cls: "account_blocked", reason: "FEATURE_NOT_SUPPORTED" },
  { row: "unauthorized customization (our field)", input: { status: 403, body: typed("AccessDeniedException", "no", "UNAUTHORIZED_CUSTOMIZATION_RESOURCE_ACCESS") }, cls: "bad_request", reason: "UNAUTHORIZED_CUSTOMIZATION_RESOURCE_ACCESS" },
  { row: "unauthorized workspace (our field)", input: { status: 403, body: typed("AccessDeniedException", "no", "UNAUTHORIZED_WORKSPACE_CONTEXT_FEATURE_ACCESS") }, cls: "bad_request" },
  { row: "other 403", input: { status: 403, body: typed("AccessDeniedException", "Access denied", null) }, cls: "forbidden" },
  { row: "nameless empty 403", input: { status: 403, body: "" }, cls: "forbidden" },
  { row: "other 401", input: { status: 401, body: '{"message":"Unauthorized"}' }, cls: "expired_token" },
  { row: "monthly quota 402", input: { status: 402, headers: named("ServiceQuotaExceededException"), body: typed("ServiceQuotaExceededException", "You have reached the limit.", "MONTHLY_REQUEST_COUNT") }, cls: "quota_exhausted", reason: "MONTHLY_REQUEST_COUNT" },
  { row: "monthly quota nested under error", input: { status: 402, body: '{"error":{"message":"limit","reason":"MONTHLY_REQUEST_COUNT"}}' }, cls: "quota_exhausted", reason: "MONTHLY_REQUEST_COUNT" },
  { row: "monthly quota anywhere in body", input: { status: 400, body: "upstream said MONTHLY_REQUEST_COUNT somewhere" }, cls: "quota_exhausted", reason: "MONTHLY_REQUEST_COUNT" },
  { row: "overage limit", input: { status: 402, body: typed("ServiceQuotaExceededException", "Overage cap", "OVERAGE_REQUEST_LIMIT_EXCEEDED") }, cls: "quota_exhausted", reason: "OVERAGE_REQUEST_LIMIT_EXCEEDED" },
  { row: "402 with an unknown reason", input: { status: 402, body: typed("ServiceQuotaExceededException", "Payment required", "SOMETHING_NEW") }, cls: "quota_exhausted", reason: "SOMETHING_NEW" },
  { row: "conversation limit", input: { status: 402, body: typed("ServiceQuotaExceededException", "Conversation limit", "CONVERSATION_LIMIT_EXCEEDED") }, cls: "transient", reason: "CONVERSATION_LIMIT_EXCEEDED" },
  { row: "monthly quota as 429", input: { status: 429, body: typed("ThrottlingException", "Monthly", "MONTHLY_REQUEST_COUNT") }, cls: "quota_exhausted" },
  { row: "daily quota as 429", input: { status: 429, body: typed("ThrottlingException", "Daily", "DAILY_REQUEST_COUNT") }, cls: "quota_exhausted", reason: "DAILY_REQUEST_COUNT" },
  { row: "model capacity 429", input: { status: 429, body: typed("ThrottlingException", "I am experiencing high traffic, please try again shortly.", "INSUFFICIENT_MODEL_CAPACITY") }, cls: "model_capacity", reason: "INSUFFICIENT_MODEL_CAPACITY" },
  { row: "model capacity as 400", input: { status: 400, body: typed("ValidationException", "capacity", "INSUFFICIENT_MODEL_CAPACITY") }, cls: "model_capacity" },
  { row: "high traffic 503 text only", input: { status: 503, body: '{"message":"Service is experiencing high traffic"}' }, cls: "model_capacity" },
  { row: "rate exceeded reason", input: { status: 429, body: typed("ThrottlingException", "Rate exceeded", "USER_REQUEST_RATE_EXCEEDED") }, cls: "throttled", reason: "USER_REQUEST_RATE_EXCEEDED" },
  { row: "too many requests, no reason", input: { status: 429, body: '{"message":"Too many requests, please wait before trying again.","reason":null}' }, cls: "throttled" },
  { row: "suspicious activity", input: { status: 429, body: '{"message":"Due to suspicious activity, we are imposing temporary limits on your account."}' }, cls: "throttled", reason: "SUSPICIOUS_ACTIVITY" },
  { row: "content length threshold", input: { status: 400, body: typed("ValidationException", "Input is too long.", "CONTENT_LENGTH_EXCEEDS_THRESHOLD") }, cls: "input_too_long", reason: "CONTENT_LENGTH_EXCEEDS_THRESHOLD" },
  { row: "PROMPT_TOO_LONG", input: { status: 400, body: typed("ValidationException", "too long", "PROMPT_TOO_LONG") }, cls: "input_too_long" },
  { row: "input too long text", input: { status: 400, body: '{"message":"Input is too long for requested model."}' }, cls: "input_too_long" },
  { row: "max chat context text", input: { status: 400, body: '{"message":"Exceeded max chat context length."}' }, cls: "input_too_long" },
  { row: "invalid model id", input: { status: 400, body: typed("ValidationException", "Invalid model. Please select a different model.", "INVALID_MODEL_ID") }, cls: "invalid_model", reason: "INVALID_MODEL_ID" },
  { row: "improperly formed, reason null", input: { status: 400, body: '{"message":"Improperly formed request.","reason":null}' }, cls: "bad_request" },
  { row: "REQUEST_BODY_INVALID", input: { status: 400, body: typed("ValidationException", "Improperly formed request.", "REQUEST_BODY_INVALID") }, cls: "bad_request", reason: "REQUEST_BODY_INVALID" },
  { row: "REQUEST_BODY_INVALID_JSON", input: { status: 400, body: typed("ValidationException", "bad json", "REQUEST_BODY_INVALID_JSON") }, cls: "bad_request" },
  ...["TOOL_USE_RESULT_MISMATCH", "TOOL_CONFIG_MISSING", "TOOL_DUPLICATE", "TOOL_SCHEMA_INVALID"].map(
    (r): Row => ({ row: `tool ${r}`, input: { status: 400, body: typed("ValidationException", "tools", r) }, cls: "bad_request", reason: r }),
  ),
  ...["IMAGE_COUNT_EXCEEDED", "IMAGE_DIMENSION_EXCEEDED", "IMAGE_FORMAT_UNSUPPORTED", "IMAGE_MIME_MISMATCH", "IMAGE_SIZE_EXCEEDED", "DOCUMENT_SIZE_EXCEEDED"].map(
    (r): Row => ({ row: `attachment ${r}`, input: { status: 400, body: typed("ValidationException", "attachment", r) }, cls: "bad_request", reason: r }),
  ),
  { row: "thinking signature invalid", input: { status: 400, body: typed("ValidationException", "sig", "THINKING_SIGNATURE_INVALID") }, cls: "bad_request", reason: "THINKING_SIGNATURE_INVALID" },
  { row: "invalid conversation id", input: { status: 400, body: typed("ValidationException", "conv", "INVALID_CONVERSATION_ID") }, cls: "bad_request", reason: "INVALID_CONVERSATION_ID" },
  { row: "profileArn required", input: { status: 400, body: '{"message":"profileArn is required for this request"}' }, cls: "bad_request", reason: "PROFILE_ARN_REQUIRED" },
  { row: "KMS grant", input: { status: 400, body: typed("ValidationException", "kms", "INVALID_KMS_GRANT") }, cls: "account_blocked", reason: "INVALID_KMS_GRANT" },
  ...["CUSTOMER_KMS_KEY_DISABLED", "CUSTOMER_KMS_KEY_INVALID_KEY_POLICY", "MISMATCHED_KMS_KEY"].map(
    (r): Row => ({ row: `KMS ${r}`, input: { status: 409, headers: named("ConflictException"), body: typed("ConflictException", "kms", r) }, cls: "account_blocked", reason: r }),
  ),
  { row: "404 ResourceNotFound", input: { status: 404, headers: named("ResourceNotFoundException"), body: typed("ResourceNotFoundException", "Unknown operation", null) }, cls: "endpoint_unavailable" },
  { row: "404 html", input: { status: 404, body: "<html>Not Found</html>" }, cls: "endpoint_unavailable" },
  { row: "DNS failure", input: { networkError: Object.assign(new TypeError("getaddrinfo ENOTFOUND x"), { code: "ENOTFOUND" }) }, cls: "endpoint_unavailable", reason: "ENOTFOUND" },
  { row: "DNS EAI_AGAIN", input: { networkError: Object.assign(new Error("dns"), { code: "EAI_AGAIN" }) }, cls: "endpoint_unavailable" },
  { row: "connection refused", input: { networkError: Object.assign(new TypeError("Unable to connect"), { code: "ECONNREFUSED" }) }, cls: "endpoint_unavailable" },
  { row: "TLS failure", input: { networkError: Object.assign(new Error("cert"), { code: "ERR_TLS_CERT_ALTNAME_INVALID" }) }, cls: "endpoint_unavailable" },
  { row: "model temporarily unavailable", input: { status: 500, body: typed("InternalServerException", "Model unavailable", "MODEL_TEMPORARILY_UNAVAILABLE") }, cls: "model_capacity", reason: "MODEL_TEMPORARILY_UNAVAILABLE" },
  { row: "unexpectedly high load", input: { status: 500, body: '{"message":"Encountered unexpectedly high load when processing the request, please try again."}' }, cls: "model_capacity", reason: "HIGH_LOAD" },
  { row: "500", input: { status: 500, body: typed("InternalServerException", "Encountered an unexpected error", null) }, cls: "transient" },
  { row: "502", input: { status: 502, body: "Bad Gateway" }, cls: "transient" },
  { row: "504", input: { status: 504, body: "" }, cls: "transient" },
  { row: "408", input: { status: 408, body: "" }, cls: "transient" },
  { row: "connection reset", input: { networkError: Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }) }, cls: "transient" },
  { row: "503 ServiceUnavailable", input: { status: 503, headers: named("ServiceUnavailableException"), body: typed("ServiceUnavailableException", "Service unavailable", null) }, cls: "model_capacity" },
  { row: "in-stream content length exceeded", input: { status: 200, exceptionType: "ContentLengthExceededException", body: '{"message":"Response exceeded"}' }, cls: "input_too_long" },
  { row: "in-stream throttling", input: { status: 200, exceptionType: "ThrottlingException", body: '{"message":"Too many requests"}' }, cls: "throttled" },
  { row: "in-stream internal", input: { exceptionType: "InternalServerException", body: '{"message":"boom"}' }, cls: "transient" },
  { row: "in-stream capacity", input: { exceptionType: "InternalServerException", body: '{"message":"x","reason":"MODEL_TEMPORARILY_UNAVAILABLE"}' }, cls: "model_capacity" },
  { row: "in-stream validation", input: { exceptionType: "ValidationException", body: '{"message":"bad"}' }, cls: "bad_request" },
  { row: "unnamed in-stream error frame", input: { exceptionType: "InternalFailure", body: "internal error" }, cls: "transient" },
  { row: "409 without an encryption-key reason", input: { status: 409, headers: named("ConflictException"), body: typed("ConflictException", "conflict", null) }, cls: "bad_request" },
  { row: "413", input: { status: 413, body: "Request Entity Too Large" }, cls: "bad_request" },
  // Token refresh endpoints.
  { row: "refresh: Identity Center invalid_grant", input: { source: "refresh", status: 400, headers: named("InvalidGrantException"), body: '{"error":"invalid_grant","error_description":"Invalid refresh token provided"}' }, cls: "dead_refresh_token" },
  { row: "refresh: social invalid_grant", input: { source: "refresh", status: 400, body: '{"error":"invalid_grant","message":"Invalid refresh token provided"}' }, cls: "dead_refresh_token" },
  { row: "refresh: Identity Center InvalidClient", input: { source: "refresh", status: 401, headers: named("InvalidClientException"), body: '{"error":"invalid_client","error_description":"Client authentication failed"}' }, cls: "dead_refresh_token" },
  { row: "refresh: InvalidClient by __type", input: { source: "refresh", status: 401, body: '{"__type":"InvalidClientException","message":"expired"}' }, cls: "dead_refresh_token" },
  { row: "refresh: social Bad credentials", input: { source: "refresh", status: 401, body: '{"message":"Bad credentials"}' }, cls: "dead_refresh_token" },
  { row: "refresh: 429", input: { source: "refresh", status: 429, body: '{"error":"slow_down"}' }, cls: "transient" },
  { row: "refresh: 500", input: { source: "refresh", status: 500, body: '{"error":"server_error","error_description":"InternalServerException"}' }, cls: "transient" },
  { row: "refresh: network (no family fallback for auth hosts)", input: { source: "refresh", networkError: Object.assign(new Error("x"), { code: "ENOTFOUND" }) }, cls: "transient" },
  { row: "refresh: other OIDC 400", input: { source: "refresh", status: 400, headers: named("InvalidRequestException"), body: '{"error":"invalid_request"}' }, cls: "transient" },
];

describe("classifyUpstreamError — every known upstream answer", () => {
  for (const r of rows) {
    test(`${r.row} → ${r.cls}`, () => {
      const e = classifyUpstreamError(r.input);
      expect(e).toBeInstanceOf(KiroError);
      expect(e.cls).toBe(r.cls);
      if (r.reason) expect(e.reason).toBe(r.reason);
      expect(e.upstreamMessage.length).toBeGreaterThan(0);
    });
  }

  test("keeps status, message and Retry-After (seconds)", () => {
    const e = classifyUpstreamError({
      status: 429,
      headers: new Headers({ "retry-after": "7" }),
      body: '{"message":"Too many requests","reason":null}',
    });
    expect(e.cls).toBe("throttled");
    expect(e.status).toBe(429);
    expect(e.retryAfterMs).toBe(7000);
    expect(e.upstreamMessage).toBe("Too many requests");
  });

  test("in-stream exception takes its status from the exception name", () => {
    expect(classifyUpstreamError({ status: 200, exceptionType: "ServiceQuotaExceededException", body: "{}" }).status).toBe(402);
  });

  test("parsed-object bodies work like text bodies", () => {
    expect(classifyUpstreamError({ status: 402, body: { message: "x", reason: "MONTHLY_REQUEST_COUNT" } }).cls).toBe("quota_exhausted");
  });
});

describe("parseRetryAfter", () => {
  test("delta seconds, HTTP date, garbage", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("2.5", now)).toBe(2500);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe("CLASSIFY_RULES", () => {
  test("every class has at least one rule, and the last rule matches anything", () => {
    for (const cls of UPSTREAM_ERROR_CLASSES) {
      // endpoint_unavailable also comes from network error codes (UNREACHABLE_CODES), but 404 is a rule.
      expect({ cls, rules: CLASSIFY_RULES.filter((r) => r.cls === cls).length > 0 }).toEqual({ cls, rules: true });
    }
    const last = CLASSIFY_RULES.at(-1)!;
    expect([last.source, last.status, last.reasons, last.tokens, last.text, last.names]).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
  });

  test("every rule decides at least one known answer above (no dead rule)", () => {
    const used = new Set<number | "network">();
    for (const r of rows) {
      const { error, rule } = classifyWithRule(r.input);
      expect(error.cls).toBe(r.cls);
      used.add(rule);
    }
    const unused = CLASSIFY_RULES.map((r, i) => ({ i, note: r.note })).filter(({ i }) => !used.has(i));
    expect(unused).toEqual([]);
    expect(used.has("network")).toBe(true);
  });
});
