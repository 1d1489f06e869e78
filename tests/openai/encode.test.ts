import { describe, expect, test } from "bun:test";
import type { CanonicalEvent } from "../../src/core/canonical";
import { ChatStreamEncoder } from "../../src/dialects/openai/encode-stream";
import { encodeChatCompletion } from "../../src/dialects/openai/encode-json";
import { TurnError } from "../../src/core/errors";

const base = { id: "chatcmpl-x", created: 1700000000, model: "claude-sonnet-4-5" };

function run(events: CanonicalEvent[], includeUsage: boolean, extra: object = {}) {
  const enc = new ChatStreamEncoder({ ...base, includeUsage, ...extra });
  const chunks = events.flatMap((e) => enc.push(e));
  return [...chunks, ...enc.end()] as any[];
}

async function* iter(events: CanonicalEvent[]) {
  yield* events;
}

const usage: CanonicalEvent = { type: "usage", usage: { inputTokens: 10, outputTokens: 3, cacheReadInputTokens: 4 } };

describe("ChatStreamEncoder", () => {
  test("text reply with include_usage", () => {
    const c = run([{ type: "text", text: "Hel" }, { type: "text", text: "lo" }, usage, { type: "stop", reason: "end_turn" }], true);
    expect(c[0].choices[0].delta).toEqual({ role: "assistant", content: "", refusal: null });
    expect(c.slice(1, 3).map((x) => x.choices[0].delta.content)).toEqual(["Hel", "lo"]);
    expect(c[3].choices[0]).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: "stop" });
    expect(c[4].choices).toEqual([]);
    expect(c[4].usage).toEqual({ prompt_tokens: 14, completion_tokens: 3, total_tokens: 17, prompt_tokens_details: { cached_tokens: 4 }, completion_tokens_details: { reasoning_tokens: 0 } });
    expect(c).toHaveLength(5);
    for (const x of c.slice(0, 4)) expect(x.usage).toBeNull();
    for (const x of c) {
      expect(x).toMatchObject({ ...base, object: "chat.completion.chunk" });
    }
    expect(c.filter((x) => x.choices[0]?.finish_reason != null)).toHaveLength(1);
  });

  test("without include_usage: no usage key, no usage chunk", () => {
    const c = run([{ type: "text", text: "a" }, usage, { type: "stop", reason: "max_tokens" }], false);
    expect(c).toHaveLength(3);
    expect(c.every((x) => !("usage" in x))).toBe(true);
    expect(c[2].choices[0].finish_reason).toBe("length");
  });

  test("parallel tool calls, no-arg call gets {}", () => {
    const c = run([
      { type: "thinking", text: "hmm" },
      { type: "tool_start", id: "t1", name: "a" },
      { type: "tool_args", id: "t1", json: '{"x"' },
      { type: "tool_args", id: "t1", json: ":1}" },
      { type: "tool_end", id: "t1" },
      { type: "tool_start", id: "t2", name: "b" },
      { type: "tool_end", id: "t2" },
      usage,
      { type: "stop", reason: "tool_use" },
    ], false);
    expect(c[0].choices[0].delta.role).toBe("assistant");
    expect(c[1].choices[0].delta).toEqual({ reasoning_content: "hmm" });
    expect(c[2].choices[0].delta.tool_calls).toEqual([{ index: 0, id: "t1", type: "function", function: { name: "a", arguments: "" } }]);
    expect(c[3].choices[0].delta.tool_calls).toEqual([{ index: 0, function: { arguments: '{"x"' } }]);
    expect(c[5].choices[0].delta.tool_calls).toEqual([{ index: 1, id: "t2", type: "function", function: { name: "b", arguments: "" } }]);
    expect(c[6].choices[0].delta.tool_calls).toEqual([{ index: 1, function: { arguments: "{}" } }]);
    expect(c[7].choices[0].finish_reason).toBe("tool_calls");
  });

  test("reply opening with a tool call starts with content:null", () => {
    const c = run([{ type: "tool_start", id: "t", name: "a" }, { type: "tool_end", id: "t" }, { type: "stop", reason: "tool_use" }], false);
    expect(c[0].choices[0].delta).toEqual({ role: "assistant", content: null, refusal: null });
  });

  test("empty reply still has role and finish chunk", () => {
    const c = run([], true);
    expect(c[0].choices[0].delta.role).toBe("assistant");
    expect(c[1].choices[0].finish_reason).toBe("stop");
    expect(c[2].choices).toEqual([]);
  });

  test("json response_format: held text is cleaned and sent once; bad JSON throws", () => {
    const rf = { type: "json_object" } as const;
    const c = run([{ type: "text", text: "```json\n{\"a\"" }, { type: "text", text: ":1}\n```" }, { type: "stop", reason: "end_turn" }], false, { responseFormat: rf });
    expect(c.map((x) => x.choices[0].delta.content).filter((x) => x)).toEqual(['{"a":1}']);
    const enc = new ChatStreamEncoder({ ...base, includeUsage: false, responseFormat: rf });
    enc.push({ type: "text", text: "not json" });
    expect(() => enc.push({ type: "stop", reason: "end_turn" })).toThrow(TurnError);
  });

  test("json response_format with a tool call: held text goes out before the call, unchecked", () => {
    const c = run(
      [
        { type: "text", text: "Let me " },
        { type: "text", text: "look that up." },
        { type: "tool_start", id: "t1", name: "f" },
        { type: "tool_args", id: "t1", json: "{}" },
        { type: "tool_end", id: "t1" },
        { type: "text", text: " done" },
        { type: "stop", reason: "tool_use" },
      ],
      false,
      { responseFormat: { type: "json_object" } },
    );
    const kinds = c.map((x) => (x.choices[0].delta.tool_calls ? "tool" : x.choices[0].delta.content ? `text:${x.choices[0].delta.content}` : "other"));
    expect(kinds.filter((k) => k !== "other")).toEqual(["text:Let me look that up.", "tool", "tool", "text: done"]);
    expect(c.at(-1).choices[0].finish_reason).toBe("tool_calls");
  });

  test("legacy functions: delta.function_call and finish_reason function_call", () => {
    const c = run(
      [{ type: "tool_start", id: "t1", name: "f" }, { type: "tool_end", id: "t1" }, { type: "stop", reason: "tool_use" }],
      false,
      { legacyFunctions: true },
    );
    expect(c[0].choices[0].delta).toEqual({ role: "assistant", content: null, refusal: null });
    expect(c[1].choices[0].delta).toEqual({ function_call: { name: "f", arguments: "" } });
    expect(c[2].choices[0].delta).toEqual({ function_call: { arguments: "{}" } });
    expect(c[3].choices[0]).toMatchObject({ delta: {}, finish_reason: "function_call" });
  });
});

describe("encodeChatCompletion", () => {
  test("text + reasoning", async () => {
    const r = await encodeChatCompletion(iter([{ type: "thinking", text: "t" }, { type: "text", text: "hi" }, usage, { type: "stop", reason: "stop_sequence", stopSequence: "X" }]), base);
    expect(r).toMatchObject({ id: "chatcmpl-x", object: "chat.completion", created: base.created, model: base.model });
    expect(r.choices[0]).toEqual({ index: 0, message: { role: "assistant", content: "hi", refusal: null, annotations: [], reasoning_content: "t" }, logprobs: null, finish_reason: "stop" });
    expect(r.usage.total_tokens).toBe(17);
  });

  test("tool calls only: content null, arguments joined, no-arg {}", async () => {
    const r = await encodeChatCompletion(iter([
      { type: "tool_start", id: "a", name: "f" }, { type: "tool_args", id: "a", json: '{"q":' }, { type: "tool_args", id: "a", json: '"x"}' }, { type: "tool_end", id: "a" },
      { type: "tool_start", id: "b", name: "g" }, { type: "tool_end", id: "b" },
      { type: "stop", reason: "tool_use" },
    ]), base);
    const m = r.choices[0]!.message as any;
    expect(m.content).toBeNull();
    expect(m.tool_calls).toEqual([
      { id: "a", type: "function", function: { name: "f", arguments: '{"q":"x"}' } },
      { id: "b", type: "function", function: { name: "g", arguments: "{}" } },
    ]);
    expect(r.choices[0]!.finish_reason).toBe("tool_calls");
  });

  test("no tool_calls key when there are none; json_schema checked", async () => {
    const rf = { type: "json_schema", json_schema: { name: "p", schema: { type: "object", required: ["name"], properties: { name: { type: "string" } } } } } as const;
    const ok = await encodeChatCompletion(iter([{ type: "text", text: 'Sure: {"name":"Ann"}' }, { type: "stop", reason: "end_turn" }]), { ...base, responseFormat: rf });
    expect("tool_calls" in ok.choices[0]!.message).toBe(false);
    expect(ok.choices[0]!.message.content).toBe('{"name":"Ann"}');
    await expect(encodeChatCompletion(iter([{ type: "text", text: '{"name":3}' }, { type: "stop", reason: "end_turn" }]), { ...base, responseFormat: rf })).rejects.toThrow(/name should be string/);
  });
});
