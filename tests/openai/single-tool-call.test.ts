/**
 * parallel_tool_calls:false (OpenAI) and tool_choice.disable_parallel_tool_use (Anthropic) are
 * enforced by the turn runner's StopGuard, not just asked of the model: the fake's
 * `[[fake:parallel_tools]]` answer has two calls, and the client must see exactly one. The
 * Anthropic case lives here because both dialects share the enforcement being tested.
 */
import { describe, expect, test } from "bun:test";
import { useE2E } from "../support/e2e";
import { assertConformantStream, toolArgs } from "./helpers";

const e = useE2E();

const fn = (name: string, prop: string) => ({
  type: "function",
  function: { name, description: name, parameters: { type: "object", properties: { [prop]: { type: "string" } }, required: [prop] } },
});
const tools = [fn("get_weather", "city"), fn("get_time", "zone")];

function chat(body: Record<string, unknown>) {
  return fetch(`${e.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${e.clientKey}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "claude-sonnet-4-5", tools, messages: [{ role: "user", content: "both please [[fake:parallel_tools]]" }], ...body }),
  });
}

describe("/v1/chat/completions parallel_tool_calls:false", () => {
  test("stream: exactly one tool call, finish_reason tool_calls", async () => {
    const r = await chat({ stream: true, parallel_tool_calls: false, stream_options: { include_usage: true } });
    const chunks = assertConformantStream(await r.text(), { includeUsage: true });
    const calls = toolArgs(chunks);
    expect(Object.keys(calls)).toEqual(["0"]);
    expect(calls[0]!.name).toBe("get_weather");
    expect(JSON.parse(calls[0]!.args)).toEqual({ city: "fake" });
    expect(chunks.at(-2).choices[0].finish_reason).toBe("tool_calls");
  });

  test("non-stream: one tool call", async () => {
    const b = await (await chat({ parallel_tool_calls: false })).json();
    expect(b.choices[0].message.tool_calls).toHaveLength(1);
    expect(b.choices[0].finish_reason).toBe("tool_calls");
  });

  test("without the flag both calls reach the client", async () => {
    const b = await (await chat({})).json();
    expect(b.choices[0].message.tool_calls.map((c: any) => c.function.name)).toEqual(["get_weather", "get_time"]);
  });
});

describe("/v1/messages tool_choice.disable_parallel_tool_use", () => {
  const body = (extra: Record<string, unknown>) => ({
    model: "claude-sonnet-4-5",
    max_tokens: 1024,
    tools: tools.map((t) => ({ name: t.function.name, description: t.function.description, input_schema: t.function.parameters })),
    tool_choice: { type: "auto", disable_parallel_tool_use: true },
    messages: [{ role: "user", content: "both please [[fake:parallel_tools]]" }],
    ...extra,
  });
  const post = (b: unknown) =>
    fetch(`${e.url}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": e.clientKey, "anthropic-version": "2023-06-01", "content-type": "application/json" },
      body: JSON.stringify(b),
    });

  test("non-stream: one tool_use block, stop_reason tool_use", async () => {
    const r = await post(body({}));
    expect(r.status).toBe(200);
    const m = await r.json();
    const uses = m.content.filter((c: any) => c.type === "tool_use");
    expect(uses).toHaveLength(1);
    expect(uses[0]).toMatchObject({ name: "get_weather", input: { city: "fake" } });
    expect(m.stop_reason).toBe("tool_use");
  });

  test("stream: one tool_use content block, message_delta stop_reason tool_use", async () => {
    const text = await (await post(body({ stream: true }))).text();
    const events = text
      .split("\n")
      .filter((l) => l.startsWith("data: "))
      .map((l) => JSON.parse(l.slice(6)));
    const starts = events.filter((ev) => ev.type === "content_block_start" && ev.content_block.type === "tool_use");
    expect(starts).toHaveLength(1);
    expect(events.find((ev) => ev.type === "message_delta").delta.stop_reason).toBe("tool_use");
    expect(events.at(-1).type).toBe("message_stop");
  });
});
