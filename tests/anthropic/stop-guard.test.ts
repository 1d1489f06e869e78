import { describe, expect, test } from "bun:test";
import type { CanonicalEvent } from "../../src/core/canonical";
import { StopGuard } from "../../src/core/stop-guard";
import { OutputMeter, finalUsage } from "../../src/core/usage";
import { countTextTokens } from "../../src/core/tokens/estimate";

function run(guard: StopGuard, events: CanonicalEvent[]): CanonicalEvent[] {
  const out: CanonicalEvent[] = [];
  for (const ev of events) {
    guard.feed(ev, out);
    if (guard.stopped) return out;
  }
  guard.finish(out);
  return out;
}
const text = (evs: CanonicalEvent[]) => evs.filter((e) => e.type === "text").map((e) => (e as { text: string }).text).join("");
const chars = (s: string) => Array.from(s).map((c): CanonicalEvent => ({ type: "text", text: c }));

describe("stop sequences", () => {
  test("match split one character per chunk", () => {
    const g = new StopGuard({ stopSequences: ["END"], maxTokens: 10_000 });
    const out = run(g, chars("hello END world"));
    expect(text(out)).toBe("hello ");
    expect(g.stopped).toEqual({ reason: "stop_sequence", stopSequence: "END" });
  });

  test("earliest match wins among several sequences", () => {
    const g = new StopGuard({ stopSequences: ["world", "lo"], maxTokens: 10_000 });
    const out = run(g, [{ type: "text", text: "hel" }, { type: "text", text: "lo world" }]);
    expect(text(out)).toBe("hel");
    expect(g.stopped?.stopSequence).toBe("lo");
  });

  test("a partial match that fails is released unchanged", () => {
    const g = new StopGuard({ stopSequences: ["STOP"], maxTokens: 10_000 });
    const out = run(g, [{ type: "text", text: "ST" }, { type: "text", text: "AY here" }]);
    expect(text(out)).toBe("STAY here");
    expect(g.stopped).toBeUndefined();
  });

  test("held text is flushed before a tool call and at the end", () => {
    const g = new StopGuard({ stopSequences: ["xyz"], maxTokens: 10_000 });
    const out = run(g, [
      { type: "text", text: "abc x" },
      { type: "tool_start", id: "t1", name: "f" },
      { type: "tool_args", id: "t1", json: "{}" },
      { type: "tool_end", id: "t1" },
      { type: "text", text: "xy" },
    ]);
    expect(out.map((e) => e.type)).toEqual(["text", "text", "tool_start", "tool_args", "tool_end", "text"]);
    expect(text(out)).toBe("abc xxy");
  });

  test("stop sequences do not apply to thinking", () => {
    const g = new StopGuard({ stopSequences: ["END"], maxTokens: 10_000 });
    const out = run(g, [{ type: "thinking", text: "the END is near" }, { type: "text", text: "fine" }]);
    expect(out[0]).toEqual({ type: "thinking", text: "the END is near" });
    expect(g.stopped).toBeUndefined();
  });

  test("emoji are never split between sent and held text", () => {
    const g = new StopGuard({ stopSequences: ["\u{1F600}!"], maxTokens: 10_000 });
    const out = run(g, [{ type: "text", text: "a\u{1F600}" }, { type: "text", text: "b" }]);
    expect(text(out)).toBe("a\u{1F600}b");
  });
});

describe("max_tokens", () => {
  test("cuts inside the delta that crosses the limit", () => {
    const words = Array.from({ length: 200 }, (_, i) => `word${i} `);
    const g = new StopGuard({ stopSequences: [], maxTokens: 25 });
    const out = run(g, words.map((w): CanonicalEvent => ({ type: "text", text: w })));
    expect(g.stopped).toEqual({ reason: "max_tokens" });
    const t = text(out);
    const n = countTextTokens(t);
    expect(n).toBeLessThanOrEqual(26);
    expect(n).toBeGreaterThanOrEqual(20);
  });

  test("a large budget never tokenizes and passes events through", () => {
    const g = new StopGuard({ stopSequences: [], maxTokens: 100_000 });
    const evs: CanonicalEvent[] = [{ type: "text", text: "hi" }, { type: "text", text: " there" }];
    expect(run(g, evs)).toEqual(evs);
  });

  test("tool JSON is never cut: the call completes, then max_tokens", () => {
    const g = new StopGuard({ stopSequences: [], maxTokens: 5 });
    const json = JSON.stringify({ long: "x ".repeat(50) });
    const out = run(g, [
      { type: "tool_start", id: "t", name: "f" },
      { type: "tool_args", id: "t", json },
      { type: "tool_end", id: "t" },
      { type: "text", text: "never sent" },
    ]);
    expect(out.map((e) => e.type)).toEqual(["tool_start", "tool_args", "tool_end"]);
    expect(g.stopped?.reason).toBe("max_tokens");
  });
});

describe("final usage", () => {
  const base = { contextWindow: 200_000, estimatedInputTokens: 42, outputEstimate: () => 10 };
  test("upstream token counts win", () => {
    expect(finalUsage({ ...base, upstream: { inputTokens: 1200, outputTokens: 34, cacheReadInputTokens: 100 } })).toEqual({
      inputTokens: 1200,
      outputTokens: 34,
      cacheReadInputTokens: 100,
    });
  });
  test("context percentage × window minus output", () => {
    expect(finalUsage({ ...base, upstream: { credits: 0.2 }, contextUsagePercentage: 12.34 })).toEqual({
      inputTokens: 24_680 - 10,
      outputTokens: 10,
      credits: 0.2,
    });
  });
  test("else the local estimate", () => {
    expect(finalUsage({ ...base, upstream: {} })).toEqual({ inputTokens: 42, outputTokens: 10 });
  });
  test("long output is extrapolated from a sample", () => {
    const m = new OutputMeter();
    const chunk = "The quick brown fox jumps over the lazy dog. ";
    for (let i = 0; i < 2000; i++) m.add(chunk);
    const exact = countTextTokens(chunk.repeat(2000));
    expect(Math.abs(m.estimateTokens() - exact) / exact).toBeLessThan(0.05);
  });
});

describe("max_tokens on long answers", () => {
  test("a long answer stops close to the limit, with exact cutting only at the end", () => {
    // ~40 chars per delta, like a real stream; 8,000 deltas are far more than a 4,000-token budget.
    const delta = "The quick brown fox jumps over the dog. ";
    const g = new StopGuard({ stopSequences: [], maxTokens: 4000 });
    const out: CanonicalEvent[] = [];
    let fed = 0;
    for (let i = 0; i < 8000 && !g.stopped; i++, fed++) g.feed({ type: "text", text: delta }, out);
    expect(g.stopped).toEqual({ reason: "max_tokens" });
    const n = countTextTokens(text(out));
    // The estimate is calibrated on this very answer, so the stop lands within a few percent.
    expect(n).toBeGreaterThan(3800);
    expect(n).toBeLessThanOrEqual(4100);
    expect(fed).toBeLessThan(8000);
  });
});

describe("single tool call (parallel_tool_calls:false / disable_parallel_tool_use)", () => {
  const call = (id: string): CanonicalEvent[] => [
    { type: "tool_start", id, name: "f" },
    { type: "tool_args", id, json: `{"id":"${id}"}` },
    { type: "tool_end", id },
  ];

  test("stops with tool_use after the first complete call; the second never passes", () => {
    const g = new StopGuard({ stopSequences: [], maxTokens: 10_000, singleToolCall: true });
    const out = run(g, [{ type: "text", text: "two calls" }, ...call("a"), ...call("b")]);
    expect(out.map((e) => e.type)).toEqual(["text", "tool_start", "tool_args", "tool_end"]);
    expect(out.some((e) => "id" in e && e.id === "b")).toBe(false);
    expect(g.stopped).toEqual({ reason: "tool_use" });
  });

  test("held stop-sequence text is released before the call", () => {
    const g = new StopGuard({ stopSequences: ["xyz"], maxTokens: 10_000, singleToolCall: true });
    const out = run(g, [{ type: "text", text: "ab x" }, ...call("a"), ...call("b")]);
    expect(text(out)).toBe("ab x");
    expect(out.filter((e) => e.type === "tool_start")).toHaveLength(1);
  });

  test("without the option both calls pass and nothing stops", () => {
    const g = new StopGuard({ stopSequences: [], maxTokens: 10_000 });
    const out = run(g, [...call("a"), ...call("b")]);
    expect(out.filter((e) => e.type === "tool_end")).toHaveLength(2);
    expect(g.stopped).toBeUndefined();
  });

  test("max_tokens reached by the call's JSON wins over tool_use", () => {
    const g = new StopGuard({ stopSequences: [], maxTokens: 3, singleToolCall: true });
    run(g, [{ type: "tool_start", id: "a", name: "f" }, { type: "tool_args", id: "a", json: JSON.stringify({ long: "x ".repeat(40) }) }, { type: "tool_end", id: "a" }]);
    expect(g.stopped?.reason).toBe("max_tokens");
  });
});
