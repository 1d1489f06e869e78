/**
 * Failures of a turn, in terms a client dialect can map to its own error shape and status.
 * The turn runner converts upstream KiroErrors and pool states into these (which upstream error
 * class becomes which kind is ERROR_TABLE in ./error-table.ts); dialects never see Kiro error
 * classes.
 */
export type TurnErrorKind =
  | "invalid_request" // 400
  | "input_too_long" // 400, message carries the prompt size
  | "authentication" // 401
  | "permission" // 403
  | "not_found" // 404 (unknown model)
  | "rate_limited" // 429 + retry-after
  | "overloaded" // 529/503: model capacity
  | "no_account" // 503: nothing in the pool can serve (message says why / until when)
  | "upstream" // 502: upstream failed
  | "timeout"; // 504: first token never came

export const TURN_ERROR_STATUS: Record<TurnErrorKind, number> = {
  invalid_request: 400,
  input_too_long: 400,
  authentication: 401,
  permission: 403,
  not_found: 404,
  rate_limited: 429,
  overloaded: 529,
  no_account: 503,
  upstream: 502,
  timeout: 504,
};

export class TurnError extends Error {
  readonly kind: TurnErrorKind;
  readonly status: number;
  readonly retryAfterSeconds?: number;
  /** The request field at fault, when there is one (OpenAI `param`). */
  readonly param?: string;
  /** Finer cause inside a kind, for dialects that expose one (OpenAI `insufficient_quota`). */
  readonly detail?: "quota_exhausted";

  constructor(kind: TurnErrorKind, message: string, extra: { status?: number; retryAfterSeconds?: number; param?: string; detail?: "quota_exhausted"; cause?: unknown } = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = "TurnError";
    this.kind = kind;
    this.status = extra.status ?? TURN_ERROR_STATUS[kind];
    this.retryAfterSeconds = extra.retryAfterSeconds;
    this.param = extra.param;
    this.detail = extra.detail;
  }
}
