/**
 * Opening a turn: pick an account, open the upstream call and wait for its first event, retrying
 * and handing over to other accounts until one answers or the budget below is spent. Nothing has
 * reached the client yet, so every failure here can still be retried (SDKs never retry a stream
 * that has started).
 */
import type { CanonicalEvent, CanonicalRequest } from "../core/canonical";
import { TurnError } from "../core/errors";
import { openChat } from "../kiro/client";
import { KiroError, SYNTHETIC_REASONS } from "../kiro/errors";
import { UpstreamQueueTimeout } from "../kiro/slots";
import { isUnavailable, type PoolLease } from "../pool/types";
import type { TurnContext, TurnDeps } from "./types";
import { clientClosed, kiroToTurnError, upstreamQueueFull, modelNotServed, poolToTurnError, unavailableAfterFailures } from "./errors";
import type { TurnLog } from "./record";

/*
 * FAILOVER BUDGET — how many hand-overs one request may make before the client hears the error:
 *  - A hand-over whose account got a lasting state (exhausted, cooling, disabled) or that cannot
 *    serve the model is free: that account leaves the candidate set (exclude + pool state), so the
 *    pool shrinks with each one and the loop ends when the pool says nothing is left. With 4
 *    accounts where 3 answer 402/429, account 4 serves.
 *  - A soft hand-over (transient 5xx/network/timeout, unclassified 403, capacity retries used up,
 *    expired again after a refresh) leaves the account usable, so a pool-wide outage would walk the
 *    whole pool: at most MAX_SOFT_HANDOVERS of those.
 *  - Every upstream attempt (same-account retries included) counts toward MAX_ATTEMPTS, which
 *    bounds the time one request spends here whatever the pool size.
 * The pool's FailureDecision says which kind a hand-over was (`lasting`).
 */
const MAX_ATTEMPTS_PER_ACCOUNT = 3;
const MAX_SOFT_HANDOVERS = 3;
const MAX_ATTEMPTS = 10;
/** Longest back-off the turn waits between two attempts on one account. */
const MAX_RETRY_DELAY_MS = 20_000;

export type Opened = {
  lease: PoolLease;
  /** Aborts this attempt's upstream request (linked to the client's signal). */
  abort: AbortController;
  unlink: () => void;
  iterator: AsyncIterator<CanonicalEvent[]>;
  first: CanonicalEvent[] | undefined;
};

export async function openWithFailover(s: TurnDeps, req: CanonicalRequest, ctx: TurnContext, log: TurnLog): Promise<Opened> {
  const exclude = new Set<string>();
  let lastErr: KiroError | undefined;
  let soft = 0;
  // The pool picks only accounts whose plan includes the model (upstream id).
  const upstreamModel = req.model.upstreamId;
  const names = () => s.models.names();
  while (soft < MAX_SOFT_HANDOVERS && log.attempts < MAX_ATTEMPTS) {
    // Waits (bounded, first come first served) while every account that could serve is at its pace.
    const got = await s.pool.acquireWait({ conversationId: req.metadata.conversationId, model: upstreamModel, exclude }, ctx.signal);
    if (isUnavailable(got)) {
      // Nothing (more) to try: say why and when (pool), and what the upstream last answered.
      if (got.reason === "model_not_served") throw modelNotServed(s.models, req.model.requested, upstreamModel, got);
      if (lastErr) throw unavailableAfterFailures(got, lastErr, names);
      throw poolToTurnError(got);
    }
    const lease = got;
    let forceRefresh = false;
    let next = false;
    let lasting = false;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS_PER_ACCOUNT && !next && log.attempts < MAX_ATTEMPTS; attempt++) {
      if (ctx.signal.aborted) {
        lease.release();
        throw clientClosed();
      }
      log.attempts++;
      try {
        return await openOnce(s, req, ctx, lease, attempt, forceRefresh);
      } catch (err) {
        if (err instanceof TurnError) {
          lease.release();
          throw err;
        }
        if (err instanceof UpstreamQueueTimeout) {
          // Our own connection limit, not the account's or the upstream's fault: no failover.
          lease.release();
          throw upstreamQueueFull(err);
        }
        const kerr = err instanceof KiroError ? err : new KiroError("transient", err instanceof Error ? err.message : String(err), { cause: err });
        if (ctx.signal.aborted) {
          lease.release();
          throw clientClosed();
        }
        lastErr = kerr;
        const d = lease.failure(kerr);
        lasting = d.lasting;
        s.log.debug("upstream attempt failed", { requestId: ctx.requestId, account: lease.label, cls: kerr.cls, action: d.action });
        if (d.action === "return_to_client") {
          lease.release();
          throw kiroToTurnError(kerr, undefined, names);
        }
        if (d.action === "retry_same" && attempt < MAX_ATTEMPTS_PER_ACCOUNT) {
          forceRefresh = !!d.forceRefresh;
          if (d.delayMs) await sleep(Math.min(d.delayMs, MAX_RETRY_DELAY_MS), ctx.signal);
          continue;
        }
        next = true;
      }
    }
    lease.release();
    exclude.add(lease.accountId);
    // A lasting hand-over is free: the account left the pool's candidates.
    if (!lasting) soft++;
  }
  throw kiroToTurnError(lastErr ?? new KiroError("transient", "no upstream attempt succeeded"), undefined, names);
}

async function openOnce(s: TurnDeps, req: CanonicalRequest, ctx: TurnContext, lease: PoolLease, attempt: number, forceRefresh: boolean): Promise<Opened> {
  const abort = new AbortController();
  const onClientAbort = () => abort.abort(ctx.signal.reason);
  ctx.signal.addEventListener("abort", onClientAbort, { once: true });
  const unlink = () => ctx.signal.removeEventListener("abort", onClientAbort);
  const timeoutMs = s.settings.runtime.firstTokenTimeoutMs;
  let timedOut = false;
  // One timer covers credentials + headers + first event: the client sees nothing until then.
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort(new Error("first-token timeout"));
  }, timeoutMs);
  try {
    const creds = await lease.credentials(forceRefresh ? { forceRefresh: true } : undefined);
    const { batches } = await openChat(req, creds, {
      upstream: s.upstream,
      signal: abort.signal,
      conversationId: req.metadata.conversationId,
      attempt,
    });
    const iterator = batches[Symbol.asyncIterator]();
    const r = await iterator.next();
    return { lease, abort, unlink, iterator, first: r.done ? undefined : r.value };
  } catch (err) {
    abort.abort();
    unlink();
    if (timedOut) {
      throw new KiroError("transient", `no answer from upstream within ${timeoutMs} ms`, { reason: SYNTHETIC_REASONS.timeout, cause: err });
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
