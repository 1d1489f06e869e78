/**
 * Chat Completions `web_search_options` served through Kiro's MCP search: the OpenAI SDK (7 and
 * 6), stream and non-stream; the answer's `message.annotations` (url_citation) as OpenAI's
 * search models return them; the raw stream; a plan without web search; bad options. The fake
 * model searches when the conversation has `[[fake:web_answer]] <query>` and answers with the
 * URLs the results gave it.
 */
import { describe, expect, test } from "bun:test";
import { fakeSearchHits } from "../fake-kiro/mcp";
import { textScenario } from "../fake-kiro/scenarios";
import { startE2E, useE2E } from "../support/e2e";
import { OPENAI_SDKS, mcpSearchCalls, openaiClient, postJson, upstreamChatCalls, type Target } from "../support/openai-clients";
import { assertConformantStream } from "./helpers";

const MODEL = "claude-sonnet-4-5";
const QUERY = "bun runtime release";
const HITS = fakeSearchHits(QUERY);
const ANSWER = `Searching the web.\n\nAnswer from the web search: ${HITS.map((h) => h.url).join(" ")}`;

const e = useE2E();

const chatCalls = () => upstreamChatCalls(e.fake);
const mcpCalls = () => mcpSearchCalls(e.fake);
const post = (target: Target, body: unknown) => postJson(target, "/v1/chat/completions", body);
const ask = (extra: Record<string, unknown> = {}) => ({
  model: MODEL,
  messages: [{ role: "user" as const, content: `[[fake:web_answer]] ${QUERY}` }],
  web_search_options: {},
  ...extra,
});

/** Each annotation spans its URL in the content, in order, and names the result's title. */
function expectCitations(content: string, annotations: any[], hits = HITS): void {
  expect(annotations).toHaveLength(hits.length);
  annotations.forEach((a, i) => {
    expect(a.type).toBe("url_citation");
    expect(Object.keys(a.url_citation).sort()).toEqual(["end_index", "start_index", "title", "url"]);
    expect(content.slice(a.url_citation.start_index, a.url_citation.end_index)).toBe(hits[i]!.url);
    expect(a.url_citation.url).toBe(hits[i]!.url);
    expect(a.url_citation.title).toBe(hits[i]!.title);
  });
}

for (const [label, OpenAI] of OPENAI_SDKS) {
  describe(`${label}: web_search_options`, () => {
    const client = () => openaiClient(OpenAI, e);

    test("create: the answer from the results, message.annotations with url_citation", async () => {
      const searches = mcpCalls().length;
      const c = await client().chat.completions.create(ask({ web_search_options: { search_context_size: "low", user_location: { type: "approximate", approximate: { country: "PT" } } } }) as any);
      const m = c.choices[0]!.message;
      expect(m.content).toBe(ANSWER);
      expect(c.choices[0]!.finish_reason).toBe("stop");
      expect(m.tool_calls).toBeUndefined();
      expectCitations(m.content!, m.annotations!);
      expect(mcpCalls().length).toBe(searches + 1);
    });

    test("stream + finalChatCompletion(): the same content and annotations", async () => {
      const s = client().chat.completions.stream(ask({ stream_options: { include_usage: true } }) as any);
      const final = await s.finalChatCompletion();
      const m = final.choices[0]!.message;
      expect(m.content).toBe(ANSWER);
      expectCitations(m.content!, (m as any).annotations);
      expect(final.choices[0]!.finish_reason).toBe("stop");
    });
  });
}

describe("raw wire", () => {
  test("stream: annotations in one chunk right before the finish chunk; no search in the chunks", async () => {
    const r = await post(e, ask({ stream: true, stream_options: { include_usage: true } }));
    expect(r.status).toBe(200);
    const chunks = assertConformantStream(await r.text(), { includeUsage: true });
    const finish = chunks.findIndex((c) => c.choices[0]?.finish_reason);
    const withAnnotations = chunks.filter((c) => c.choices[0]?.delta?.annotations);
    expect(withAnnotations).toHaveLength(1);
    expect(chunks.indexOf(withAnnotations[0])).toBe(finish - 1);
    expect(withAnnotations[0].choices[0].delta).toEqual({ annotations: expect.any(Array) });
    const content = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
    expect(content).toBe(ANSWER);
    expectCitations(content, withAnnotations[0].choices[0].delta.annotations);
    expect(chunks.some((c) => c.choices[0]?.delta?.tool_calls)).toBe(false);
  });

  test("the model sees the search as a function tool and reads every result in the next round", async () => {
    const before = chatCalls().length;
    await (await post(e, ask())).json();
    const rounds = chatCalls().slice(before);
    expect(rounds).toHaveLength(2);
    const tools = (rounds[0]!.body as any).conversationState.currentMessage.userInputMessage.userInputMessageContext.tools;
    expect(tools.map((t: any) => t.toolSpecification.name)).toEqual(["web_search"]);
    for (const h of HITS) expect(JSON.stringify(rounds[1]!.body)).toContain(h.url);
  });

  test("a client function named web_search keeps its name; the server tool gets another", async () => {
    e.fake.enqueue(textScenario("No search needed."));
    const before = chatCalls().length;
    const fn = { type: "function", function: { name: "web_search", description: "mine", parameters: { type: "object", properties: {} } } };
    const r = await post(e, { model: MODEL, messages: [{ role: "user", content: "hi" }], tools: [fn], web_search_options: {} });
    const body = await r.json();
    expect(body.choices[0].message.content).toBe("No search needed.");
    expect(body.choices[0].message.annotations).toEqual([]);
    const tools = (chatCalls()[before]!.body as any).conversationState.currentMessage.userInputMessage.userInputMessageContext.tools;
    expect(tools.map((t: any) => t.toolSpecification.name)).toEqual(["web_search", "web_search_2"]);
  });

  test("without web_search_options nothing changes: no search tool upstream, annotations empty", async () => {
    e.fake.enqueue(textScenario(`See ${HITS[0]!.url}`));
    const before = chatCalls().length;
    const body = await (await post(e, { model: MODEL, messages: [{ role: "user", content: "hi" }] })).json();
    expect(body.choices[0].message.annotations).toEqual([]);
    const ctx = (chatCalls()[before]!.body as any).conversationState.currentMessage.userInputMessage.userInputMessageContext ?? {};
    expect(ctx.tools ?? []).toEqual([]);
  });
});

describe("a plan without web search", () => {
  test("200: the model is told the search is not available and answers; no annotations", async () => {
    const other = await startE2E({ accounts: [{ mcp: { webSearch: false } }] });
    try {
      for (const stream of [false, true]) {
        const r = await post(other, ask({ stream }));
        expect(r.status).toBe(200);
        if (stream) {
          const chunks = assertConformantStream(await r.text(), { includeUsage: false });
          expect(chunks.some((c) => c.choices[0]?.delta?.annotations)).toBe(false);
        } else {
          const body = await r.json();
          expect(body.choices[0].message.content).toContain("Answer from the web search");
          expect(body.choices[0].message.annotations).toEqual([]);
        }
        const rounds = other.fake.requests.filter((q) => q.path.endsWith("/generateAssistantResponse"));
        expect(JSON.stringify(rounds.at(-1)!.body)).toContain("not available for this account's plan");
      }
    } finally {
      await other.stop();
    }
  });
});

describe("bad web_search_options → 400 naming the field", () => {
  const cases: Array<[string, unknown, string]> = [
    ["not an object", "yes", "web_search_options"],
    ["search_context_size", { search_context_size: "huge" }, "web_search_options.search_context_size"],
    ["user_location.type", { user_location: { type: "exact" } }, "web_search_options.user_location.type"],
  ];
  for (const [name, options, param] of cases) {
    test(name, async () => {
      const before = chatCalls().length;
      const r = await post(e, { model: MODEL, messages: [{ role: "user", content: "hi" }], web_search_options: options });
      expect(r.status).toBe(400);
      const body = await r.json();
      expect(body.error.param).toBe(param);
      expect(body.error.type).toBe("invalid_request_error");
      expect(chatCalls().length).toBe(before);
    });
  }
});

describe("tool_choice", () => {
  test("required with only web_search_options: the first round must search, the answer cites the results", async () => {
    const before = chatCalls().length;
    const body = await (await post(e, ask({ tool_choice: "required" }))).json();
    expect(body.choices[0].message.content).toBe(ANSWER);
    expectCitations(body.choices[0].message.content, body.choices[0].message.annotations);
    const rounds = chatCalls().slice(before).map((q) => JSON.stringify(q.body));
    expect(rounds).toHaveLength(2);
    expect(rounds[0]).toContain('You must respond by calling the tool \\"web_search\\"');
    expect(rounds[1]).not.toContain("You must respond by calling");
  });
});
