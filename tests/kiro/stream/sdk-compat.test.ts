/**
 * "The fake is checked against Amazon's own decoder": bytes from scenarioStream are served over
 * HTTP to the official @aws/codewhisperer-streaming-client, whose generated deserializer must see
 * the typed events and the typed exception we intend to fake. This file covers the scenario
 * bytes in isolation (in-stream exceptions included); tests/kiro/sdk-fake.test.ts drives the real
 * fake server (accounts, bearer, directives, HTTP-level typed exceptions) with the same SDK.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CodeWhispererStreaming, InternalServerException } from "@aws/codewhisperer-streaming-client";
import { exceptionScenario, reasoningScenario, scenarioStream, textScenario, toolScenario, usageScenario, type Scenario } from "../../fake-kiro/scenarios";

let server: ReturnType<typeof Bun.serve>;
let next: Scenario | undefined;

beforeAll(() => {
  server = Bun.serve({
    port: 0,
    fetch(req) {
      const url = new URL(req.url);
      if (req.method !== "POST" || url.pathname !== "/generateAssistantResponse" || !next) return new Response("not found", { status: 404 });
      const s = next;
      next = undefined;
      return new Response(scenarioStream(s, { seed: 42, maxChunk: 13 }), {
        headers: { "content-type": "application/vnd.amazon.eventstream", "x-amzn-codewhisperer-conversation-id": "conv-1" },
      });
    },
  });
});

afterAll(() => server.stop(true));

/** Plays `s` through the SDK; `onEvent` sees events as they arrive (before a later exception). */
async function play(s: Scenario, onEvent?: (e: Record<string, any>) => void): Promise<Record<string, any>[]> {
  next = s;
  const client = new CodeWhispererStreaming({
    endpoint: `http://localhost:${server.port}`,
    region: "us-east-1",
    token: { token: "x" },
    maxAttempts: 1,
  });
  const res = await client.generateAssistantResponse({
    conversationState: {
      chatTriggerType: "MANUAL",
      currentMessage: { userInputMessage: { content: "hi" } },
    },
  });
  const events: Record<string, any>[] = [];
  try {
    for await (const ev of res.generateAssistantResponseResponse!) {
      events.push(ev as Record<string, any>);
      onEvent?.(ev as Record<string, any>);
    }
  } finally {
    client.destroy();
  }
  return events;
}

describe("official SDK decodes the fake's bytes", () => {
  test("text scenario → assistantResponseEvent, meteringEvent, contextUsageEvent", async () => {
    const evs = await play(textScenario("Hello from the fake ✓", { chunks: 3 }));
    const text = evs.filter((e) => e.assistantResponseEvent).map((e) => e.assistantResponseEvent.content).join("");
    expect(text).toBe("Hello from the fake ✓");
    expect(evs.find((e) => e.meteringEvent)!.meteringEvent).toEqual({ unit: "credit", unitPlural: "credits", usage: 0.176 });
    expect(evs.at(-1)).toEqual({ contextUsageEvent: { contextUsagePercentage: 12.34 } });
  });

  test("tool scenario → toolUseEvent fragments the SDK concatenates to the input JSON", async () => {
    const input = { command: "ls -la", cwd: "/tmp" };
    const evs = await play(toolScenario([{ name: "Bash", input, id: "tooluse_AbCdEfGhIjKlMnOpQrStUv" }]));
    const tool = evs.filter((e) => e.toolUseEvent).map((e) => e.toolUseEvent);
    expect(tool[0]).toEqual({ name: "Bash", toolUseId: "tooluse_AbCdEfGhIjKlMnOpQrStUv" });
    expect(tool.map((t) => t.input ?? "").join("")).toBe(JSON.stringify(input));
    expect(tool.at(-1)).toEqual({ name: "Bash", stop: true, toolUseId: "tooluse_AbCdEfGhIjKlMnOpQrStUv" });
  });

  test("reasoning + usage scenarios → reasoningContentEvent and metadataEvent.tokenUsage", async () => {
    const r = await play(reasoningScenario("thoughts", "Answer", "sig-9"));
    expect(r.filter((e) => e.reasoningContentEvent?.text).map((e) => e.reasoningContentEvent.text).join("")).toBe("thoughts");
    expect(r.find((e) => e.reasoningContentEvent?.signature)!.reasoningContentEvent).toEqual({ signature: "sig-9" });
    const u = await play(usageScenario());
    expect(u.find((e) => e.metadataEvent)!.metadataEvent.tokenUsage).toEqual({
      uncachedInputTokens: 1200,
      outputTokens: 34,
      totalTokens: 1234,
      cacheReadInputTokens: 100,
    });
  });

  // Finding: ThrottlingException is NOT a member of the ChatResponseStream union (only `error` →
  // InternalServerException is), so the SDK surfaces an in-stream ThrottlingException as a plain
  // Error named after `:exception-type` with the raw payload as message — exactly how the real
  // service's frames would look to it. The typed class only exists for the modeled `error` member.
  test("exception scenario → text first, then an error named ThrottlingException", async () => {
    const seen: string[] = [];
    let caught: unknown;
    try {
      await play(exceptionScenario("ThrottlingException", "Too many requests", { text: "Partial answer" }), (e) =>
        seen.push(e.assistantResponseEvent?.content ?? ""),
      );
    } catch (e) {
      caught = e;
    }
    expect(seen.join("")).toBe("Partial answer");
    expect((caught as Error).name).toBe("ThrottlingException");
    expect(JSON.parse((caught as Error).message)).toEqual({
      message: "Too many requests",
      __type: "com.amazon.aws.codewhisperer#ThrottlingException",
    });
  });

  test("`error` exception frame → typed InternalServerException with message and reason", async () => {
    let caught: unknown;
    try {
      await play(exceptionScenario("error", "Encountered unexpectedly high load", { reason: "MODEL_TEMPORARILY_UNAVAILABLE" }));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(InternalServerException);
    expect((caught as InternalServerException).message).toBe("Encountered unexpectedly high load");
    expect((caught as InternalServerException).reason).toBe("MODEL_TEMPORARILY_UNAVAILABLE");
  });
});
