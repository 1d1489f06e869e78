import { describe, expect, test } from "bun:test";
import { stepCountIs, streamText } from "ai";
import { createOpenAI } from "@ai-sdk/openai";
import { useE2E } from "../support/e2e";
import { aiWeatherTool, expectAiSdkToolLoop } from "../support/openai-clients";
import { textScenario, toolScenario } from "../fake-kiro/scenarios";

/** Vercel AI SDK through `.chat()` (/chat/completions): zod-validates every chunk (a chunk that fails becomes an error part). */
const e = useE2E();

const model = () => createOpenAI({ baseURL: `${e.url}/v1`, apiKey: e.clientKey }).chat("claude-sonnet-4-5");

describe("Vercel AI SDK (@ai-sdk/openai .chat())", () => {
  test("generateText with a tool: two steps, usage, finish reasons", async () => {
    await expectAiSdkToolLoop(e.fake, model());
  });

  test("streamText with a tool: no error parts, text and usage arrive", async () => {
    e.fake.enqueue(toolScenario([{ name: "get_weather", input: { city: "Porto" } }]));
    e.fake.enqueue(textScenario("Porto is sunny."));
    const calls: string[] = [];
    const errors: unknown[] = [];
    const r = streamText({
      model: model(),
      prompt: "weather in Porto?",
      tools: { get_weather: aiWeatherTool(calls) },
      stopWhen: stepCountIs(3),
      maxRetries: 0,
      onError: ({ error }) => { errors.push(error); },
    });
    const types = new Set<string>();
    for await (const part of r.fullStream) types.add(part.type);
    expect(errors).toEqual([]);
    expect(types.has("error")).toBe(false);
    expect(calls).toEqual(["Porto"]);
    expect(await r.text).toBe("Porto is sunny.");
    expect(await r.finishReason).toBe("stop");
    expect((await r.totalUsage).inputTokens).toBeGreaterThan(0);
  });
});
