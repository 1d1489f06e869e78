/**
 * Relaying an opened turn: the upstream's event batches pass through the stop guard (stop
 * sequences, max_tokens, one tool call when parallel calls are off) and the output meter, and end
 * with exactly one final `usage` and one `stop`. Nothing caps a stream by wall-clock time; a
 * client disconnect (ctx.signal) or an early stop aborts the upstream request.
 */
import type { CanonicalEvent, CanonicalRequest, StopReason, Usage } from "../core/canonical";
import type { TurnError } from "../core/errors";
import { StopGuard } from "../core/stop-guard";
import { OutputMeter, finalUsage, mergeUsage } from "../core/usage";
import { reportedMidStream } from "../core/error-table";
import { KiroError } from "../kiro/errors";
import type { TurnContext, TurnDeps } from "./types";
import { clientClosed, toTurnError } from "./errors";
import type { Opened } from "./open";

/**
 * What relay() reads: an opened upstream call (open.ts), or a server-tool turn (server-tools.ts)
 * whose rounds hold their own leases (then `lease` is absent).
 */
export type RelaySource = Omit<Opened, "lease"> & { lease?: Opened["lease"] };
import type { TurnLog } from "./record";

/** One event at a time from the relayed batches (non-stream routes, tests). */
export async function* flatten<T>(batches: AsyncIterable<T[]>): AsyncGenerator<T> {
  for await (const b of batches) yield* b;
}

export async function* relay(
  s: Pick<TurnDeps, "calibration">,
  req: CanonicalRequest,
  estimatedInputTokens: number,
  o: RelaySource,
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
            if (e.type === "text" || e.type === "thinking" || e.type === "cited_text") meter.add(e.text);
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
      contextWindow: req.model.contextWindow,
      estimatedInputTokens,
      calibration: { key: req.model.upstreamId, table: s.calibration },
      outputEstimate: () => (stop.reason === "max_tokens" && guard.stopped ? req.maxTokens : Math.min(meter.estimateTokens(), req.maxTokens)),
    });
    log.usage = usage;
    log.stopReason = stop.reason;
    tail.push({ type: "usage", usage });
    tail.push(stop.stopSequence !== undefined ? { type: "stop", reason: stop.reason, stopSequence: stop.stopSequence } : { type: "stop", reason: stop.reason });
    done = true;
    o.lease?.success({ usage });
    const counting = log.countKeyUsage();
    if (counting) await counting;
    yield tail;
  } catch (err) {
    if (ctx.signal.aborted) failure = clientClosed();
    else {
      // Only account-level verdicts (the error table's reportedMidStream) go to the pool mid-stream: the
      // call was accepted, so a throttle, capacity or transient failure says little about the next request.
      if (err instanceof KiroError && reportedMidStream(err.cls)) o.lease?.failure(err);
      failure = toTurnError(err, ctx.signal);
    }
    throw failure;
  } finally {
    // Ends the upstream request when we stopped early or the client went away.
    if (!done || guard.stopped) {
      o.abort.abort();
      void o.iterator.return?.().catch(() => {});
    }
    o.unlink();
    o.lease?.release();
    if (!done && !failure) failure = clientClosed();
    log.finish({ error: failure });
  }
}
