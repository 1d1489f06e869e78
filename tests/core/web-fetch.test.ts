/** src/core/web-fetch.ts and how planWebSearch / the model-mode request take web fetch in. */
import { describe, expect, test } from "bun:test";
import type { CanonicalRequest, ServerToolRequest } from "../../src/core/canonical";
import { ModelCatalog } from "../../src/core/models";
import { choiceAfterServerCall, fetchEvents, fetchResultTextForModel, fetchUrl, planWebFetch } from "../../src/core/web-fetch";
import { planWebSearch, WebSearchInterceptor } from "../../src/core/web-search";
import { modelModeRequest } from "../../src/core/web-search-loop";

const WS: ServerToolRequest = { type: "web_search", name: "web_search", version: "web_search_20250305" };
const WF: ServerToolRequest = { type: "web_fetch", name: "web_fetch", version: "web_fetch_20250910" };
const READ = { name: "Read", description: "", inputSchema: { type: "object" } };

function req(over: Partial<CanonicalRequest> = {}): CanonicalRequest {
  return {
    model: new ModelCatalog({ fallback: "family" }).resolve("claude-sonnet-4-5"),
    system: "",
    messages: [{ role: "user", content: [{ type: "text", text: "Read https://bun.sh/ please" }] }],
    tools: [],
    serverTools: [WF],
    maxTokens: 1024,
    stopSequences: [],
    thinking: { type: "disabled" },
    metadata: { dialect: "anthropic" },
    ...over,
  };
}

describe("plans with web fetch", () => {
  test("web fetch alone → fetch_only; the model sees a function tool web_fetch {url}", () => {
    const p = planWebSearch(req());
    expect(p?.mode).toBe("fetch_only");
    if (p?.mode !== "fetch_only") return;
    expect(p.fetch.declaration.name).toBe("web_fetch");
    expect(p.fetch.declaration.inputSchema).toMatchObject({ required: ["url"] });
    const up = modelModeRequest(req({ tools: [READ] }), p);
    expect(up.tools.map((t) => t.name)).toEqual(["Read", "web_fetch"]);
    expect(up.serverTools).toEqual([]);
  });

  test("both tools → model mode offering both; a search named by tool_choice stays direct", () => {
    const both = req({ serverTools: [WS, WF] });
    const p = planWebSearch(both);
    expect(p).toMatchObject({ mode: "model", declaration: { name: "web_search" }, fetch: { tool: WF } });
    if (p?.mode !== "model") return;
    expect(modelModeRequest(both, p).tools.map((t) => t.name)).toEqual(["web_search", "web_fetch"]);
    expect(planWebSearch({ ...both, toolChoice: { type: "tool", name: "web_search" } })?.mode).toBe("direct");
    // "any" with no client tools lets the model choose between the two (web search alone: direct).
    expect(planWebSearch({ ...both, toolChoice: { type: "any" } })?.mode).toBe("model");
    expect(planWebSearch({ ...both, serverTools: [WS], toolChoice: { type: "any" } })?.mode).toBe("direct");
  });

  test("no web fetch declared → no fetch plan", () => {
    expect(planWebFetch(req({ serverTools: [WS] }))).toBeUndefined();
    expect(planWebSearch(req({ serverTools: [WS] }))).not.toHaveProperty("fetch");
  });
});

describe("calls, events and what the model reads", () => {
  test("the interceptor captures both server tools and tells them apart by name", () => {
    const i = new WebSearchInterceptor(["web_search", "web_fetch"]);
    const call = (id: string, name: string, json: string) => [
      { type: "tool_start" as const, id, name },
      { type: "tool_args" as const, id, json },
      { type: "tool_end" as const, id },
    ];
    const relayed = [...call("t1", "web_fetch", '{"url":" https://bun.sh/ "}'), ...call("t2", "web_search", '{"query":"bun"}'), ...call("t3", "Read", "{}")].flatMap((e) => i.feed(e));
    expect(i.calls.map((c) => [c.id, c.name])).toEqual([
      ["t1", "web_fetch"],
      ["t2", "web_search"],
    ]);
    expect(fetchUrl(i.calls[0]!.input)).toBe("https://bun.sh/");
    expect(relayed.map((e) => e.type)).toEqual(["tool_start", "tool_args", "tool_end"]);
    expect(i.clientCalls).toBe(1);
  });

  test("one call → server-tool call then an `unavailable` error with the same id", () => {
    const [use, err] = fetchEvents("srvtoolu_x", "https://bun.sh/");
    expect(use).toEqual({ type: "web_fetch_call", id: "srvtoolu_x", input: { url: "https://bun.sh/" } });
    expect(err).toMatchObject({ type: "web_fetch_error", toolUseId: "srvtoolu_x", code: "unavailable" });
    expect(fetchUrl({})).toBe("");
    expect(fetchUrl(null)).toBe("");
  });

  test("the model is told not to fetch again, and about web search only when it is offered", () => {
    const alone = fetchResultTextForModel("https://bun.sh/", false);
    expect(alone).toContain("The page https://bun.sh/ was not fetched");
    expect(alone).toContain("Do not call web_fetch again");
    expect(alone).not.toContain("web search");
    expect(fetchResultTextForModel("", true)).toContain("Use web search instead");
  });

  test("after a server-tool call, a choice forcing a server tool becomes auto; others are kept", () => {
    const names = ["web_search", "web_fetch"];
    const up = req({ tools: [{ ...READ, name: "web_fetch" }] });
    expect(choiceAfterServerCall({ type: "tool", name: "web_fetch" }, up, names)).toEqual({ type: "auto" });
    expect(choiceAfterServerCall({ type: "any" }, up, names)).toEqual({ type: "auto" });
    const withClient = req({ tools: [READ, { ...READ, name: "web_fetch" }] });
    expect(choiceAfterServerCall({ type: "any" }, withClient, names)).toEqual({ type: "any" });
    expect(choiceAfterServerCall({ type: "tool", name: "Read" }, withClient, names)).toEqual({ type: "tool", name: "Read" });
    expect(choiceAfterServerCall(undefined, withClient, names)).toBeUndefined();
  });
});
