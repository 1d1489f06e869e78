/**
 * The pre-`tools` API: a request with `functions` (and no `tools`) is answered in kind —
 * `message.function_call` / `delta.function_call` and finish_reason "function_call" — since
 * clients written for it never look at `tool_calls`.
 */
import { describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { useE2E } from "../support/e2e";
import { parallelToolScenario, toolScenario } from "../fake-kiro/scenarios";
import { parseOpenAISse } from "./helpers";

const e = useE2E();

const functions = [
  { name: "get_weather", description: "Weather for a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
  { name: "get_time", description: "Time in a zone", parameters: { type: "object", properties: { zone: { type: "string" } }, required: ["zone"] } },
];
const client = () => new OpenAI({ baseURL: `${e.url}/v1`, apiKey: e.clientKey, maxRetries: 0 });

describe("legacy functions through the openai SDK", () => {
  test("non-stream: message.function_call, no tool_calls, finish_reason function_call", async () => {
    e.fake.enqueue(toolScenario([{ name: "get_weather", input: { city: "Paris" } }]));
    // The SDK still types and sends the deprecated fields; the raw create passes them through.
    const r = await client().chat.completions.create({ model: "claude-sonnet-4-5", functions, messages: [{ role: "user", content: "weather in Paris?" }] });
    const choice = r.choices[0]!;
    expect(choice.finish_reason).toBe("function_call");
    expect(choice.message.function_call).toEqual({ name: "get_weather", arguments: JSON.stringify({ city: "Paris" }) });
    expect(choice.message.tool_calls).toBeUndefined();
    expect(choice.message.content).toBeNull();
  });

  test("only one function_call even when the model calls two", async () => {
    e.fake.enqueue(parallelToolScenario([{ name: "get_weather", input: { city: "Paris" } }, { name: "get_time", input: { zone: "UTC" } }]));
    const r = await client().chat.completions.create({ model: "claude-sonnet-4-5", functions, messages: [{ role: "user", content: "both" }] });
    expect(r.choices[0]!.message.function_call!.name).toBe("get_weather");
    expect(r.choices[0]!.finish_reason).toBe("function_call");
  });

  test("stream: the SDK's stream() accumulates delta.function_call", async () => {
    e.fake.enqueue(toolScenario([{ name: "get_weather", input: { city: "Rome" } }]));
    const s = client().chat.completions.stream({ model: "claude-sonnet-4-5", functions, messages: [{ role: "user", content: "weather in Rome?" }] });
    const final = await s.finalChatCompletion();
    expect(final.choices[0]!.message.function_call).toEqual({ name: "get_weather", arguments: JSON.stringify({ city: "Rome" }) });
    expect(final.choices[0]!.finish_reason).toBe("function_call");
  });

  test("function_call naming an unknown function is a BadRequestError on param function_call", async () => {
    const err = await client()
      .chat.completions.create({ model: "claude-sonnet-4-5", functions, function_call: { name: "nope" }, messages: [{ role: "user", content: "x" }] })
      .catch((x) => x);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.param).toBe("function_call");
  });

  test("a function result message continues the conversation", async () => {
    const r = await client().chat.completions.create({
      model: "claude-sonnet-4-5",
      functions,
      messages: [
        { role: "user", content: "weather?" },
        { role: "assistant", content: null, function_call: { name: "get_weather", arguments: '{"city":"Paris"}' } },
        { role: "function", name: "get_weather", content: "sunny" },
        { role: "user", content: "thanks [[fake:text]]" },
      ],
    });
    expect(r.choices[0]!.message.content).toBe("Hello from fake Kiro.");
    expect(r.choices[0]!.finish_reason).toBe("stop");
  });
});

describe("legacy functions on the wire", () => {
  test("delta.function_call: name first with arguments \"\", then argument fragments", async () => {
    e.fake.enqueue(toolScenario([{ name: "get_weather", input: { city: "Oslo" } }]));
    const r = await fetch(`${e.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${e.clientKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-sonnet-4-5", stream: true, functions, messages: [{ role: "user", content: "weather?" }] }),
    });
    const { data } = parseOpenAISse(await r.text());
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1);
    expect(chunks[0].choices[0].delta.role).toBe("assistant");
    const fc = chunks.map((c: any) => c.choices[0].delta.function_call).filter(Boolean);
    expect(fc[0]).toEqual({ name: "get_weather", arguments: "" });
    for (const f of fc.slice(1)) expect(Object.keys(f)).toEqual(["arguments"]);
    expect(JSON.parse(fc.map((f: any) => f.arguments).join(""))).toEqual({ city: "Oslo" });
    expect(chunks.some((c: any) => c.choices[0].delta.tool_calls)).toBe(false);
    expect(chunks.at(-1).choices[0]).toMatchObject({ delta: {}, finish_reason: "function_call" });
  });

  test("tools and functions together: tools win, the reply uses tool_calls", async () => {
    e.fake.enqueue(toolScenario([{ name: "get_weather", input: { city: "Oslo" } }]));
    const tool = { type: "function", function: functions[0] };
    const r = await fetch(`${e.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${e.clientKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-sonnet-4-5", tools: [tool], functions: [functions[1]], messages: [{ role: "user", content: "weather?" }] }),
    });
    const b = await r.json();
    expect(b.choices[0].finish_reason).toBe("tool_calls");
    expect(b.choices[0].message.tool_calls[0].function.name).toBe("get_weather");
    expect(b.choices[0].message.function_call).toBeUndefined();
  });
});
