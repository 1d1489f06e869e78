/**
 * The web fetch server tool (`web_fetch_*`), which the upstream cannot run: the official
 * Anthropic SDK against the real app and the fake Kiro, whose scripted model
 * (tests/fake-kiro/web-fetch.ts, `[[fake:web_fetch]] <url>`) calls the tool. The request is
 * served; each call shows as server_tool_use + a web_fetch_tool_result `unavailable` error, the
 * model is told fetching is not available and answers without it. Stream and non-stream, alone
 * and next to web search.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import { fakeSearchHits } from "../fake-kiro/mcp";
import { startE2E, type E2E } from "../support/e2e";

const URL_ = "https://bun.sh/blog/bun-v1.4";
const FETCH = { type: "web_fetch_20250910", name: "web_fetch", max_uses: 3 } as const;
const SEARCH = { type: "web_search_20250305", name: "web_search", max_uses: 5 } as const;
const ERROR = { type: "web_fetch_tool_result_error", error_code: "unavailable" };

let e: E2E;
let client: Anthropic;
beforeAll(async () => {
  e = await startE2E();
  client = new Anthropic({ baseURL: e.url, apiKey: e.clientKey, maxRetries: 0 });
});
afterAll(async () => {
  await e.stop();
});

const chatCalls = () => e.fake.requests.filter((r) => r.path.endsWith("/generateAssistantResponse"));
const mcpCalls = () => e.fake.requests.filter((r) => r.path.endsWith("/mcp") && (r.body as any)?.method === "tools/call");
const declaredNames = (body: any): string[] =>
  body.conversationState.currentMessage.userInputMessage.userInputMessageContext.tools.map((t: any) => t.toolSpecification.name);
const toolResults = (body: any): any[] => body.conversationState.currentMessage.userInputMessage.userInputMessageContext.toolResults ?? [];

function params(tools: readonly unknown[], extra: Record<string, unknown> = {}, text = `Summarise [[fake:web_fetch]] ${URL_}`): any {
  return { model: "claude-sonnet-4-6", max_tokens: 1024, messages: [{ role: "user", content: text }], tools, ...extra };
}

describe("web fetch declared alone", () => {
  test("non-stream: server_tool_use, web_fetch_tool_result unavailable, then the answer; the model was told", async () => {
    const chats = chatCalls().length;
    const searches = mcpCalls().length;
    const m = await client.messages.create(params([FETCH]));
    expect(m.content.map((b) => b.type)).toEqual(["text", "server_tool_use", "web_fetch_tool_result", "text"]);
    const use = m.content[1] as Anthropic.ServerToolUseBlock;
    expect(use).toMatchObject({ name: "web_fetch", input: { url: URL_ }, caller: { type: "direct" } });
    expect(use.id).toMatch(/^srvtoolu_/);
    const result = m.content[2] as Anthropic.WebFetchToolResultBlock;
    expect(result.tool_use_id).toBe(use.id);
    expect(result.content).toEqual(ERROR as Anthropic.WebFetchToolResultErrorBlock);
    const answer = (m.content[3] as Anthropic.TextBlock).text;
    expect(answer).toStartWith("Answer without the page: ");
    expect(answer).toContain(`The page ${URL_} was not fetched`);
    expect(answer).toContain("not available through this server");
    expect(m.stop_reason).toBe("end_turn");
    expect(m.usage.server_tool_use).toEqual({ web_search_requests: 0, web_fetch_requests: 0 });
    // Two rounds: the tool declared as a function tool, then its error result; nothing searched.
    const rounds = chatCalls().slice(chats);
    expect(rounds).toHaveLength(2);
    expect(declaredNames(rounds[0]!.body)).toEqual(["web_fetch"]);
    const [tr] = toolResults(rounds[1]!.body);
    expect(tr.status).toBe("error");
    expect(JSON.stringify(tr.content)).toContain("not available through this server");
    expect(mcpCalls().length).toBe(searches);
  });

  test("stream: indices 0…3, the input as input_json_delta, the result whole in content_block_start", async () => {
    const s = client.messages.stream(params([FETCH]));
    const starts: Array<{ index: number; block: any }> = [];
    const stops: number[] = [];
    let inputJson = "";
    let deltaUsage: any;
    for await (const ev of s) {
      if (ev.type === "content_block_start") starts.push({ index: ev.index, block: ev.content_block });
      if (ev.type === "content_block_stop") stops.push(ev.index);
      if (ev.type === "content_block_delta" && ev.delta.type === "input_json_delta") inputJson += ev.delta.partial_json;
      if (ev.type === "message_delta") deltaUsage = ev.usage;
    }
    const final = await s.finalMessage();
    expect(starts.map((x) => [x.index, x.block.type])).toEqual([
      [0, "text"],
      [1, "server_tool_use"],
      [2, "web_fetch_tool_result"],
      [3, "text"],
    ]);
    expect(stops).toEqual([0, 1, 2, 3]);
    expect(starts[1]!.block).toMatchObject({ name: "web_fetch", input: {} });
    expect(JSON.parse(inputJson)).toEqual({ url: URL_ });
    expect(starts[2]!.block).toMatchObject({ tool_use_id: starts[1]!.block.id, content: ERROR });
    expect(final.content[1]).toMatchObject({ type: "server_tool_use", input: { url: URL_ } });
    expect((final.content[3] as Anthropic.TextBlock).text).toContain("not available through this server");
    expect(final.stop_reason).toBe("end_turn");
    expect(deltaUsage.server_tool_use).toEqual({ web_search_requests: 0, web_fetch_requests: 0 });
  });

  test("later versions of the tool type are served the same way", async () => {
    for (const type of ["web_fetch_20260209", "web_fetch_20260318"]) {
      const m = await client.messages.create(params([{ type, name: "web_fetch", use_cache: false, citations: { enabled: true } }]));
      expect(m.content.map((b) => b.type)).toEqual(["text", "server_tool_use", "web_fetch_tool_result", "text"]);
      expect((m.content[2] as Anthropic.WebFetchToolResultBlock).content).toEqual(ERROR as Anthropic.WebFetchToolResultErrorBlock);
    }
  });

  test("a model that asks to fetch again after being told ends the answer (no third round)", async () => {
    const chats = chatCalls().length;
    const m = await client.messages.create(params([FETCH], {}, `Read [[fake:web_fetch]] again ${URL_}`));
    expect(m.content.map((b) => b.type)).toEqual(["text", "server_tool_use", "web_fetch_tool_result", "text"]);
    expect((m.content[3] as Anthropic.TextBlock).text).toBe("Trying the page again.");
    expect(m.stop_reason).toBe("end_turn");
    expect(chatCalls().length - chats).toBe(2);
  });

  test("tool_choice forcing web_fetch: the first round must call it, the next round is free to answer", async () => {
    const chats = chatCalls().length;
    const m = await client.messages.create(params([FETCH], { tool_choice: { type: "tool", name: "web_fetch" } }));
    expect(m.content.map((b) => b.type)).toEqual(["text", "server_tool_use", "web_fetch_tool_result", "text"]);
    const [r1, r2] = chatCalls().slice(chats);
    expect(JSON.stringify(r1!.body)).toContain('You must respond by calling the tool \\"web_fetch\\"');
    expect(JSON.stringify(r2!.body)).not.toContain("You must respond by calling");
  });

  test("history: the blocks sent back reach the upstream model as text", async () => {
    const first = await client.messages.create(params([FETCH]));
    const chats = chatCalls().length;
    const m = await client.messages.create({
      model: "claude-sonnet-4-6",
      max_tokens: 100,
      messages: [
        { role: "user", content: `Summarise ${URL_}` },
        { role: "assistant", content: first.content as any },
        { role: "user", content: "[[fake:text]] thanks" },
      ],
      tools: [FETCH],
    } as any);
    expect((m.content[0] as Anthropic.TextBlock).text).toBe("Hello from fake Kiro.");
    const sent = JSON.stringify(chatCalls().slice(chats)[0]!.body);
    expect(sent).toContain(`[Asked to fetch the web page ${URL_}.]`);
    expect(sent).toContain("Fetching web pages is not available through this server.");
  });

  test("count_tokens accepts the declaration", async () => {
    const { input_tokens } = await client.messages.countTokens({ model: "claude-sonnet-4-6", messages: [{ role: "user", content: "hi" }], tools: [FETCH] } as any);
    expect(input_tokens).toBeGreaterThan(0);
  });

  test("a bad declaration is a 400 naming the field; other server tools stay a 400", async () => {
    const bad = async (tool: unknown) => {
      const err = await client.messages.create(params([tool])).catch((x) => x);
      expect(err).toBeInstanceOf(Anthropic.BadRequestError);
      return String(err.message);
    };
    expect(await bad({ type: "web_fetch_20250910", name: "fetch" })).toContain("tools.0.name");
    expect(await bad({ ...FETCH, max_uses: 0 })).toContain("tools.0.max_uses");
    expect(await bad({ ...FETCH, colour: "red" })).toContain("tools.0.colour");
    expect(await bad({ ...FETCH, allowed_domains: ["a.com"], blocked_domains: ["b.com"] })).toContain("allowed_domains");
    expect(await bad({ type: "code_execution_20250825", name: "code_execution" })).toContain("code_execution");
  });
});

describe("web fetch next to web search", () => {
  test("non-stream: both calls in one round; the search runs, the fetch errors, the answer reads both", async () => {
    const searches = mcpCalls().length;
    const m = await client.messages.create(params([SEARCH, FETCH]));
    expect(m.content.map((b) => b.type)).toEqual(["text", "server_tool_use", "web_fetch_tool_result", "server_tool_use", "web_search_tool_result", "text"]);
    expect(m.content[1]).toMatchObject({ name: "web_fetch", input: { url: URL_ } });
    expect(m.content[3]).toMatchObject({ name: "web_search", input: { query: `${URL_} summary` } });
    const hits = fakeSearchHits(`${URL_} summary`);
    expect(((m.content[4] as Anthropic.WebSearchToolResultBlock).content as Anthropic.WebSearchResultBlock[]).map((r) => r.url)).toEqual(hits.map((h) => h.url));
    const answer = (m.content[5] as Anthropic.TextBlock).text;
    expect(answer).toContain("Use web search instead");
    expect(answer).toContain(hits[0]!.url);
    expect(m.usage.server_tool_use).toEqual({ web_search_requests: 1, web_fetch_requests: 0 });
    expect(mcpCalls().length - searches).toBe(1);
  });

  test("stream: the same blocks, indices in order", async () => {
    const s = client.messages.stream(params([FETCH, SEARCH]));
    const starts: Array<[number, string]> = [];
    for await (const ev of s) if (ev.type === "content_block_start") starts.push([ev.index, ev.content_block.type]);
    const final = await s.finalMessage();
    expect(starts).toEqual([
      [0, "text"],
      [1, "server_tool_use"],
      [2, "web_fetch_tool_result"],
      [3, "server_tool_use"],
      [4, "web_search_tool_result"],
      [5, "text"],
    ]);
    expect(final.usage.server_tool_use).toEqual({ web_search_requests: 1, web_fetch_requests: 0 });
  });

  test("a forced search still runs directly when web fetch is declared too", async () => {
    const chats = chatCalls().length;
    const m = await client.messages.create(params([SEARCH, FETCH], { tool_choice: { type: "tool", name: "web_search" } }, "Perform a web search for the query: bun"));
    expect(m.content.slice(0, 2).map((b) => b.type)).toEqual(["server_tool_use", "web_search_tool_result"]);
    expect(chatCalls().length).toBe(chats);
  });
});
