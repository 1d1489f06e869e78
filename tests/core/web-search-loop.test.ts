/**
 * runWebSearchTurn with real rounds (openChat against the strict fake, whose validator checks
 * every continuation request) and real searches (src/kiro/mcp.ts against the fake's MCP).
 */
import { ModelCatalog } from "../../src/core/models";
import { describe, expect, test } from "bun:test";
import type { CanonicalRequest, ServerToolRequest } from "../../src/core/canonical";
import { planWebSearch, type SearchOutcome } from "../../src/core/web-search";
import { runWebSearchTurn, type WebSearchTurnEvent } from "../../src/core/web-search-loop";
import { openChat, type KiroCredentials } from "../../src/kiro/client";
import { webSearch } from "../../src/kiro/mcp";
import { fakeSearchHits } from "../fake-kiro/mcp";
import { textScenario, toolScenario } from "../fake-kiro/scenarios";
import { useFakeKiro } from "../support/kiro";

const kiro = useFakeKiro();
const creds = kiro.creds;

const WS: ServerToolRequest = { type: "web_search", name: "web_search", version: "web_search_20250305" };

function request(over: Partial<CanonicalRequest> = {}): CanonicalRequest {
  return {
    model: new ModelCatalog({ fallback: "family" }).resolve("claude-sonnet-4-5"),
    system: "",
    messages: [{ role: "user", content: [{ type: "text", text: "What is new in the bun runtime?" }] }],
    tools: [],
    serverTools: [WS],
    maxTokens: 2000,
    stopSequences: [],
    thinking: { type: "disabled" },
    metadata: { dialect: "anthropic" },
    ...over,
  };
}

function deps(c: KiroCredentials) {
  const upstream = kiro.upstream;
  const searched: string[] = [];
  return {
    searched,
    deps: {
      async *round(r: CanonicalRequest) {
        const chat = await openChat(r, c, { upstream, signal: new AbortController().signal });
        yield* chat.events;
      },
      async search(query: string): Promise<SearchOutcome> {
        searched.push(query);
        const o = await webSearch(c, upstream, { query });
        return o.ok ? { ok: true, hits: o.hits } : { ok: false, code: "unavailable", message: o.message };
      },
    },
  };
}

async function drain(gen: AsyncGenerator<WebSearchTurnEvent, number>): Promise<{ events: WebSearchTurnEvent[]; searches: number }> {
  const events: WebSearchTurnEvent[] = [];
  for (;;) {
    const r = await gen.next();
    if (r.done) return { events, searches: r.value };
    events.push(r.value);
  }
}

const chatBodies = () => kiro.fake.requests.filter((r) => r.path === "/generateAssistantResponse").map((r) => r.body as any);

describe("model mode", () => {
  test("the model's search call runs on Kiro's MCP; its results go back to the model; the client sees server blocks", async () => {
    const c = await creds();
    kiro.fake.enqueue(toolScenario([{ name: "web_search", input: { query: "bun runtime" } }], { text: "Let me search." }));
    kiro.fake.enqueue(textScenario("Bun is a fast runtime [1]."));
    const d = deps(c);
    const plan = planWebSearch(request())!;
    expect(plan.mode).toBe("model");
    const { events, searches } = await drain(runWebSearchTurn(request(), plan, d.deps));

    expect(searches).toBe(1);
    expect(d.searched).toEqual(["bun runtime"]);
    expect(events.map((e) => e.type).filter((t) => t !== "usage")).toEqual(["text", "text", "server_tool_use", "web_search_result", "text", "text", "text", "stop"]);
    expect(events.some((e) => e.type === "tool_start")).toBe(false);
    expect(events.at(-1)).toEqual({ type: "stop", reason: "end_turn" });

    // Round 1 declared the tool; round 2 carried the call and the results (the fake validated both).
    const [first, second] = chatBodies();
    const tools = first.conversationState.currentMessage.userInputMessage.userInputMessageContext.tools;
    expect(tools.map((t: any) => t.toolSpecification.name)).toEqual(["web_search"]);
    const results = second.conversationState.currentMessage.userInputMessage.userInputMessageContext.toolResults;
    expect(results).toHaveLength(1);
    const resultText = JSON.stringify(results[0].content);
    for (const h of fakeSearchHits("bun runtime")) expect(resultText).toContain(h.url);
    expect(resultText).toContain(fakeSearchHits("bun runtime")[0]!.snippet);
  });

  test("max_uses: the second search is refused with max_uses_exceeded and the model is told", async () => {
    const c = await creds();
    kiro.fake.enqueue(toolScenario([{ name: "web_search", input: { query: "one" } }]));
    kiro.fake.enqueue(toolScenario([{ name: "web_search", input: { query: "two" } }]));
    kiro.fake.enqueue(textScenario("Done."));
    const d = deps(c);
    const req = request({ serverTools: [{ ...WS, maxUses: 1 }] });
    const { events, searches } = await drain(runWebSearchTurn(req, planWebSearch(req)!, d.deps));
    expect(searches).toBe(1);
    expect(d.searched).toEqual(["one"]);
    const errors = events.filter((e) => e.type === "web_search_error");
    expect(errors).toEqual([expect.objectContaining({ code: "max_uses_exceeded" })]);
    expect(JSON.stringify(chatBodies()[2].conversationState.currentMessage)).toContain("limit of searches");
    expect(events.at(-1)).toEqual({ type: "stop", reason: "end_turn" });
  });

  test("a model that keeps searching after being refused is stopped: the answer ends there", async () => {
    const c = await creds();
    for (const q of ["one", "two", "three", "four"]) kiro.fake.enqueue(toolScenario([{ name: "web_search", input: { query: q } }], { text: `Searching ${q}.` }));
    const d = deps(c);
    const req = request({ serverTools: [{ ...WS, maxUses: 1 }] });
    const { events, searches } = await drain(runWebSearchTurn(req, planWebSearch(req)!, d.deps));
    expect(searches).toBe(1);
    expect(chatBodies()).toHaveLength(3);
    expect(events.at(-1)).toEqual({ type: "stop", reason: "end_turn" });
    expect(events.filter((e) => e.type === "server_tool_use")).toHaveLength(2);
  });

  test("a round that also calls a client tool ends the answer with tool_use after showing the search", async () => {
    const c = await creds();
    kiro.fake.enqueue(toolScenario([{ name: "web_search", input: { query: "bun" } }, { name: "Read", input: { path: "a" } }]));
    const d = deps(c);
    const req = request({ tools: [{ name: "Read", description: "read", inputSchema: { type: "object", properties: { path: { type: "string" } } } }] });
    const { events } = await drain(runWebSearchTurn(req, planWebSearch(req)!, d.deps));
    expect(events.filter((e) => e.type === "tool_start")).toEqual([expect.objectContaining({ name: "Read" })]);
    expect(events.some((e) => e.type === "web_search_result")).toBe(true);
    expect(events.at(-1)).toEqual({ type: "stop", reason: "tool_use" });
    expect(chatBodies()).toHaveLength(1);
  });
});

describe("direct mode (Claude Code's WebSearch)", () => {
  test("one search, no model round, a cited digest", async () => {
    const c = await creds();
    const d = deps(c);
    const req = request({
      messages: [{ role: "user", content: [{ type: "text", text: "Perform a web search for the query: bun runtime" }] }],
      toolChoice: { type: "tool", name: "web_search" },
      serverTools: [{ ...WS, blockedDomains: ["github.com"] }],
    });
    const { events, searches } = await drain(runWebSearchTurn(req, planWebSearch(req)!, d.deps));
    expect(searches).toBe(1);
    expect(chatBodies()).toHaveLength(0);
    const result = events.find((e) => e.type === "web_search_result");
    expect(result?.type === "web_search_result" && result.hits.map((h) => h.url)).toEqual(
      fakeSearchHits("bun runtime").filter((h) => h.domain !== "github.com").map((h) => h.url),
    );
    expect(events.filter((e) => e.type === "cited_text")).toHaveLength(5);
    expect(events.at(-1)).toEqual({ type: "stop", reason: "end_turn" });
  });

  test("a plan without web search: error result, digest explains, nothing counted", async () => {
    const c = await creds({ mcp: { webSearch: false } });
    const d = deps(c);
    const req = request({ toolChoice: { type: "tool", name: "web_search" } });
    const { events, searches } = await drain(runWebSearchTurn(req, planWebSearch(req)!, d.deps));
    expect(searches).toBe(0); // the search could not run: not counted
    expect(d.searched).toEqual(["What is new in the bun runtime?"]);
    expect(events[1]).toMatchObject({ type: "web_search_error", code: "unavailable" });
    expect(events[2]).toMatchObject({ type: "cited_text" });
  });
});
