/** src/core/web-search.ts: mode and query, domain filters, max_uses, events, model-mode interception. */
import { ModelCatalog } from "../../src/core/models";
import { describe, expect, test } from "bun:test";
import type { CanonicalEvent, CanonicalRequest, ServerToolRequest } from "../../src/core/canonical";
import {
  citedText,
  conflictingToolName,
  continueWithResults,
  digestEvents,
  filterHits,
  planWebSearch,
  resultTextForModel,
  searchEvents,
  urlMatchesDomain,
  WebSearchBudget,
  WebSearchInterceptor,
  type WebSearchHit,
} from "../../src/core/web-search";

const WS: ServerToolRequest = { type: "web_search", name: "web_search", version: "web_search_20250305", maxUses: 8 };

function req(over: Partial<CanonicalRequest> = {}): CanonicalRequest {
  return {
    model: new ModelCatalog({ fallback: "family" }).resolve("claude-sonnet-4-5"),
    system: "",
    messages: [{ role: "user", content: [{ type: "text", text: "What is new in Bun?" }] }],
    tools: [],
    serverTools: [WS],
    maxTokens: 1024,
    stopSequences: [],
    thinking: { type: "disabled" },
    metadata: { dialect: "anthropic" },
    ...over,
  };
}

const hits: WebSearchHit[] = [
  { url: "https://en.wikipedia.org/wiki/Bun", title: "Bun - Wikipedia", snippet: "Bun is a JavaScript runtime.", publishedDate: Date.UTC(2026, 0, 2) },
  { url: "https://docs.example.org/bun", title: "Bun docs", snippet: "Install with curl." },
  { url: "https://blog.example.net/posts/bun", title: "Bun blog", snippet: "" },
  { url: "https://example.org/blog/bun-1-4", title: "Release", snippet: "Bun 1.4 is out." },
];

describe("planWebSearch", () => {
  test("Claude Code's WebSearch sub-request (tool_choice forces web_search) → direct, prefix stripped", () => {
    const p = planWebSearch(
      req({
        messages: [{ role: "user", content: [{ type: "text", text: "Perform a web search for the query: bun 1.4 release notes" }] }],
        toolChoice: { type: "tool", name: "web_search" },
      }),
    );
    expect(p).toEqual({ mode: "direct", tool: WS, query: "bun 1.4 release notes" });
  });

  test("Claude Code's newer sub-request (tool_choice auto or absent, asks for a summary) → direct all the same", () => {
    const sub = [{ role: "user" as const, content: [{ type: "text" as const, text: "Perform a web search for the query: bun runtime release" }] }];
    const direct = { mode: "direct" as const, tool: WS, query: "bun runtime release" };
    expect(planWebSearch(req({ messages: sub, toolChoice: { type: "auto" } }))).toEqual(direct);
    expect(planWebSearch(req({ messages: sub }))).toEqual(direct);
    // "none" is respected; client tools, a longer conversation or another prompt leave the model to choose.
    expect(planWebSearch(req({ messages: sub, toolChoice: { type: "none" } }))?.mode).toBe("model");
    expect(planWebSearch(req({ messages: sub, tools: [{ name: "Read", description: "", inputSchema: { type: "object" } }] }))?.mode).toBe("model");
    const followUp = [...sub, { role: "assistant" as const, content: [{ type: "text" as const, text: "Done." }] }, { role: "user" as const, content: [{ type: "text" as const, text: "Perform a web search for the query: more" }] }];
    expect(planWebSearch(req({ messages: followUp }))?.mode).toBe("model");
    expect(planWebSearch(req({ toolChoice: { type: "auto" } }))?.mode).toBe("model");
  });

  test('"any" with no client tools also forces the search; the user text is the query', () => {
    expect(planWebSearch(req({ toolChoice: { type: "any" } }))).toMatchObject({ mode: "direct", query: "What is new in Bun?" });
  });

  test("not forced → model mode with a function tool named like the server tool", () => {
    const p = planWebSearch(req({ tools: [{ name: "Read", description: "", inputSchema: { type: "object" } }], toolChoice: { type: "any" } }));
    expect(p?.mode).toBe("model");
    if (p?.mode !== "model") return;
    expect(p.declaration.name).toBe("web_search");
    expect(p.declaration.inputSchema).toMatchObject({ required: ["query"] });
  });

  test("the declaration tells the model about domain limits", () => {
    const p = planWebSearch(req({ serverTools: [{ ...WS, allowedDomains: ["docs.example.org"] }] }));
    expect(p?.mode === "model" && p.declaration.description).toContain("Only results from docs.example.org");
  });

  test("no server tool → no plan; a client tool with the same name is a conflict", () => {
    expect(planWebSearch(req({ serverTools: [] }))).toBeUndefined();
    expect(conflictingToolName(req({ tools: [{ name: "web_search", description: "", inputSchema: { type: "object" } }] }))).toBe("web_search");
    expect(conflictingToolName(req())).toBeUndefined();
  });
});

describe("domain filters", () => {
  const table: Array<[string, string, boolean]> = [
    ["https://en.wikipedia.org/wiki/Bun", "wikipedia.org", true],
    ["https://en.wikipedia.org/wiki/Bun", "en.wikipedia.org", true],
    ["https://en.wikipedia.org/wiki/Bun", "de.wikipedia.org", false],
    ["https://notwikipedia.org/x", "wikipedia.org", false],
    ["https://example.org/blog/bun-1-4", "example.org/blog", true],
    ["https://example.org/blogger", "example.org/blog", false],
    ["https://EXAMPLE.org/Blog/x", "https://example.org/blog/", true],
    ["not a url", "example.org", false],
  ];
  for (const [url, domain, ok] of table) {
    test(`${url} on ${domain} → ${ok}`, () => expect(urlMatchesDomain(url, domain)).toBe(ok));
  }

  test("allowed_domains keeps only matches, blocked_domains drops them, order kept", () => {
    expect(filterHits(hits, { ...WS, allowedDomains: ["example.org"] }).map((h) => h.url)).toEqual([
      "https://docs.example.org/bun",
      "https://example.org/blog/bun-1-4",
    ]);
    expect(filterHits(hits, { ...WS, blockedDomains: ["wikipedia.org", "example.net"] }).map((h) => h.title)).toEqual(["Bun docs", "Release"]);
    expect(filterHits(hits, WS)).toHaveLength(4);
  });
});

describe("max_uses", () => {
  test("take() allows maxUses searches and counts them", () => {
    const b = new WebSearchBudget(2);
    expect([b.take(), b.take(), b.take()]).toEqual([true, true, false]);
    expect(b.used).toBe(2);
    const unlimited = new WebSearchBudget();
    for (let i = 0; i < 20; i++) expect(unlimited.take()).toBe(true);
  });
});

describe("events", () => {
  test("a search → server_tool_use then the filtered result", () => {
    const evs = searchEvents("srvtoolu_1", "bun", { ok: true, hits }, { ...WS, blockedDomains: ["example.net"] });
    expect(evs[0]).toEqual({ type: "server_tool_use", id: "srvtoolu_1", name: "web_search", input: { query: "bun" } });
    expect(evs[1]!.type === "web_search_result" && evs[1]!.hits.map((h) => h.title)).toEqual(["Bun - Wikipedia", "Bun docs", "Release"]);
  });

  test("a failed search (plan without web search) → an error result, and the digest says why", () => {
    const evs = searchEvents("srvtoolu_2", "bun", { ok: false, code: "unavailable", message: "web search is not available for this account's plan" }, WS);
    expect(evs[1]).toEqual({ type: "web_search_error", toolUseId: "srvtoolu_2", code: "unavailable", message: "web search is not available for this account's plan" });
    expect(digestEvents("bun", evs[1]!)).toEqual([
      { type: "cited_text", text: `The web search for "bun" failed (unavailable): web search is not available for this account's plan`, citations: [] },
    ]);
  });

  test("the digest cites every hit with a snippet and names title and URL in the text", () => {
    const [, result] = searchEvents("s", "bun", { ok: true, hits }, WS);
    const d = digestEvents("bun", result!);
    expect(d[0]).toEqual({ type: "cited_text", text: 'Web search results for "bun":\n\n', citations: [] });
    expect(d[1]).toEqual({
      type: "cited_text",
      text: "1. Bun - Wikipedia — https://en.wikipedia.org/wiki/Bun (2026-01-02)\nBun is a JavaScript runtime.\n\n",
      citations: [{ url: "https://en.wikipedia.org/wiki/Bun", title: "Bun - Wikipedia", citedText: "Bun is a JavaScript runtime." }],
    });
    expect(d[3]).toMatchObject({ citations: [] }); // empty snippet: nothing to cite
    expect(digestEvents("x", { type: "web_search_result", toolUseId: "s", hits: [] })[0]).toMatchObject({ text: 'The web search for "x" found no results.' });
  });

  test("cited text is at most 150 characters, cut between words", () => {
    const long = "word ".repeat(60);
    const c = citedText(long);
    expect(c.length).toBeLessThanOrEqual(150);
    expect(c.endsWith("word")).toBe(true);
  });

  test("the model's tool result lists title, URL and snippet; max_uses has its own wording", () => {
    const text = resultTextForModel("bun", { type: "web_search_result", toolUseId: "s", hits: hits.slice(0, 1) });
    expect(text).toContain("[1] Bun - Wikipedia\nURL: https://en.wikipedia.org/wiki/Bun (2026-01-02)\nBun is a JavaScript runtime.");
    expect(resultTextForModel("bun", { type: "web_search_error", toolUseId: "s", code: "max_uses_exceeded", message: "" })).toContain("limit of searches");
  });
});

describe("model mode: intercepting the model's search calls", () => {
  const call = (id: string, name: string, json: string): CanonicalEvent[] => [
    { type: "tool_start", id, name },
    { type: "tool_args", id, json: json.slice(0, 5) },
    { type: "tool_args", id, json: json.slice(5) },
    { type: "tool_end", id },
  ];

  test("search calls are captured, never relayed; text and client calls pass through", () => {
    const i = new WebSearchInterceptor("web_search");
    const relayed = [
      { type: "text", text: "Let me " } as CanonicalEvent,
      { type: "text", text: "look." } as CanonicalEvent,
      ...call("tooluse_1", "web_search", '{"query":" bun 1.4 "}'),
      ...call("tooluse_2", "Read", '{"path":"a"}'),
      { type: "stop", reason: "tool_use" } as CanonicalEvent,
    ].flatMap((e) => i.feed(e));
    expect(relayed.filter((e) => e.type === "tool_start").map((e) => e.type === "tool_start" && e.name)).toEqual(["Read"]);
    expect(relayed.some((e) => "id" in e && e.id === "tooluse_1")).toBe(false);
    expect(i.calls).toEqual([{ id: "tooluse_1", query: "bun 1.4", input: { query: " bun 1.4 " }, name: "web_search" }]);
    expect(i.clientCalls).toBe(1);
    expect(i.assistantParts()).toEqual([
      { type: "text", text: "Let me look." },
      { type: "tool_use", id: "tooluse_1", name: "web_search", input: { query: " bun 1.4 " } },
      { type: "tool_use", id: "tooluse_2", name: "Read", input: { path: "a" } },
    ]);
  });

  test("the next round's request pairs each search call with its result", () => {
    const i = new WebSearchInterceptor("web_search");
    for (const e of [{ type: "text", text: "Searching." } as CanonicalEvent, ...call("tooluse_9", "web_search", '{"query":"bun"}')]) i.feed(e);
    const base = req();
    const next = continueWithResults(base, i.assistantParts(), [{ call: i.calls[0]!, text: "Web search results…", isError: false }]);
    expect(next.messages).toHaveLength(3);
    expect(next.messages[1]).toEqual({
      role: "assistant",
      content: [{ type: "text", text: "Searching." }, { type: "tool_use", id: "tooluse_9", name: "web_search", input: { query: "bun" } }],
    });
    expect(next.messages[2]).toEqual({ role: "user", content: [{ type: "tool_result", toolUseId: "tooluse_9", content: [{ type: "text", text: "Web search results…" }] }] });
    expect(base.messages).toHaveLength(1); // the original request is not modified
  });
});
