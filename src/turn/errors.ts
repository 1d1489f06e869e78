/**
 * Upstream failures (KiroError classes) and pool states (PoolUnavailable) → the TurnError a client
 * dialect shapes into its own error: the client status and type of every failure are decided here.
 */
import { TurnError } from "../core/errors";
import { clientErrorFor } from "../core/error-table";
import { validModelNames, type ModelCatalog } from "../core/models";
import { KiroError } from "../kiro/errors";
import type { PoolUnavailable } from "../pool/types";

/** The client went away (499 in the request log; nobody reads the answer). */
export function clientClosed(): TurnError {
  return new TurnError("invalid_request", "client closed the request", { status: 499 });
}

/** Every upstream connection of this server stayed busy (UpstreamSlots): a 503, no account at fault. */
export function upstreamQueueFull(err: KiroError): TurnError {
  return new TurnError("no_account", err.upstreamMessage, { status: 503, retryAfterSeconds: 5, cause: err });
}

export function toTurnError(err: unknown, signal: AbortSignal): TurnError {
  if (err instanceof TurnError) return err;
  if (err instanceof KiroError) return kiroToTurnError(err);
  if (signal.aborted) return clientClosed();
  return new TurnError("upstream", `upstream failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

function secondsUntil(at?: number): number | undefined {
  if (!at) return undefined;
  return Math.max(1, Math.ceil((at - Date.now()) / 1000));
}

const NO_ACCOUNT = "no Kiro account can serve this request";

/**
 * Nothing in the pool is usable. The pool's message already says why and until when; rate-limited
 * and out-of-credits pools are 429 with Retry-After = the earliest account back.
 */
export function poolToTurnError(u: PoolUnavailable): TurnError {
  const retryAfterSeconds = secondsUntil(u.retryAt);
  if (u.reason === "all_cooling" || u.reason === "all_exhausted" || u.reason === "all_at_limit") {
    return new TurnError("rate_limited", `${NO_ACCOUNT}: ${u.message}`, { retryAfterSeconds: retryAfterSeconds ?? 30, detail: u.reason === "all_exhausted" ? "quota_exhausted" : undefined });
  }
  return new TurnError("no_account", `${NO_ACCOUNT} (${u.reason}): ${u.message}`, { retryAfterSeconds });
}

/**
 * Upstream failures emptied the pool for this request: the error class picks the status (as if
 * returned directly), the message keeps both the pool's why/when and the last upstream answer.
 */
export function unavailableAfterFailures(u: PoolUnavailable, e: KiroError, names?: () => readonly string[]): TurnError {
  if (u.reason === "all_cooling" || u.reason === "all_exhausted" || u.reason === "all_at_limit") {
    const retryAfterSeconds = secondsUntil(u.retryAt) ?? (e.retryAfterMs ? Math.max(1, Math.ceil(e.retryAfterMs / 1000)) : 30);
    return new TurnError("rate_limited", `${NO_ACCOUNT}: ${u.message} (last upstream answer: ${e.upstreamMessage})`, { retryAfterSeconds, cause: e, detail: u.reason === "all_exhausted" ? "quota_exhausted" : undefined });
  }
  const base = kiroToTurnError(e, u, names);
  if (base.kind === "not_found" || base.kind === "invalid_request" || base.kind === "input_too_long") return base;
  return new TurnError(base.kind, `${NO_ACCOUNT}: ${u.message} (last upstream answer: ${e.upstreamMessage})`, {
    status: base.status,
    retryAfterSeconds: base.retryAfterSeconds,
    cause: e,
  });
}

/**
 * The client's error for an upstream failure: the class's row of the error table decides.
 * `names` lists the valid models (the catalogue's names; the table's without one).
 */
export function kiroToTurnError(e: KiroError, pool?: PoolUnavailable, names: () => readonly string[] = validModelNames): TurnError {
  return clientErrorFor(e, { validModelNames: names, poolRetryAt: pool?.retryAt });
}

/**
 * No usable account's plan includes the model: a client matter that waiting does not change, so
 * a 404 naming the model and what is available (never a retryable 503 "overloaded").
 */
export function modelNotServed(models: Pick<ModelCatalog, "notFound">, requested: string, upstreamId: string, u: PoolUnavailable): TurnError {
  return models.notFound(`model '${requested}' (upstream ${upstreamId}) is not served by any account: ${u.message}`);
}
