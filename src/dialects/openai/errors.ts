import type { TurnError } from "../../core/errors";
import { asTurnError, errorResponse, OPENAI_ERROR_SHAPE, type ErrorShape, type OpenAIErrorBody } from "../openai-family/wire";

export { asTurnError, invalidParam } from "../openai-family/wire";

/**
 * TurnError → OpenAI error body `{"error":{"message","type","param","code"}}` and status.
 * The status drives the openai SDK's typed errors and retries:
 * 400 BadRequestError, 401 AuthenticationError, 404 NotFoundError, 429 RateLimitError (retried,
 * honouring retry-after), ≥ 500 InternalServerError (retried unless x-should-retry: false).
 */
export const SHAPE: ErrorShape = OPENAI_ERROR_SHAPE;

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
