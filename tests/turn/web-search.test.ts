/**
 * Web search through the turn runner, end to end: the official Anthropic SDK against the real app,
 * the fake Kiro serving chat and its MCP `web_search`. Direct mode (the tool forced, as Claude
 * Code's WebSearch sub-request does) and model mode (the model decides), stream and non-stream.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import { fakeSearchHits } from "../fake-kiro/mcp";
import { textScenario, toolScenario } from "../fake-kiro/scenarios";
import { startE2E, type E2E } from "../support/e2e";

const TOOL = { type: "web_search_20250305", name: "web_search", max_uses: 8 } as const;
const QUERY = "bun runtime release";

let e: E2E;
let client: Anthropic;
beforeAll(async () => {
  e = await startE2E();
  client = new Anthropic({ baseURL: e.url, apiKey: e.clientKey, maxRetries: 0 });
});
afterAll(async () => { await e.stop(); });

const chatCalls = () => e.fake.requests.filter((r) => r.path.endsWith("/generateAssistantResponse"));
const mcpCalls = () => e.fake.requests.filter((r) => r.path.endsWith("/mcp") && (r.body as any)?.method === "tools/call");

function forced(stream: boolean) {
  return {
    model: "claude-sonnet-4-5",
    max_tokens: 1024,
    stream,
    system: "You are an assistant for performing a web search tool use",
    messages: [{ role: "user" as const, content: `Perform a web search for the query: ${QUERY}` }],
    tools: [TOOL],
    tool_choice: { type: "tool" as const, name: "web_search" },
  };
}

describe("direct mode (the tool forced)", () => {
  test("non-stream: server_tool_use, results, cited digest; usage counts the search; no chat call", async () => {
    const chats = chatCalls().length;
    const m = await client.messages.create(forced(false) as any);
    expect(chatCalls().length).toBe(chats);
    const types = m.content.map((b) => b.type);
    expect(types.slice(0, 2)).toEqual(["server_tool_use", "web_search_tool_result"]);
    const use = m.content[0] as any;
    expect(use.id).toMatch(/^srvtoolu_/);
    expect(use.input).toEqual({ query: QUERY });
    const result = m.content[1] as any;
    expect(result.tool_use_id).toBe(use.id);
    const hits = fakeSearchHits(QUERY);
    expect(result.content.map((r: any) => r.url)).toEqual(hits.map((h) => h.url));
    expect(result.content[0]).toMatchObject({ type: "web_search_result", title: hits[0]!.title });
    const cited = m.content.slice(2).filter((b: any) => b.citations?.length) as any[];
    expect(cited.length).toBe(hits.length);
    expect(cited[0].citations[0]).toMatchObject({ type: "web_search_result_location", url: hits[0]!.url, title: hits[0]!.title });
    expect(cited[0].citations[0].cited_text).toContain("fact-1-");
    expect(m.content.slice(2).map((b: any) => b.text).join("")).toContain(hits[4]!.url);
    expect(m.stop_reason).toBe("end_turn");
    expect((m.usage as any).server_tool_use).toEqual({ web_search_requests: 1, web_fetch_requests: 0 });
    expect(mcpCalls().at(-1)!.body).toMatchObject({ params: { name: "web_search", arguments: { query: QUERY } } });
  });

  test("stream: block indices in order, result whole in content_block_start, citations_delta, usage", async () => {
    const s = client.messages.stream(forced(true) as any);
    const starts: Array<{ index: number; type: string }> = [];
    let citationDeltas = 0;
    let inputJson = "";
    for await (const ev of s) {
      if (ev.type === "content_block_start") starts.push({ index: ev.index, type: ev.content_block.type });
      if (ev.type === "content_block_delta" && ev.delta.type === "citations_delta") citationDeltas++;
      if (ev.type === "content_block_delta" && ev.delta.type === "input_json_delta") inputJson += ev.delta.partial_json;
    }
    const final = await s.finalMessage();
    expect(starts.map((x) => x.index)).toEqual(starts.map((_, i) => i));
    expect(starts[0]!.type).toBe("server_tool_use");
    expect(starts[1]!.type).toBe("web_search_tool_result");
    expect(JSON.parse(inputJson)).toEqual({ query: QUERY });
    expect(citationDeltas).toBe(5);
    expect((final.content[1] as any).content).toHaveLength(5);
    expect((final.usage as any).server_tool_use).toEqual({ web_search_requests: 1, web_fetch_requests: 0 });
  });

  test("allowed_domains filters the hits", async () => {
    const m = await client.messages.create({ ...forced(false), tools: [{ ...TOOL, allowed_domains: ["example.com"] }] } as any);
    const urls = (m.content[1] as any).content.map((r: any) => r.url);
    expect(urls).toEqual([`https://news.example.com/2026/bun-runtime-release`]);
  });

  test("a plan without web search: an error block in the tool result and a text saying so; 200, not 400", async () => {
    const other = await startE2E({ accounts: [{ mcp: { webSearch: false } }] });
    try {
      const c = new Anthropic({ baseURL: other.url, apiKey: other.clientKey, maxRetries: 0 });
      const m = await c.messages.create(forced(false) as any);
      expect(m.content[1]).toMatchObject({ type: "web_search_tool_result", content: { type: "web_search_tool_result_error", error_code: "unavailable" } });
      expect((m.content[2] as any).text).toContain("not available for this account's plan");
      expect((m.usage as any).server_tool_use.web_search_requests).toBe(0);
    } finally {
      await other.stop();
    }
  });
});

describe("model mode (the model decides)", () => {
  test("non-stream: text, search blocks, then the answer from the next round; results reach the model", async () => {
    e.fake.enqueue(toolScenario([{ name: "web_search", input: { query: QUERY } }], { text: "Let me look that up." }));
    e.fake.enqueue(textScenario("Bun was released; see the sources."));
    const before = chatCalls().length;
    const m = await client.messages.create({
      model: "claude-sonnet-4-5",
      max_tokens: 1024,
      messages: [{ role: "user", content: "What is new in Bun?" }],
      tools: [TOOL, { name: "get_time", description: "time", input_schema: { type: "object", properties: {} } }],
    } as any);
    const types = m.content.map((b) => b.type);
    expect(types).toEqual(["text", "server_tool_use", "web_search_tool_result", "text"]);
    expect((m.content[3] as any).text).toBe("Bun was released; see the sources.");
    expect(m.stop_reason).toBe("end_turn");
    expect((m.usage as any).server_tool_use.web_search_requests).toBe(1);
    const rounds = chatCalls().slice(before);
    expect(rounds).toHaveLength(2);
    // Round 1 declares the tool as a function tool; round 2 carries the results as a tool result.
    const tools1 = (rounds[0]!.body as any).conversationState.currentMessage.userInputMessage.userInputMessageContext.tools.map((t: any) => t.toolSpecification.name);
    expect(tools1).toContain("web_search");
    const sent2 = JSON.stringify(rounds[1]!.body);
    for (const h of fakeSearchHits(QUERY)) expect(sent2).toContain(h.url);
  });

  test("stream: indices continue across rounds; the model's function call never reaches the client", async () => {
    e.fake.enqueue(toolScenario([{ name: "web_search", input: { query: QUERY } }], { text: "Searching." }));
    e.fake.enqueue(textScenario("Done."));
    const s = client.messages.stream({
      model: "claude-sonnet-4-5",
      max_tokens: 1024,
      messages: [{ role: "user", content: "What is new in Bun?" }],
      tools: [TOOL],
    } as any);
    const starts: Array<{ index: number; type: string }> = [];
    for await (const ev of s) if (ev.type === "content_block_start") starts.push({ index: ev.index, type: ev.content_block.type });
    const final = await s.finalMessage();
    expect(starts).toEqual([
      { index: 0, type: "text" },
      { index: 1, type: "server_tool_use" },
      { index: 2, type: "web_search_tool_result" },
      { index: 3, type: "text" },
    ]);
    expect(final.content.some((b) => b.type === "tool_use")).toBe(false);
    expect((final.usage as any).server_tool_use.web_search_requests).toBe(1);
  });

  test("history: earlier search blocks go upstream as text with the URLs", async () => {
    const hits = fakeSearchHits(QUERY);
    const first = await client.messages.create(forced(false) as any);
    const before = chatCalls().length;
    await client.messages.create({
      model: "claude-sonnet-4-5",
      max_tokens: 100,
      messages: [
        { role: "user", content: "search please" },
        { role: "assistant", content: first.content as any },
        { role: "user", content: "thanks, summarise" },
      ],
      tools: [TOOL],
    } as any);
    const sent = JSON.stringify(chatCalls().slice(before)[0]!.body);
    expect(sent).toContain(hits[0]!.url);
    expect(sent).toContain("fact-1-");
  });

  test("a client tool named web_search next to the server tool is a 400 naming tools", async () => {
    const err = await client.messages.create({
      model: "claude-sonnet-4-5",
      max_tokens: 10,
      messages: [{ role: "user", content: "x" }],
      tools: [TOOL, { name: "web_search", input_schema: { type: "object" } }],
    } as any).catch((x) => x);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(String(err.message)).toContain("web_search");
  });
});

describe("searches on the pool's accounts", () => {
  test("an account failing the MCP call is reported and the next account searches", async () => {
    const two = await startE2E({ accounts: [{ behaviour: { suspended: true } }, {}], config: { strategy: "priority" } });
    try {
      const c = new Anthropic({ baseURL: two.url, apiKey: two.clientKey, maxRetries: 0 });
      const m = await c.messages.create(forced(false) as any);
      expect((m.content[1] as any).content).toHaveLength(5);
      expect((m.usage as any).server_tool_use.web_search_requests).toBe(1);
      // The suspended account answered 403 and was taken out of the pool.
      expect(two.services.pool.get(two.accountIds[0]!)!.state).toBe("disabled");
    } finally {
      await two.stop();
    }
  });

  test("no account can search: an `unavailable` result block, still a 200 answer", async () => {
    const one = await startE2E({ accounts: [{ behaviour: { suspended: true } }] });
    try {
      const c = new Anthropic({ baseURL: one.url, apiKey: one.clientKey, maxRetries: 0 });
      const m = await c.messages.create(forced(false) as any);
      expect(m.content[1]).toMatchObject({ type: "web_search_tool_result", content: { type: "web_search_tool_result_error", error_code: "unavailable" } });
      expect((m.content[2] as any).text).toContain("failed (unavailable)");
    } finally {
      await one.stop();
    }
  });
});
