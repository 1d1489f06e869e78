/**
 * What POST /v1/responses accepts and refuses: the request shapes Codex and the AI SDK really
 * send (200, never a 400 for unknown tools or decorations), the text.format emulation, storage
 * scoping per client key, and bad input → a Responses-shaped 4xx naming the field, nothing stored.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ResponsesRepo } from "../../src/db/responses-store";
import { toolScenario, textScenario } from "../fake-kiro/scenarios";
import { startE2E, type E2E } from "../support/e2e";
import { loggedRow } from "../support/request-log";
import { parseSse } from "./sse";

let e: E2E;
let store: ResponsesRepo;
let otherKey: string;
beforeAll(async () => {
  e = await startE2E();
  store = e.services.responses;
  otherKey = (await e.services.keys.create({ name: "other" })).key;
});
afterAll(async () => {
  await e?.stop();
});

const MODEL = "claude-sonnet-4-5";
const req = (method: string, path: string, body?: unknown, key = e.clientKey, headers: Record<string, string> = {}) =>
  fetch(`${e.url}${path}`, { method, headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers }, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) });
const post = (body: unknown, key?: string, headers?: Record<string, string>) => req("POST", "/v1/responses", body, key, headers);
const upstream = () => (e.fake.requests.at(-1)!.body as any).conversationState;

describe("accepted as real clients send it", () => {
  test("a Codex 0.169 turn: developer prompt, ids everywhere, foreign reasoning, client_metadata, hosted tools", async () => {
    e.fake.enqueue(textScenario("All set."));
    const r = await post(
      {
        model: "claude-sonnet-4.5",
        instructions: undefined,
        input: [
          { type: "message", id: "msg_a1", role: "developer", content: [{ type: "input_text", text: "You are Codex." }] },
          { type: "message", id: "msg_a2", role: "user", content: [{ type: "input_text", text: "<environment_context>cwd=/w</environment_context>" }] },
          { type: "message", id: "msg_a3", role: "user", content: [{ type: "input_text", text: "run it" }] },
          { type: "reasoning", id: "rs_x", summary: [{ type: "summary_text", text: "plan" }], content: null, encrypted_content: "gAAAAB-from-elsewhere" },
          { type: "function_call", id: "fc_1", status: "completed", name: "exec_command", arguments: '{"cmd":"echo hi"}', call_id: "call_abc" },
          { type: "function_call_output", id: "fco_1", call_id: "call_abc", output: "hi\nProcess exited with code 0" },
          { type: "web_search_call", id: "ws_1", status: "completed", action: { type: "search", query: "x" } },
        ],
        tools: [
          { type: "function", name: "exec_command", description: "run", strict: false, parameters: { type: "object", properties: { cmd: { type: "string" } }, required: ["cmd"], additionalProperties: false } },
          { type: "namespace", name: "multi_agent_v1", description: "agents", tools: [{ type: "function", name: "spawn_agent", description: "spawn", parameters: { type: "object", properties: {} } }] },
          { type: "tool_search", execution: "client", description: "# Tool discovery" },
          { type: "web_search", external_web_access: false, search_content_types: ["text", "image"] },
        ],
        tool_choice: "auto",
        parallel_tool_calls: true,
        reasoning: { effort: "medium" },
        store: false,
        stream: true,
        include: ["reasoning.encrypted_content"],
        prompt_cache_key: "019b-session",
        text: { verbosity: "low" },
        client_metadata: { session_id: "019b-session", turn_id: "t1" },
      },
      undefined,
      { accept: "text/event-stream", "session-id": "019b-session", "x-codex-turn-metadata": '{"request_kind":"turn"}' },
    );
    expect(r.status).toBe(200);
    const { events } = parseSse(await r.text());
    expect(events.at(-1)!.data.type).toBe("response.completed");
    const cs = upstream();
    const names = cs.currentMessage.userInputMessage.userInputMessageContext.tools.map((t: any) => t.toolSpecification.name).sort();
    // The hosted web_search tool is served (tests/responses/web-search.test.ts): declared as a function.
    expect(names).toEqual(["exec_command", "spawn_agent", "web_search"]);
    expect(JSON.stringify(cs)).toContain("You are Codex.");
    expect(cs.currentMessage.userInputMessage.userInputMessageContext.toolResults[0].toolUseId).toBe("call_abc");
  });

  test("Codex's compaction request: tools [] with tool_choice auto", async () => {
    e.fake.enqueue(textScenario("Summary."));
    const r = await post({ model: MODEL, input: [{ type: "message", role: "user", content: [{ type: "input_text", text: "You are performing a CONTEXT CHECKPOINT COMPACTION" }] }], tools: [], tool_choice: "auto", store: false, stream: true });
    expect(r.status).toBe(200);
    expect(await r.text()).toContain("response.completed");
  });

  test("AI SDK items: no type, string content, system role; input as a plain string", async () => {
    e.fake.enqueue(textScenario("fine"));
    const r = await post({ model: MODEL, input: [{ role: "system", content: "SYS" }, { role: "user", content: "hey" }] });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toContain("application/json");
    expect((await r.json()).output_text).toBe("fine");
    expect(JSON.stringify(upstream())).toContain("SYS");
    e.fake.enqueue(textScenario("plain"));
    const r2 = await post({ model: MODEL, input: "just text", some_future_field: { x: 1 } });
    expect((await r2.json()).output_text).toBe("plain");
  });

  test("local_shell: a local_shell_call with an exec action; its output replays as a tool result", async () => {
    e.fake.enqueue(toolScenario([{ name: "local_shell", input: { command: ["ls", "-la"], workdir: "/w" } }]));
    const b = await (await post({ model: MODEL, input: "list", tools: [{ type: "local_shell" }] })).json();
    expect(b.output[0]).toMatchObject({ type: "local_shell_call", status: "completed", action: { type: "exec", command: ["ls", "-la"], working_directory: "/w" } });
    e.fake.enqueue(textScenario("listed"));
    const r = await post({ model: MODEL, store: false, tools: [{ type: "local_shell" }], input: [{ role: "user", content: "list" }, b.output[0], { type: "local_shell_call_output", call_id: b.output[0].call_id, output: "total 0" }] });
    expect(r.status).toBe(200);
    const cs = upstream();
    expect(cs.history.at(-1).assistantResponseMessage.toolUses[0]).toMatchObject({ name: "local_shell", input: { command: ["ls", "-la"], workdir: "/w" } });
    expect(cs.currentMessage.userInputMessage.userInputMessageContext.toolResults[0].content[0].text).toBe("total 0");
  });

  test("input_file with text and images in tool output arrays", async () => {
    e.fake.enqueue(textScenario("read"));
    const file = Buffer.from("name,qty\nbolt,3\n").toString("base64");
    const r = await post({ model: MODEL, input: [{ role: "user", content: [{ type: "input_text", text: "sum it" }, { type: "input_file", filename: "parts.csv", file_data: `data:text/csv;base64,${file}` }] }] });
    expect(r.status).toBe(200);
    expect(JSON.stringify(upstream())).toContain("bolt,3");
    const pdf = await post({ model: MODEL, input: [{ role: "user", content: [{ type: "input_file", filename: "a.pdf", file_data: "data:application/pdf;base64,JVBERi0xLjQK" }] }] });
    expect(pdf.status).toBe(400);
    expect((await pdf.json()).error.param).toBe("input[0].content[0].file_data");
  });

  test("namespace tool calls come back with their namespace", async () => {
    e.fake.enqueue(toolScenario([{ name: "spawn_agent", input: { task: "x" } }]));
    const r = await post({ model: MODEL, input: "go", tools: [{ type: "namespace", name: "agents", tools: [{ type: "function", name: "spawn_agent", parameters: { type: "object", properties: { task: { type: "string" } } } }] }] });
    const b = await r.json();
    expect(b.output[0]).toMatchObject({ type: "function_call", name: "spawn_agent", namespace: "agents" });
  });

  test("text.format json_schema: fenced reply normalised, stream sends the checked JSON", async () => {
    const format = { type: "json_schema", name: "city", schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false }, strict: true };
    e.fake.enqueue(textScenario('```json\n{"city":"Oslo"}\n```'));
    const r = await post({ model: MODEL, input: "city?", text: { format } });
    const b = await r.json();
    expect(JSON.parse(b.output_text)).toEqual({ city: "Oslo" });
    expect(b.text.format.name).toBe("city");
    expect(JSON.stringify(upstream())).toContain("JSON Schema");
    e.fake.enqueue(textScenario('Sure: {"city":"Bergen"}'));
    const s = await post({ model: MODEL, input: "city?", text: { format }, stream: true });
    const { events } = parseSse(await s.text());
    const done = events.find((x) => x.data.type === "response.output_text.done")!;
    expect(done.data.text).toBe('{"city":"Bergen"}');
    e.fake.enqueue(textScenario("no json here"));
    const bad = await post({ model: MODEL, input: "city?", text: { format } });
    expect(bad.status).toBeGreaterThanOrEqual(500);
    expect((await bad.json()).error.message).toContain("text.format");
  });

  test("reasoning.effort → thinking upstream (native fields on 4.6, tags before)", async () => {
    e.fake.enqueue(textScenario("a"));
    await (await post({ model: "claude-sonnet-4-6", input: "x", reasoning: { effort: "high" } })).json();
    expect((e.fake.requests.at(-1)!.body as any).additionalModelRequestFields).toEqual({ thinking: { type: "adaptive" }, output_config: { effort: "high" } });
    e.fake.enqueue(textScenario("b"));
    await (await post({ model: MODEL, input: "x", reasoning: { effort: "low" } })).json();
    expect(JSON.stringify(upstream())).toContain("<thinking_effort>low</thinking_effort>");
    e.fake.enqueue(textScenario("c"));
    await (await post({ model: MODEL, input: "x", reasoning: { summary: "auto" } })).json();
    expect(JSON.stringify(upstream())).not.toContain("<thinking_mode>");
  });

  test("max_output_tokens reached (non-stream) → status incomplete", async () => {
    e.fake.enqueue(textScenario("a".repeat(400), { chunks: 40 }));
    const b = await (await post({ model: MODEL, input: "long", max_output_tokens: 16 })).json();
    expect(b.status).toBe("incomplete");
    expect(b.incomplete_details).toEqual({ reason: "max_output_tokens" });
  });

  test("request log, metrics: dialect responses", async () => {
    e.fake.enqueue(textScenario("logged"));
    const requestId = `req_responses_log_${Date.now()}`;
    const logged = new Promise<any>((resolve) => {
      const off = e.services.bus.on((ev) => {
        if (ev.kind === "request" && ev.requestId === requestId) {
          off();
          resolve(ev.data);
        }
      });
    });
    const r = await post({ model: MODEL, input: "log me", stream: true }, undefined, { "x-request-id": requestId });
    expect(r.headers.get("x-request-id")).toBe(requestId);
    await r.text();
    const entry = await logged;
    expect(entry).toMatchObject({ dialect: "responses", model: MODEL, status: 200, stream: true });
    expect(entry.outputTokens).toBeGreaterThan(0);
    const row = await loggedRow(e.services, requestId, "dialect");
    expect(row).toEqual({ dialect: "responses" });
    const metrics = await (await req("GET", "/metrics")).text();
    expect(metrics).toMatch(/kiro_requests_total\{dialect="responses",model="claude-sonnet-4-5",status="200"\} [1-9]/);
  });

  test("prompt_cache_key is the affinity key (same upstream conversation for the same key)", async () => {
    e.fake.enqueue(textScenario("a"));
    await (await post({ model: MODEL, input: "one", prompt_cache_key: "sess-42" })).json();
    const c1 = upstream().conversationId;
    e.fake.enqueue(textScenario("b"));
    await (await post({ model: MODEL, input: "two", prompt_cache_key: "sess-42" })).json();
    expect(upstream().conversationId).toBe(c1);
  });
});

describe("stored responses", () => {
  test("store:false keeps nothing; store (default) is per client key", async () => {
    e.fake.enqueue(textScenario("not kept"));
    const a = await (await post({ model: MODEL, input: "x", store: false })).json();
    expect((await req("GET", `/v1/responses/${a.id}`)).status).toBe(404);
    e.fake.enqueue(textScenario("kept"));
    const b = await (await post({ model: MODEL, input: "x" })).json();
    expect((await req("GET", `/v1/responses/${b.id}`)).status).toBe(200);
    // Another key: every route says not found, and it cannot be continued.
    for (const [m, p] of [["GET", `/v1/responses/${b.id}`], ["GET", `/v1/responses/${b.id}/input_items`], ["DELETE", `/v1/responses/${b.id}`]] as const) {
      const r = await req(m, p, undefined, otherKey);
      expect(r.status).toBe(404);
      expect((await r.json()).error.type).toBe("invalid_request_error");
    }
    const cont = await post({ model: MODEL, input: "more", previous_response_id: b.id }, otherKey);
    expect(cont.status).toBe(400);
    expect((await cont.json()).error).toMatchObject({ param: "previous_response_id", code: "previous_response_not_found" });
    expect((await req("GET", `/v1/responses/${b.id}`)).status).toBe(200);
  });

  test("item_reference to a stored item resolves to it", async () => {
    e.fake.enqueue(toolScenario([{ name: "get_time", input: { zone: "UTC" } }]));
    const tool = { type: "function", name: "get_time", parameters: { type: "object", properties: { zone: { type: "string" } } } };
    const first = await (await post({ model: MODEL, input: "time?", tools: [tool] })).json();
    const call = first.output[0];
    e.fake.enqueue(textScenario("noon"));
    const r = await post({ model: MODEL, store: false, tools: [tool], input: [{ role: "user", content: "time?" }, { type: "item_reference", id: call.id }, { type: "function_call_output", call_id: call.call_id, output: "12:00" }] });
    expect(r.status).toBe(200);
    const use = upstream().history.at(-1).assistantResponseMessage.toolUses[0];
    expect(use).toMatchObject({ toolUseId: call.call_id, name: "get_time", input: { zone: "UTC" } });
    // Stored with the reference resolved, so a continuation of it replays the real item.
    e.fake.enqueue(textScenario("noon again"));
    const kept = await (await post({ model: MODEL, tools: [tool], input: [{ role: "user", content: "time?" }, { type: "item_reference", id: call.id }, { type: "function_call_output", call_id: call.call_id, output: "12:00" }] })).json();
    e.fake.enqueue(textScenario("still noon"));
    const next = await post({ model: MODEL, previous_response_id: kept.id, input: "and now?" });
    expect(next.status).toBe(200);
    expect(JSON.stringify(upstream())).toContain("get_time");
  });

  test("streaming GET of a stored response is refused, not hung", async () => {
    e.fake.enqueue(textScenario("kept"));
    const b = await (await post({ model: MODEL, input: "x" })).json();
    const r = await req("GET", `/v1/responses/${b.id}?stream=true`);
    expect(r.status).toBe(400);
    expect((await r.json()).error.param).toBe("stream");
  });
});

describe("bad input → Responses-shaped 4xx naming the field, nothing stored", () => {
  const cases: Array<[string, unknown, number, string | null]> = [
    ["unknown role", { model: MODEL, input: [{ type: "message", role: "robot", content: "x" }] }, 400, "input[0].role"],
    ["unknown content part", { model: MODEL, input: [{ role: "user", content: [{ type: "input_video", url: "x" }] }] }, 400, "input[0].content[0].type"],
    ["function_call without call_id", { model: MODEL, input: [{ role: "user", content: "x" }, { type: "function_call", name: "f", arguments: "{}" }] }, 400, "input[1].call_id"],
    ["item without type or role", { model: MODEL, input: [{ content: "x" }] }, 400, "input[0].type"],
    ["https image", { model: MODEL, input: [{ role: "user", content: [{ type: "input_image", image_url: "https://example.com/a.png" }] }] }, 400, "input[0].content[0].image_url"],
    ["function tool without a name", { model: MODEL, input: "x", tools: [{ type: "function", parameters: {} }] }, 400, "tools[0].name"],
    ["tool without a type", { model: MODEL, input: "x", tools: [{ name: "f" }] }, 400, "tools[0].type"],
    ["tool_choice naming an undeclared tool", { model: MODEL, input: "x", tools: [{ type: "function", name: "f" }], tool_choice: { type: "function", name: "g" } }, 400, "tool_choice"],
    ["unknown previous_response_id", { model: MODEL, input: "x", previous_response_id: "resp_0123456789abcdef0123456789abcdef" }, 400, "previous_response_id"],
    ["model not a string", { model: 7, input: "x" }, 400, "model"],
    ["unknown model", { model: "gpt-4o", input: "x" }, 404, "model"],
    ["max_output_tokens negative", { model: MODEL, input: "x", max_output_tokens: -1 }, 400, "max_output_tokens"],
    ["background mode", { model: MODEL, input: "x", background: true }, 400, "background"],
    ["unknown text.format", { model: MODEL, input: "x", text: { format: { type: "yaml" } } }, 400, "text.format.type"],
    ["no user input", { model: MODEL, input: [] }, 400, "input"],
    ["not JSON", "{nope", 400, "body"],
  ];
  for (const [name, body, status, param] of cases) {
    test(name, async () => {
      await store.flush(); // earlier tests' responses are stored
      const before = await store.count();
      const chats = e.fake.requests.length;
      const r = await post(body);
      expect(r.status).toBe(status);
      expect(r.headers.get("content-type")).toContain("application/json");
      const b = await r.json();
      expect(typeof b.error.message).toBe("string");
      expect(b.error.type).toBe("invalid_request_error");
      expect(b.error.param).toBe(param);
      await store.flush();
      expect(await store.count()).toBe(before);
      expect(e.fake.requests.length).toBe(chats);
    });
  }

  test("missing key → 401 in the same shape", async () => {
    const r = await fetch(`${e.url}/v1/responses`, { method: "POST", body: JSON.stringify({ model: MODEL, input: "x" }) });
    expect(r.status).toBe(401);
    expect((await r.json()).error.code).toBe("invalid_api_key");
  });
});
