/**
 * The Responses event builder on its own: stream and non-stream forms agree item for item, and
 * the hand-written delta frames are byte-identical to serialising the event object.
 */
import { describe, expect, test } from "bun:test";
import type { CanonicalEvent } from "../../src/core/canonical";
import { TurnError } from "../../src/core/errors";
import { ResponseBuilder, freeformInput } from "../../src/dialects/responses/builder";
import type { ResponsesExtra } from "../../src/dialects/responses/decode";
import { decodeReasoning } from "../../src/dialects/responses/ids";
import { decodeTools } from "../../src/dialects/responses/tools";
import { parseSse } from "./sse";

const extra = (over: Partial<ResponsesExtra> = {}): ResponsesExtra => ({
  responseId: "resp_0123456789abcdef0123456789abcdef",
  createdAt: 1_790_000_000,
  clientKeyId: "k",
  store: false,
  tools: decodeTools([{ type: "custom", name: "apply_patch" }, { type: "function", name: "f" }]),
  includeEncrypted: false,
  echo: {},
  input: [],
  ...over,
});

const EVENTS: CanonicalEvent[] = [
  { type: "thinking", text: "hmm \"quoted\"\n" },
  { type: "thinking", text: "", signature: "sig-1" },
  { type: "text", text: "Line ✓ one\n" },
  { type: "text", text: "two" },
  { type: "tool_start", id: "toolu_1", name: "f" },
  { type: "tool_args", id: "toolu_1", json: '{"a":' },
  { type: "tool_args", id: "toolu_1", json: "1}" },
  { type: "tool_end", id: "toolu_1" },
  { type: "tool_start", id: "toolu_2", name: "apply_patch" },
  { type: "tool_args", id: "toolu_2", json: '{"input":"*** Begin Patch\\n*** End Patch"}' },
  { type: "tool_end", id: "toolu_2" },
  { type: "usage", usage: { inputTokens: 10, outputTokens: 20, cacheReadInputTokens: 5 } },
  { type: "stop", reason: "tool_use" },
];

describe("ResponseBuilder", () => {
  test("stream and non-stream produce the same final response", () => {
    const s = new ResponseBuilder(extra(), "m", true);
    s.start();
    for (const e of EVENTS) s.push(e);
    const streamed = s.end();
    const { events } = parseSse(s.take());
    const j = new ResponseBuilder(extra(), "m", false);
    for (const e of EVENTS) j.push(e);
    const folded = j.end();
    expect(j.take()).toBe("");
    expect(events.at(-1)!.data.response).toEqual(folded.response);
    expect(streamed.response).toEqual(folded.response);
    const out = folded.response.output as any[];
    expect(out.map((o) => o.type)).toEqual(["reasoning", "message", "function_call", "custom_tool_call"]);
    expect(out[3].input).toBe("*** Begin Patch\n*** End Patch");
    expect(folded.response.usage).toEqual({ input_tokens: 15, input_tokens_details: { cached_tokens: 5 }, output_tokens: 20, output_tokens_details: { reasoning_tokens: expect.any(Number) }, total_tokens: 35 });
    // Not included on the wire, kept for replay (signed thinking).
    expect(out[0].encrypted_content).toBeNull();
    expect(decodeReasoning(folded.replayOutput[0]!.encrypted_content)).toEqual({ text: 'hmm "quoted"\n', signature: "sig-1" });
  });

  test("delta frames are byte-identical to the serialised event objects", () => {
    const s = new ResponseBuilder(extra(), "m", true);
    s.start();
    for (const e of EVENTS) s.push(e);
    s.end();
    const text = s.take();
    for (const block of text.split("\n\n").filter(Boolean)) {
      const data = block.split("\n").find((l) => l.startsWith("data: "))!.slice(6);
      expect(data).toBe(JSON.stringify(JSON.parse(data)));
    }
    const deltas = parseSse(text).events.filter((x) => x.data.type.endsWith("text.delta"));
    expect(deltas.map((d) => Object.keys(d.data))).toEqual([
      ["type", "sequence_number", "item_id", "output_index", "summary_index", "delta"],
      ["type", "sequence_number", "item_id", "output_index", "content_index", "delta", "logprobs"],
      ["type", "sequence_number", "item_id", "output_index", "content_index", "delta", "logprobs"],
    ]);
  });

  test("freeform input: the `input` string, a lone string value, else the JSON as written", () => {
    expect(freeformInput('{"input":"x\\ny"}')).toBe("x\ny");
    expect(freeformInput('{"patch":"p"}')).toBe("p");
    expect(freeformInput('{"a":1,"b":2}')).toBe('{"a":1,"b":2}');
    expect(freeformInput("not json")).toBe("not json");
  });

  test("a failure after the 200 closes the open item, then response.failed with Codex's code", () => {
    const s = new ResponseBuilder(extra(), "m", true);
    s.start();
    s.push({ type: "text", text: "partial" });
    s.fail(new TurnError("input_too_long", "prompt is too long"));
    const { events } = parseSse(s.take());
    expect(events.map((x) => x.data.type).slice(-2)).toEqual(["response.output_item.done", "response.failed"]);
    expect(events.at(-1)!.data.response.error).toEqual({ code: "context_length_exceeded", message: "prompt is too long" });
  });
});
