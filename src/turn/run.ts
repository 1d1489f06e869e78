/**
 * The turn runner: the only place that combines the account pool and the Kiro client.
 *
 *   runTurn(deps, req, ctx) → Promise<Turn>
 *
 * Parts: open.ts (pick an account, open the upstream call, wait for the first event; retries and
 * hand-overs), server-tools.ts (requests declaring web search: rounds and searches through Kiro's
 * MCP), relay.ts (stop guard and metering), errors.ts (upstream and pool failures → the client's
 * TurnError), record.ts (request-log row, key usage, live-log summary).
 * The request's model was resolved when it was decoded (req.model); nothing resolves it again.
 */
import type { CanonicalRequest } from "../core/canonical";
import { TurnError } from "../core/errors";
import type { Turn, TurnContext, TurnDeps } from "./types";
import { toTurnError } from "./errors";
import { planWebSearch } from "../core/web-search";
import { openWithFailover } from "./open";
import { TurnLog, subjectOf } from "./record";
import { flatten } from "../core/poll";
import { relay, type RelaySource } from "./relay";
import { openServerToolTurn } from "./server-tools";

export type { Turn, TurnContext, TurnDeps } from "./types";

export async function runTurn(s: TurnDeps, req: CanonicalRequest, ctx: TurnContext): Promise<Turn> {
  const started = Date.now();
  const log = new TurnLog(s, subjectOf(req), ctx, started);
  try {
    if (ctx.clientKey) {
      let why = s.keys.denyReason(ctx.clientKey, req.model.requested);
      // A key near its budget on a shared database: the cluster's total decides (one query).
      const cluster = why ? null : s.keys.clusterBudgetCheck(ctx.clientKey);
      if (cluster) why = await cluster;
      if (why) throw new TurnError("permission", why);
      const admitted = s.keyLimiter.admit(ctx.clientKey);
      if (admitted instanceof TurnError) throw admitted;
      log.keyAdmission = admitted;
    }
    // The prompt estimate (tokenizer: ~0.3 µs per character, tens of ms for Claude Code-sized
    // prompts) starts in a macrotask, i.e. after the upstream request has been dispatched, so it
    // overlaps the upstream's thinking time instead of adding to time-to-first-byte; it counts in
    // slices, so a huge prompt never holds the event loop (other requests, /health) for long.
    const plan = planWebSearch(req);
    const opening: Promise<RelaySource> = plan ? openServerToolTurn(s, req, plan, ctx, log) : openWithFailover(s, req, ctx, log);
    const estimating = new Promise((resolve) => setImmediate(resolve)).then(async () => (log.inputEstimate = await s.tokens.estimateAsync(req)));
    let opened: RelaySource;
    try {
      opened = await opening;
    } finally {
      await estimating;
    }
    const estimatedInputTokens = log.inputEstimate!;
    if (opened.lease) log.account = opened.lease;
    log.ttftMs = Date.now() - started;
    const batches = relay(s, req, estimatedInputTokens, opened, ctx, log);
    return {
      model: req.model.requested,
      accountId: log.account?.accountId ?? "",
      estimatedInputTokens,
      batches,
      events: flatten(batches),
    };
  } catch (err) {
    let te = toTurnError(err, ctx.signal);
    if (te.kind === "input_too_long" && log.inputEstimate !== undefined) {
      // Clients (Claude Code) match on "prompt is too long" and want the size to decide on compaction.
      te = new TurnError("input_too_long", `prompt is too long: ${log.inputEstimate} tokens (estimated) > ${req.model.contextWindow} maximum; upstream said: ${upstreamWording(te.message)}`, { cause: err });
    }
    log.finish({ error: te });
    throw te;
  }
}

function upstreamWording(message: string): string {
  return message.replace(/^prompt is too long: /, "");
}
