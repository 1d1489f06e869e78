/**
 * What the two dialects on OpenAI's wire share — Chat Completions (../openai) and Responses
 * (../responses): the request-body prelude and the frame of an error answer. Each dialect keeps
 * its own error codes (they differ: Codex acts on the Responses ones) and everything else.
 *
 * - parseBody: nesting depth first (a body nested deeper than MAX_JSON_DEPTH is refused before
 *   any schema walks it), then the dialect's zod schema; each failure is a 400 naming the
 *   parameter the way OpenAI names it (`messages[0].content`, `input[2].type`), or, for a body
 *   that is not an object at all, naming none.
 * - errorResponse: the HTTP status (529 becomes 503: OpenAI clients know 529 only as "some 5xx",
 *   503 is what OpenAI-compatible servers send for capacity) and the retry headers the openai
 *   SDK honours: `retry-after` / `retry-after-ms` when the wait is known, `x-should-retry: false`
 *   when nothing will serve the request soon (no account), so SDKs stop retrying.
 */
import type { ZodType } from "zod";
import { TurnError, type TurnErrorKind } from "../../core/errors";
import { MAX_JSON_DEPTH, tooDeep } from "../../core/json-depth";

export type OpenAIErrorBody = { error: { message: string; type: string; param: string | null; code: string | null } };

export type ErrorShape = Record<TurnErrorKind, { type: string; code: string | null }>;

/** Error `type` and `code` per TurnError kind as Chat Completions answers them; Responses changes three codes. */
export const OPENAI_ERROR_SHAPE: ErrorShape = {
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

/** 400 naming the request field at fault. */
export function invalidParam(param: string, message: string): TurnError {
  return new TurnError("invalid_request", message, { param });
}

/** A path as the API names a parameter: `input[0].content`. */
export function paramOf(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

/** The body, checked for depth and against `schema`; throws the 400 naming the parameter at fault. */
export function parseBody<T>(raw: unknown, schema: ZodType<T>): T {
  const deep = tooDeep(raw);
  if (deep) {
    const param = paramOf(deep.slice(0, 8));
    throw invalidParam(param, `Invalid value for '${param}': nested more than ${MAX_JSON_DEPTH} levels deep.`);
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const param = paramOf(issue.path);
  // A body that is not an object at all (`[]`, `"x"`) names no field: param is null, as at OpenAI.
  if (!param) throw new TurnError("invalid_request", `The request body must be a JSON object: ${issue.message}`);
  throw invalidParam(param, `Invalid value for '${param}': ${issue.message}`);
}

/** The HTTP status of an error answer: 529 (overloaded) as 503. */
export function openaiStatus(err: TurnError): number {
  return err.kind === "overloaded" && err.status === 529 ? 503 : err.status;
}

/** An error answer: `body` (the dialect's error object for `err`) with the status and retry headers. */
export function errorResponse(err: TurnError, body: OpenAIErrorBody, requestId: string): Response {
  const headers: Record<string, string> = { "content-type": "application/json", "x-request-id": requestId };
  if (err.retryAfterSeconds !== undefined) {
    headers["retry-after"] = String(Math.max(0, Math.ceil(err.retryAfterSeconds)));
    headers["retry-after-ms"] = String(Math.max(0, Math.round(err.retryAfterSeconds * 1000)));
  } else if (err.kind === "no_account") {
    // Nothing will serve this request soon (no accounts, all disabled): retrying only burns time.
    headers["x-should-retry"] = "false";
  }
  return new Response(JSON.stringify(body), { status: openaiStatus(err), headers });
}
