import { describe, expect, test } from "bun:test";
import { InputTokenEstimator, countTextTokens } from "../../src/core/tokens/estimate";
import type { CanonicalRequest } from "../../src/core/canonical";
import { PNG_1x1, model, req, tool, toolResult, toolUse, user } from "../kiro/request/helpers";

const estimator = new InputTokenEstimator();
const estimateInputTokens = (r: CanonicalRequest) => estimator.estimate(r);

describe("token estimate", () => {
  test("counts text with the Claude tokenizer", () => {
    expect(countTextTokens("")).toBe(0);
    expect(countTextTokens("hello world")).toBeGreaterThanOrEqual(2);
    expect(countTextTokens("hello world")).toBeLessThanOrEqual(4);
  });
  test("always ≥ 1", () => {
    expect(estimateInputTokens(req({ messages: [] }))).toBe(1);
  });
  test("system, messages, tools and images all add up", () => {
    const base = estimateInputTokens(req());
    expect(estimateInputTokens(req({ system: "You are a very careful assistant." }))).toBeGreaterThan(base);
    expect(estimateInputTokens(req({ tools: [tool("Bash", "Run a shell command in the workspace.")] }))).toBeGreaterThan(base + 10);
    const withTools = estimateInputTokens(req({ messages: [user("q"), toolUse("a", "Bash", { command: "ls -la" }), toolResult("a", "a.txt b.txt")] }));
    expect(withTools).toBeGreaterThan(base + 8);
    const big = Buffer.alloc(2_000_000).toString("base64");
    const img = estimateInputTokens(req({ messages: [{ role: "user", content: [{ type: "image", mediaType: "image/png", data: big }] }] }));
    expect(img).toBe(2200); // LSP: bytes / 1e6 × 1100
    expect(estimateInputTokens(req({ messages: [{ role: "user", content: [{ type: "image", mediaType: "image/png", data: PNG_1x1 }] }] }))).toBeGreaterThanOrEqual(1);
  });
  test("fast: 1,000 small requests and one 2 MB text", () => {
    let t = performance.now();
    for (let i = 0; i < 1000; i++) estimateInputTokens(req({ messages: [user(`message number ${i}`)] }));
    const small = performance.now() - t;
    t = performance.now();
    const n = countTextTokens("The quick brown fox jumps over the lazy dog. ".repeat(45_000));
    const huge = performance.now() - t;
    expect(n).toBeGreaterThan(400_000);
    expect(small).toBeLessThan(2000);
    expect(huge).toBeLessThan(2000);
    console.log(`estimate: 1000 small requests ${small.toFixed(0)} ms; 2 MB text ${huge.toFixed(0)} ms`);
  });
});

describe("segment cache", () => {
  test("a resent conversation is counted from the cache: same number, nothing tokenized again", () => {
    const counted: string[] = [];
    const cached = new InputTokenEstimator(4096, (text) => (counted.push(text), countTextTokens(text)));
    const estimateInputTokens = (r: CanonicalRequest) => cached.estimate(r);
    const big = "You are a careful assistant. ".repeat(1500); // ~45 KB system prompt, like Claude Code's
    const req = (turns: number): CanonicalRequest => ({
      model: model("claude-sonnet-4-5"), system: big, tools: [], maxTokens: 100, stopSequences: [], thinking: { type: "disabled" },
      metadata: { dialect: "anthropic" },
      messages: Array.from({ length: turns }, (_, i) => ({ role: i % 2 ? "assistant" : "user", content: [{ type: "text", text: `message ${i} ${"word ".repeat(300)}` }] }) as CanonicalRequest["messages"][number]),
    });
    const first = estimateInputTokens(req(9));
    expect(counted.length).toBe(10); // the fixed part and nine messages
    const again = estimateInputTokens(req(9));
    expect(again).toBe(first);
    expect(counted.length).toBe(10);
    // One more turn: only the new message is counted, and the total grows by about its size.
    const next = estimateInputTokens(req(10));
    expect(next - first).toBeGreaterThan(250);
    expect(next - first).toBeLessThan(700);
    expect(counted.length).toBe(11);
  });
});
