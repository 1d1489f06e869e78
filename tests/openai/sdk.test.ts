import { describe, expect, test } from "bun:test";
import type OpenAI7 from "openai";
import { startE2E, useE2E } from "../support/e2e";
import { OPENAI_SDKS, openaiClient } from "../support/openai-clients";
import { parallelToolScenario, textScenario, toolScenario } from "../fake-kiro/scenarios";
import { PNG_1PX } from "./helpers";

const e = useE2E();

const MODEL = "claude-sonnet-4-5";
const weather = {
  type: "function" as const,
  function: { name: "get_weather", description: "Weather for a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
};

for (const [label, OpenAI] of OPENAI_SDKS) {
  describe(label, () => {
    const client = () => openaiClient(OpenAI, e);

    test("create non-stream", async () => {
      const r = await client().chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "hi [[fake:usage]]" }] });
      expect(typeof r).toBe("object");
      expect(r.choices[0]!.message.content).toBe("ok");
      expect(r.choices[0]!.finish_reason).toBe("stop");
      expect(r.usage!.completion_tokens).toBe(34);
      expect(r._request_id).toBeTruthy();
    });

    test("create stream with include_usage", async () => {
      const stream = await client().chat.completions.create({ model: MODEL, stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "hi [[fake:usage]]" }] });
      let text = "";
      let usage: OpenAI7.CompletionUsage | null | undefined;
      for await (const c of stream) {
        text += c.choices[0]?.delta.content ?? "";
        if (c.usage) usage = c.usage;
      }
      expect(text).toBe("ok");
      expect(usage!.total_tokens).toBe(usage!.prompt_tokens + 34);
    });

    test("stream() → finalChatCompletion() with usage", async () => {
      const s = client().chat.completions.stream({ model: MODEL, stream_options: { include_usage: true }, messages: [{ role: "user", content: "hi [[fake:text]]" }] });
      const final = await s.finalChatCompletion();
      expect(final.choices[0]!.message.role).toBe("assistant");
      expect(final.choices[0]!.message.content).toBe("Hello from fake Kiro.");
      expect(final.usage!.completion_tokens).toBeGreaterThan(0);
    });

    test("parallel tool calls through stream() and create()", async () => {
      e.fake.enqueue(parallelToolScenario([{ name: "get_weather", input: { city: "Paris" } }, { name: "get_weather", input: { city: "Rome" } }]));
      const final = await client().chat.completions.stream({ model: MODEL, tools: [weather], messages: [{ role: "user", content: "Paris and Rome" }] }).finalChatCompletion();
      const calls = final.choices[0]!.message.tool_calls!;
      expect(calls.map((c) => (c as any).function.arguments)).toEqual(['{"city":"Paris"}', '{"city":"Rome"}']);
      expect(final.choices[0]!.finish_reason).toBe("tool_calls");
      e.fake.enqueue(parallelToolScenario([{ name: "get_weather", input: { city: "Oslo" } }, { name: "get_weather", input: { city: "Kyiv" } }]));
      const r = await client().chat.completions.create({ model: MODEL, tools: [weather], messages: [{ role: "user", content: "Oslo and Kyiv" }] });
      expect(r.choices[0]!.message.content).toBeNull();
      expect(r.choices[0]!.message.tool_calls).toHaveLength(2);
    });

    test("runTools loop with two tools", async () => {
      e.fake.enqueue(parallelToolScenario([{ name: "get_weather", input: { city: "Paris" } }, { name: "get_time", input: { zone: "CET" } }]));
      e.fake.enqueue(textScenario("Sunny, and it is noon."));
      const called: string[] = [];
      const before = e.fake.requests.length;
      const runner = client().chat.completions.runTools({
        model: MODEL,
        messages: [{ role: "user", content: "weather and time in Paris" }],
        tools: [
          { type: "function", function: { name: "get_weather", description: "Weather for a city", parameters: weather.function.parameters, parse: JSON.parse, function: (a: { city: string }) => (called.push(`w:${a.city}`), "sunny") } },
          { type: "function", function: { name: "get_time", description: "Time in a zone", parameters: { type: "object", properties: { zone: { type: "string" } } }, parse: JSON.parse, function: (a: { zone: string }) => (called.push(`t:${a.zone}`), "12:00") } },
        ],
      });
      expect(await runner.finalContent()).toBe("Sunny, and it is noon.");
      expect(called.sort()).toEqual(["t:CET", "w:Paris"]);
      const chats = e.fake.requests.slice(before).filter((q) => JSON.stringify(q.body).includes("conversationState"));
      expect(chats).toHaveLength(2);
      const ctx = (chats[1]!.body as any).conversationState.currentMessage.userInputMessage.userInputMessageContext;
      expect(ctx.toolResults.map((t: any) => t.content[0].text).sort()).toEqual(["12:00", "sunny"]);
    });

    test("image input", async () => {
      const r = await client().chat.completions.create({
        model: MODEL,
        messages: [{ role: "user", content: [{ type: "text", text: "what is it [[fake:text]]" }, { type: "image_url", image_url: { url: `data:image/png;base64,${PNG_1PX}` } }] }],
      });
      expect(r.choices[0]!.message.content).toBe("Hello from fake Kiro.");
    });

    test("stop and max_tokens → length", async () => {
      e.fake.enqueue(textScenario("alpha beta gamma"));
      const r = await client().chat.completions.create({ model: MODEL, stop: "gamma", messages: [{ role: "user", content: "x" }] });
      expect(r.choices[0]!.message.content).toBe("alpha beta ");
      expect(r.choices[0]!.finish_reason).toBe("stop");
      const long = await client().chat.completions.create({ model: MODEL, max_completion_tokens: 8, messages: [{ role: "user", content: "go [[fake:long]]" }] });
      expect(long.choices[0]!.finish_reason).toBe("length");
      expect(long.usage!.completion_tokens).toBeLessThanOrEqual(8);
    });

    test("parse() with a json_schema response_format", async () => {
      e.fake.enqueue(textScenario('```json\n{"name":"Ann","age":41}\n```'));
      const r = await client().chat.completions.parse({
        model: MODEL,
        messages: [{ role: "user", content: "who?" }],
        response_format: { type: "json_schema", json_schema: { name: "person", strict: true, schema: { type: "object", properties: { name: { type: "string" }, age: { type: "integer" } }, required: ["name", "age"], additionalProperties: false } } },
      });
      expect(JSON.parse(r.choices[0]!.message.content!)).toEqual({ name: "Ann", age: 41 });
      expect(r.choices[0]!.message.parsed).toEqual({ name: "Ann", age: 41 } as never);
    });

    test("models.list() and models.retrieve()", async () => {
      const ids: string[] = [];
      for await (const m of client().models.list()) ids.push(m.id);
      expect(ids.slice(0, 6)).toEqual(["claude-sonnet-4-5", "claude-sonnet-4-5-20250929", "claude-sonnet-4-20250514", "claude-3-7-sonnet-20250219", "claude-3-5-haiku-20241022", "claude-haiku-4-5-20251001"]);
      expect(ids).toContain("claude-opus-4-6");
      const one = await client().models.retrieve("claude-haiku-4-5-20251001");
      expect(one).toMatchObject({ id: "claude-haiku-4-5-20251001", object: "model", owned_by: "anthropic" });
    });

    test("typed errors: AuthenticationError, BadRequestError, NotFoundError", async () => {
      const bad = openaiClient(OpenAI, e, "wrong");
      // APIPromise is a Promise subclass created already-resolved; expect().rejects misreads it.
      expect(await bad.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "x" }] }).catch((x) => x)).toBeInstanceOf(OpenAI.AuthenticationError);
      expect(await bad.models.list().catch((x) => x)).toBeInstanceOf(OpenAI.AuthenticationError);
      const err = await client().chat.completions.create({ model: MODEL, n: 2, messages: [{ role: "user", content: "x" }] }).catch((x) => x);
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      expect(err.param).toBe("n");
      const nf = await client().chat.completions.create({ model: "no-such-model", messages: [{ role: "user", content: "x" }] }).catch((x) => x);
      expect(nf).toBeInstanceOf(OpenAI.NotFoundError);
      expect(nf.code).toBe("model_not_found");
      expect(await client().models.retrieve("no-such-model").catch((x) => x)).toBeInstanceOf(OpenAI.NotFoundError);
    });

    test("models.retrieve() for each of the six product names", async () => {
      const six = ["claude-sonnet-4-5", "claude-sonnet-4-5-20250929", "claude-sonnet-4-20250514", "claude-3-7-sonnet-20250219", "claude-3-5-haiku-20241022", "claude-haiku-4-5-20251001"];
      for (const id of six) {
        const m = await client().models.retrieve(id);
        expect(m).toMatchObject({ id, object: "model", owned_by: "anthropic" });
        expect(typeof m.created).toBe("number");
      }
    });

    test("PermissionDeniedError (403) for a key whose allow-list excludes the model", async () => {
      const { key } = await e.services.keys.create({ name: `haiku-only ${label}`, allowedModels: ["claude-haiku-4-5"] });
      const limited = openaiClient(OpenAI, e, key);
      const before = e.fake.requests.length;
      const err = await limited.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "x" }] }).catch((x) => x);
      expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError);
      expect(err.status).toBe(403);
      expect(err.message).toContain("claude-haiku-4-5");
      expect(e.fake.requests.length).toBe(before);
      const ok = await limited.chat.completions.create({ model: "claude-haiku-4-5", messages: [{ role: "user", content: "hi [[fake:text]]" }] });
      expect(ok.choices[0]!.message.content).toBe("Hello from fake Kiro.");
    });

    test("a failure after the 200 surfaces as APIError from the stream", async () => {
      const s = await client().chat.completions.create({ model: MODEL, stream: true, messages: [{ role: "user", content: "x [[fake:error_frame]]" }] });
      const err = await (async () => {
        for await (const _ of s) { /* drain */ }
      })().catch((x) => x);
      expect(err).toBeInstanceOf(OpenAI.APIError);
    });
  });
}

describe("pool states as typed errors", () => {
  test("429 RateLimitError with retry-after when every account is throttled", async () => {
    const t = await startE2E({ accounts: [{ behaviour: { throttleCalls: 10, retryAfterSec: 7 } }] });
    try {
      for (const [, OpenAI] of OPENAI_SDKS) {
        const c = openaiClient(OpenAI, t);
        const err = await c.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "x" }] }).catch((x) => x);
        expect(err).toBeInstanceOf(OpenAI.RateLimitError);
        expect(Number(err.headers.get("retry-after"))).toBeGreaterThan(0);
      }
    } finally {
      await t.stop();
    }
  });

  test("503 when no account can serve, with the reason", async () => {
    const t = await startE2E({ accounts: [] });
    try {
      for (const [, OpenAI] of OPENAI_SDKS) {
        const c = openaiClient(OpenAI, t);
        const err = await c.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "x" }] }).catch((x) => x);
        expect(err).toBeInstanceOf(OpenAI.InternalServerError);
        expect(err.status).toBe(503);
        expect(err.message).toContain("none_configured");
      }
    } finally {
      await t.stop();
    }
  });
});
