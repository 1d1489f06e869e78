/**
 * Output that ends inside a tool call (the upstream's output cap cutting a long Write): through
 * the real app, both SDKs receive no tool call at all (never one with unparseable input), the
 * stop reason says the output was truncated, and the answer's text tells the model what happened.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { startE2E, type E2E } from "../support/e2e";

const WRITE = {
  name: "Write",
  description: "Write a file",
  input_schema: { type: "object" as const, properties: { file_path: { type: "string" }, content: { type: "string" } }, required: ["file_path", "content"] },
};

describe("a tool call cut off by the upstream's output limit", () => {
  let e: E2E;
  beforeAll(async () => {
    e = await startE2E();
  });
  afterAll(async () => {
    await e.stop();
  });

  for (const directive of ["tool_cut", "tool_cut_exception", "tool_cut_invalid"]) {
    test(`Anthropic stream (${directive}): no tool_use block, stop max_tokens, the note in the text`, async () => {
      const client = new Anthropic({ baseURL: e.url, apiKey: e.clientKey, maxRetries: 0 });
      const stream = client.messages.stream({
        model: "claude-sonnet-4-5",
        max_tokens: 4000,
        tools: [WRITE],
        messages: [{ role: "user", content: `write a big file [[fake:${directive}:900]]` }],
      });
      const msg = await stream.finalMessage();
      expect(msg.stop_reason).toBe("max_tokens");
      expect(msg.content.some((b) => b.type === "tool_use")).toBe(false);
      const text = msg.content.map((b) => (b.type === "text" ? b.text : "")).join("");
      expect(text).toStartWith("Writing the file now.");
      expect(text).toContain("cut off the tool call `Write`");
      expect(text).toContain("smaller");
    });
  }

  test("Anthropic non-stream: the same", async () => {
    const client = new Anthropic({ baseURL: e.url, apiKey: e.clientKey, maxRetries: 0 });
    const msg = await client.messages.create({
      model: "claude-sonnet-4-5",
      max_tokens: 4000,
      tools: [WRITE],
      messages: [{ role: "user", content: "write a big file [[fake:tool_cut]]" }],
    });
    expect(msg.stop_reason).toBe("max_tokens");
    expect(msg.content.map((b) => b.type)).toEqual(["text"]);
  });

  test("OpenAI Chat Completions stream: no tool_calls delta, finish_reason length", async () => {
    const client = new OpenAI({ baseURL: `${e.url}/v1`, apiKey: e.clientKey, maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: "claude-sonnet-4-5",
      stream: true,
      tools: [{ type: "function", function: { name: WRITE.name, description: WRITE.description, parameters: WRITE.input_schema } }],
      messages: [{ role: "user", content: "write a big file [[fake:tool_cut_exception]]" }],
    });
    let text = "";
    let finish: string | null = null;
    let toolDeltas = 0;
    for await (const chunk of stream) {
      const c = chunk.choices[0];
      if (!c) continue;
      text += c.delta.content ?? "";
      if (c.delta.tool_calls?.length) toolDeltas++;
      finish = c.finish_reason ?? finish;
    }
    expect(toolDeltas).toBe(0);
    expect(finish).toBe("length");
    expect(text).toContain("cut off the tool call `Write`");
  });

  test("the next turn carries the note back to the model as assistant text", async () => {
    const client = new Anthropic({ baseURL: e.url, apiKey: e.clientKey, maxRetries: 0 });
    const first = await client.messages.create({
      model: "claude-sonnet-4-5",
      max_tokens: 4000,
      tools: [WRITE],
      messages: [{ role: "user", content: "write a big file [[fake:tool_cut]]" }],
    });
    const before = e.fake.requests.length;
    await client.messages.create({
      model: "claude-sonnet-4-5",
      max_tokens: 4000,
      tools: [WRITE],
      messages: [
        { role: "user", content: "write a big file" },
        { role: "assistant", content: first.content as Anthropic.ContentBlockParam[] },
        { role: "user", content: "continue" },
      ],
    });
    const sent = e.fake.requests.slice(before).find((r) => r.path.endsWith("/generateAssistantResponse"))!;
    expect(JSON.stringify((sent.body as any).conversationState.history)).toContain("cut off the tool call `Write`");
  });
});
