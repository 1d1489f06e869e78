/**
 * The OpenAI SDK (7.x and 6.x) `client.responses.*` and the Vercel AI SDK's default `openai(id)`
 * model (the Responses API) against kiro-server and the fake Kiro.
 */
import { describe, expect, test } from "bun:test";
import { stepCountIs, streamText } from "ai";
import { createOpenAI } from "@ai-sdk/openai";
import { reasoningScenario, textScenario, toolScenario } from "../fake-kiro/scenarios";
import { useE2E } from "../support/e2e";
import { OPENAI_SDKS, aiWeatherTool, expectAiSdkToolLoop, openaiClient } from "../support/openai-clients";

const e = useE2E();

const MODEL = "claude-sonnet-4-5";
const weather = {
  type: "function" as const,
  name: "get_weather",
  description: "Weather for a city",
  strict: false,
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};

/** The last upstream chat body the fake received, as text (history checks). */
const lastUpstream = () => JSON.stringify(e.fake.requests.filter((r) => r.method === "POST" && r.body && typeof r.body === "object" && "conversationState" in (r.body as object)).at(-1)!.body);

/** The HTTP status an SDK call failed with (the SDK's promises are lazy thenables, not plain promises). */
const statusOf = (p: PromiseLike<unknown>) => Promise.resolve(p).then(() => 200, (err: { status?: number }) => err.status);

for (const [label, OpenAI] of OPENAI_SDKS) {
  describe(`${label} responses`, () => {
    const client = () => openaiClient(OpenAI, e);

    test("create: output_text, usage, stored and retrievable", async () => {
      e.fake.enqueue(textScenario("Hi there."));
      const r = await client().responses.create({ model: MODEL, input: "hello", instructions: "Be brief.", metadata: { run: "1" } });
      expect(r.status).toBe("completed");
      expect(r.output_text).toBe("Hi there.");
      expect(r.metadata).toEqual({ run: "1" });
      expect(r.usage!.total_tokens).toBe(r.usage!.input_tokens + r.usage!.output_tokens);
      expect(lastUpstream()).toContain("Be brief.");
      const got = await client().responses.retrieve(r.id);
      expect(got.id).toBe(r.id);
      expect(got.output_text).toBe("Hi there.");
      const items = await client().responses.inputItems.list(r.id);
      expect(items.data.map((i: any) => i.content?.[0]?.text)).toEqual(["hello"]);
      expect(items.data[0]!.id).toBeTruthy();
      const del = await client().responses.delete(r.id);
      expect(del === undefined || (del as any).deleted === true).toBe(true);
      expect(await statusOf(client().responses.retrieve(r.id))).toBe(404);
    });

    test("stream() + finalResponse(): reasoning and text items, usage", async () => {
      e.fake.enqueue(reasoningScenario("Thinking it over.", "The answer is 4."));
      const s = client().responses.stream({ model: MODEL, input: "2+2?", reasoning: { effort: "low", summary: "auto" } });
      const types: string[] = [];
      s.on("event", (ev) => types.push(ev.type));
      const final = await s.finalResponse();
      expect(final.status).toBe("completed");
      expect(final.output_text).toBe("The answer is 4.");
      expect(final.output.map((o) => o.type)).toEqual(["reasoning", "message"]);
      expect((final.output[0] as any).summary[0].text).toBe("Thinking it over.");
      expect(final.usage!.output_tokens).toBeGreaterThan(0);
      expect(types[0]).toBe("response.created");
      expect(types.at(-1)).toBe("response.completed");
    });

    test("function tool loop by replaying the full input (store: false)", async () => {
      e.fake.enqueue(toolScenario([{ name: "get_weather", input: { city: "Paris" } }]));
      const input: any[] = [{ role: "user", content: "weather in Paris?" }];
      const r1 = await client().responses.create({ model: MODEL, input, tools: [weather], store: false });
      const call = r1.output.find((o) => o.type === "function_call") as any;
      expect(call.name).toBe("get_weather");
      expect(JSON.parse(call.arguments)).toEqual({ city: "Paris" });
      expect(await statusOf(client().responses.retrieve(r1.id))).toBe(404);
      e.fake.enqueue(textScenario("Sunny in Paris."));
      input.push(...r1.output, { type: "function_call_output", call_id: call.call_id, output: "sunny, 24C" });
      const r2 = await client().responses.create({ model: MODEL, input, tools: [weather], store: false });
      expect(r2.output_text).toBe("Sunny in Paris.");
      const up = lastUpstream();
      expect(up).toContain("sunny, 24C");
      expect(up).toContain(call.call_id);
    });

    test("function tool loop by previous_response_id", async () => {
      e.fake.enqueue(toolScenario([{ name: "get_weather", input: { city: "Rome" } }]));
      const r1 = await client().responses.create({ model: MODEL, input: "weather in Rome?", tools: [weather] });
      const call = r1.output.find((o) => o.type === "function_call") as any;
      e.fake.enqueue(textScenario("Rome is warm."));
      const r2 = await client().responses.stream({
        model: MODEL,
        previous_response_id: r1.id,
        input: [{ type: "function_call_output", call_id: call.call_id, output: "warm, 28C" }],
        tools: [weather],
      }).finalResponse();
      expect(r2.output_text).toBe("Rome is warm.");
      expect(r2.previous_response_id).toBe(r1.id);
      const up = lastUpstream();
      expect(up).toContain("weather in Rome?");
      expect(up).toContain("warm, 28C");
      // The continuation's input_items include what it inherited.
      const items = await client().responses.inputItems.list(r2.id, { order: "asc" });
      expect(items.data.map((i: any) => i.type)).toEqual(["message", "function_call", "function_call_output"]);
    });
  });
}

describe("Vercel AI SDK default openai(id) model (Responses API)", () => {
  const model = () => createOpenAI({ baseURL: `${e.url}/v1`, apiKey: e.clientKey })(MODEL);

  test("generateText with a tool: two steps", async () => {
    await expectAiSdkToolLoop(e.fake, model());
  });

  test("streamText: text, reasoning, usage, no error parts", async () => {
    e.fake.enqueue(reasoningScenario("Let me see.", "Porto is sunny."));
    const errors: unknown[] = [];
    const r = streamText({ model: model(), prompt: "weather in Porto?", maxRetries: 0, onError: ({ error }) => void errors.push(error) });
    const types = new Set<string>();
    for await (const part of r.fullStream) types.add(part.type);
    expect(errors).toEqual([]);
    expect(await r.text).toBe("Porto is sunny.");
    expect(await r.reasoningText).toBe("Let me see.");
    expect(await r.finishReason).toBe("stop");
    expect((await r.usage).outputTokens).toBeGreaterThan(0);
  });

  test("streamText with a tool loop", async () => {
    e.fake.enqueue(toolScenario([{ name: "get_weather", input: { city: "Faro" } }]));
    e.fake.enqueue(textScenario("Faro is sunny."));
    const calls: string[] = [];
    const errors: unknown[] = [];
    const r = streamText({ model: model(), prompt: "weather in Faro?", tools: { get_weather: aiWeatherTool(calls) }, stopWhen: stepCountIs(3), maxRetries: 0, onError: ({ error }) => void errors.push(error) });
    for await (const _ of r.fullStream);
    expect(errors).toEqual([]);
    expect(calls).toEqual(["Faro"]);
    expect(await r.text).toBe("Faro is sunny.");
  });
});
