/**
 * In-stream exception / error frames → KiroError (kiro-upstream.md §6.8, §7 rows 30-31).
 *
 * TODO(lead): use classifyUpstreamError from ../errors once it lands (it was being written
 * concurrently); this is a deliberately small fallback keyed by the same inputs, so the swap is
 * `classifyUpstreamError({exceptionType, body, status, source: "chat"})`.
 */
import { KiroError, type UpstreamErrorClass } from "../errors";

/** HTTP status the SDK maps each modeled exception to (§7); kept on the error for logs/mapping. */
const STATUS: Record<string, number> = {
  ValidationException: 400,
  AccessDeniedException: 403,
  ResourceNotFoundException: 404,
  ConflictException: 409,
  ServiceQuotaExceededException: 402,
  ThrottlingException: 429,
  InternalServerException: 500,
  ServiceUnavailableException: 503,
};

export function streamExceptionToError(exceptionType: string, message: string, reason?: string): KiroError {
  // "error" is the ChatResponseStream member name of the modeled InternalServerException.
  const type = exceptionType === "error" ? "InternalServerException" : exceptionType;
  const text = `${reason ?? ""} ${message}`;
  const has = (...needles: string[]) => needles.some((n) => text.toLowerCase().includes(n.toLowerCase()));
  let cls: UpstreamErrorClass;
  if (has("MONTHLY_REQUEST_COUNT", "DAILY_REQUEST_COUNT", "OVERAGE_REQUEST_LIMIT_EXCEEDED") || type === "ServiceQuotaExceededException") cls = "quota_exhausted";
  else if (has("INSUFFICIENT_MODEL_CAPACITY", "experiencing high traffic", "MODEL_TEMPORARILY_UNAVAILABLE", "unexpectedly high load")) cls = "model_capacity";
  else if (has("TEMPORARILY_SUSPENDED", "temporarily suspended", "temporarily is suspended", "locked your account")) cls = "suspended";
  else if (has("CONTENT_LENGTH_EXCEEDS_THRESHOLD", "PROMPT_TOO_LONG", "Input is too long", "Exceeded max chat context length")) cls = "input_too_long";
  else if (has("INVALID_MODEL_ID")) cls = "invalid_model";
  else if (type === "ThrottlingException") cls = "throttled";
  else if (type === "ServiceUnavailableException") cls = "model_capacity"; // row 29: backoff retry, no penalty
  else if (type === "ValidationException") cls = "bad_request";
  else if (type === "AccessDeniedException") cls = has("FEATURE_NOT_SUPPORTED") ? "account_blocked" : "forbidden";
  else if (type === "ConflictException") cls = "account_blocked"; // KMS/profile misconfig (row 25)
  else cls = "transient"; // InternalServerException, unknown names, `error` frames (row 31 → 28)
  return new KiroError(cls, message || type, { status: STATUS[type], reason: reason || undefined });
}
