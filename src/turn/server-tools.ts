/**
 * Turns whose request declares the web search server tool, or web fetch (docs/web-search.md; a
 * fetch is never run, the loop answers it itself): the core loop
 * (src/core/web-search-loop.ts) decides the rounds; this part gives it
 *  - one upstream round = the usual account choice, retries and hand-overs (open.ts), each round
 *    on whichever account the pool picks, its lease ended when the round ends;
 *  - one search = Kiro's MCP `web_search` on a leased account. An account failure (HTTP) is
 *    reported to its lease and the next account tries; a plan without web search also moves on
 *    to the next account. When no account could run it, the search ends in an `unavailable`
 *    result block: the answer goes on, the request never fails for it.
 * The result is a RelaySource: relay.ts applies the stop guard and the final usage as for any turn.
 *
 * Usage of the answer: output tokens are the rounds' sum (when every round reported them), the
 * input is the last round's (its prompt holds every earlier one), and `webSearchRequests` counts
 * the searches the service answered.
 */
import type { CanonicalEvent, CanonicalRequest, Usage } from "../core/canonical";
import { reportedMidStream } from "../core/error-table";
import { mergeUsage } from "../core/usage";
import type { SearchOutcome, WebSearchPlan } from "../core/web-search";
import { runWebSearchBatches } from "../core/web-search-loop";
import { KiroError } from "../kiro/errors";
import { webSearch, type McpSearchOutcome } from "../kiro/mcp";
import { isUnavailable, type PoolLease } from "../pool/types";
import { clientClosed } from "./errors";
import { openWithFailover, type Opened } from "./open";
import type { TurnLog } from "./record";
import type { RelaySource } from "./relay";
import type { TurnContext, TurnDeps } from "./types";

/** Accounts one search may try before it ends as `unavailable`. */
const MAX_SEARCH_ACCOUNTS = 3;

/** The rounds' usage, summed as the header says. */
class RoundUsage {
  private output = 0;
  private outputKnown = true;
  private credits?: number;
  private last: Partial<Usage> = {};
  private pct?: number;
  rounds = 0;

  add(u: Partial<Usage>, pct: number | undefined): void {
    this.rounds++;
    if (u.outputTokens === undefined) this.outputKnown = false;
    else this.output += u.outputTokens;
    if (u.credits !== undefined) this.credits = (this.credits ?? 0) + u.credits;
    this.last = u;
    this.pct = pct;
  }

  /** The usage event that ends the answer (relay.ts completes it with estimates). */
  event(searches: number): CanonicalEvent {
    const usage: Partial<Usage> = { webSearchRequests: searches };
    if (this.rounds > 0) {
      if (this.outputKnown) usage.outputTokens = this.output;
      if (this.last.inputTokens !== undefined) usage.inputTokens = this.last.inputTokens;
      if (this.last.cacheReadInputTokens !== undefined) usage.cacheReadInputTokens = this.last.cacheReadInputTokens;
      if (this.last.cacheWriteInputTokens !== undefined) usage.cacheWriteInputTokens = this.last.cacheWriteInputTokens;
      if (this.credits !== undefined) usage.credits = this.credits;
    }
    return this.pct !== undefined ? { type: "usage", usage, contextUsagePercentage: this.pct } : { type: "usage", usage };
  }
}

/** The MCP client's outcome → what the loop reports to the client. */
function searchOutcome(o: McpSearchOutcome): SearchOutcome {
  if (o.ok) {
    return {
      ok: true,
      hits: o.hits.map((h) => ({
        url: h.url,
        title: h.title,
        ...(h.snippet ? { snippet: h.snippet } : {}),
        ...(h.publishedDate !== undefined ? { publishedDate: h.publishedDate } : {}),
      })),
    };
  }
  if (o.code === "invalid_input") return { ok: false, code: "invalid_tool_input", message: o.message };
  return { ok: false, code: "unavailable", message: o.message };
}

/**
 * Opens a server-tool turn: resolves once its first event exists (for a forced search: once the
 * search answered), so every failure before it is still the request's error.
 */
export async function openServerToolTurn(
  s: TurnDeps,
  req: CanonicalRequest,
  plan: WebSearchPlan,
  ctx: TurnContext,
  log: TurnLog,
): Promise<RelaySource> {
  const abort = new AbortController();
  const onClientAbort = () => abort.abort(ctx.signal.reason);
  ctx.signal.addEventListener("abort", onClientAbort, { once: true });
  const unlink = () => ctx.signal.removeEventListener("abort", onClientAbort);
  const totals = new RoundUsage();

  /**
   * One upstream round, its batches passed on as they arrive (usage taken out and summed). A
   * hand-written iterator rather than an async generator: it sits between the upstream and the
   * relay for every batch of every turn that declares the tool, searching or not.
   */
  function round(r: CanonicalRequest): AsyncIterable<CanonicalEvent[]> {
    let o: Opened | undefined;
    const used: Partial<Usage> = {};
    let pct: number | undefined;
    let first = true;
    let closed = false;
    /** Ends the round once: success ends the lease well, anything else stops the upstream. */
    const close = (ok: boolean) => {
      if (closed) return;
      closed = true;
      if (o) {
        if (ok) o.lease.success({ usage: used });
        else {
          o.abort.abort();
          void o.iterator.return?.().catch(() => {});
        }
        o.unlink();
        o.lease.release();
        totals.add(used, pct);
      }
    };
    /** The batch without its usage events (summed instead). */
    const strip = (batch: CanonicalEvent[]): CanonicalEvent[] => {
      let i = 0;
      while (i < batch.length && batch[i]!.type !== "usage") i++;
      if (i === batch.length) return batch;
      const out = batch.slice(0, i);
      for (; i < batch.length; i++) {
        const ev = batch[i]!;
        if (ev.type !== "usage") out.push(ev);
        else {
          mergeUsage(used, ev.usage);
          if (ev.contextUsagePercentage !== undefined) pct = ev.contextUsagePercentage;
        }
      }
      return out;
    };
    const it: AsyncIterator<CanonicalEvent[]> & AsyncIterable<CanonicalEvent[]> = {
      [Symbol.asyncIterator]: () => it,
      async next(): Promise<IteratorResult<CanonicalEvent[]>> {
        if (closed) return { done: true, value: undefined };
        try {
          if (!o) {
            o = await openWithFailover(s, r, { ...ctx, signal: abort.signal }, log);
            log.account ??= o.lease;
          }
          for (;;) {
            let next: IteratorResult<CanonicalEvent[]>;
            if (first) {
              first = false;
              next = o.first ? { done: false, value: o.first } : { done: true, value: undefined };
            } else next = await o.iterator.next();
            if (next.done) {
              close(true);
              return { done: true, value: undefined };
            }
            const batch = strip(next.value);
            if (batch.length) return { done: false, value: batch };
          }
        } catch (err) {
          if (o && !closed && err instanceof KiroError && reportedMidStream(err.cls) && !abort.signal.aborted) o.lease.failure(err);
          close(false);
          throw err;
        }
      },
      async return(): Promise<IteratorResult<CanonicalEvent[]>> {
        close(false);
        return { done: true, value: undefined };
      },
    };
    return it;
  }

  async function search(query: string): Promise<SearchOutcome> {
    const exclude = new Set<string>();
    let refusal: SearchOutcome | undefined;
    let lastErr: KiroError | undefined;
    for (let tries = 0; tries < MAX_SEARCH_ACCOUNTS; tries++) {
      const got = await s.pool.acquireWait({ conversationId: req.metadata.conversationId, exclude }, abort.signal);
      if (isUnavailable(got)) break;
      const lease: PoolLease = got;
      log.account ??= lease;
      exclude.add(lease.accountId);
      try {
        const creds = await lease.credentials();
        const o = await webSearch(creds, s.upstream, { query }, abort.signal, { timeoutMs: s.settings.runtime.firstTokenTimeoutMs });
        lease.success({});
        // Another account's plan may include web search.
        if (!o.ok && o.code === "not_in_plan") {
          refusal = { ok: false, code: "unavailable", message: `web search is not available for this account's plan (${o.message})` };
          continue;
        }
        return searchOutcome(o);
      } catch (err) {
        if (ctx.signal.aborted) throw clientClosed();
        lastErr = err instanceof KiroError ? err : new KiroError("transient", err instanceof Error ? err.message : String(err), { cause: err });
        lease.failure(lastErr);
        s.log.debug("web search attempt failed", { requestId: ctx.requestId, account: lease.label, cls: lastErr.cls });
      } finally {
        lease.release();
      }
    }
    if (refusal) return refusal;
    return {
      ok: false,
      code: "unavailable",
      message: lastErr ? `no account could run the search (last upstream answer: ${lastErr.upstreamMessage})` : "no account is available to run the search",
    };
  }

  /** The loop's batches, then the answer's usage (a hand-written iterator, as round's). */
  const loop = runWebSearchBatches(req, plan, { round, search });
  let loopDone = false;
  let ended = false;
  const iterator: AsyncIterator<CanonicalEvent[]> = {
    async next(): Promise<IteratorResult<CanonicalEvent[]>> {
      if (ended) return { done: true, value: undefined };
      let r: IteratorResult<CanonicalEvent[], number>;
      try {
        r = await loop.next();
      } catch (err) {
        ended = true;
        throw err;
      }
      if (!r.done) return r;
      loopDone = ended = true;
      return { done: false, value: [totals.event(r.value)] };
    },
    // Stopped early (stop guard, client gone): the open round ends and releases its account.
    async return(): Promise<IteratorResult<CanonicalEvent[]>> {
      if (!loopDone) {
        loopDone = ended = true;
        await loop.return(0).catch(() => {});
      }
      ended = true;
      return { done: true, value: undefined };
    },
  };

  try {
    const first = await iterator.next();
    return { abort, unlink, iterator, first: first.done ? undefined : first.value };
  } catch (err) {
    abort.abort();
    unlink();
    throw err;
  }
}
