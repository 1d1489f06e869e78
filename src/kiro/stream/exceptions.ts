/**
 * In-stream exception / error frames → classified KiroError. A failure after the 200 arrives as
 * an `exception` frame (its `:exception-type` header names the modeled exception) or as an
 * `error` frame (`:error-code`). Classification itself is classifyUpstreamError's job (one rule
 * table for HTTP and in-stream errors); this adapter only fixes the naming rules that are
 * specific to event-stream frames.
 */
import { classifyUpstreamError, type KiroError } from "../errors";

export function streamExceptionToError(exceptionType: string, message: string, reason?: string): KiroError {
  // `error` is the ChatResponseStream member name of the modeled InternalServerException.
  const type = exceptionType === "error" ? "InternalServerException" : exceptionType;
  // The body deliberately carries no __type: the `:exception-type` header names the exception (as in the service's SDKs), and
  // the classifier would otherwise prefer a payload __type over it.
  const body: Record<string, string> = { message };
  if (reason) body.reason = reason;
  return classifyUpstreamError({ exceptionType: type, body, source: "chat" });
}
