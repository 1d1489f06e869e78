/**
 * One answer with the web search server tool, as a stream of events (see docs/web-search.md).
 * The caller (the turn runner) supplies how to run one upstream round and one search; this
 * drives the rounds:
 *
 *  - direct mode: one search with the user's query, then the cited digest; no model round.
 *  - model mode: the request goes upstream with the tool declared as a function tool. The
 *    model's calls of it are run here (at most `maxUses` searches; further calls get a
 *    max_uses_exceeded result), the client gets server_tool_use + result events for each, and
 *    the model continues with the results in a new round. The answer ends when a round makes no
 *    search call; a round that also calls client tools ends the answer with `tool_use` (its
 *    searches were shown, and come back to the model in the next request's history).
 *
 * Web fetch (src/core/web-fetch.ts) rides the same model-mode rounds: each call of it gets
 * server_tool_use + an `unavailable` error, the model is told that fetching is not available and
 * continues; a round that asks only to fetch again after that ends the answer.
 *
 * Every round's events other than its `stop` and its server-tool calls are passed through (text,
 * thinking, client tool calls, usage); exactly one `stop` ends the stream.
 */
import type { CanonicalEvent, CanonicalRequest, StopReason } from "./canonical";
import {
  continueWithResults,
  digestEvents,
  newServerToolUseId,
  resultTextForModel,
  searchEvents,
  WebSearchBudget,
  WebSearchInterceptor,
  type SearchOutcome,
  type WebSearchEvent,
  type WebSearchPlan,
} from "./web-search";
import { choiceAfterServerCall, fetchEvents, fetchResultTextForModel, fetchUrl } from "./web-fetch";

export type WebSearchTurnEvent = CanonicalEvent | WebSearchEvent;

export type WebSearchDeps = {
  /** One upstream round for this request: canonical events ending with one `stop`. */
  round(req: CanonicalRequest): AsyncIterable<CanonicalEvent>;
  /** One search. Throws for failures that are the account's (the runner's to handle). */
  search(query: string): Promise<SearchOutcome>;
  newId?(): string;
};

/** Rounds in one answer at most, whatever max_uses says (each round is an upstream request). */
export const MAX_SEARCH_ROUNDS = 10;
/** The API's limit on a query's length, in characters. */
const MAX_QUERY_CHARS = 500;

/** The request as the upstream sees it in model mode: the tool declared as a function tool. */
export function modelModeRequest(req: CanonicalRequest, plan: Exclude<WebSearchPlan, { mode: "direct" }>): CanonicalRequest {
  const declared = [...(plan.mode === "model" ? [plan.declaration] : []), ...(plan.fetch ? [plan.fetch.declaration] : [])];
  const out: CanonicalRequest = { ...req, tools: [...req.tools, ...declared], serverTools: [] };
  if (plan.mode === "model" && plan.forceFirst) out.toolChoice = { type: "tool", name: plan.declaration.name };
  return out;
}

/** Runs one search within the budget. Only searches the service answered count as performed. */
async function runOne(query: string, budget: WebSearchBudget, deps: Pick<WebSearchDeps, "search">): Promise<SearchOutcome> {
  if (!query) return { ok: false, code: "invalid_tool_input", message: "the search query is empty" };
  if (query.length > MAX_QUERY_CHARS) return { ok: false, code: "query_too_long", message: `the query is longer than ${MAX_QUERY_CHARS} characters` };
  if (!budget.take()) return { ok: false, code: "max_uses_exceeded", message: "max_uses reached for this answer" };
  return deps.search(query);
}

/**
 * The events of one answer, one event at a time (see runWebSearchBatches, which it wraps). The
 * generator's return value is the number of searches the service answered with results
 * (usage.server_tool_use.web_search_requests); refused or failed ones do not count.
 */
export async function* runWebSearchTurn(
  req: CanonicalRequest,
  plan: WebSearchPlan,
  deps: WebSearchDeps,
): AsyncGenerator<WebSearchTurnEvent, number> {
  const { round, ...rest } = deps;
  const batches = runWebSearchBatches(req, plan, {
    ...rest,
    async *round(r) {
      for await (const ev of round(r)) yield [ev];
    },
  });
  let r = await batches.next();
  try {
    while (!r.done) {
      yield* r.value;
      r = await batches.next();
    }
  } finally {
    if (!r.done) await batches.return(0);
  }
  return r.value;
}

export type WebSearchBatchDeps = Omit<WebSearchDeps, "round"> & {
  /** One upstream round, in the batches it arrives in (one network chunk each), ending with one `stop`. */
  round(req: CanonicalRequest): AsyncIterable<CanonicalEvent[]>;
};

/**
 * The events of one answer in batches: a round's batch passes on as one batch (its search calls
 * taken out), so a turn that declares the tool but never searches is relayed as the upstream
 * sent it. Returns the number of searches the service answered with results.
 */
export async function* runWebSearchBatches(
  req: CanonicalRequest,
  plan: WebSearchPlan,
  deps: WebSearchBatchDeps,
): AsyncGenerator<WebSearchTurnEvent[], number> {
  const budget = new WebSearchBudget(plan.mode === "fetch_only" ? undefined : plan.tool.maxUses);
  const newId = deps.newId ?? newServerToolUseId;
  let performed = 0;
  const search = async (query: string) => {
    const o = await runOne(query, budget, deps);
    if (o.ok) performed++;
    return o;
  };

  if (plan.mode === "direct") {
    const outcome = await search(plan.query);
    const [use, result] = searchEvents(newId(), plan.query, outcome, plan.tool);
    yield [use!, result!, ...digestEvents(plan.query, result!), { type: "stop", reason: "end_turn" }];
    return performed;
  }

  let current = modelModeRequest(req, plan);
  const searchTool = plan.mode === "model" ? plan.tool : undefined;
  const searchName = plan.mode === "model" ? plan.declaration.name : undefined;
  const fetchName = plan.fetch?.declaration.name;
  const serverNames = [searchName, fetchName].filter((n): n is string => n !== undefined);
  // A model told "limit reached" gets one more round to answer; asking again then ends the answer.
  let refusedBefore = false;
  // Likewise a model told that fetching is not available, asking only to fetch again.
  let fetchRefused = false;
  for (let round = 0; ; round++) {
    const interceptor = new WebSearchInterceptor(serverNames);
    let stop: { reason: StopReason; stopSequence?: string } = { reason: "end_turn" };
    for await (const batch of deps.round(current)) {
      let out: WebSearchTurnEvent[] = [];
      for (const ev of batch) {
        if (ev.type === "stop") stop = { reason: ev.reason, stopSequence: ev.stopSequence };
        else {
          const passed = interceptor.feed(ev);
          // The common case (an event passed on as it is) keeps the batch itself.
          if (passed.length === 1 && passed[0] === ev) out.push(ev);
          else out = out.concat(passed);
        }
      }
      if (out.length) yield out;
    }
    // No server-tool call, a truncated round, out of rounds, or a call refused before asked again:
    // this round's ending is the answer's.
    const exhausted = budget.exhausted;
    const onlyFetchAgain = fetchRefused && interceptor.calls.length > 0 && interceptor.calls.every((c) => c.name === fetchName);
    if (
      interceptor.calls.length === 0 ||
      stop.reason === "max_tokens" ||
      round + 1 >= MAX_SEARCH_ROUNDS ||
      (exhausted && refusedBefore) ||
      onlyFetchAgain
    ) {
      if (interceptor.calls.length && stop.reason === "tool_use" && interceptor.clientCalls === 0) stop = { reason: "end_turn" };
      yield [stop.stopSequence !== undefined ? { type: "stop", reason: stop.reason, stopSequence: stop.stopSequence } : { type: "stop", reason: stop.reason }];
      return performed;
    }
    const results: Array<{ call: (typeof interceptor.calls)[number]; text: string; isError: boolean }> = [];
    for (const call of interceptor.calls) {
      if (call.name !== searchName || !searchTool) {
        const url = fetchUrl(call.input);
        yield fetchEvents(newId(), url);
        results.push({ call, text: fetchResultTextForModel(url, searchName !== undefined), isError: true });
        fetchRefused = true;
        continue;
      }
      const outcome = await search(call.query);
      const [use, result] = searchEvents(newId(), call.query, outcome, searchTool);
      yield [use!, result!];
      results.push({ call, text: resultTextForModel(call.query, result!), isError: result!.type === "web_search_error" });
    }
    if (interceptor.clientCalls > 0) {
      yield [{ type: "stop", reason: "tool_use" }];
      return performed;
    }
    refusedBefore = exhausted;
    // A forced first server-tool call is done: from now on the model decides (else it would call
    // one forever); choiceAfterServerCall also covers a client's tool_choice forcing web fetch.
    const next = continueWithResults(current, interceptor.assistantParts(), results);
    const toolChoice = choiceAfterServerCall(next.toolChoice, next, serverNames);
    current = toolChoice ? { ...next, toolChoice } : next;
  }
}
