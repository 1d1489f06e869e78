import { TurnError, type TurnErrorKind } from "../../core/errors";
import { asTurnError, errorResponse, OPENAI_ERROR_SHAPE, type ErrorShape, type OpenAIErrorBody } from "../openai-family/wire";

export { invalidParam } from "../openai-family/wire";

/**
 * Errors in the Responses API's shapes.
 * - Before the 200 (and non-stream replies): HTTP status + `{"error":{message,type,param,code}}`.
 *   Codex shows a 400 with code `context_length_exceeded` as its "ran out of room" message.
 * - After the 200 of a stream: a `response.failed` event whose `response.error.code` is one Codex
 *   acts on: `context_length_exceeded` (no retry), `rate_limit_exceeded` with "try again in Ns"
 *   in the message (retried after that delay), `insufficient_quota`, `server_is_overloaded`,
 *   `invalid_prompt` (shown verbatim), `server_error` (retried). A bare `error` event would be
 *   ignored by Codex, which then retries the whole turn.
 */

/** A client mistake with a Responses-specific `code` (e.g. previous_response_not_found). */
export class ResponsesRequestError extends TurnError {
  constructor(kind: TurnErrorKind, message: string, param: string | undefined, readonly code: string) {
    super(kind, message, { param });
  }
}

/** Chat Completions' table with the codes Codex acts on for capacity and server failures. */
const HTTP_SHAPE: ErrorShape = {
  ...OPENAI_ERROR_SHAPE,
  overloaded: { type: "server_error", code: "server_is_overloaded" },
  upstream: { type: "server_error", code: "server_error" },
  timeout: { type: "server_error", code: "server_error" },
};

/** Codex reads the retry delay from "try again in Ns" in a rate-limit message. */
function withRetryHint(e: TurnError): string {
  if (e.kind !== "rate_limited" || /try again in/i.test(e.message)) return e.message;
  return `${e.message} Please try again in ${Math.max(1, Math.ceil(e.retryAfterSeconds ?? 30))}s.`;
}

export function responsesErrorBody(err: unknown): OpenAIErrorBody {
  const e = asTurnError(err);
  if (e.detail === "quota_exhausted") return { error: { message: e.message, type: "insufficient_quota", param: null, code: "insufficient_quota" } };
  const shape = HTTP_SHAPE[e.kind] ?? { type: "server_error", code: "server_error" };
  const code = e instanceof ResponsesRequestError ? e.code : e.kind === "not_found" && e.param !== "model" ? "not_found" : shape.code;
  return { error: { message: withRetryHint(e), type: shape.type, param: e.param ?? null, code } };
}

export function responsesErrorResponse(err: unknown, requestId: string): Response {
  const e = asTurnError(err);
  return errorResponse(e, responsesErrorBody(e), requestId);
}

/** `response.failed`'s `error`: the code Codex acts on and a message it can show. */
export function failedError(err: unknown): { code: string; message: string } {
  const e = asTurnError(err);
  if (e.detail === "quota_exhausted") return { code: "insufficient_quota", message: e.message };
  switch (e.kind) {
    case "input_too_long": return { code: "context_length_exceeded", message: e.message };
    case "rate_limited": return { code: "rate_limit_exceeded", message: withRetryHint(e) };
    case "overloaded": return { code: "server_is_overloaded", message: e.message };
    case "invalid_request": return { code: "invalid_prompt", message: e.message };
    default: return { code: "server_error", message: e.message };
  }
}
