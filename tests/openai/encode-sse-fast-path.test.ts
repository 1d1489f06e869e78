/**
 * ChatStreamEncoder.sse() writes text/reasoning deltas from a prebuilt prefix and suffix (the
 * streaming hot path); it must produce exactly the bytes of push() + sseData() for every event.
 */
import { describe, expect, test } from "bun:test";
import type { CanonicalEvent } from "../../src/core/canonical";
import { ChatStreamEncoder, sseData } from "../../src/dialects/openai/encode-stream";

const events: CanonicalEvent[] = [
  { type: "thinking", text: "let me think" },
  { type: "text", text: 'hi "there"\n✓ \u2028 </script>' },
  { type: "text", text: "" },
  { type: "text", text: "more" },
  { type: "tool_start", id: "call_1", name: "get_weather" },
  { type: "tool_args", id: "call_1", json: '{"city":' },
  { type: "tool_args", id: "call_1", json: '"Paris"}' },
  { type: "tool_end", id: "call_1" },
  { type: "usage", usage: { inputTokens: 3, outputTokens: 7 } },
  { type: "stop", reason: "tool_use" },
  { type: "text", text: "after the stop" },
];

describe("ChatStreamEncoder.sse fast path", () => {
  for (const includeUsage of [true, false]) {
    test(`same bytes as push() + sseData() (include_usage ${includeUsage})`, () => {
      const meta = { id: "chatcmpl-1", created: 1_700_000_000, model: 'claude-"x"', includeUsage };
      const fast = new ChatStreamEncoder(meta);
      const slow = new ChatStreamEncoder(meta);
      for (const e of events) {
        let expected = "";
        for (const c of slow.push(e)) expected += sseData(c);
        expect(fast.sse(e)).toBe(expected);
      }
    });
  }

  test("a held JSON reply (response_format) is not streamed by the fast path", () => {
    const meta = { id: "chatcmpl-2", created: 1, model: "m", includeUsage: false, responseFormat: { type: "json_object" as const } };
    const fast = new ChatStreamEncoder(meta);
    const slow = new ChatStreamEncoder(meta);
    for (const e of [{ type: "text", text: "{" }, { type: "text", text: '"a":1}' }, { type: "stop", reason: "end_turn" }] as CanonicalEvent[]) {
      let expected = "";
      for (const c of slow.push(e)) expected += sseData(c);
      expect(fast.sse(e)).toBe(expected);
    }
  });
});
