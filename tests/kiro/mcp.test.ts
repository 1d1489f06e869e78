/**
 * src/kiro/mcp.ts against the fake's MCP endpoint: the JSON-RPC call, its headers, the parsed
 * hits, tool-level failures returned as outcomes, HTTP failures thrown as classified KiroErrors,
 * and endpoint-family fallback on 404.
 */
import { describe, expect, test } from "bun:test";
import type { KiroCredentials } from "../../src/kiro/client";
import type { KiroUpstreamConfig } from "../../src/kiro/config";
import { EndpointSelector } from "../../src/kiro/endpoints";
import { KiroError } from "../../src/kiro/errors";
import { listMcpTools, webSearch } from "../../src/kiro/mcp";
import { fakeSearchHits } from "../fake-kiro/mcp";
import { useFakeKiro } from "../support/kiro";

const kiro = useFakeKiro();
const creds = kiro.creds;

const mcpCalls = () => kiro.fake.requests.filter((r) => r.path === "/mcp");

async function thrown(p: Promise<unknown>): Promise<KiroError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  if (!(e instanceof KiroError)) throw new Error(`expected a KiroError, got ${String(e)}`);
  return e;
}

describe("web search through MCP", () => {
  test("tools/call web_search: hits parsed, JSON-RPC body and headers as the service expects", async () => {
    const c = await creds();
    const out = await webSearch(c, kiro.upstream, { query: "  bun runtime release  " });
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    const expected = fakeSearchHits("bun runtime release");
    expect(out.query).toBe("bun runtime release");
    expect(out.totalResults).toBe(5);
    expect(out.hits.map((h) => h.url)).toEqual(expected.map((h) => h.url));
    expect(out.hits[0]).toMatchObject({ title: expected[0]!.title, snippet: expected[0]!.snippet, publishedDate: expected[0]!.publishedDate, domain: "en.wikipedia.org" });

    const [rec] = mcpCalls();
    expect(rec!.method).toBe("POST");
    expect(rec!.body).toMatchObject({ jsonrpc: "2.0", method: "tools/call", params: { name: "web_search", arguments: { query: "bun runtime release" } } });
    expect(typeof (rec!.body as any).id).toBe("string");
    expect(rec!.headers.authorization).toBe(`Bearer ${c.accessToken}`);
    expect(rec!.headers["x-amzn-kiro-profile-arn"]).toBe(c.profileArn!);
    expect(rec!.headers["content-type"]).toBe("application/json");
    expect(rec!.headers["user-agent"]).toContain("KiroIDE-");
    expect(rec!.headers["x-amzn-kiro-agent-mode"]).toBeUndefined();
  });

  test("an account without a profile sends no ARN header and still searches", async () => {
    const c = await creds({ kind: "idc", profileArn: null });
    expect(c.profileArn).toBeUndefined();
    const out = await webSearch(c, kiro.upstream, { query: "zig allocator" });
    expect(out.ok).toBe(true);
    expect(mcpCalls()[0]!.headers["x-amzn-kiro-profile-arn"]).toBeUndefined();
  });

  test("a plan without web search: no tool listed, the call is a not_in_plan outcome (no throw)", async () => {
    const c = await creds({ mcp: { webSearch: false } });
    expect(await listMcpTools(c, kiro.upstream)).toEqual([]);
    const out = await webSearch(c, kiro.upstream, { query: "anything" });
    expect(out).toEqual({ ok: false, code: "not_in_plan", message: "web search is not available for this account's plan" });
  });

  test("tools/list names web_search when the plan has it", async () => {
    const c = await creds();
    expect(await listMcpTools(c, kiro.upstream)).toEqual(["web_search"]);
  });

  test("the search backend failing inside the tool is an unavailable outcome", async () => {
    const c = await creds({ mcp: { toolErrorCalls: 1 } });
    const out = await webSearch(c, kiro.upstream, { query: "flaky" });
    expect(out).toEqual({ ok: false, code: "unavailable", message: "Search service temporarily unavailable" });
    expect((await webSearch(c, kiro.upstream, { query: "flaky" })).ok).toBe(true);
  });

  test("an empty query is refused without calling the service", async () => {
    const c = await creds();
    expect(await webSearch(c, kiro.upstream, { query: "   " })).toMatchObject({ ok: false, code: "invalid_input" });
    expect(mcpCalls()).toHaveLength(0);
  });

  test("fewer hits than usual are passed through as they come", async () => {
    const c = await creds({ mcp: { resultCount: 2 } });
    const out = await webSearch(c, kiro.upstream, { query: "rare topic" });
    expect(out.ok && out.hits.length).toBe(2);
  });
});

describe("HTTP failures are classified like every other upstream answer", () => {
  test("an invalid bearer → expired_token", async () => {
    const c = await creds();
    const e = await thrown(webSearch({ ...c, accessToken: "not-a-token" }, kiro.upstream, { query: "q" }));
    expect(e.cls).toBe("expired_token");
    expect(e.status).toBe(403);
  });

  test("suspended, out of credits, throttled", async () => {
    const s = await creds({ behaviour: { suspended: true } });
    expect((await thrown(webSearch(s, kiro.upstream, { query: "q" }))).cls).toBe("suspended");
    const q = await creds({ behaviour: { quota: true } });
    expect((await thrown(webSearch(q, kiro.upstream, { query: "q" }))).cls).toBe("quota_exhausted");
    const t = await creds({ behaviour: { throttleCalls: 1, retryAfterSec: 3 } });
    const e = await thrown(webSearch(t, kiro.upstream, { query: "q" }));
    expect(e.cls).toBe("throttled");
    expect(e.retryAfterMs).toBe(3000);
  });

  test("a 500 is transient", async () => {
    const c = await creds({ behaviour: { transient500Calls: 1 } });
    expect((await thrown(webSearch(c, kiro.upstream, { query: "q" }))).cls).toBe("transient");
  });

  test("an ARN that is not the account's → forbidden", async () => {
    const c = await creds();
    const e = await thrown(webSearch({ ...c, profileArn: "arn:aws:codewhisperer:us-east-1:111111111111:profile/OTHERPROFILE" }, kiro.upstream, { query: "q" }));
    expect(e.cls).toBe("forbidden");
  });

  test("a host family that answers 404 falls back to the next one", async () => {
    const c = await creds();
    const endpoints = new EndpointSelector({
      families: [
        { family: "A", template: `${kiro.fake.url}/gone` },
        { family: "B", template: kiro.fake.url },
      ],
    });
    const noPin: KiroUpstreamConfig = { region: "us-east-1", authUrl: kiro.fake.url, oidcUrl: kiro.fake.url };
    const out = await webSearch(c, noPin, { query: "fallback" }, undefined, { endpoints });
    expect(out.ok).toBe(true);
    expect(kiro.fake.requests.map((r) => r.path).filter((p) => p.endsWith("/mcp"))).toEqual(["/gone/mcp", "/mcp"]);
  });

  test("the caller's abort ends the call with the abort, not an upstream error", async () => {
    const c = await creds({ behaviour: { slowFirstByteMs: 0 } });
    const ac = new AbortController();
    ac.abort(new Error("client went away"));
    const e = await webSearch(c, kiro.upstream, { query: "q" }, ac.signal).then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(Error);
    expect(e).not.toBeInstanceOf(KiroError);
  });
});

describe("the fake's MCP JSON-RPC layer", () => {
  async function post(c: KiroCredentials, body: unknown): Promise<{ status: number; json: any }> {
    const res = await fetch(`${kiro.fake.url}/mcp`, {
      method: "POST",
      headers: { authorization: `Bearer ${c.accessToken}`, "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: res.status, json: await res.json() };
  }

  test("initialize, a notification, an unknown method, a body that is not an object", async () => {
    const c = await creds();
    const init = await post(c, { id: 1, jsonrpc: "2.0", method: "initialize", params: {} });
    expect(init).toMatchObject({ status: 200, json: { id: 1, jsonrpc: "2.0", result: { capabilities: { tools: {} } } } });
    expect(await post(c, { jsonrpc: "2.0", method: "notifications/initialized" })).toEqual({ status: 200, json: {} });
    expect((await post(c, { id: 2, jsonrpc: "2.0", method: "resources/list" })).json.error.code).toBe(-32601);
    expect((await post(c, { id: 3, jsonrpc: "1.0", method: "tools/list" })).json.error.code).toBe(-32600);
    expect(await post(c, "[1,2]")).toMatchObject({ status: 400, json: { message: "Improperly formed request." } });
  });
});
