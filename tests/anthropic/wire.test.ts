/** Raw-wire assertions on /v1/messages (checks A1–A12 and E1–E7 of docs/wire-checks.md) with fetch. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startE2E, type E2E } from "../support/e2e";
import { loggedRow } from "../support/request-log";
import { createApp } from "../../src/app";
import { textEvent, textScenario } from "../fake-kiro/scenarios";
import { validateGenerateAssistantRequest } from "../fake-kiro/validator";
import { assertConformantStream, parseSse } from "./sse";
import fixture from "../fixtures/claude-code/messages-adaptive.json";

let e: E2E;
beforeAll(async () => {
  e = await startE2E();
});
afterAll(async () => {
  await e.stop();
});

const tools = [
  { name: "get_weather", description: "weather", input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
  { name: "get_time", description: "time", input_schema: { type: "object", properties: { zone: { type: "string" } }, required: ["zone"] } },
  { name: "ping_server", description: "no args", input_schema: { type: "object", properties: {} } },
];

function post(path: string, body: unknown, headers: Record<string, string> = {}, base = e.url) {
  return fetch(`${base}${path}`, {
    method: "POST",
    headers: { "x-api-key": e.clientKey, "content-type": "application/json", accept: "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

const msg = (text: string, extra: Record<string, unknown> = {}) => ({
  model: "claude-sonnet-4-6",
  max_tokens: 1024,
  stream: true,
  messages: [{ role: "user", content: text }],
  ...extra,
});

describe("stream structure", () => {
  for (const [name, body] of [
    ["text", msg("[[fake:text]]")],
    ["thinking tags + text", msg("[[fake:thinking]]", { max_tokens: 4096, thinking: { type: "enabled", budget_tokens: 1024 } })],
    ["reasoning + signature", msg("[[fake:reasoning]]")],
    ["tool call", msg("[[fake:tools]]", { tools })],
    ["parallel tool calls", msg("[[fake:parallel_tools]]", { tools })],
    ["long answer", msg("[[fake:long]]")],
    ["content length → max_tokens", msg("[[fake:content_length]]")],
  ] as const) {
    test(`${name}: conformant SSE (A1–A9), even with Accept: application/json`, async () => {
      const r = await post("/v1/messages?beta=true", body);
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toStartWith("text/event-stream");
      expect(r.headers.get("request-id")).toBeTruthy();
      const ev = assertConformantStream(parseSse(await r.text()));
      if (name === "tool call") {
        expect(ev.at(-2)!.data.delta.stop_reason).toBe("tool_use");
        const deltas = ev.filter((x) => x.data.delta?.type === "input_json_delta");
        expect(deltas.length).toBeGreaterThan(1);
      }
      if (name === "content length → max_tokens") expect(ev.at(-2)!.data.delta.stop_reason).toBe("max_tokens");
      if (name === "reasoning + signature") {
        const sig = ev.filter((x) => x.data.delta?.type === "signature_delta");
        expect(sig.length).toBe(1);
        expect(sig[0]!.data.delta.signature).toBe("sig-abc123");
      }
    });
  }

  test("a no-argument tool gets exactly one input_json_delta that parses to {}", async () => {
    e.fake.enqueue({ steps: [{ event: "toolUseEvent", payload: { name: "ping_server", toolUseId: "tooluse_noargsAAAAAAAAAAAAAA" } }, { event: "toolUseEvent", payload: { name: "ping_server", toolUseId: "tooluse_noargsAAAAAAAAAAAAAA", stop: true } }] });
    const r = await post("/v1/messages", msg("go", { tools }));
    const ev = assertConformantStream(parseSse(await r.text()));
    const d = ev.filter((x) => x.event === "content_block_delta");
    expect(d.length).toBe(1);
    expect(d[0]!.data.delta.type).toBe("input_json_delta");
    expect(JSON.parse(d[0]!.data.delta.partial_json || "{}")).toEqual({});
  });

  test("mid-stream failure ends with one event: error and nothing after it (A11)", async () => {
    const r = await post("/v1/messages", msg("[[fake:exception]]"));
    expect(r.status).toBe(200);
    const ev = parseSse(await r.text());
    expect(ev.filter((x) => x.event === "error").length).toBe(1);
    expect(ev.at(-1)!.event).toBe("error");
    expect(ev.at(-1)!.data.error).toMatchObject({ type: "rate_limit_error" });
    expect(typeof ev.at(-1)!.data.error.message).toBe("string");
    expect(ev.some((x) => x.event === "message_stop")).toBe(false);
  });

  test("stream:false gives the JSON message (A12)", async () => {
    const r = await post("/messages", msg("[[fake:tools]]", { stream: false, tools }));
    expect(r.headers.get("content-type")).toBe("application/json");
    const m = await r.json();
    expect(m).toMatchObject({ type: "message", role: "assistant", stop_reason: "tool_use", stop_sequence: null });
    expect(m.content.map((b: any) => b.type)).toEqual(["text", "tool_use"]);
    expect(m.content[1].input).toEqual({ city: "fake" });
    expect(m.id).toStartWith("msg_");
  });

  test("pings during a quiet upstream at the configured interval (A10)", async () => {
    const app = createApp(e.services, { keepAliveMs: 60 });
    app.listen({ port: 0, hostname: "127.0.0.1", reusePort: false });
    try {
      e.fake.enqueue({ steps: [textEvent("a"), { delayMs: 400 }, textEvent("b")] });
      const r = await post("/v1/messages", msg("quiet"), {}, `http://127.0.0.1:${app.server!.port}`);
      const all = parseSse(await r.text());
      const ev = assertConformantStream(all);
      const firstText = all.findIndex((x) => x.data.delta?.text === "a");
      const lastText = all.findIndex((x) => x.data.delta?.text === "b");
      const pings = all.slice(firstText, lastText).filter((x) => x.event === "ping");
      expect(pings.length).toBeGreaterThanOrEqual(3);
      expect(pings[0]!.data).toEqual({ type: "ping" });
      expect(ev.length).toBeGreaterThan(0);
    } finally {
      await app.stop(true);
    }
  });
});

describe("routing, auth, errors", () => {
  test("Bearer and x-api-key both authenticate; anything else is a 401 authentication_error", async () => {
    const ok = await fetch(`${e.url}/v1/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${e.clientKey}`, "anthropic-version": "2026-10-21", "content-type": "application/json" },
      body: JSON.stringify(msg("[[fake:text]]", { stream: false })),
    });
    expect(ok.status).toBe(200);
    const bad = await post("/v1/messages", msg("x"), { "x-api-key": "nope" });
    expect(bad.status).toBe(401);
    expect(bad.headers.get("content-type")).toBe("application/json");
    const body = await bad.json();
    expect(body).toMatchObject({ type: "error", error: { type: "authentication_error" } });
    expect(body.request_id).toBe(bad.headers.get("request-id"));
  });

  test("invalid JSON and missing fields are 400 invalid_request_error naming the field", async () => {
    const r = await fetch(`${e.url}/v1/messages`, { method: "POST", headers: { "x-api-key": e.clientKey }, body: "{nope" });
    expect(r.status).toBe(400);
    expect((await r.json()).error.type).toBe("invalid_request_error");
    const r2 = await post("/v1/messages", { model: "claude-sonnet-4-6", max_tokens: 10 });
    expect(r2.status).toBe(400);
    expect((await r2.json()).error.message).toContain("messages");
  });

  test("server tools and URL images are rejected clearly", async () => {
    // web_search is served (tests/turn/web-search.test.ts); other server tools are not.
    const r = await post("/v1/messages", msg("x", { tools: [{ type: "code_execution_20250522", name: "code_execution" }] }));
    expect(r.status).toBe(400);
    expect((await r.json()).error.message).toContain("code_execution");
    const r2 = await post("/v1/messages", {
      model: "claude-sonnet-4-6",
      max_tokens: 10,
      messages: [{ role: "user", content: [{ type: "image", source: { type: "url", url: "http://169.254.169.254/x.png" } }] }],
    });
    expect(r2.status).toBe(400);
    expect((await r2.json()).error.message).toContain("base64");
  });

  test("unknown model → 404 not_found_error listing valid names", async () => {
    const r = await post("/v1/messages", msg("x", { model: "claude-9000" }));
    expect(r.status).toBe(404);
    const b = await r.json();
    expect(b.error.type).toBe("not_found_error");
    expect(b.error.message).toContain("claude-opus-4-6");
  });

  test("count_tokens (any query string, alias path) → {input_tokens}", async () => {
    const body = { model: "claude-sonnet-4-6", messages: [{ role: "user", content: "hello there" }] };
    const a = await post("/v1/messages/count_tokens?beta=true", body);
    const b = await post("/messages/count_tokens", { ...body, system: "You are a long system prompt ".repeat(20) });
    expect(a.headers.get("content-type")).toBe("application/json");
    const na = (await a.json()).input_tokens;
    const nb = (await b.json()).input_tokens;
    expect(Number.isInteger(na) && na > 0).toBe(true);
    expect(nb).toBeGreaterThan(na + 50);
  });

  test("the request log row and key usage are written when the turn ends", async () => {
    const before = e.services.keys.list().find((k) => k.builtin)!.requests;
    const r = await post("/v1/messages", msg("[[fake:text]]", { stream: false }), { "x-request-id": "req-log-check" });
    expect(r.status).toBe(200);
    const row = (await loggedRow(e.services, "req-log-check"))!;
    expect(row).toMatchObject({ dialect: "anthropic", model: "claude-sonnet-4-6", status: 200, stop_reason: "end_turn" });
    expect(row.output_tokens).toBeGreaterThan(0);
    expect(row.account_id).toBe(e.accountIds[0]);
    expect(e.services.keys.list().find((k) => k.builtin)!.requests).toBe(before + 1);
  });
});

describe("Claude Code request body", () => {
  const ccHeaders = {
    "anthropic-version": "2023-06-01",
    "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27,effort-2025-11-24",
    "x-app": "cli",
    "anthropic-dangerous-direct-browser-access": "true",
  };

  for (const [variant, body] of [
    ["adaptive (opus, system-role message, effort)", fixture],
    ["budget thinking (sonnet 4.5, 31999 budget)", { ...fixture, model: "claude-sonnet-4-5-20250929", thinking: { type: "enabled", budget_tokens: 31999, display: "omitted" }, output_config: undefined, messages: fixture.messages.filter((m: any) => m.role !== "system") }],
  ] as const) {
    test(`${variant}: valid upstream request and a valid stream`, async () => {
      const n = e.fake.requests.length;
      const r = await post("/v1/messages?beta=true", body, ccHeaders);
      expect(r.status).toBe(200);
      const ev = assertConformantStream(parseSse(await r.text()));
      expect(ev.at(-2)!.data.delta.stop_reason).toBe("tool_use");
      const call = ev.find((x) => x.event === "content_block_start" && x.data.content_block.type === "tool_use")!;
      expect(call.data.content_block.name).toBe("Task");
      const chat = e.fake.requests.slice(n).filter((x) => x.path.endsWith("generateAssistantResponse"));
      expect(chat.length).toBe(1);
      expect(validateGenerateAssistantRequest(chat[0]!.body)).toEqual({ ok: true });
      const sent = JSON.stringify(chat[0]!.body);
      // The system-role message, the tool_reference result and all 13 tools made it upstream.
      if (variant.startsWith("adaptive")) expect(sent).toContain("The user is on the Max plan");
      expect(sent).toContain("Tool loaded: NotebookEdit");
      const ctx = (chat[0]!.body as any).conversationState.currentMessage.userInputMessage.userInputMessageContext;
      expect(ctx.tools.length).toBe(13);
    });
  }
});

describe("client disconnect", () => {
  test("aborting mid-stream cancels the upstream request", async () => {
    const abortsBefore = e.fake.aborts;
    e.fake.enqueue({ steps: [textEvent("first"), { delayMs: 3000 }, textEvent("never")] });
    const ac = new AbortController();
    const r = await fetch(`${e.url}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": e.clientKey, "content-type": "application/json" },
      body: JSON.stringify(msg("hang")),
      signal: ac.signal,
    });
    const reader = r.body!.getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toContain("message_start");
    ac.abort();
    const deadline = Date.now() + 2000;
    while (e.fake.aborts === abortsBefore && Date.now() < deadline) await Bun.sleep(20);
    expect(e.fake.aborts).toBe(abortsBefore + 1);
    // The lease was released: the next request is served normally.
    e.fake.enqueue(textScenario("after", { usage: false }));
    const next = await post("/v1/messages", msg("again", { stream: false }));
    expect((await next.json()).content[0].text).toBe("after");
  });
});
