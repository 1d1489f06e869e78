/**
 * Relaying an opened turn: the upstream's event batches pass through the stop guard (stop
 * sequences, max_tokens, one tool call when parallel calls are off) and the output meter, and end
 * with exactly one final `usage` and one `stop`. Nothing caps a stream by wall-clock time; a
 * client disconnect (ctx.signal) or an early stop aborts the upstream request.
 */
import type { CanonicalEvent, CanonicalRequest, StopReason, Usage } from "../core/canonical";
import type { TurnError } from "../core/errors";
import { DONE, nextOf, pollable, type PollIterator } from "../core/poll";
import { StopGuard } from "../core/stop-guard";
import { OutputMeter, finalUsage, mergeUsage } from "../core/usage";
import { reportedMidStream } from "../core/error-table";
import { KiroError } from "../kiro/errors";
import type { TurnContext, TurnDeps } from "./types";
import { clientClosed, toTurnError } from "./errors";
import type { Opened } from "./open";
import type { TurnLog } from "./record";

/**
 * What relay() reads: an opened upstream call (open.ts), or a server-tool turn (server-tools.ts)
 * whose rounds hold their own leases (then `lease` is absent).
 */
export type RelaySource = Omit<Opened, "lease"> & { lease?: Opened["lease"] };

/**
 * The relayed batches, one per upstream batch that has something left after the guard (never an
 * empty one), then the tail (final usage and stop). A PollIterator: polled by the SSE writer, each
 * upstream batch is relayed in the same call that decoded it.
 */
export function relay(
  s: Pick<TurnDeps, "calibration" | "tokens">,
  req: CanonicalRequest,
  estimatedInputTokens: number,
  o: RelaySource,
  ctx: TurnContext,
  log: TurnLog,
): PollIterator<CanonicalEvent[]> {
  return new Relay(s, req, estimatedInputTokens, o, ctx, log);
}

const enum Phase {
  Relaying,
  /** The tail is built; the key's usage is still being counted (shared database). */
  Counting,
  Tail,
  AfterTail,
  CountFailed,
  Ended,
}

class Relay implements PollIterator<CanonicalEvent[]> {
  private readonly guard: StopGuard;
  private readonly meter: OutputMeter;
  private readonly upstreamUsage: Partial<Usage> = {};
  private readonly up: PollIterator<CanonicalEvent[]>;
  private pct: number | undefined;
  private upstreamStop: { reason: StopReason; stopSequence?: string } | undefined;
  /** The batch read while opening, relayed first; `upstreamDone` when there was none. */
  private first: CanonicalEvent[] | undefined;
  private upstreamDone: boolean;
  private phase = Phase.Relaying;
  private tail: CanonicalEvent[] = [];
  private counting: Promise<void> | undefined;
  private countError: unknown;
  /** The turn finished (its tail is built): the lease was told success. */
  private done = false;
  private failure: TurnError | undefined;

  constructor(
    private readonly s: Pick<TurnDeps, "calibration" | "tokens">,
    private readonly req: CanonicalRequest,
    private readonly estimatedInputTokens: number,
    private readonly o: RelaySource,
    private readonly ctx: TurnContext,
    private readonly log: TurnLog,
  ) {
    const countText = (text: string) => s.tokens.countText(text);
    this.guard = new StopGuard({ stopSequences: req.stopSequences, maxTokens: req.maxTokens, singleToolCall: req.parallelToolCalls === false, countText });
    this.meter = new OutputMeter(countText);
    this.up = pollable(o.iterator);
    this.first = o.first;
    this.upstreamDone = o.first === undefined;
  }

  poll(): IteratorResult<CanonicalEvent[]> | undefined {
    if (this.phase !== Phase.Relaying) return this.pollEnd();
    try {
      for (;;) {
        // Stop sequence or max_tokens reached: stop reading (and paying for) the upstream.
        if (this.guard.stopped || this.upstreamDone) return this.finish();
        let batch = this.first;
        if (batch) this.first = undefined;
        else {
          const r = this.up.poll();
          if (r === undefined) return undefined;
          if (r.done) {
            this.upstreamDone = true;
            continue;
          }
          batch = r.value;
        }
        const out = this.feed(batch);
        if (out.length) return { done: false, value: out };
      }
    } catch (err) {
      throw this.fail(err);
    }
  }

  ready(): Promise<void> {
    if (this.phase === Phase.Relaying) return this.up.ready();
    if (this.phase === Phase.Counting) return this.counting!;
    return Promise.resolve();
  }

  next(): Promise<IteratorResult<CanonicalEvent[]>> {
    return nextOf(this);
  }

  /** The reader stopped early (client gone): the upstream request ends, the turn is logged. */
  async return(): Promise<IteratorResult<CanonicalEvent[]>> {
    this.end();
    return DONE;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** One upstream batch through the guard and the meter (one synchronous pass per batch). */
  private feed(batch: CanonicalEvent[]): CanonicalEvent[] {
    const out: CanonicalEvent[] = [];
    const { guard, meter } = this;
    for (let b = 0; b < batch.length && !guard.stopped; b++) {
      const ev = batch[b]!;
      if (ev.type === "usage") {
        mergeUsage(this.upstreamUsage, ev.usage);
        if (ev.contextUsagePercentage !== undefined) this.pct = ev.contextUsagePercentage;
      } else if (ev.type === "stop") {
        this.upstreamStop = { reason: ev.reason, stopSequence: ev.stopSequence };
      } else {
        const from = out.length;
        guard.feed(ev, out);
        for (let i = from; i < out.length; i++) {
          const e = out[i]!;
          if (e.type === "text" || e.type === "thinking" || e.type === "cited_text") meter.add(e.text);
          else if (e.type === "tool_args") meter.add(e.json);
        }
      }
    }
    return out;
  }

  /** The upstream ended (or the guard stopped it): the tail with the final usage and stop. */
  private finish(): IteratorResult<CanonicalEvent[]> | undefined {
    const { guard, meter, req } = this;
    const tail = this.tail;
    if (!guard.stopped) {
      guard.finish(tail);
      for (const e of tail) if (e.type === "text") meter.add(e.text);
    }
    const stop = guard.stopped ?? this.upstreamStop ?? { reason: "end_turn" as StopReason };
    const usage = finalUsage({
      upstream: this.upstreamUsage,
      contextUsagePercentage: this.pct,
      contextWindow: req.model.contextWindow,
      estimatedInputTokens: this.estimatedInputTokens,
      calibration: { key: req.model.upstreamId, table: this.s.calibration },
      outputEstimate: () => (stop.reason === "max_tokens" && guard.stopped ? req.maxTokens : Math.min(meter.estimateTokens(), req.maxTokens)),
    });
    this.log.usage = usage;
    this.log.stopReason = stop.reason;
    tail.push({ type: "usage", usage });
    tail.push(stop.stopSequence !== undefined ? { type: "stop", reason: stop.reason, stopSequence: stop.stopSequence } : { type: "stop", reason: stop.reason });
    this.done = true;
    this.o.lease?.success({ usage });
    const counting = this.log.countKeyUsage();
    if (!counting) this.phase = Phase.Tail;
    else {
      this.phase = Phase.Counting;
      this.counting = counting.then(
        () => {
          if (this.phase === Phase.Counting) this.phase = Phase.Tail;
        },
        (err: unknown) => {
          if (this.phase !== Phase.Counting) return;
          this.countError = err;
          this.phase = Phase.CountFailed;
        },
      );
    }
    return this.pollEnd();
  }

  private pollEnd(): IteratorResult<CanonicalEvent[]> | undefined {
    switch (this.phase) {
      case Phase.Counting:
        return undefined;
      case Phase.Tail:
        this.phase = Phase.AfterTail;
        return { done: false, value: this.tail };
      case Phase.CountFailed:
        throw this.fail(this.countError);
      case Phase.AfterTail:
        this.end();
        return DONE;
      default:
        return DONE;
    }
  }

  /** A failure while relaying: what the client is told, after the turn is ended and logged. */
  private fail(err: unknown): TurnError {
    if (this.ctx.signal.aborted) this.failure = clientClosed();
    else {
      // Only account-level verdicts (the error table's reportedMidStream) go to the pool mid-stream: the
      // call was accepted, so a throttle, capacity or transient failure says little about the next request.
      if (err instanceof KiroError && reportedMidStream(err.cls)) this.o.lease?.failure(err);
      this.failure = toTurnError(err, this.ctx.signal);
    }
    const failure = this.failure;
    this.end();
    return failure;
  }

  /** Runs once, however the turn ends. */
  private end(): void {
    if (this.phase === Phase.Ended) return;
    this.phase = Phase.Ended;
    const o = this.o;
    // Ends the upstream request when we stopped early or the client went away.
    if (!this.done || this.guard.stopped) {
      o.abort.abort();
      void o.iterator.return?.().catch(() => {});
    }
    o.unlink();
    o.lease?.release();
    if (!this.done && !this.failure) this.failure = clientClosed();
    this.log.finish({ error: this.failure });
  }
}
