/**
 * The request-log record of one turn: the row in request_log, the client key's token usage and
 * the one-line summary in the live log, written exactly once when the turn ends (also for a model
 * the decoder refused: see recordRefused).
 */
import type { KeyAdmission } from "../keys/limiter";
import type { CanonicalRequest, StopReason, Usage } from "../core/canonical";
import type { TurnError } from "../core/errors";
import { captureRequestBody } from "../logs/body-capture";
import type { PoolLease } from "../pool/types";
import type { TurnContext, TurnDeps } from "./types";

/** What a request-log row says the request was: its dialect and the model name the client sent. */
export type TurnSubject = { dialect: CanonicalRequest["metadata"]["dialect"]; model: string };

export function subjectOf(req: CanonicalRequest): TurnSubject {
  return { dialect: req.metadata.dialect, model: req.model.requested };
}

/**
 * A request whose model the decoder refused (unknown name): recorded like a failed turn, so the
 * request log, the metrics and the live log count it as they count every other 404.
 */
export function recordRefused(deps: TurnDeps, what: TurnSubject, ctx: TurnContext, err: TurnError): void {
  new TurnLog(deps, what, ctx, Date.now()).finish({ error: err });
}

/** Writes the request-log row and the key's usage exactly once, when the turn ends. */
export class TurnLog {
  attempts = 0;
  account?: PoolLease;
  ttftMs?: number;
  inputEstimate?: number;
  usage?: Usage;
  stopReason?: StopReason;
  /** The key limiter's slot for this turn, released with the tokens used when the turn ends. */
  keyAdmission?: KeyAdmission;
  private written = false;
  private counted = false;

  constructor(
    private readonly s: TurnDeps,
    private readonly what: TurnSubject,
    private readonly ctx: TurnContext,
    private readonly started: number,
  ) {
    // Said when the turn starts, not when it ends: a stream's response (and with it the app's
    // access-log hook) goes out long before the turn's summary line.
    s.summaries.mark(ctx.requestId);
  }

  finish(r: { error?: TurnError }): void {
    if (this.written) return;
    this.written = true;
    this.keyAdmission?.done(this.usage ? this.usage.inputTokens + this.usage.outputTokens : 0);
    const e = r.error;
    try {
      this.s.requestLog.record({
        requestId: this.ctx.requestId,
        at: this.started,
        clientKeyId: this.ctx.clientKey?.id ?? null,
        clientKeyName: this.ctx.clientKey?.name ?? null,
        dialect: this.what.dialect,
        model: this.what.model,
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
        cachedTokens: this.usage?.cacheReadInputTokens ?? null,
        credits: this.usage?.credits ?? null,
        attempts: Math.max(1, this.attempts),
        stopReason: this.stopReason ?? null,
        requestBody: this.ctx.clientBody !== undefined && this.s.settings.runtime.logRequestBodies ? captureRequestBody(this.ctx.clientBody) : null,
      });
      void this.countKeyUsage();
      this.logSummary(e);
    } catch (err) {
      this.s.log.warn("could not write the request log", { requestId: this.ctx.requestId, error: err instanceof Error ? err.message : String(err) });
    }
  }

  /**
   * Counts the turn's tokens against the client key, once. A promise when they are written
   * through to a shared database (a key near its budget): the relay awaits it before the final
   * events, so a client has its answer only once the cluster counts it.
   */
  countKeyUsage(): Promise<void> | void {
    if (this.counted || !this.ctx.clientKey || !this.usage) return;
    this.counted = true;
    return this.s.keys.recordUsage(this.ctx.clientKey.id, this.usage.inputTokens + this.usage.outputTokens);
  }

  /** One line per request for the live log (stdout, Kiro Account Manager, the panel). */
  private logSummary(e: TurnError | undefined): void {
    const log = this.s.log.child(this.ctx.requestId);
    const fields: Record<string, unknown> = {
      ...(this.account ? { account: this.account.label } : {}),
      ms: Date.now() - this.started,
      ...(this.ttftMs !== undefined ? { ttftMs: this.ttftMs } : {}),
      ...(this.usage ? { in: this.usage.inputTokens, out: this.usage.outputTokens } : {}),
      ...(this.attempts > 1 ? { attempts: this.attempts } : {}),
    };
    const head = `${this.what.dialect} ${this.what.model}${this.ctx.stream ? " (stream)" : ""}`;
    if (e) log.warn(`${head} → ${e.status} ${e.kind}: ${e.message.slice(0, 300)}`, fields);
    else log.info(`${head} → 200 ${this.stopReason ?? ""}`.trimEnd(), fields);
  }
}
