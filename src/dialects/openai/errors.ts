import { TurnError, type TurnErrorKind } from "../../core/errors";

/**
 * TurnError → OpenAI error body `{"error":{"message","type","param","code"}}` and status.
 * The status drives the openai SDK's typed errors and retries:
 * 400 BadRequestError, 401 AuthenticationError, 404 NotFoundError, 429 RateLimitError (retried,
 * honouring retry-after), ≥ 500 InternalServerError (retried unless x-should-retry: false).
 */
export type OpenAIErrorBody = { error: { message: string; type: string; param: string | null; code: string | null } };

export const SHAPE: Record<TurnErrorKind, { type: string; code: string | null }> = {
  invalid_request: { type: "invalid_request_error", code: "invalid_value" },
  input_too_long: { type: "invalid_request_error", code: "context_length_exceeded" },
  authentication: { type: "invalid_request_error", code: "invalid_api_key" },
  permission: { type: "invalid_request_error", code: "permission_denied" },
  not_found: { type: "invalid_request_error", code: "model_not_found" },
  rate_limited: { type: "requests", code: "rate_limit_exceeded" },
  overloaded: { type: "server_error", code: "overloaded" },
  no_account: { type: "server_error", code: "no_account_available" },
  upstream: { type: "server_error", code: null },
  timeout: { type: "server_error", code: "timeout" },
};

/** Any thrown value as a TurnError (unexpected ones become a 500 without internals). */
export function asTurnError(err: unknown): TurnError {
  if (err instanceof TurnError) return err;
  return new TurnError("upstream", "internal error while serving the request", { status: 500, cause: err });
}

export function openaiErrorBody(err: TurnError): OpenAIErrorBody {
  const shape = SHAPE[err.kind] ?? { type: "server_error", code: null };
  // Out of credits everywhere: OpenAI's own code for it, which SDK users already handle as "stop
  // retrying, check billing" rather than as a transient rate limit.
  if (err.detail === "quota_exhausted") return { error: { message: err.message, type: "insufficient_quota", param: null, code: "insufficient_quota" } };
  return { error: { message: err.message, type: shape.type, param: err.param ?? null, code: shape.code } };
}

/** OpenAI clients know 529 only as "some 5xx"; 503 is what OpenAI-compatible servers send for capacity. */
export function openaiStatus(err: TurnError): number {
  return err.kind === "overloaded" && err.status === 529 ? 503 : err.status;
}

export function openaiErrorResponse(err: unknown, requestId: string): Response {
  const e = asTurnError(err);
  const headers: Record<string, string> = { "content-type": "application/json", "x-request-id": requestId };
  if (e.retryAfterSeconds !== undefined) {
    headers["retry-after"] = String(Math.max(0, Math.ceil(e.retryAfterSeconds)));
    headers["retry-after-ms"] = String(Math.max(0, Math.round(e.retryAfterSeconds * 1000)));
  } else if (e.kind === "no_account") {
    // Nothing will serve this request soon (no accounts, all disabled): retrying only burns time.
    headers["x-should-retry"] = "false";
  }
  return new Response(JSON.stringify(openaiErrorBody(e)), { status: openaiStatus(e), headers });
}

/** 400 naming the request field at fault. */
export function invalidParam(param: string, message: string): TurnError {
  return new TurnError("invalid_request", message, { param });
}
