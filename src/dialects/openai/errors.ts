import type { TurnError, TurnErrorKind } from "../../core/errors";
import { asTurnError, errorResponse, type OpenAIErrorBody } from "../openai-family/wire";

export { asTurnError, invalidParam } from "../openai-family/wire";

/**
 * TurnError → OpenAI error body `{"error":{"message","type","param","code"}}` and status.
 * The status drives the openai SDK's typed errors and retries:
 * 400 BadRequestError, 401 AuthenticationError, 404 NotFoundError, 429 RateLimitError (retried,
 * honouring retry-after), ≥ 500 InternalServerError (retried unless x-should-retry: false).
 */
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

export function openaiErrorBody(err: TurnError): OpenAIErrorBody {
  const shape = SHAPE[err.kind] ?? { type: "server_error", code: null };
  // Out of credits everywhere: OpenAI's own code for it, which SDK users already handle as "stop
  // retrying, check billing" rather than as a transient rate limit.
  if (err.detail === "quota_exhausted") return { error: { message: err.message, type: "insufficient_quota", param: null, code: "insufficient_quota" } };
  return { error: { message: err.message, type: shape.type, param: err.param ?? null, code: shape.code } };
}

export function openaiErrorResponse(err: unknown, requestId: string): Response {
  const e = asTurnError(err);
  return errorResponse(e, openaiErrorBody(e), requestId);
}
