/**
 * Client-side helpers of the OpenAI-dialect suites (Chat Completions under tests/openai, the
 * Responses API under tests/responses): the SDK majors, raw JSON posts, the AI SDK's weather tool,
 * and the upstream calls the fake Kiro saw.
 */
import { expect } from "bun:test";
import { generateText, jsonSchema, stepCountIs, tool, type LanguageModel } from "ai";
import OpenAI7 from "openai";
import OpenAI6 from "openai6";
import { textScenario, toolScenario } from "../fake-kiro/scenarios";
import type { FakeKiro } from "../fake-kiro/server";

/** Both SDK majors in the wild (openai 6 and 7; docs/wire-checks.md): they must behave identically against us. */
export const OPENAI_SDKS = [
  ["openai 7.x", OpenAI7],
  ["openai 6.x", OpenAI6],
] as const;

export type OpenAISdk = (typeof OPENAI_SDKS)[number][1];

/** A server to talk to: startE2E's result or anything with its url and client key. */
export type Target = { url: string; clientKey: string };

/** An SDK client for `target` (typed as 7.x, whose surface these tests share with 6.x), retries off. */
export function openaiClient(OpenAI: OpenAISdk, target: Target, apiKey = target.clientKey): OpenAI7 {
  return new OpenAI({ baseURL: `${target.url}/v1`, apiKey, maxRetries: 0 }) as OpenAI7;
}

/** POST `body` as JSON to `target` at `path` with its client key as the bearer. */
export function postJson(target: Target, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${target.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${target.clientKey}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

/** The AI SDK tool get_weather {city}: records each city it is called with and answers "sunny in <city>". */
export function aiWeatherTool(calls: string[]) {
  return tool({
    description: "Weather for a city",
    inputSchema: jsonSchema<{ city: string }>({ type: "object", properties: { city: { type: "string" } }, required: ["city"] }),
    execute: async ({ city }) => {
      calls.push(city);
      return `sunny in ${city}`;
    },
  });
}

/**
 * The AI SDK's tool loop through `model`: generateText calls get_weather for Lisbon (scripted on
 * `fake`), sends the result back and ends with the fake's answer: two steps, usage counted.
 */
export async function expectAiSdkToolLoop(fake: FakeKiro, model: LanguageModel): Promise<void> {
  fake.enqueue(toolScenario([{ name: "get_weather", input: { city: "Lisbon" } }]));
  fake.enqueue(textScenario("It is sunny in Lisbon."));
  const calls: string[] = [];
  const r = await generateText({ model, prompt: "weather in Lisbon?", tools: { get_weather: aiWeatherTool(calls) }, stopWhen: stepCountIs(3), maxRetries: 0 });
  expect(calls).toEqual(["Lisbon"]);
  expect(r.text).toBe("It is sunny in Lisbon.");
  expect(r.steps.map((s) => s.finishReason)).toEqual(["tool-calls", "stop"]);
  expect(r.totalUsage.outputTokens).toBeGreaterThan(0);
}

/** The chat calls (GenerateAssistantResponse, restJson form) the fake received. */
export const upstreamChatCalls = (fake: FakeKiro) => fake.requests.filter((r) => r.path.endsWith("/generateAssistantResponse"));

/** The MCP tools/call requests (web searches) the fake received. */
export const mcpSearchCalls = (fake: FakeKiro) => fake.requests.filter((r) => r.path.endsWith("/mcp") && (r.body as any)?.method === "tools/call");
