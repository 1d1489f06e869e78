/**
 * Raw-wire checks of POST /v1/responses against the fake Kiro: stream conformance for text,
 * reasoning, function and freeform calls; errors before and after the 200; the request shapes
 * Codex and the AI SDK send; keep-alive during quiet periods.
 */
import { describe, expect, test } from "bun:test";
import { createApp } from "../../src/app";
import {
  contentLengthScenario, exceptionScenario, parallelToolScenario, reasoningScenario, stallScenario, textScenario, toolScenario,
} from "../fake-kiro/scenarios";
import { useE2E } from "../support/e2e";
import { postJson } from "../support/openai-clients";
import { assertConformant, parseSse } from "./sse";

const e = useE2E();

const MODEL = "claude-sonnet-4-5";
const post = (body: unknown, headers: Record<string, string> = {}) => postJson(e, "/v1/responses", body, headers);

async function stream(body: Record<string, unknown>) {
  const r = await post({ model: MODEL, stream: true, ...body });
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toContain("text/event-stream");
  const text = await r.text();
  expect(text).not.toContain("[DONE]");
  return parseSse(text).events;
}

const APPLY_PATCH = {
  type: "custom",
  name: "apply_patch",
  description: "Use the `apply_patch` tool to edit files. This is a FREEFORM tool, so do not wrap the patch in JSON.",
  format: { type: "grammar", syntax: "lark", definition: "start: begin_patch hunk+ end_patch\nbegin_patch: \"*** Begin Patch\" LF" },
};
const EXEC = { type: "function", name: "exec_command", description: "Runs a command", strict: false, parameters: { type: "object", properties: { cmd: { type: "string" } }, required: ["cmd"], additionalProperties: false } };

describe("stream conformance", () => {
  test("text", async () => {
    e.fake.enqueue(textScenario("Hello there, friend.", { chunks: 4 }));
    const r = assertConformant(await stream({ input: "hi" }));
    expect(r.status).toBe("completed");
    expect(r.output).toHaveLength(1);
    expect(r.output[0].content[0].text).toBe("Hello there, friend.");
    expect(r.output[0].id).toMatch(/^msg_/);
  });

  test("reasoning, then text; encrypted_content only when included, and replayable", async () => {
    e.fake.enqueue(reasoningScenario("Weighing options.", "Option B.", "sig-xyz"));
    const events = await stream({ input: "pick", reasoning: { effort: "medium" }, include: ["reasoning.encrypted_content"], store: false });
    const r = assertConformant(events);
    expect(r.output.map((o: any) => o.type)).toEqual(["reasoning", "message"]);
    expect(r.output[0].summary).toEqual([{ type: "summary_text", text: "Weighing options." }]);
    expect(typeof r.output[0].encrypted_content).toBe("string");
    // Codex echoes the item back: the model gets its signed thinking again.
    e.fake.enqueue(textScenario("ok"));
    const again = await post({ model: MODEL, store: false, reasoning: { effort: "medium" }, input: [{ role: "user", content: "pick" }, r.output[0], r.output[1], { role: "user", content: "why?" }] });
    expect(again.status).toBe(200);
    const up = JSON.stringify(e.fake.requests.at(-1)!.body);
    expect(up).toContain("Weighing options.");
  });

  test("function call: arguments streamed, {} when empty, tool-only turn", async () => {
    e.fake.enqueue(toolScenario([{ name: "exec_command", input: { cmd: "ls -la" }, fragmentSize: 4 }]));
    const r = assertConformant(await stream({ input: "list", tools: [EXEC] }));
    const call = r.output[0];
    expect(call).toMatchObject({ type: "function_call", status: "completed", name: "exec_command", arguments: '{"cmd":"ls -la"}' });
    expect(call.id).toMatch(/^fc_/);
    expect(call.call_id).toMatch(/^tooluse_/);
    e.fake.enqueue(toolScenario([{ name: "exec_command" }]));
    const r2 = assertConformant(await stream({ input: "list", tools: [EXEC] }));
    expect(r2.output[0].arguments).toBe("{}");
  });

  test("freeform apply_patch: custom_tool_call with the raw patch text", async () => {
    const patch = '*** Begin Patch\n*** Add File: a.txt\n+say "hi"\n*** End Patch';
    e.fake.enqueue(toolScenario([{ name: "apply_patch", input: { input: patch }, fragmentSize: 7 }], { text: "Patching." }));
    const events = await stream({ input: "patch", tools: [APPLY_PATCH, EXEC] });
    const r = assertConformant(events);
    expect(r.output.map((o: any) => o.type)).toEqual(["message", "custom_tool_call"]);
    expect(r.output[1].input).toBe(patch);
    expect(r.output[1].id).toMatch(/^ctc_/);
    const done = events.find((x) => x.data.type === "response.custom_tool_call_input.done")!;
    expect(done.data.input).toBe(patch);
    // Upstream saw a JSON tool with one string property `input`, the grammar in its description.
    const tools = (e.fake.requests.at(-1)!.body as any).conversationState.currentMessage.userInputMessage.userInputMessageContext.tools;
    const ap = tools.find((t: any) => t.toolSpecification.name === "apply_patch").toolSpecification;
    expect(ap.inputSchema.json.required).toEqual(["input"]);
    expect(ap.description).toContain("begin_patch hunk+ end_patch");
    // Replaying the call and its output gives the model the call with {input: patch} and the result.
    e.fake.enqueue(textScenario("done"));
    const next = await post({
      model: MODEL, store: false, tools: [APPLY_PATCH],
      input: [{ role: "user", content: "patch" }, ...r.output, { type: "custom_tool_call_output", call_id: r.output[1].call_id, output: "Exit code: 0" }],
    });
    expect(next.status).toBe(200);
    const cs = (e.fake.requests.at(-1)!.body as any).conversationState;
    const use = cs.history.at(-1).assistantResponseMessage.toolUses[0];
    expect(use).toMatchObject({ toolUseId: r.output[1].call_id, name: "apply_patch", input: { input: patch } });
    expect(cs.currentMessage.userInputMessage.userInputMessageContext.toolResults[0]).toMatchObject({ toolUseId: use.toolUseId, content: [{ text: "Exit code: 0" }] });
  });

  test("two calls in one turn become two items", async () => {
    e.fake.enqueue(parallelToolScenario([{ name: "exec_command", input: { cmd: "a" } }, { name: "exec_command", input: { cmd: "b" } }]));
    const r = assertConformant(await stream({ input: "two", tools: [EXEC] }));
    expect(r.output.map((o: any) => JSON.parse(o.arguments).cmd)).toEqual(["a", "b"]);
    expect(new Set(r.output.map((o: any) => o.call_id)).size).toBe(2);
  });

  test("max_output_tokens reached → response.incomplete", async () => {
    e.fake.enqueue(contentLengthScenario());
    const r = assertConformant(await stream({ input: "long", max_output_tokens: 1000 }));
    expect(r.status).toBe("incomplete");
    expect(r.incomplete_details).toEqual({ reason: "max_output_tokens" });
  });

  test("keep-alive comment during a quiet upstream", async () => {
    const app = createApp(e.services, { keepAliveMs: 40 });
    e.fake.enqueue(stallScenario("slow", { beforeMs: 0, betweenMs: 150 }));
    const res = await app.handle(new Request("http://x/v1/responses", {
      method: "POST",
      headers: { authorization: `Bearer ${e.clientKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: MODEL, input: "hi", stream: true }),
    }));
    const { events, comments } = parseSse(await res.text());
    expect(comments).toContain(": keepalive");
    assertConformant(events);
  });
});

describe("errors", () => {
  test("mid-stream throttle → response.failed rate_limit_exceeded with 'try again in'", async () => {
    e.fake.enqueue(exceptionScenario("ThrottlingException", "Too many requests"));
    const events = await stream({ input: "hi" });
    const r = assertConformant(events);
    expect(r.status).toBe("failed");
    expect(r.error.code).toBe("rate_limit_exceeded");
    expect(r.error.message).toMatch(/try again in \d+s/);
  });

  test("prompt too long → HTTP 400 context_length_exceeded", async () => {
    e.accounts[0]!.behaviour.inputTooLong = true;
    try {
      const r = await post({ model: MODEL, input: "hi", stream: true });
      expect(r.status).toBe(400);
      expect((await r.json()).error.code).toBe("context_length_exceeded");
    } finally {
      e.accounts[0]!.behaviour.inputTooLong = false;
    }
  });

  // Last in this file: it leaves the only account cooling down.
  test("before the stream: throttled pool → HTTP 429 JSON with retry-after and 'try again in'", async () => {
    e.accounts[0]!.behaviour.throttleCalls = 5;
    e.accounts[0]!.behaviour.retryAfterSec = 2;
    const r = await post({ model: MODEL, input: "hi", stream: true });
    expect(r.status).toBe(429);
    expect(r.headers.get("content-type")).toContain("application/json");
    expect(r.headers.get("retry-after")).toBeTruthy();
    const b = await r.json();
    expect(b.error.code).toBe("rate_limit_exceeded");
    expect(b.error.message).toMatch(/try again in \d+s/);
  });
});
