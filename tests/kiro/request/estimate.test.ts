import { describe, expect, test } from "bun:test";
import { countTextTokens, estimateInputTokens } from "../../../src/kiro/request/estimate";
import { PNG_1x1, req, tool, toolResult, toolUse, user } from "./helpers";

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
