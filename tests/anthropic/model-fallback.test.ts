import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import { startE2E, type E2E } from "../support/e2e";

/** Claude Code's default model is newer than anything Kiro lists: it must still be served. */
describe("model family fallback end to end", () => {
  let e: E2E;
  beforeAll(async () => { e = await startE2E(); });
  afterAll(async () => { await e.stop(); });

  test("claude-opus-5-5 is served by the newest Opus; the response keeps the requested name", async () => {
    const client = new Anthropic({ baseURL: e.url, apiKey: e.clientKey });
    const before = e.fake.requests.length;
    const m = await client.messages.create({ model: "claude-opus-5-5", max_tokens: 100, messages: [{ role: "user", content: "hi" }] });
    expect(m.model).toBe("claude-opus-5-5");
    expect(m.content[0]).toMatchObject({ type: "text" });
    const sent = e.fake.requests.slice(before).find((r) => r.path.endsWith("/generateAssistantResponse"))!;
    expect((sent.body as any).conversationState.currentMessage.userInputMessage.modelId).toBe("claude-opus-4.6");
  });

  test("KIRO_MODEL_FALLBACK=strict refuses it with not_found listing the valid names", async () => {
    const strict = await startE2E({ config: { modelFallback: "strict" } });
    const client = new Anthropic({ baseURL: strict.url, apiKey: strict.clientKey, maxRetries: 0 });
    const err = await client.messages.create({ model: "claude-opus-5-5", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }).catch((x) => x);
    expect(err).toBeInstanceOf(Anthropic.NotFoundError);
    expect(String(err.message)).toContain("claude-sonnet-4-5");
    expect(strict.fake.requests.some((r) => r.path.endsWith("/generateAssistantResponse"))).toBe(false);
    await strict.stop();
  });
});
