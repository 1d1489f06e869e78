/**
 * The Responses API's hosted `web_search` tool served through Kiro's MCP search: the OpenAI SDK
 * (7 and 6), stream and non-stream, the raw event sequence, domain filters, a plan without web
 * search, history replay and bad tool options. The fake model searches when the conversation
 * has `[[fake:web_answer]] <query>` and answers with the URLs the results gave it.
 */
import { describe, expect, test } from "bun:test";
import { fakeSearchHits } from "../fake-kiro/mcp";
import { textScenario } from "../fake-kiro/scenarios";
import { startE2E, useE2E } from "../support/e2e";
import { OPENAI_SDKS, mcpSearchCalls, openaiClient, postJson, upstreamChatCalls, type Target } from "../support/openai-clients";
import { assertConformant, parseSse } from "./sse";

const MODEL = "claude-sonnet-4-5";
const QUERY = "bun runtime release";
const HITS = fakeSearchHits(QUERY);

const e = useE2E();

const chatCalls = () => upstreamChatCalls(e.fake);
const mcpCalls = () => mcpSearchCalls(e.fake);
const post = (target: Target, body: unknown) => postJson(target, "/v1/responses", body);

/** Every annotation spans its URL (bare) in the text, in order, and names a result's title. */
function expectCitations(text: string, annotations: any[], hits = HITS): void {
  expect(annotations.length).toBe(hits.length);
  annotations.forEach((a, i) => {
    expect(a.type).toBe("url_citation");
    expect(text.slice(a.start_index, a.end_index)).toBe(a.url);
    expect(a.url).toBe(hits[i]!.url);
    expect(a.title).toBe(hits[i]!.title);
  });
}

for (const [label, OpenAI] of OPENAI_SDKS) {
  describe(`${label}: web_search tool`, () => {
    const client = () => openaiClient(OpenAI, e);

    test("create: web_search_call item with query and sources, answer with url_citation annotations", async () => {
      const searches = mcpCalls().length;
      const r = await client().responses.create({
        model: MODEL,
        input: `[[fake:web_answer]] ${QUERY}`,
        tools: [{ type: "web_search" }],
        include: ["web_search_call.action.sources"],
      });
      expect(r.status).toBe("completed");
      expect(r.output.map((o) => o.type)).toEqual(["message", "web_search_call", "message"]);
      const call = r.output[1] as any;
      expect(call.id).toMatch(/^ws_/);
      expect(call.status).toBe("completed");
      expect(call.action).toEqual({ type: "search", query: QUERY, sources: HITS.map((h) => ({ type: "url", url: h.url })) });
      const answer = (r.output[2] as any).content[0];
      expect(answer.text).toBe(`Answer from the web search: ${HITS.map((h) => h.url).join(" ")}`);
      expectCitations(answer.text, answer.annotations);
      expect((r.output[0] as any).content[0].annotations).toEqual([]);
      expect(r.output_text).toContain(HITS[0]!.url);
      expect(mcpCalls().length).toBe(searches + 1);
      expect(mcpCalls().at(-1)!.body).toMatchObject({ params: { name: "web_search", arguments: { query: QUERY } } });
    });

    test("stream() + finalResponse(): search status events, annotations, sources only when included", async () => {
      const s = client().responses.stream({ model: MODEL, input: `[[fake:web_answer]] ${QUERY}`, tools: [{ type: "web_search_preview", search_context_size: "low" }] });
      const statuses: string[] = [];
      const annotated: any[] = [];
      for await (const ev of s) {
        if (ev.type.startsWith("response.web_search_call.")) statuses.push(ev.type.slice("response.web_search_call.".length));
        if (ev.type === "response.output_text.annotation.added") annotated.push((ev as any).annotation);
      }
      const final = await s.finalResponse();
      expect(statuses).toEqual(["in_progress", "searching", "completed"]);
      const call = final.output.find((o) => o.type === "web_search_call") as any;
      expect(call.action).toEqual({ type: "search", query: QUERY });
      const answer = (final.output.at(-1) as any).content[0];
      expectCitations(answer.text, answer.annotations);
      expect(annotated).toEqual(answer.annotations);
    });
  });
}

describe("raw wire", () => {
  test("event sequence: every added closed by its done, sequence numbers increasing, search events inside the call item", async () => {
    const r = await post(e, { model: MODEL, input: `[[fake:web_answer]] ${QUERY}`, tools: [{ type: "web_search", external_web_access: false }], stream: true });
    expect(r.status).toBe(200);
    const { events } = parseSse(await r.text());
    const final = assertConformant(events);
    expect(final.status).toBe("completed");
    const types = events.map((x) => x.data.type);
    const wsAdded = events.findIndex((x) => x.data.type === "response.output_item.added" && x.data.item.type === "web_search_call");
    const ws = events[wsAdded]!.data;
    expect(ws.item).toMatchObject({ type: "web_search_call", status: "in_progress", action: { type: "search", query: QUERY } });
    expect(types.slice(wsAdded, wsAdded + 5)).toEqual([
      "response.output_item.added",
      "response.web_search_call.in_progress",
      "response.web_search_call.searching",
      "response.web_search_call.completed",
      "response.output_item.done",
    ]);
    for (const x of events.slice(wsAdded + 1, wsAdded + 4)) expect(x.data).toMatchObject({ item_id: ws.item.id, output_index: ws.output_index });
    expect(events[wsAdded + 4]!.data.item).toEqual({ id: ws.item.id, type: "web_search_call", status: "completed", action: { type: "search", query: QUERY } });
    // Annotations: announced one by one (indices 0, 1, …) before the text's done event.
    const ann = events.filter((x) => x.data.type === "response.output_text.annotation.added").map((x) => x.data);
    expect(ann.map((a) => a.annotation_index)).toEqual(HITS.map((_, i) => i));
    const textDone = types.lastIndexOf("response.output_text.done");
    expect(types.lastIndexOf("response.output_text.annotation.added")).toBeLessThan(textDone);
    const done = events[textDone]!.data;
    expect(ann.every((a) => a.item_id === done.item_id && a.content_index === 0)).toBe(true);
    expectCitations(done.text, ann.map((a) => a.annotation));
    expect(final.output.at(-1).content[0].annotations).toEqual(ann.map((a) => a.annotation));
  });

  test("the model reads the results: the second round carries each hit's URL and snippet", async () => {
    const before = chatCalls().length;
    const r = await post(e, { model: MODEL, input: `[[fake:web_answer]] ${QUERY}`, tools: [{ type: "web_search" }] });
    expect(r.status).toBe(200);
    const rounds = chatCalls().slice(before);
    expect(rounds).toHaveLength(2);
    const declared = (rounds[0]!.body as any).conversationState.currentMessage.userInputMessage.userInputMessageContext.tools.map((t: any) => t.toolSpecification.name);
    expect(declared).toEqual(["web_search"]);
    const second = JSON.stringify(rounds[1]!.body);
    for (const h of HITS) expect(second).toContain(h.url);
    expect(second).toContain("fact-3-");
  });

  test("filters.allowed_domains: only those hits are sources and citations", async () => {
    const r = await post(e, {
      model: MODEL,
      input: `[[fake:web_answer]] ${QUERY}`,
      tools: [{ type: "web_search", filters: { allowed_domains: ["example.com"] } }],
      include: ["web_search_call.action.sources"],
    });
    const body = await r.json();
    const kept = HITS.filter((h) => new URL(h.url).hostname.endsWith("example.com"));
    expect(body.output[1].action.sources).toEqual(kept.map((h) => ({ type: "url", url: h.url })));
    const answer = body.output[2].content[0];
    expect(answer.text).toBe(`Answer from the web search: ${kept.map((h) => h.url).join(" ")}`);
    expectCitations(answer.text, answer.annotations, kept);
  });

  test("a conversation without a search: no web_search_call, no annotations, the tool still declared", async () => {
    e.fake.enqueue(textScenario("See https://docs.example.org/bun-runtime-release for details."));
    const r = await post(e, { model: MODEL, input: "hello", tools: [{ type: "web_search" }] });
    const body = await r.json();
    expect(body.output.map((o: any) => o.type)).toEqual(["message"]);
    expect(body.output[0].content[0].annotations).toEqual([]);
  });
});

describe("history", () => {
  test("a web_search_call item in the input reaches the model as text naming the query and sources", async () => {
    e.fake.enqueue(textScenario("ok"));
    const r = await post(e, {
      model: MODEL,
      store: false,
      tools: [{ type: "web_search" }],
      input: [
        { role: "user", content: "what is new in bun?" },
        { type: "web_search_call", id: "ws_1", status: "completed", action: { type: "search", query: "bun news", sources: [{ type: "url", url: "https://bun.sh/blog" }] } },
        { type: "message", role: "assistant", content: [{ type: "output_text", text: "Bun 2 shipped.", annotations: [] }] },
        { role: "user", content: "thanks" },
      ],
    });
    expect(r.status).toBe(200);
    const sent = JSON.stringify(chatCalls().at(-1)!.body);
    expect(sent).toContain('[Searched the web for \\"bun news\\"; sources: https://bun.sh/blog.]');
  });

  test("previous_response_id: the stored search keeps its sources for the next turn", async () => {
    const first = await (await post(e, { model: MODEL, input: `[[fake:web_answer]] ${QUERY}`, tools: [{ type: "web_search" }] })).json();
    expect(first.output[1].action.sources).toBeUndefined();
    e.fake.enqueue(textScenario("Noted."));
    const r = await post(e, { model: MODEL, previous_response_id: first.id, input: "thanks" });
    expect(r.status).toBe(200);
    const sent = JSON.stringify(chatCalls().at(-1)!.body);
    expect(sent).toContain(`[Searched the web for \\"${QUERY}\\"; sources: ${HITS[0]!.url}`);
  });
});

describe("a plan without web search", () => {
  test("the call ends as failed, the model is told why, the response completes (200)", async () => {
    const other = await startE2E({ accounts: [{ mcp: { webSearch: false } }] });
    try {
      const r = await post(other, { model: MODEL, input: `[[fake:web_answer]] ${QUERY}`, tools: [{ type: "web_search" }], stream: true });
      expect(r.status).toBe(200);
      const final = assertConformant(parseSse(await r.text()).events);
      expect(final.status).toBe("completed");
      const call = final.output.find((o: any) => o.type === "web_search_call");
      expect(call).toMatchObject({ status: "failed", action: { type: "search", query: QUERY } });
      const rounds = other.fake.requests.filter((q) => q.path.endsWith("/generateAssistantResponse"));
      expect(JSON.stringify(rounds.at(-1)!.body)).toContain("not available for this account's plan");
    } finally {
      await other.stop();
    }
  });
});

describe("bad tool options → 400 naming the field", () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["allowed_domains not an array", { type: "web_search", filters: { allowed_domains: "example.com" } }, "tools[0].filters.allowed_domains"],
    ["an empty domain", { type: "web_search", filters: { allowed_domains: [""] } }, "tools[0].filters.allowed_domains"],
    ["search_context_size", { type: "web_search_preview", search_context_size: "huge" }, "tools[0].search_context_size"],
    ["user_location.type", { type: "web_search", user_location: { type: "exact" } }, "tools[0].user_location.type"],
  ];
  for (const [name, tool, param] of cases) {
    test(name, async () => {
      const chats = chatCalls().length;
      const r = await post(e, { model: MODEL, input: "hi", tools: [tool] });
      expect(r.status).toBe(400);
      const body = await r.json();
      expect(body.error.param).toBe(param);
      expect(body.error.type).toBe("invalid_request_error");
      expect(chatCalls().length).toBe(chats);
    });
  }
});

describe("tool_choice", () => {
  const FORCE = 'You must respond by calling the tool \\"web_search\\"';

  test("naming the hosted tool forces the first round to search; the model then answers freely", async () => {
    const before = chatCalls().length;
    const r = await post(e, { model: MODEL, input: `[[fake:web_answer]] ${QUERY}`, tools: [{ type: "web_search_preview" }], tool_choice: { type: "web_search_preview" } });
    const body = await r.json();
    expect(body.output.map((o: any) => o.type)).toEqual(["message", "web_search_call", "message"]);
    expectCitations(body.output[2].content[0].text, body.output[2].content[0].annotations);
    const rounds = chatCalls().slice(before).map((q) => JSON.stringify(q.body));
    expect(rounds).toHaveLength(2);
    expect(rounds[0]).toContain(FORCE);
    expect(rounds[1]).not.toContain(FORCE);
  });

  test("allowed_tools without the hosted tool: no search tool upstream", async () => {
    e.fake.enqueue(textScenario("fine"));
    const before = chatCalls().length;
    const fn = { type: "function", name: "get_time", parameters: { type: "object", properties: {} } };
    const r = await post(e, { model: MODEL, input: "hi", tools: [fn, { type: "web_search" }], tool_choice: { type: "allowed_tools", mode: "auto", tools: [{ type: "function", name: "get_time" }] } });
    expect(r.status).toBe(200);
    const tools = (chatCalls()[before]!.body as any).conversationState.currentMessage.userInputMessage.userInputMessageContext.tools;
    expect(tools.map((t: any) => t.toolSpecification.name)).toEqual(["get_time"]);
  });
});
