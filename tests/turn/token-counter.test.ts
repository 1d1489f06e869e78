/**
 * Token counts of a served turn go through the server's own TokenCounter (Services.tokens): the
 * prompt estimate and the answer's output estimate remember their pieces there, and two servers
 * in one process do not share what they remember.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startE2E, type E2E } from "../support/e2e";

let a: E2E;
let b: E2E;
beforeAll(async () => {
  [a, b] = await Promise.all([startE2E(), startE2E()]);
});
afterAll(async () => {
  await Promise.all([a.stop(), b.stop()]);
});

async function streamed(e: E2E, prompt: string): Promise<string> {
  const r = await fetch(`${e.url}/v1/messages`, {
    method: "POST",
    headers: { "x-api-key": e.clientKey, "content-type": "application/json", "anthropic-version": "2023-06-01" },
    body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 1000, stream: true, messages: [{ role: "user", content: prompt }] }),
  });
  expect(r.status).toBe(200);
  return r.text();
}

describe("the server's token counter", () => {
  test("counts the answer's output with the server's counter, and each server keeps its own", async () => {
    const counted: string[] = [];
    const tokens = a.services.tokens;
    const countText = tokens.countText.bind(tokens);
    tokens.countText = (text: string) => (counted.push(text), countText(text));
    try {
      const body = await streamed(a, "Write a long answer [[fake:long:30]]");
      expect(body).toContain("event: message_stop");
      // The output estimate at the end of the turn counted (the start of) the answer's text.
      expect(counted.some((t) => t.startsWith("0 lorem"))).toBe(true);
      const delta = body.split("\n").find((l) => l.startsWith('data: {"type":"message_delta"'))!;
      expect((JSON.parse(delta.slice("data: ".length)) as { usage: { output_tokens: number } }).usage.output_tokens).toBeGreaterThan(30);
    } finally {
      tokens.countText = countText;
    }
    expect(a.services.tokens.counter.remembered).toBeGreaterThan(10);
    expect(b.services.tokens.counter.remembered).toBe(0);
  });
});
