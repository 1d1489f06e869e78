import { describe, expect, test } from "bun:test";
import { decodeChatRequest as decodeWith, type DecodeOptions } from "../../src/dialects/openai/decode";
import { TurnError } from "../../src/core/errors";
import { model } from "../support/models";

/** The decoder as the dialect route calls it: models resolved through the catalogue. */
const decodeChatRequest = (body: unknown, opts: Partial<DecodeOptions> = {}) => decodeWith(body, { resolveModel: model, ...opts });

const PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

async function rejects(body: unknown): Promise<TurnError> {
  try {
    decodeChatRequest(body);
  } catch (e) {
    expect(e).toBeInstanceOf(TurnError);
    return e as TurnError;
  }
  throw new Error("expected a 400");
}

describe("decodeChatRequest", () => {
  test("roles, system folding, tool round trip with content:null replay", async () => {
    const { request, stream, includeUsage } = await decodeChatRequest({
      model: "claude-sonnet-4-5",
      stream: true,
      stream_options: { include_usage: true },
      messages: [
        { role: "system", content: "You are terse." },
        { role: "developer", content: [{ type: "text", text: "Answer in English." }] },
        { role: "user", content: "weather in Paris and Rome?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
            { id: "call_2", type: "function", function: { name: "get_weather", arguments: "" } },
          ],
        },
        { role: "tool", tool_call_id: "call_1", content: "sunny" },
        { role: "tool", tool_call_id: "call_2", content: [{ type: "text", text: "rainy" }] },
        { role: "user", content: "thanks, summarise" },
      ],
      tools: [{ type: "function", function: { name: "get_weather", description: "w", parameters: { type: "object", properties: { city: { type: "string" } } } } }],
      tool_choice: "required",
      parallel_tool_calls: false,
      user: "alice",
    });
    expect(stream).toBe(true);
    expect(includeUsage).toBe(true);
    expect(request.system).toBe("You are terse.\n\nAnswer in English.");
    expect(request.messages.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
    expect(request.messages[1]!.content).toEqual([
      { type: "tool_use", id: "call_1", name: "get_weather", input: { city: "Paris" } },
      { type: "tool_use", id: "call_2", name: "get_weather", input: {} },
    ]);
    expect(request.messages[2]!.content).toEqual([
      { type: "tool_result", toolUseId: "call_1", content: [{ type: "text", text: "sunny" }] },
      { type: "tool_result", toolUseId: "call_2", content: [{ type: "text", text: "rainy" }] },
      { type: "text", text: "thanks, summarise" },
    ]);
    expect(request.toolChoice).toEqual({ type: "any" });
    expect(request.parallelToolCalls).toBe(false);
    expect(request.tools[0]!.name).toBe("get_weather");
    expect(request.metadata).toEqual({ conversationId: "alice", dialect: "openai" });
    expect(request.maxTokens).toBe(64_000);
  });

  test("limits, stop, sampling, reasoning_effort, named tool_choice", async () => {
    const { request } = await decodeChatRequest({
      model: "claude-haiku-4-5",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 100,
      max_completion_tokens: 50,
      stop: "END",
      temperature: 0.2,
      top_p: 0.9,
      seed: 7,
      n: 1,
      reasoning_effort: "xhigh",
      tools: [{ type: "function", function: { name: "f" } }],
      tool_choice: { type: "function", function: { name: "f" } },
      frequency_penalty: 0.1,
      metadata: { a: "b" },
    });
    expect(request.maxTokens).toBe(50);
    expect(request.stopSequences).toEqual(["END"]);
    expect(request.temperature).toBe(0.2);
    expect(request.topP).toBe(0.9);
    expect(request.thinking).toEqual({ type: "adaptive", effort: "max" });
    expect(request.toolChoice).toEqual({ type: "tool", name: "f" });
    expect(request.tools[0]!.inputSchema).toEqual({ type: "object", properties: {} });
  });

  test("conversation id header wins over user; none → undefined", async () => {
    const a = await decodeChatRequest({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "x" }], user: "u" }, { conversationId: "conv-9" });
    expect(a.request.metadata.conversationId).toBe("conv-9");
    const b = await decodeChatRequest({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "x" }], stop: ["a", "b"] });
    expect(b.request.metadata.conversationId).toBeUndefined();
    expect(b.request.stopSequences).toEqual(["a", "b"]);
    expect(b.request.thinking).toEqual({ type: "disabled" });
  });

  test("data-URL images; http(s) URLs are refused (same policy as the Anthropic side)", async () => {
    const { request } = await decodeChatRequest({
      model: "claude-sonnet-4-5",
      messages: [{
        role: "user",
        content: [
          { type: "text", text: "what is this" },
          { type: "image_url", image_url: { url: `data:image/png;base64,${PNG_1PX}`, detail: "low" } },
        ],
      }],
    });
    expect(request.messages[0]!.content[1]).toEqual({ type: "image", mediaType: "image/png", data: PNG_1PX });
    const e = await rejects({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://example.com/cat.png" } }] }] });
    expect(e.param).toBe("messages[0].content[0].image_url.url");
    expect(e.message).toContain("data URL");
  });

  test("clear 400s naming the param", async () => {
    expect((await rejects({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "x" }], n: 2 })).param).toBe("n");
    expect((await rejects({ messages: [{ role: "user", content: "x" }] })).param).toBe("model");
    expect((await rejects({ model: "claude-sonnet-4-5", messages: [] })).param).toBe("messages");
    expect((await rejects({ model: "claude-sonnet-4-5", messages: [{ role: "wizard", content: "x" }] })).param).toBe("messages[0].role");
    expect((await rejects({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "x" }], max_tokens: -1 })).param).toBe("max_tokens");
    const img = await rejects({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "data:image/bmp;base64,AAAA" } }] }] });
    expect(img.param).toBe("messages[0].content[0].image_url.url");
    expect(img.status).toBe(400);
    const audio = await rejects({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: [{ type: "input_audio", input_audio: { data: "", format: "wav" } }] }] });
    expect(audio.param).toBe("messages[0].content[0].type");
    const tc = await rejects({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "x" }], tools: [{ type: "function", function: { name: "f" } }], tool_choice: { type: "function", function: { name: "g" } } });
    expect(tc.param).toBe("tool_choice");
    expect((await rejects({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "x" }], tools: [{ type: "custom", custom: { name: "x" } }] })).param).toBe("tools[0].type");
  });

  test("response_format becomes an instruction", async () => {
    const { request, responseFormat } = await decodeChatRequest({
      model: "claude-sonnet-4-5",
      messages: [{ role: "user", content: "x" }],
      response_format: { type: "json_schema", json_schema: { name: "person", schema: { type: "object", required: ["name"] } } },
    });
    expect(responseFormat?.type).toBe("json_schema");
    expect(request.responseFormatInstruction).toContain('"required":["name"]');
    expect(request.responseFormatInstruction).toContain("person");
  });

  test("a body that is not an object names no param (null, not \"\")", async () => {
    for (const body of [[], "x", 42, null]) {
      const err = await rejects(body);
      expect(err.status).toBe(400);
      expect(err.param).toBeUndefined();
    }
  });

  test("legacy functions: function_call none/auto/{name} → toolChoice; one call per reply", async () => {
    const functions = [{ name: "f", parameters: { type: "object", properties: {} } }, { name: "g" }];
    const base = { model: "claude-sonnet-4-5", messages: [{ role: "user", content: "x" }], functions };
    const d = decodeChatRequest(base);
    expect(d.legacyFunctions).toBe(true);
    expect(d.request.tools.map((t) => t.name)).toEqual(["f", "g"]);
    expect(d.request.parallelToolCalls).toBe(false);
    expect(d.request.toolChoice).toBeUndefined();
    expect(decodeChatRequest({ ...base, function_call: "none" }).request.toolChoice).toEqual({ type: "none" });
    expect(decodeChatRequest({ ...base, function_call: "auto" }).request.toolChoice).toEqual({ type: "auto" });
    expect(decodeChatRequest({ ...base, function_call: { name: "g" } }).request.toolChoice).toEqual({ type: "tool", name: "g" });
    expect((await rejects({ ...base, function_call: { name: "h" } })).param).toBe("function_call");
    expect((await rejects({ ...base, function_call: "required" })).param).toBe("function_call");
    // tool_choice wins over function_call; with tools the reply is new-style.
    const both = decodeChatRequest({ ...base, tools: [{ type: "function", function: { name: "t" } }], tool_choice: "required", function_call: "none" });
    expect(both.request.toolChoice).toEqual({ type: "any" });
    expect(both.legacyFunctions).toBe(false);
    expect(decodeChatRequest({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "x" }] }).legacyFunctions).toBe(false);
  });
});

describe("model resolution at decode", () => {
  test("the request carries the resolved model; no limit → the model's own output cap", () => {
    const { request } = decodeChatRequest({ model: "claude-3-7-sonnet-latest", messages: [{ role: "user", content: "x" }] });
    expect(request.model).toMatchObject({ requested: "claude-3-7-sonnet-latest", name: "claude-3-7-sonnet-20250219", upstreamId: "claude-sonnet-4.5" });
    expect(request.maxTokens).toBe(64_000);
  });

  test("an unknown model is a 404 on `model` naming the valid ones, reported after a malformed body", async () => {
    const nf = await rejects({ model: "gpt-4o", messages: [{ role: "user", content: "x" }] });
    expect(nf).toMatchObject({ kind: "not_found", status: 404, param: "model" });
    expect(nf.message).toContain("valid models: claude-sonnet-4-5");
    expect((await rejects({ model: "gpt-4o", messages: [] })).param).toBe("messages");
  });
});
