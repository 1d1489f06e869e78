/**
 * TurnError → Anthropic error shape and status, as the Anthropic API answers errors:
 * {"type":"error","error":{"type","message"},"request_id"} plus `request-id`, and `retry-after`
 * on 429/503/529 so SDKs back off the right amount.
 */
import { TurnError, type TurnErrorKind } from "../../core/errors";

export const TYPES: Record<TurnErrorKind, string> = {
  invalid_request: "invalid_request_error",
  input_too_long: "invalid_request_error",
  authentication: "authentication_error",
  permission: "permission_error",
  not_found: "not_found_error",
  rate_limited: "rate_limit_error",
  overloaded: "overloaded_error",
  no_account: "overloaded_error",
  upstream: "api_error",
  timeout: "timeout_error",
};

/**
 * Model capacity (529) carries no upstream Retry-After, and the turn runner already retried with
 * backoff; without a hint the SDKs retry after ~0.5 s and hit the same wall. A few seconds gives
 * the upstream time to recover. No-account 503s are not given one: they say when themselves.
 */
export const OVERLOADED_RETRY_AFTER_SECONDS = 5;

export function anthropicErrorType(e: TurnError): string {
  // The API's own name for an oversized body.
  if (e.status === 413) return "request_too_large";
  return TYPES[e.kind] ?? "api_error";
}

export function anthropicErrorBody(type: string, message: string, requestId?: string): Record<string, unknown> {
  return requestId ? { type: "error", error: { type, message }, request_id: requestId } : { type: "error", error: { type, message } };
}

export function anthropicErrorResponse(err: unknown, requestId: string): Response {
  const e = err instanceof TurnError ? err : new TurnError("upstream", "internal error; see the server log");
  const headers: Record<string, string> = { "content-type": "application/json", "request-id": requestId, "x-request-id": requestId };
  const retryAfter = e.retryAfterSeconds ?? (e.kind === "overloaded" ? OVERLOADED_RETRY_AFTER_SECONDS : undefined);
  if (retryAfter !== undefined) headers["retry-after"] = String(retryAfter);
  // The request itself is at fault: retrying it unchanged cannot help.
  if (e.status >= 400 && e.status < 500 && e.status !== 408 && e.status !== 409 && e.status !== 429) headers["x-should-retry"] = "false";
  return new Response(JSON.stringify(anthropicErrorBody(anthropicErrorType(e), e.message, requestId)), { status: e.status, headers });
}
