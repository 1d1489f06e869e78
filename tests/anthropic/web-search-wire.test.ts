/**
 * The web search pieces end to end, minus the turn runner that will join them: the fake's MCP
 * search (src/kiro/mcp.ts) → the canonical events of a direct-mode answer (src/core/web-search.ts)
 * → Anthropic blocks (src/dialects/anthropic/web-search.ts), served from a socket and read by
 * the official SDK, stream and non-stream: block types, indices, input, citations, usage.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import { TurnError } from "../../src/core/errors";
import { digestEvents, newServerToolUseId, searchEvents, type SearchOutcome, type WebSearchEvent } from "../../src/core/web-search";
import { decodeWebSearchTool, serverBlockAsText, serverToolUsageJson, webSearchBlockJson, webSearchBlockSse } from "../../src/dialects/anthropic/web-search";
import { refreshAccessToken } from "../../src/kiro/auth";
import type { KiroCredentials } from "../../src/kiro/client";
import { webSearch, type McpSearchOutcome } from "../../src/kiro/mcp";
import { fakeSearchHits } from "../fake-kiro/mcp";
import { type FakeAccountInit, type FakeKiro, startFakeKiro } from "../fake-kiro/server";

/** The runner's glue (kiro outcome → canonical outcome), as docs/web-search.md describes it. */
function toCanonical(o: McpSearchOutcome): SearchOutcome {
  if (o.ok) return { ok: true, hits: o.hits.map((h) => ({ url: h.url, title: h.title, snippet: h.snippet, publishedDate: h.publishedDate })) };
  return { ok: false, code: o.code === "invalid_input" ? "invalid_tool_input" : "unavailable", message: o.message };
}

let fake: FakeKiro;
let server: ReturnType<typeof Bun.serve>;
let n = 0;
/** What the little server answers next: the events of one direct-mode answer and the search count. */
let next: { events: WebSearchEvent[]; searches: number } = { events: [], searches: 0 };

async function creds(init: Omit<FakeAccountInit, "refreshToken"> = {}): Promise<KiroCredentials> {
  const refreshToken = `aorAws${++n}`.padEnd(120, "w");
  fake.addAccount({ refreshToken, ...init });
  const r = await refreshAccessToken({ kind: "social", refreshToken, authRegion: "us-east-1", machineId: `machine-ws-${n}` }, { ...fake.upstream });
  return { accessToken: r.accessToken, authKind: "social", region: "us-east-1", profileArn: r.profileArn, machineId: `machine-ws-${n}` };
}

/** One direct-mode answer for `query` with the account `c`. */
async function answer(c: KiroCredentials, query: string, tool = decodeWebSearchTool({ type: "web_search_20250305", name: "web_search", max_uses: 8 }, 0)) {
  const outcome = toCanonical(await webSearch(c, { ...fake.upstream }, { query }));
  const [use, result] = searchEvents(newServerToolUseId(), query, outcome, tool);
  const searched = outcome.ok ? 1 : 0;
  next = { events: [use!, result!, ...digestEvents(query, result!)], searches: searched };
}

function sseBody(model: string): string {
  const usage = { input_tokens: 120, output_tokens: 80, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  let s = `event: message_start\ndata: ${JSON.stringify({ type: "message_start", message: { id: "msg_ws", type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } })}\n\n`;
  next.events.forEach((ev, i) => (s += webSearchBlockSse(ev, i)));
  s += `event: message_delta\ndata: ${JSON.stringify({ type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { ...usage, server_tool_use: serverToolUsageJson(next.searches) } })}\n\n`;
  return s + 'event: message_stop\ndata: {"type":"message_stop"}\n\n';
}

beforeAll(async () => {
  fake = await startFakeKiro();
  server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const body = (await req.json()) as { model: string; stream?: boolean };
      if (body.stream) return new Response(sseBody(body.model), { headers: { "content-type": "text/event-stream" } });
      return Response.json({
        id: "msg_ws",
        type: "message",
        role: "assistant",
        model: body.model,
        content: next.events.map(webSearchBlockJson),
        stop_reason: "end_turn",
        stop_sequence: null,
        usage: { input_tokens: 120, output_tokens: 80, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, server_tool_use: serverToolUsageJson(next.searches) },
      });
    },
  });
});
afterAll(async () => {
  await server.stop(true);
  await fake.stop();
});

const client = () => new Anthropic({ baseURL: `http://127.0.0.1:${server.port}`, apiKey: "k", maxRetries: 0 });
const params = {
  model: "claude-opus-4-8",
  max_tokens: 1000,
  messages: [{ role: "user" as const, content: "Perform a web search for the query: bun runtime" }],
  tools: [{ type: "web_search_20250305" as const, name: "web_search" as const, max_uses: 8 }],
};

describe("web search answer read by the Anthropic SDK", () => {
  test("stream: server_tool_use (input via input_json_delta), result, cited text; usage counts the search", async () => {
    await answer(await creds(), "bun runtime");
    const msg = await client().messages.stream(params).finalMessage();
    const types = msg.content.map((b) => b.type);
    expect(types.slice(0, 3)).toEqual(["server_tool_use", "web_search_tool_result", "text"]);
    expect(types).toHaveLength(3 + 5);
    const use = msg.content[0] as Anthropic.ServerToolUseBlock;
    expect(use.id).toStartWith("srvtoolu_");
    expect(use.input).toEqual({ query: "bun runtime" });
    const result = msg.content[1] as Anthropic.WebSearchToolResultBlock;
    expect(result.tool_use_id).toBe(use.id);
    const expected = fakeSearchHits("bun runtime");
    expect(Array.isArray(result.content) && result.content.map((r) => r.url)).toEqual(expected.map((h) => h.url));
    expect(Array.isArray(result.content) && result.content[0]!.page_age).toBe("November 30, 2025");
    const cited = msg.content[3] as Anthropic.TextBlock;
    expect(cited.citations).toEqual([
      expect.objectContaining({ type: "web_search_result_location", url: expected[0]!.url, title: expected[0]!.title, cited_text: expected[0]!.snippet }),
    ]);
    expect(msg.usage.server_tool_use).toEqual({ web_search_requests: 1, web_fetch_requests: 0 });
    // What Claude Code's WebSearch passes on to its model: the text blocks, which carry every URL and snippet.
    const text = msg.content.map((b) => (b.type === "text" ? b.text : "")).join("");
    for (const h of expected) {
      expect(text).toContain(h.url);
      expect(text).toContain(h.snippet);
    }
  });

  test("non-stream: the same blocks; plain text blocks have citations null", async () => {
    await answer(await creds(), "bun runtime");
    const msg = await client().messages.create(params);
    expect(msg.content.map((b) => b.type).slice(0, 3)).toEqual(["server_tool_use", "web_search_tool_result", "text"]);
    expect((msg.content[2] as Anthropic.TextBlock).citations).toBeNull();
    expect((msg.content[3] as Anthropic.TextBlock).citations).toHaveLength(1);
    expect(msg.usage.server_tool_use?.web_search_requests).toBe(1);
  });

  test("allowed_domains: only matching results reach the client", async () => {
    const tool = decodeWebSearchTool({ type: "web_search_20250305", name: "web_search", allowed_domains: ["example.org", "github.com"] }, 0);
    await answer(await creds(), "bun runtime", tool);
    const msg = await client().messages.stream(params).finalMessage();
    const result = msg.content[1] as Anthropic.WebSearchToolResultBlock;
    expect(Array.isArray(result.content) && result.content.map((r) => new URL(r.url).hostname)).toEqual(["docs.example.org", "github.com"]);
  });

  test("a plan without web search: an error result block the client can show, 0 searches counted", async () => {
    await answer(await creds({ mcp: { webSearch: false } }), "bun runtime");
    const msg = await client().messages.stream(params).finalMessage();
    const result = msg.content[1] as Anthropic.WebSearchToolResultBlock;
    expect(result.content).toEqual({ type: "web_search_tool_result_error", error_code: "unavailable" });
    expect((msg.content[2] as Anthropic.TextBlock).text).toContain("not available for this account's plan");
    expect(msg.usage.server_tool_use?.web_search_requests).toBe(0);
  });

  test("the blocks sent back in history become text with the snippets for the upstream model", async () => {
    await answer(await creds(), "bun runtime");
    const msg = await client().messages.create(params);
    expect(serverBlockAsText(msg.content[0])).toBe('[Searched the web for "bun runtime".]');
    const asText = serverBlockAsText(msg.content[1])!;
    expect(asText).toContain(fakeSearchHits("bun runtime")[2]!.snippet);
    expect(asText).toContain("URL: https://github.com/example/bun-runtime");
    expect(serverBlockAsText({ type: "web_search_tool_result", tool_use_id: "x", content: { type: "web_search_tool_result_error", error_code: "max_uses_exceeded" } })).toBe(
      "[The web search failed: max_uses_exceeded.]",
    );
    expect(serverBlockAsText({ type: "text", text: "hi" })).toBeUndefined();
  });
});

describe("decodeWebSearchTool", () => {
  const bad = (tool: unknown) => {
    try {
      decodeWebSearchTool(tool, 2);
    } catch (e) {
      if (e instanceof TurnError) return { status: e.status, param: e.param, message: e.message };
      throw e;
    }
    throw new Error("expected a TurnError");
  };

  test("Claude Code's declaration and a later version are accepted", () => {
    expect(decodeWebSearchTool({ type: "web_search_20250305", name: "web_search", allowed_domains: ["a.com"], max_uses: 8 }, 0)).toEqual({
      type: "web_search",
      name: "web_search",
      version: "web_search_20250305",
      maxUses: 8,
      allowedDomains: ["a.com"],
    });
    expect(decodeWebSearchTool({ type: "web_search_20260209", name: "web_search", user_location: { type: "approximate", city: "Paris" } }, 0)).toMatchObject({
      version: "web_search_20260209",
    });
  });

  test("bad declarations are 400s naming the field", () => {
    expect(bad({ type: "web_search_20250305", name: "web_search", allowed_domains: ["a.com"], blocked_domains: ["b.com"] })).toMatchObject({ status: 400, param: "tools.2.allowed_domains" });
    expect(bad({ type: "web_search_20250305", name: "web_search", max_uses: 0 })).toMatchObject({ param: "tools.2.max_uses" });
    expect(bad({ type: "web_search_20250305", name: "search" })).toMatchObject({ param: "tools.2.name" });
    expect(bad({ type: "web_search_20250305", name: "web_search", blocked_domains: "a.com" })).toMatchObject({ param: "tools.2.blocked_domains" });
    expect(bad({ type: "web_search_20250305", name: "web_search", colour: "red" })).toMatchObject({ param: "tools.2.colour" });
  });
});
