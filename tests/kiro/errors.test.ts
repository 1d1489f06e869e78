/**
 * Every error body of kiro-upstream.md §7 (rows 1–34) and §2.6 classifies to the class that
 * drives the right pool action. Table-driven: one row per upstream answer.
 */
import { describe, expect, test } from "bun:test";
import {
  classifyUpstreamError,
  ERROR_ACTIONS,
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
  // 1: the real nameless bearer-invalid answer, 403 and 401
  { row: "1 403", input: { status: 403, body: '{"message":"The bearer token included in the request is invalid.","reason":null}' }, cls: "expired_token" },
  { row: "1 401", input: { status: 401, body: '{"message":"The bearer token included in the request is invalid."}' }, cls: "expired_token" },
  { row: "2", input: { status: 403, body: typed("AccessDeniedException", "User is not authorized to make this call", null) }, cls: "expired_token", reason: "REAUTH_REQUIRED" },
  { row: "3 reason", input: { status: 403, headers: named("AccessDeniedException"), body: typed("AccessDeniedException", "Account suspended", "TEMPORARILY_SUSPENDED") }, cls: "suspended", reason: "TEMPORARILY_SUSPENDED" },
  { row: "3 family B reason null", input: { status: 403, body: '{"message":"Your User ID temporarily is suspended.","reason":null}' }, cls: "suspended" },
  { row: "3 temporarily suspended", input: { status: 403, body: '{"message":"This account is temporarily suspended"}' }, cls: "suspended" },
  { row: "3 locked", input: { status: 403, body: '{"message":"We have locked your account due to unusual activity"}' }, cls: "suspended" },
  { row: "4", input: { status: 403, body: typed("AccessDeniedException", "Feature not supported", "FEATURE_NOT_SUPPORTED") }, cls: "account_blocked", reason: "FEATURE_NOT_SUPPORTED" },
  { row: "5 customization", input: { status: 403, body: typed("AccessDeniedException", "no", "UNAUTHORIZED_CUSTOMIZATION_RESOURCE_ACCESS") }, cls: "bad_request", reason: "UNAUTHORIZED_CUSTOMIZATION_RESOURCE_ACCESS" },
  { row: "5 workspace", input: { status: 403, body: typed("AccessDeniedException", "no", "UNAUTHORIZED_WORKSPACE_CONTEXT_FEATURE_ACCESS") }, cls: "bad_request" },
  { row: "6/7 other 403", input: { status: 403, body: typed("AccessDeniedException", "Access denied", null) }, cls: "forbidden" },
  { row: "7 unknown 403", input: { status: 403, body: "" }, cls: "forbidden" },
  { row: "8", input: { status: 401, body: '{"message":"Unauthorized"}' }, cls: "expired_token" },
  { row: "9", input: { status: 402, headers: named("ServiceQuotaExceededException"), body: typed("ServiceQuotaExceededException", "You have reached the limit.", "MONTHLY_REQUEST_COUNT") }, cls: "quota_exhausted", reason: "MONTHLY_REQUEST_COUNT" },
  { row: "9 nested (KRS)", input: { status: 402, body: '{"error":{"message":"limit","reason":"MONTHLY_REQUEST_COUNT"}}' }, cls: "quota_exhausted", reason: "MONTHLY_REQUEST_COUNT" },
  { row: "9 anywhere in body (LSP)", input: { status: 400, body: "upstream said MONTHLY_REQUEST_COUNT somewhere" }, cls: "quota_exhausted", reason: "MONTHLY_REQUEST_COUNT" },
  { row: "10", input: { status: 402, body: typed("ServiceQuotaExceededException", "Overage cap", "OVERAGE_REQUEST_LIMIT_EXCEEDED") }, cls: "quota_exhausted", reason: "OVERAGE_REQUEST_LIMIT_EXCEEDED" },
  { row: "11", input: { status: 402, body: typed("ServiceQuotaExceededException", "Conversation limit", "CONVERSATION_LIMIT_EXCEEDED") }, cls: "transient", reason: "CONVERSATION_LIMIT_EXCEEDED" },
  { row: "12", input: { status: 429, body: typed("ThrottlingException", "Monthly", "MONTHLY_REQUEST_COUNT") }, cls: "quota_exhausted" },
  { row: "13", input: { status: 429, body: typed("ThrottlingException", "Daily", "DAILY_REQUEST_COUNT") }, cls: "quota_exhausted", reason: "DAILY_REQUEST_COUNT" },
  { row: "14 429", input: { status: 429, body: typed("ThrottlingException", "I am experiencing high traffic, please try again shortly.", "INSUFFICIENT_MODEL_CAPACITY") }, cls: "model_capacity", reason: "INSUFFICIENT_MODEL_CAPACITY" },
  { row: "14 as 400", input: { status: 400, body: typed("ValidationException", "capacity", "INSUFFICIENT_MODEL_CAPACITY") }, cls: "model_capacity" },
  { row: "14 as 503 text only", input: { status: 503, body: '{"message":"Service is experiencing high traffic"}' }, cls: "model_capacity" },
  { row: "15 reason", input: { status: 429, body: typed("ThrottlingException", "Rate exceeded", "USER_REQUEST_RATE_EXCEEDED") }, cls: "throttled", reason: "USER_REQUEST_RATE_EXCEEDED" },
  { row: "15 no reason", input: { status: 429, body: '{"message":"Too many requests, please wait before trying again.","reason":null}' }, cls: "throttled" },
  { row: "16", input: { status: 429, body: '{"message":"Due to suspicious activity, we are imposing temporary limits on your account."}' }, cls: "throttled", reason: "SUSPICIOUS_ACTIVITY" },
  { row: "17 reason", input: { status: 400, body: typed("ValidationException", "Input is too long.", "CONTENT_LENGTH_EXCEEDS_THRESHOLD") }, cls: "input_too_long", reason: "CONTENT_LENGTH_EXCEEDS_THRESHOLD" },
  { row: "17 PROMPT_TOO_LONG", input: { status: 400, body: typed("ValidationException", "too long", "PROMPT_TOO_LONG") }, cls: "input_too_long" },
  { row: "17 text", input: { status: 400, body: '{"message":"Input is too long for requested model."}' }, cls: "input_too_long" },
  { row: "17 context text", input: { status: 400, body: '{"message":"Exceeded max chat context length."}' }, cls: "input_too_long" },
  { row: "18", input: { status: 400, body: typed("ValidationException", "Invalid model. Please select a different model.", "INVALID_MODEL_ID") }, cls: "invalid_model", reason: "INVALID_MODEL_ID" },
  { row: "19 reason null", input: { status: 400, body: '{"message":"Improperly formed request.","reason":null}' }, cls: "bad_request" },
  { row: "19 REQUEST_BODY_INVALID", input: { status: 400, body: typed("ValidationException", "Improperly formed request.", "REQUEST_BODY_INVALID") }, cls: "bad_request", reason: "REQUEST_BODY_INVALID" },
  { row: "19 INVALID_JSON", input: { status: 400, body: typed("ValidationException", "bad json", "REQUEST_BODY_INVALID_JSON") }, cls: "bad_request" },
  ...["TOOL_USE_RESULT_MISMATCH", "TOOL_CONFIG_MISSING", "TOOL_DUPLICATE", "TOOL_SCHEMA_INVALID"].map(
    (r): Row => ({ row: `20 ${r}`, input: { status: 400, body: typed("ValidationException", "tools", r) }, cls: "bad_request", reason: r }),
  ),
  ...["IMAGE_COUNT_EXCEEDED", "IMAGE_DIMENSION_EXCEEDED", "IMAGE_FORMAT_UNSUPPORTED", "IMAGE_MIME_MISMATCH", "IMAGE_SIZE_EXCEEDED", "DOCUMENT_SIZE_EXCEEDED"].map(
    (r): Row => ({ row: `21 ${r}`, input: { status: 400, body: typed("ValidationException", "attachment", r) }, cls: "bad_request", reason: r }),
  ),
  { row: "22", input: { status: 400, body: typed("ValidationException", "sig", "THINKING_SIGNATURE_INVALID") }, cls: "bad_request", reason: "THINKING_SIGNATURE_INVALID" },
  { row: "23", input: { status: 400, body: typed("ValidationException", "conv", "INVALID_CONVERSATION_ID") }, cls: "bad_request", reason: "INVALID_CONVERSATION_ID" },
  { row: "24", input: { status: 400, body: '{"message":"profileArn is required for this request"}' }, cls: "bad_request", reason: "PROFILE_ARN_REQUIRED" },
  { row: "25 grant", input: { status: 400, body: typed("ValidationException", "kms", "INVALID_KMS_GRANT") }, cls: "account_blocked", reason: "INVALID_KMS_GRANT" },
  ...["CUSTOMER_KMS_KEY_DISABLED", "CUSTOMER_KMS_KEY_INVALID_KEY_POLICY", "MISMATCHED_KMS_KEY"].map(
    (r): Row => ({ row: `25 ${r}`, input: { status: 409, headers: named("ConflictException"), body: typed("ConflictException", "kms", r) }, cls: "account_blocked", reason: r }),
  ),
  { row: "26 404", input: { status: 404, headers: named("ResourceNotFoundException"), body: typed("ResourceNotFoundException", "Unknown operation", null) }, cls: "endpoint_unavailable" },
  { row: "26 404 html", input: { status: 404, body: "<html>Not Found</html>" }, cls: "endpoint_unavailable" },
  { row: "26 DNS", input: { networkError: Object.assign(new TypeError("getaddrinfo ENOTFOUND x"), { code: "ENOTFOUND" }) }, cls: "endpoint_unavailable", reason: "ENOTFOUND" },
  { row: "26 EAI_AGAIN", input: { networkError: Object.assign(new Error("dns"), { code: "EAI_AGAIN" }) }, cls: "endpoint_unavailable" },
  { row: "26 refused", input: { networkError: Object.assign(new TypeError("Unable to connect"), { code: "ECONNREFUSED" }) }, cls: "endpoint_unavailable" },
  { row: "26 TLS", input: { networkError: Object.assign(new Error("cert"), { code: "ERR_TLS_CERT_ALTNAME_INVALID" }) }, cls: "endpoint_unavailable" },
  { row: "27 reason", input: { status: 500, body: typed("InternalServerException", "Model unavailable", "MODEL_TEMPORARILY_UNAVAILABLE") }, cls: "model_capacity", reason: "MODEL_TEMPORARILY_UNAVAILABLE" },
  { row: "27 high load", input: { status: 500, body: '{"message":"Encountered unexpectedly high load when processing the request, please try again."}' }, cls: "model_capacity", reason: "HIGH_LOAD" },
  { row: "28 500", input: { status: 500, body: typed("InternalServerException", "Encountered an unexpected error", null) }, cls: "transient" },
  { row: "28 502", input: { status: 502, body: "Bad Gateway" }, cls: "transient" },
  { row: "28 504", input: { status: 504, body: "" }, cls: "transient" },
  { row: "28 408", input: { status: 408, body: "" }, cls: "transient" },
  { row: "28 reset", input: { networkError: Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }) }, cls: "transient" },
  { row: "29", input: { status: 503, headers: named("ServiceUnavailableException"), body: typed("ServiceUnavailableException", "Service unavailable", null) }, cls: "model_capacity" },
  { row: "30 in-stream", input: { status: 200, exceptionType: "ContentLengthExceededException", body: '{"message":"Response exceeded"}' }, cls: "input_too_long" },
  { row: "31 throttling in-stream", input: { status: 200, exceptionType: "ThrottlingException", body: '{"message":"Too many requests"}' }, cls: "throttled" },
  { row: "31 internal in-stream", input: { exceptionType: "InternalServerException", body: '{"message":"boom"}' }, cls: "transient" },
  { row: "31 in-stream capacity", input: { exceptionType: "InternalServerException", body: '{"message":"x","reason":"MODEL_TEMPORARILY_UNAVAILABLE"}' }, cls: "model_capacity" },
  { row: "31 validation in-stream", input: { exceptionType: "ValidationException", body: '{"message":"bad"}' }, cls: "bad_request" },
  { row: "31 unnamed error frame", input: { exceptionType: "InternalFailure", body: "internal error" }, cls: "transient" },
  // 32–34 and §2.6: refresh endpoints
  { row: "32 IdC invalid_grant", input: { source: "refresh", status: 400, headers: named("InvalidGrantException"), body: '{"error":"invalid_grant","error_description":"Invalid refresh token provided"}' }, cls: "dead_refresh_token" },
  { row: "32 social invalid_grant", input: { source: "refresh", status: 400, body: '{"error":"invalid_grant","message":"Invalid refresh token provided"}' }, cls: "dead_refresh_token" },
  { row: "33 IdC InvalidClient", input: { source: "refresh", status: 401, headers: named("InvalidClientException"), body: '{"error":"invalid_client","error_description":"Client authentication failed"}' }, cls: "dead_refresh_token" },
  { row: "33 IdC InvalidClient by __type", input: { source: "refresh", status: 401, body: '{"__type":"InvalidClientException","message":"expired"}' }, cls: "dead_refresh_token" },
  { row: "33 social Bad credentials", input: { source: "refresh", status: 401, body: '{"message":"Bad credentials"}' }, cls: "dead_refresh_token" },
  { row: "34 429", input: { source: "refresh", status: 429, body: '{"error":"slow_down"}' }, cls: "transient" },
  { row: "34 500", input: { source: "refresh", status: 500, body: '{"error":"server_error","error_description":"InternalServerException"}' }, cls: "transient" },
  { row: "34 network (no family fallback for auth hosts)", input: { source: "refresh", networkError: Object.assign(new Error("x"), { code: "ENOTFOUND" }) }, cls: "transient" },
  { row: "§2.2 other OIDC 400", input: { source: "refresh", status: 400, headers: named("InvalidRequestException"), body: '{"error":"invalid_request"}' }, cls: "transient" },
];

describe("classifyUpstreamError — §7 table", () => {
  for (const r of rows) {
    test(`row ${r.row} → ${r.cls}`, () => {
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

describe("ERROR_ACTIONS", () => {
  test("every class has an action and a description", () => {
    const classes: UpstreamErrorClass[] = [
      "expired_token", "dead_refresh_token", "suspended", "account_blocked", "quota_exhausted", "throttled",
      "model_capacity", "invalid_model", "bad_request", "input_too_long", "forbidden", "endpoint_unavailable", "transient",
    ];
    expect(Object.keys(ERROR_ACTIONS).sort()).toEqual([...classes].sort());
    for (const c of classes) {
      expect(ERROR_ACTIONS[c].action.length).toBeGreaterThan(0);
      expect(ERROR_ACTIONS[c].description.length).toBeGreaterThan(20);
    }
  });
});
