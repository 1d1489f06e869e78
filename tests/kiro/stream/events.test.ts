/** ChatResponseStream members → CanonicalEvents: text, usage, ignored members, exceptions, stop. */
import { describe, expect, test } from "bun:test";
import { encodeErrorFrame, encodeEvent, encodeException, encodeFrame } from "../../fake-kiro/frames";
import {
  abruptCloseScenario,
  contentLengthScenario,
  duplicateFrameScenario,
  errorFrameScenario,
  exceptionScenario,
  longScenario,
  scenarioBytes,
  scenarioStream,
  textScenario,
  usageScenario,
} from "../../fake-kiro/scenarios";
import { decodeKiroStream } from "../../../src/kiro/stream/decode";
import { collect, collectUntilError, textOf } from "./helpers";

describe("text", () => {
  test("several deltas arrive as text events in order, then end_turn", async () => {
    const evs = await collect(scenarioStream(textScenario("Hello, wörld! 👋", { chunks: 4, usage: false })));
    expect(evs.filter((e) => e.type === "text").length).toBe(4);
    expect(textOf(evs)).toBe("Hello, wörld! 👋");
    expect(evs.at(-1)).toEqual({ type: "stop", reason: "end_turn" });
  });

  test("long output (2,000 frames) through random chunking", async () => {
    const evs = await collect(scenarioStream(longScenario(2000), { seed: 7, maxChunk: 4096 }));
    expect(evs.filter((e) => e.type === "text").length).toBe(2000);
    expect(evs.at(-1)).toEqual({ type: "stop", reason: "end_turn" });
  });

  test("wrapped payload form {eventType: {...}} is tolerated", async () => {
    const evs = await collect([encodeEvent("assistantResponseEvent", { assistantResponseEvent: { content: "wrapped" } })]);
    expect(textOf(evs)).toBe("wrapped");
  });

  test("duplicated consecutive frames are kept by default and dropped with the switch", async () => {
    const bytes = scenarioBytes(duplicateFrameScenario());
    expect(textOf(await collect([bytes]))).toBe("Tralala!");
    expect(textOf(await collect([bytes], { dropRepeatedText: true }))).toBe("Tra" + "la" + "!");
  });
});

describe("usage", () => {
  test("metadataEvent, meteringEvent and contextUsageEvent map to usage events", async () => {
    const evs = await collect([scenarioBytes(usageScenario())]);
    expect(evs.filter((e) => e.type === "usage")).toEqual([
      { type: "usage", usage: { inputTokens: 1200, outputTokens: 34, cacheReadInputTokens: 100 } },
      { type: "usage", usage: { credits: 0.25 } },
      { type: "usage", usage: {}, contextUsagePercentage: 0.6 },
    ]);
    expect(evs.at(-1)).toEqual({ type: "stop", reason: "end_turn" });
  });

  test("tokenUsage.contextUsagePercentage and cache writes are carried", async () => {
    const evs = await collect([
      encodeEvent("metadataEvent", {
        tokenUsage: { uncachedInputTokens: 1, outputTokens: 2, totalTokens: 3, cacheWriteInputTokens: 4, contextUsagePercentage: 5.5 },
      }),
    ]);
    expect(evs[0]).toEqual({ type: "usage", usage: { inputTokens: 1, outputTokens: 2, cacheWriteInputTokens: 4 }, contextUsagePercentage: 5.5 });
  });

  test("contextUsagePercentage >= 100 ends with model_context_window_exceeded", async () => {
    const evs = await collect([
      encodeEvent("assistantResponseEvent", { content: "x" }),
      encodeEvent("contextUsageEvent", { contextUsagePercentage: 100 }),
    ]);
    expect(evs.at(-1)).toEqual({ type: "stop", reason: "model_context_window_exceeded" });
  });
});

describe("ignored members", () => {
  test("UI/IDE members and unknown event types produce nothing", async () => {
    const ignored: Array<[string, object]> = [
      ["messageMetadataEvent", { conversationId: "c", utteranceId: "u" }],
      ["codeEvent", { content: "print(1)" }],
      ["codeReferenceEvent", { references: [] }],
      ["citationEvent", { target: { location: 1 }, citationText: "t", citationLink: "https://x" }],
      ["documentCitationEvent", { title: "t" }],
      ["supplementaryWebLinksEvent", { supplementaryWebLinks: [{ url: "https://x", title: "t" }] }],
      ["followupPromptEvent", { followupPrompt: { content: "more?" } }],
      ["intentsEvent", { intents: {} }],
      ["interactionComponentsEvent", { interactionComponentList: [] }],
      ["toolResultEvent", { toolResult: { toolUseId: "x", content: [] } }],
      ["dryRunSucceedEvent", {}],
      ["messageStopEvent", { stopReason: "end_turn" }],
      ["somethingNewEvent", { a: 1 }],
    ];
    const evs = await collect(ignored.map(([t, p]) => encodeEvent(t, p)));
    expect(evs).toEqual([{ type: "stop", reason: "end_turn" }]);
  });

  test("reasoningContentEvent with only redactedContent is dropped (no canonical carrier)", async () => {
    expect(await collect([encodeEvent("reasoningContentEvent", { redactedContent: "AAEC" })])).toEqual([{ type: "stop", reason: "end_turn" }]);
  });
});

describe("exceptions and stop reasons", () => {
  test("ThrottlingException after some text → text, then KiroError throttled", async () => {
    const { events, error } = await collectUntilError(scenarioStream(exceptionScenario(), { seed: 3 }));
    expect(textOf(events)).toBe("Partial answer");
    expect(error.cls).toBe("throttled");
    expect(error.status).toBe(429);
  });

  test.each([
    ["InternalServerException", "boom", "MODEL_TEMPORARILY_UNAVAILABLE", "model_capacity"],
    ["InternalServerException", "boom", undefined, "transient"],
    ["error", "boom", undefined, "transient"],
    ["ThrottlingException", "You have reached the limit.", "MONTHLY_REQUEST_COUNT", "quota_exhausted"],
    ["ThrottlingException", "experiencing high traffic", "INSUFFICIENT_MODEL_CAPACITY", "model_capacity"],
    ["ValidationException", "Input is too long.", "CONTENT_LENGTH_EXCEEDS_THRESHOLD", "input_too_long"],
    ["ValidationException", "Improperly formed request.", undefined, "bad_request"],
    ["AccessDeniedException", "suspended", "TEMPORARILY_SUSPENDED", "suspended"],
  ] as const)("%s (%s, %s) → %s", async (type, message, reason, cls) => {
    const { error } = await collectUntilError([encodeException(type, message, { reason })]);
    expect(error.cls).toBe(cls);
    expect(error.upstreamMessage).toBe(message);
    if (reason) expect(error.reason).toBe(reason);
  });

  test("the :exception-type header wins over payload __type", async () => {
    const frame = encodeFrame(
      { ":exception-type": "ThrottlingException", ":content-type": "application/json", ":message-type": "exception" },
      new TextEncoder().encode(JSON.stringify({ message: "m", __type: "com.amazon.aws.codewhisperer#ValidationException" })),
    );
    expect((await collectUntilError([frame])).error.cls).toBe("throttled");
  });

  test("payload __type is the fallback when the header is missing", async () => {
    const frame = encodeFrame(
      { ":content-type": "application/json", ":message-type": "exception" },
      new TextEncoder().encode(JSON.stringify({ message: "m", __type: "com.amazon.aws.codewhisperer#ThrottlingException" })),
    );
    expect((await collectUntilError([frame])).error.cls).toBe("throttled");
  });

  test("error frames take code and message from headers", async () => {
    const { events, error } = await collectUntilError([scenarioBytes(errorFrameScenario("InternalFailure", "internal error"))]);
    expect(textOf(events)).toBe("Partial");
    expect(error.cls).toBe("transient");
    expect(error.upstreamMessage).toBe("internal error");
    expect((await collectUntilError([encodeErrorFrame("ThrottlingException", "slow down")])).error.cls).toBe("throttled");
  });

  test("invalidStateEvent ends the turn with an error", async () => {
    const { error } = await collectUntilError([encodeEvent("invalidStateEvent", { reason: "INVALID_TASK_ASSIST_PLAN", message: "bad state" })]);
    expect(error.cls).toBe("transient");
    expect(error.upstreamMessage).toBe("bad state");
    expect(error.reason).toBe("INVALID_TASK_ASSIST_PLAN");
  });

  test("ContentLengthExceededException → text kept, trailing usage kept, stop max_tokens", async () => {
    const evs = await collect(scenarioStream(contentLengthScenario("A long answer that gets cut"), { seed: 5 }));
    expect(textOf(evs)).toBe("A long answer that gets cut");
    expect(evs.some((e) => e.type === "usage" && e.usage.credits !== undefined)).toBe(true);
    expect(evs.at(-1)).toEqual({ type: "stop", reason: "max_tokens" });
  });

  test("abrupt close → text so far, then transient KiroError", async () => {
    const { events, error } = await collectUntilError(scenarioStream(abruptCloseScenario("cut off"), { seed: 11 }));
    expect(textOf(events)).toBe("cut off");
    expect(error.cls).toBe("transient");
    expect(error.upstreamMessage).toBe("upstream stream ended mid-frame");
  });

  test("a network read error becomes a transient KiroError", async () => {
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(encodeEvent("assistantResponseEvent", { content: "a" }));
        c.error(new Error("socket reset"));
      },
    });
    const { error } = await collectUntilError(body);
    expect(error.cls).toBe("transient");
    expect(error.upstreamMessage).toMatch(/socket reset/);
  });

  test("malformed JSON payload is a transient KiroError", async () => {
    const frame = encodeFrame({ ":event-type": "assistantResponseEvent", ":message-type": "event" }, new TextEncoder().encode("{nope"));
    expect((await collectUntilError([frame])).error.upstreamMessage).toMatch(/malformed JSON/);
  });

  test("stopping early cancels the upstream body", async () => {
    let cancelled = false;
    const src = scenarioStream(longScenario(100));
    const reader = src.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        const r = await reader.read();
        if (r.done) c.close();
        else c.enqueue(r.value);
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const ev of decodeKiroStream(body, { restoreToolName: (n) => n })) {
      expect(ev.type).toBe("text");
      break;
    }
    expect(cancelled).toBe(true);
  });
});
