/**
 * The turn runner: the only place that combines the account pool and the Kiro client.
 *
 *   runTurn(s, req, ctx) → Promise<Turn>
 *
 * Before anything reaches the client it picks an account, opens the upstream call, and waits for
 * the first event; upstream failures and a first-token timeout are retried / failed over here
 * (budget: see FAILOVER BUDGET below), because SDKs never retry a stream that has started.
 * After that the events are relayed with stop sequences and max_tokens enforced, and end with
 * exactly one final `usage` and one `stop`. Nothing caps a stream by wall-clock time; a client
 * disconnect (ctx.signal) aborts the upstream request.
 */
import type { CanonicalEvent, CanonicalRequest, StopReason, Usage } from "./canonical";
import { TurnError } from "./errors";
import { markSummarised } from "../logs/turn-summary";
import { captureRequestBody } from "../logs/body-capture";
import { StopGuard } from "./stop-guard";
import { OutputMeter, finalUsage, mergeUsage } from "./usage";
import type { Services } from "../services";
import type { ClientKey } from "../keys/client-keys";
import { openChat } from "../kiro/client";
import { KiroError, SYNTHETIC_REASONS } from "../kiro/errors";
import { UpstreamQueueTimeout } from "../kiro/slots";
import { listModels, resolveModel, type ModelInfo } from "../kiro/models";
import { estimateInputTokensAsync } from "../kiro/request/estimate";
import { isUnavailable, type PoolLease, type PoolUnavailable } from "../pool/types";

export type TurnContext = {
  signal: AbortSignal;
  requestId: string;
  clientKey?: ClientKey;
  stream: boolean;
  /** The client's parsed body; stored in the request log only when body logging is switched on. */
  clientBody?: unknown;
};

export type Turn = {
  model: string;
  accountId: string;
  estimatedInputTokens: number;
  /**
   * The relayed events grouped per upstream network chunk (never empty arrays): the streaming
   * routes write one SSE chunk per batch. `events` is the same stream one event at a time.
   * Consume exactly one of the two.
   */
  batches: AsyncIterable<CanonicalEvent[]>;
  events: AsyncIterable<CanonicalEvent>;
};

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
 */
const MAX_ATTEMPTS_PER_ACCOUNT = 3;
const MAX_SOFT_HANDOVERS = 3;
const MAX_ATTEMPTS = 10;
const ACCOUNT_LEVEL = new Set(["expired_token", "dead_refresh_token", "suspended", "account_blocked", "quota_exhausted"]);

/** Names a client may use, for the 404 message (canonical names only, aliases resolve too). */
export function validModelNames(): string[] {
  return listModels().filter((m) => !m.aliasOf).map((m) => m.name);
}

export async function runTurn(s: Services, req: CanonicalRequest, ctx: TurnContext): Promise<Turn> {
  const started = Date.now();
  const log = new TurnLog(s, req, ctx, started);
  try {
    const model = resolveModel(req.model);
    if (!model) {
      throw new TurnError("not_found", `model '${req.model}' is not available; valid models: ${validModelNames().join(", ")}`, { param: "model" });
    }
    if (ctx.clientKey) {
      const why = s.keys.denyReason(ctx.clientKey, req.model);
      if (why) throw new TurnError("permission", why);
    }
    // The prompt estimate (tokenizer: ~0.3 µs per character, tens of ms for Claude Code-sized
    // prompts) runs in a macrotask, i.e. after the upstream request has been dispatched, so it
    // overlaps the upstream's thinking time instead of adding to time-to-first-byte.
    const opening = openWithFailover(s, req, ctx, log);
    const estimating = new Promise((resolve) => setImmediate(resolve)).then(async () => (log.inputEstimate = await estimateInputTokensAsync(req)));
    let opened: Opened;
    try {
      opened = await opening;
    } finally {
      await estimating;
    }
    const estimatedInputTokens = log.inputEstimate!;
    log.account = opened.lease;
    log.ttftMs = Date.now() - started;
    const batches = relay(req, model, estimatedInputTokens, opened, ctx, log);
    return {
      model: req.model,
      accountId: opened.lease.accountId,
      estimatedInputTokens,
      batches,
      events: flatten(batches),
    };
  } catch (err) {
    let te = toTurnError(err, ctx);
    if (te.kind === "input_too_long" && log.inputEstimate !== undefined) {
      // Clients (Claude Code) match on "prompt is too long" and want the size to decide on compaction.
      const model = resolveModel(req.model);
      const limit = model ? ` > ${model.contextWindow} maximum` : "";
      te = new TurnError("input_too_long", `prompt is too long: ${log.inputEstimate} tokens (estimated)${limit}; upstream said: ${upstreamWording(te.message)}`, { cause: err });
    }
    log.finish({ error: te });
    throw te;
  }
}

function upstreamWording(message: string): string {
  return message.replace(/^prompt is too long: /, "");
}

// ------------------------------------------------------------------------------- opening

type Opened = {
  lease: PoolLease;
  /** Aborts this attempt's upstream request (linked to the client's signal). */
  abort: AbortController;
  unlink: () => void;
  iterator: AsyncIterator<CanonicalEvent[]>;
  first: CanonicalEvent[] | undefined;
};

async function openWithFailover(s: Services, req: CanonicalRequest, ctx: TurnContext, log: TurnLog): Promise<Opened> {
  const exclude = new Set<string>();
  let lastErr: KiroError | undefined;
  let soft = 0;
  // The pool picks only accounts whose plan includes the model (upstream id).
  const upstreamModel = resolveModel(req.model)?.kiroId ?? req.model;
  while (soft < MAX_SOFT_HANDOVERS && log.attempts < MAX_ATTEMPTS) {
    const got = s.pool.acquire({ conversationId: req.metadata.conversationId, model: upstreamModel, exclude });
    if (isUnavailable(got)) {
      // Nothing (more) to try: say why and when (pool), and what the upstream last answered.
      if (lastErr) throw unavailableAfterFailures(got, lastErr);
      throw poolToTurnError(got);
    }
    const lease = got;
    let forceRefresh = false;
    let next = false;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS_PER_ACCOUNT && !next && log.attempts < MAX_ATTEMPTS; attempt++) {
      if (ctx.signal.aborted) {
        lease.release();
        throw new TurnError("invalid_request", "client closed the request", { status: 499 });
      }
      log.attempts++;
      try {
        const opened = await openOnce(s, req, ctx, lease, attempt, forceRefresh);
        return opened;
      } catch (err) {
        if (err instanceof TurnError) {
          lease.release();
          throw err;
        }
        if (err instanceof UpstreamQueueTimeout) {
          // Our own connection limit, not the account's or the upstream's fault: no failover.
          lease.release();
          throw new TurnError("no_account", err.upstreamMessage, { status: 503, retryAfterSeconds: 5, cause: err });
        }
        const kerr = err instanceof KiroError ? err : new KiroError("transient", err instanceof Error ? err.message : String(err), { cause: err });
        if (ctx.signal.aborted) {
          lease.release();
          throw new TurnError("invalid_request", "client closed the request", { status: 499 });
        }
        lastErr = kerr;
        const d = lease.failure(kerr);
        s.log.debug("upstream attempt failed", { requestId: ctx.requestId, account: lease.label, cls: kerr.cls, action: d.action });
        if (d.action === "return_to_client") {
          lease.release();
          throw kiroToTurnError(kerr);
        }
        if (d.action === "retry_same" && attempt < MAX_ATTEMPTS_PER_ACCOUNT) {
          forceRefresh = !!d.forceRefresh;
          if (d.delayMs) await sleep(Math.min(d.delayMs, 20_000), ctx.signal);
          continue;
        }
        next = true;
      }
    }
    lease.release();
    exclude.add(lease.accountId);
    // Free hand-over: the account left the pool's candidates (lasting state or model refused).
    const lasting = s.pool.get(lease.accountId)?.state !== "active" || lastErr?.cls === "invalid_model";
    if (!lasting) soft++;
  }
  throw kiroToTurnError(lastErr ?? new KiroError("transient", "no upstream attempt succeeded"));
}

async function openOnce(
  s: Services,
  req: CanonicalRequest,
  ctx: TurnContext,
  lease: PoolLease,
  attempt: number,
  forceRefresh: boolean,
): Promise<Opened> {
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
      idleTimeoutMs: s.config.streamIdleMs,
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

// ------------------------------------------------------------------------------- relaying

/** One event at a time from the relayed batches (non-stream routes, tests). */
async function* flatten<T>(batches: AsyncIterable<T[]>): AsyncGenerator<T> {
  for await (const b of batches) yield* b;
}

async function* relay(
  req: CanonicalRequest,
  model: ModelInfo,
  estimatedInputTokens: number,
  o: Opened,
  ctx: TurnContext,
  log: TurnLog,
): AsyncGenerator<CanonicalEvent[]> {
  const guard = new StopGuard({ stopSequences: req.stopSequences, maxTokens: req.maxTokens, singleToolCall: req.parallelToolCalls === false });
  const meter = new OutputMeter();
  const upstreamUsage: Partial<Usage> = {};
  let pct: number | undefined;
  let upstreamStop: { reason: StopReason; stopSequence?: string } | undefined;
  let done = false;
  let failure: TurnError | undefined;
  try {
    // One synchronous pass per upstream batch, one yield per batch (not per event).
    let r: IteratorResult<CanonicalEvent[]> = o.first ? { done: false, value: o.first } : { done: true, value: undefined };
    while (!r.done) {
      const out: CanonicalEvent[] = [];
      const batch = r.value;
      for (let b = 0; b < batch.length && !guard.stopped; b++) {
        const ev = batch[b]!;
        if (ev.type === "usage") {
          mergeUsage(upstreamUsage, ev.usage);
          if (ev.contextUsagePercentage !== undefined) pct = ev.contextUsagePercentage;
        } else if (ev.type === "stop") {
          upstreamStop = { reason: ev.reason, stopSequence: ev.stopSequence };
        } else {
          const from = out.length;
          guard.feed(ev, out);
          for (let i = from; i < out.length; i++) {
            const e = out[i]!;
            if (e.type === "text" || e.type === "thinking") meter.add(e.text);
            else if (e.type === "tool_args") meter.add(e.json);
          }
        }
      }
      if (out.length) yield out;
      // Stop sequence or max_tokens reached: stop reading (and paying for) the upstream.
      if (guard.stopped) break;
      r = await o.iterator.next();
    }
    const tail: CanonicalEvent[] = [];
    if (!guard.stopped) {
      guard.finish(tail);
      for (const e of tail) if (e.type === "text") meter.add(e.text);
    }
    const stop = guard.stopped ?? upstreamStop ?? { reason: "end_turn" as StopReason };
    const usage = finalUsage({
      upstream: upstreamUsage,
      contextUsagePercentage: pct,
      contextWindow: model.contextWindow,
      estimatedInputTokens,
      calibrationKey: model.kiroId,
      outputEstimate: () => (stop.reason === "max_tokens" && guard.stopped ? req.maxTokens : Math.min(meter.estimateTokens(), req.maxTokens)),
    });
    log.usage = usage;
    log.stopReason = stop.reason;
    tail.push({ type: "usage", usage });
    tail.push(stop.stopSequence !== undefined ? { type: "stop", reason: stop.reason, stopSequence: stop.stopSequence } : { type: "stop", reason: stop.reason });
    done = true;
    o.lease.success({ usage });
    yield tail;
  } catch (err) {
    if (ctx.signal.aborted) failure = new TurnError("invalid_request", "client closed the request", { status: 499 });
    else {
      // Only account-level verdicts are reported mid-stream: the call was accepted, so a throttle,
      // capacity or transient failure here says little about the account's next request.
      if (err instanceof KiroError && ACCOUNT_LEVEL.has(err.cls)) o.lease.failure(err);
      failure = toTurnError(err, ctx);
    }
    throw failure;
  } finally {
    // Ends the upstream request when we stopped early or the client went away.
    if (!done || guard.stopped) {
      o.abort.abort();
      void o.iterator.return?.().catch(() => {});
    }
    o.unlink();
    o.lease.release();
    if (!done && !failure) failure = new TurnError("invalid_request", "client closed the request", { status: 499 });
    log.finish({ error: failure });
  }
}

// ------------------------------------------------------------------------------- errors

function toTurnError(err: unknown, ctx: TurnContext): TurnError {
  if (err instanceof TurnError) return err;
  if (err instanceof KiroError) return kiroToTurnError(err);
  if (ctx.signal.aborted) return new TurnError("invalid_request", "client closed the request", { status: 499 });
  return new TurnError("upstream", `upstream failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

function secondsUntil(at?: number): number | undefined {
  if (!at) return undefined;
  return Math.max(1, Math.ceil((at - Date.now()) / 1000));
}

const NO_ACCOUNT = "no Kiro account can serve this request";

/**
 * Nothing in the pool is usable. The pool's message already says why and until when; rate-limited
 * and out-of-credits pools are 429 with Retry-After = the earliest account back (§7 rows 9, 15).
 */
export function poolToTurnError(u: PoolUnavailable): TurnError {
  const retryAfterSeconds = secondsUntil(u.retryAt);
  if (u.reason === "all_cooling" || u.reason === "all_exhausted") {
    return new TurnError("rate_limited", `${NO_ACCOUNT}: ${u.message}`, { retryAfterSeconds: retryAfterSeconds ?? 30, detail: u.reason === "all_exhausted" ? "quota_exhausted" : undefined });
  }
  return new TurnError("no_account", `${NO_ACCOUNT} (${u.reason}): ${u.message}`, { retryAfterSeconds });
}

/**
 * Upstream failures emptied the pool for this request: the error class picks the status (as if
 * returned directly), the message keeps both the pool's why/when and the last upstream answer.
 */
export function unavailableAfterFailures(u: PoolUnavailable, e: KiroError): TurnError {
  if (u.reason === "all_cooling" || u.reason === "all_exhausted") {
    const retryAfterSeconds = secondsUntil(u.retryAt) ?? (e.retryAfterMs ? Math.max(1, Math.ceil(e.retryAfterMs / 1000)) : 30);
    return new TurnError("rate_limited", `${NO_ACCOUNT}: ${u.message} (last upstream answer: ${e.upstreamMessage})`, { retryAfterSeconds, cause: e, detail: u.reason === "all_exhausted" ? "quota_exhausted" : undefined });
  }
  const base = kiroToTurnError(e, u);
  if (base.kind === "not_found" || base.kind === "invalid_request" || base.kind === "input_too_long") return base;
  return new TurnError(base.kind, `${NO_ACCOUNT}: ${u.message} (last upstream answer: ${e.upstreamMessage})`, {
    status: base.status,
    retryAfterSeconds: base.retryAfterSeconds,
    cause: e,
  });
}

export function kiroToTurnError(e: KiroError, pool?: PoolUnavailable): TurnError {
  const msg = e.upstreamMessage;
  const retryAfterSeconds = e.retryAfterMs ? Math.max(1, Math.ceil(e.retryAfterMs / 1000)) : secondsUntil(pool?.retryAt);
  switch (e.cls) {
    case "input_too_long":
      return new TurnError("input_too_long", `prompt is too long: ${msg}`, { cause: e });
    case "bad_request":
      return new TurnError("invalid_request", msg, { cause: e });
    case "invalid_model":
      return new TurnError("not_found", `${msg}; valid models: ${validModelNames().join(", ")}`, { param: "model", cause: e });
    case "throttled":
      return new TurnError("rate_limited", `rate limited by Kiro: ${msg}`, { retryAfterSeconds: retryAfterSeconds ?? 30, cause: e });
    case "model_capacity":
      return new TurnError("overloaded", msg, { retryAfterSeconds, cause: e });
    case "quota_exhausted":
    case "suspended":
    case "dead_refresh_token":
    case "account_blocked":
    case "forbidden":
    case "expired_token":
      return new TurnError("no_account", `no Kiro account can serve this request: ${msg}`, { retryAfterSeconds, cause: e });
    case "transient":
      if (e.reason === SYNTHETIC_REASONS.timeout) return new TurnError("timeout", msg, { cause: e });
      return new TurnError("upstream", `upstream error: ${msg}`, { cause: e });
    default:
      return new TurnError("upstream", `upstream error: ${msg}`, { cause: e });
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

// ------------------------------------------------------------------------------- bookkeeping

/** Writes the request-log row and the key's usage exactly once, when the turn ends. */
class TurnLog {
  attempts = 0;
  account?: PoolLease;
  ttftMs?: number;
  inputEstimate?: number;
  usage?: Usage;
  stopReason?: StopReason;
  private written = false;

  constructor(
    private readonly s: Services,
    private readonly req: CanonicalRequest,
    private readonly ctx: TurnContext,
    private readonly started: number,
  ) {}

  finish(r: { error?: TurnError }): void {
    if (this.written) return;
    this.written = true;
    const e = r.error;
    try {
      this.s.requestLog.record({
        requestId: this.ctx.requestId,
        at: this.started,
        clientKeyId: this.ctx.clientKey?.id ?? null,
        clientKeyName: this.ctx.clientKey?.name ?? null,
        dialect: this.req.metadata.dialect,
        model: this.req.model,
        accountId: this.account?.accountId ?? null,
        accountLabel: this.account?.label ?? null,
        stream: this.ctx.stream,
        status: e ? e.status : 200,
        errorType: e ? e.kind : null,
        errorMessage: e ? e.message.slice(0, 1000) : null,
        latencyMs: Date.now() - this.started,
        ttftMs: this.ttftMs ?? null,
        inputTokens: this.usage?.inputTokens ?? this.inputEstimate ?? null,
        outputTokens: this.usage?.outputTokens ?? null,
        credits: this.usage?.credits ?? null,
        attempts: Math.max(1, this.attempts),
        stopReason: this.stopReason ?? null,
        requestBody: this.ctx.clientBody !== undefined && this.s.settings.runtime.logRequestBodies ? captureRequestBody(this.ctx.clientBody) : null,
      });
      if (this.ctx.clientKey && this.usage) {
        this.s.keys.recordUsage(this.ctx.clientKey.id, this.usage.inputTokens + this.usage.outputTokens);
      }
      this.logSummary(e);
    } catch (err) {
      this.s.log.warn("could not write the request log", { requestId: this.ctx.requestId, error: err instanceof Error ? err.message : String(err) });
    }
  }

  /** One line per request for the live log (stdout, Kiro Account Manager, the panel). */
  private logSummary(e: TurnError | undefined): void {
    markSummarised(this.ctx.requestId);
    const log = this.s.log.child(this.ctx.requestId);
    const fields: Record<string, unknown> = {
      ...(this.account ? { account: this.account.label } : {}),
      ms: Date.now() - this.started,
      ...(this.ttftMs !== undefined ? { ttftMs: this.ttftMs } : {}),
      ...(this.usage ? { in: this.usage.inputTokens, out: this.usage.outputTokens } : {}),
      ...(this.attempts > 1 ? { attempts: this.attempts } : {}),
    };
    const head = `${this.req.metadata.dialect} ${this.req.model}${this.ctx.stream ? " (stream)" : ""}`;
    if (e) log.warn(`${head} → ${e.status} ${e.kind}: ${e.message.slice(0, 300)}`, fields);
    else log.info(`${head} → 200 ${this.stopReason ?? ""}`.trimEnd(), fields);
  }
}
