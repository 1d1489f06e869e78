/**
 * @anthropic-ai/sdk 1.x and 0.137 as real clients of /v1/messages, against the fake Kiro.
 * 1.x sends the key as Authorization: Bearer, 0.x as x-api-key: both paths are covered.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Anthropic1 from "@anthropic-ai/sdk";
import Anthropic0 from "anthropic-sdk-0";
import { startE2E, type E2E } from "../support/e2e";
import { textScenario, longScenario } from "../fake-kiro/scenarios";

const PNG_1PX =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

const weatherTool = {
  name: "get_weather",
  description: "Current weather for a city",
  input_schema: { type: "object" as const, properties: { city: { type: "string" } }, required: ["city"] },
};
const timeTool = {
  name: "get_time",
  description: "Current time in a city",
  input_schema: { type: "object" as const, properties: { zone: { type: "string" } }, required: ["zone"] },
};

type Client = InstanceType<typeof Anthropic1>;
const clients: Array<[string, (url: string, key: string) => Client]> = [
  ["@anthropic-ai/sdk 1.x", (url, key) => new Anthropic1({ baseURL: url, apiKey: key, maxRetries: 0 })],
  ["anthropic-sdk-0 (0.137)", (url, key) => new Anthropic0({ baseURL: url, apiKey: key, maxRetries: 0 }) as unknown as Client],
];

let e: E2E;
beforeAll(async () => {
  e = await startE2E({ accounts: [{}, {}] });
});
afterAll(async () => {
  await e.stop();
});

function lastChatBody(): any {
  const r = [...e.fake.requests].reverse().find((x) => x.path.endsWith("generateAssistantResponse"));
  return r?.body;
}

describe.each(clients)("%s", (_name, make) => {
  const client = () => make(e.url, e.clientKey);

  test("messages.create (non-stream) returns the text and usage", async () => {
    const msg = await client().messages.create({
      model: "claude-sonnet-4-6",
      max_tokens: 256,
      messages: [{ role: "user", content: "Say hello [[fake:text]]" }],
    });
    expect(msg.type).toBe("message");
    expect(msg.role).toBe("assistant");
    expect(msg.content).toEqual([{ type: "text", text: "Hello from fake Kiro.", citations: null } as any]);
    expect(msg.stop_reason).toBe("end_turn");
    expect(msg.usage.input_tokens).toBeGreaterThan(0);
    expect(msg.usage.output_tokens).toBeGreaterThan(0);
  });

  test("messages.stream().finalMessage() and streamed text", async () => {
    const stream = client().messages.stream({
      model: "claude-sonnet-4-6",
      max_tokens: 256,
      messages: [{ role: "user", content: "Say hello [[fake:text]]" }],
    });
    const deltas: string[] = [];
    stream.on("text", (t) => deltas.push(t));
    const msg = await stream.finalMessage();
    expect(deltas.join("")).toBe("Hello from fake Kiro.");
    expect(deltas.length).toBeGreaterThan(1);
    expect(msg.content[0]).toMatchObject({ type: "text", text: "Hello from fake Kiro." });
    expect(msg.stop_reason).toBe("end_turn");
  });

  test("create({stream:true}) yields the standard raw events", async () => {
    const s = await client().messages.create({
      model: "claude-haiku-4-5",
      max_tokens: 128,
      stream: true,
      messages: [{ role: "user", content: "Stream please [[fake:text]]" }],
    });
    const types: string[] = [];
    let text = "";
    for await (const ev of s) {
      types.push(ev.type);
      if (ev.type === "content_block_delta" && ev.delta.type === "text_delta") text += ev.delta.text;
    }
    expect(text).toBe("Hello from fake Kiro.");
    expect(types[0]).toBe("message_start");
    expect(types.at(-1)).toBe("message_stop");
    expect(types.at(-2)).toBe("message_delta");
  });

  test("tool loop: streamed input_json_delta → tool_result → answer", async () => {
    const c = client();
    const stream = c.messages.stream({
      model: "claude-sonnet-4-6",
      max_tokens: 512,
      tools: [weatherTool],
      messages: [{ role: "user", content: "Weather in Paris? [[fake:tools]]" }],
    });
    const partials: string[] = [];
    stream.on("inputJson", (delta) => partials.push(delta));
    const first = await stream.finalMessage();
    expect(first.stop_reason).toBe("tool_use");
    const call = first.content.find((b) => b.type === "tool_use") as any;
    expect(call).toMatchObject({ type: "tool_use", name: "get_weather", input: { city: "fake" } });
    expect(partials.length).toBeGreaterThan(1);
    expect(JSON.parse(partials.join(""))).toEqual({ city: "fake" });

    const second = await c.messages.create({
      model: "claude-sonnet-4-6",
      max_tokens: 512,
      tools: [weatherTool],
      messages: [
        { role: "user", content: "Weather in Paris? [[fake:tools]]" },
        { role: "assistant", content: first.content as any },
        { role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: "18 degrees, sunny" }, { type: "text", text: "thanks" }] },
      ],
    });
    expect(second.stop_reason).toBe("end_turn");
    expect((second.content[0] as any).text).toContain("thanks");
    const body = lastChatBody();
    const ctx = body.conversationState.currentMessage.userInputMessage.userInputMessageContext;
    expect(ctx.toolResults[0].toolUseId).toBe(call.id);
    expect(JSON.stringify(ctx.toolResults[0].content)).toContain("18 degrees, sunny");
  });

  test("two parallel tool calls become two ordered tool_use blocks", async () => {
    const msg = await client().messages.stream({
      model: "claude-sonnet-4-6",
      max_tokens: 512,
      tools: [weatherTool, timeTool],
      messages: [{ role: "user", content: "Weather and time [[fake:parallel_tools]]" }],
    }).finalMessage();
    const calls = msg.content.filter((b) => b.type === "tool_use") as any[];
    expect(calls.map((c) => c.name)).toEqual(["get_weather", "get_time"]);
    expect(calls[0].input).toEqual({ city: "fake" });
    expect(calls[1].input).toEqual({ zone: "fake" });
    expect(new Set(calls.map((c) => c.id)).size).toBe(2);
    expect(msg.stop_reason).toBe("tool_use");
  });

  test("a base64 image reaches the upstream request", async () => {
    await client().messages.create({
      model: "claude-sonnet-4-6",
      max_tokens: 64,
      messages: [
        {
          role: "user",
          content: [
            { type: "image", source: { type: "base64", media_type: "image/png", data: PNG_1PX } },
            { type: "text", text: "What is this?" },
          ],
        },
      ],
    });
    const msg = lastChatBody().conversationState.currentMessage.userInputMessage;
    expect(msg.images).toEqual([{ format: "png", source: { bytes: PNG_1PX } }]);
  });

  test("thinking tags become a thinking block before the text", async () => {
    const msg = await client().messages.stream({
      model: "claude-sonnet-4-6",
      max_tokens: 4096,
      thinking: { type: "enabled", budget_tokens: 2048 },
      messages: [{ role: "user", content: "Think first [[fake:thinking]]" }],
    }).finalMessage();
    expect(msg.content.map((b) => b.type)).toEqual(["thinking", "text"]);
    expect((msg.content[0] as any).thinking).toContain("Let me think about this.");
    // No upstream signature → none invented.
    expect((msg.content[0] as any).signature).toBe("");
    expect((msg.content[1] as any).text).toBe("Here is the answer.");
  });

  test("native reasoning keeps the upstream signature", async () => {
    const msg = await client().messages.stream({
      model: "claude-sonnet-4-6",
      max_tokens: 4096,
      thinking: { type: "adaptive" } as any,
      messages: [{ role: "user", content: "Reason [[fake:reasoning]]" }],
    }).finalMessage();
    expect(msg.content[0]).toMatchObject({ type: "thinking", thinking: "Reasoning about it.", signature: "sig-abc123" });
    expect(msg.content[1]).toMatchObject({ type: "text", text: "Here is the answer." });
  });

  test("countTokens matches the usage reported for the same body", async () => {
    const c = client();
    const body = {
      model: "claude-sonnet-4-6",
      system: "You are terse.",
      tools: [weatherTool],
      messages: [{ role: "user" as const, content: "Count these words for me, please." }],
    };
    const counted = await c.messages.countTokens(body);
    expect(counted.input_tokens).toBeGreaterThan(5);
    // No upstream usage events → usage is the same local count.
    e.fake.enqueue(textScenario("Sure.", { usage: false }));
    const msg = await c.messages.create({ ...body, max_tokens: 64 });
    expect(msg.usage.input_tokens).toBe(counted.input_tokens);
  });

  test("stop_sequences end the text at the first match, across chunk boundaries", async () => {
    e.fake.enqueue(textScenario("alpha beta gamma STOP delta epsilon", { chunks: 14 }));
    const msg = await client().messages.stream({
      model: "claude-sonnet-4-6",
      max_tokens: 256,
      stop_sequences: ["epsilon", "STOP"],
      messages: [{ role: "user", content: "Go" }],
    }).finalMessage();
    expect((msg.content[0] as any).text).toBe("alpha beta gamma ");
    expect(msg.stop_reason).toBe("stop_sequence");
    expect(msg.stop_sequence).toBe("STOP");
  });

  test("max_tokens cuts the output and reports max_tokens", async () => {
    e.fake.enqueue(longScenario(200));
    const msg = await client().messages.create({
      model: "claude-sonnet-4-6",
      max_tokens: 20,
      messages: [{ role: "user", content: "Write a lot" }],
    });
    expect(msg.stop_reason).toBe("max_tokens");
    expect(msg.usage.output_tokens).toBe(20);
    const text = (msg.content[0] as any).text as string;
    expect(text.length).toBeGreaterThan(10);
    expect(text.length).toBeLessThan(200);
  });

  describe("errors are typed SDK errors", () => {
    test("401 AuthenticationError", async () => {
      const bad = make(e.url, "wrong-key");
      const err = await bad.messages.create({ model: "claude-sonnet-4-6", max_tokens: 8, messages: [{ role: "user", content: "x" }] }).catch((x) => x);
      expect(err).toBeInstanceOf((bad.constructor as any).AuthenticationError);
      expect(err.status).toBe(401);
      expect(err.error?.error?.type).toBe("authentication_error");
    });

    test("404 NotFoundError lists the valid model names", async () => {
      const c = client();
      const err = await c.messages.create({ model: "gpt-4o", max_tokens: 8, messages: [{ role: "user", content: "x" }] }).catch((x) => x);
      expect(err).toBeInstanceOf((c.constructor as any).NotFoundError);
      expect(err.error.error.type).toBe("not_found_error");
      expect(err.error.error.message).toContain("claude-sonnet-4-5");
    });

    test("400 BadRequestError names the missing field", async () => {
      const c = client();
      const err = await c.messages.create({ model: "claude-sonnet-4-6", messages: [{ role: "user", content: "x" }] } as any).catch((x) => x);
      expect(err).toBeInstanceOf((c.constructor as any).BadRequestError);
      expect(err.error.error.type).toBe("invalid_request_error");
      expect(err.error.error.message).toContain("max_tokens");
    });

    test("mid-stream failure surfaces as APIError from event: error", async () => {
      const c = client();
      const stream = c.messages.stream({ model: "claude-sonnet-4-6", max_tokens: 64, messages: [{ role: "user", content: "x [[fake:exception]]" }] });
      const err = await stream.finalMessage().catch((x) => x);
      expect(err).toBeInstanceOf((c.constructor as any).APIError);
      expect(String(err.message)).toContain("rate_limit_error");
    });
  });
});
