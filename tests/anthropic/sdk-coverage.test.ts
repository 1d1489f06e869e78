/**
 * The rest of the issue-5 acceptance through both SDK lines (1.x and 0.137): 529 and 504 as typed
 * errors, tool_choice as the upstream sees it, redacted_thinking and documents, count_tokens with
 * images, beta.messages.create, tool ids from stream to tool_result, and empty prompts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import Anthropic1 from "@anthropic-ai/sdk";
import Anthropic0 from "anthropic-sdk-0";
import { startE2E, type E2E, type FakeAccountSpec } from "../support/e2e";
import { textScenario, textSteps, toolSteps, toolUseId, usageSteps, type Scenario } from "../fake-kiro/scenarios";
import { OVERLOADED_RETRY_AFTER_SECONDS, anthropicErrorResponse } from "../../src/dialects/anthropic/errors";
import { TurnError } from "../../src/core/errors";

type Client = InstanceType<typeof Anthropic1>;
type SDK = typeof Anthropic1;
const sdks: Array<[string, SDK]> = [
  ["@anthropic-ai/sdk 1.x", Anthropic1],
  ["anthropic-sdk-0 (0.137)", Anthropic0 as unknown as SDK],
];
const isV1 = (S: SDK) => S === Anthropic1;

const MODEL = "claude-sonnet-4-6";
const weatherTool = {
  name: "get_weather",
  description: "Current weather for a city",
  input_schema: { type: "object" as const, properties: { city: { type: "string" } }, required: ["city"] },
};
const timeTool = {
  name: "get_time",
  description: "Current time in a city",
  input_schema: { type: "object" as const, properties: { zone: { type: "string" } }, required: ["zone"] },
};

const ask = (c: Client, text = "hello") => c.messages.create({ model: MODEL, max_tokens: 64, messages: [{ role: "user", content: text }] });

describe("upstream failures as typed SDK errors (fresh server per test)", () => {
  let x: E2E | undefined;
  afterEach(async () => {
    await x?.stop();
    x = undefined;
  });
  const setup = async (accounts: FakeAccountSpec[]) => (x = await startE2E({ accounts }));

  describe.each(sdks)("%s", (_n, S) => {
    test("model capacity on every attempt → 529 overloaded_error with retry-after", async () => {
      const e = await setup([{ behaviour: { capacityCalls: Infinity } }]);
      const err = await ask(new S({ baseURL: e.url, apiKey: e.clientKey, maxRetries: 0 })).catch((z) => z);
      // 1.x has OverloadedError for 529; 0.x maps every 5xx to InternalServerError.
      expect(err).toBeInstanceOf(isV1(S) ? (S as any).OverloadedError : S.InternalServerError);
      expect(err.status).toBe(529);
      expect(err.error.error.type).toBe("overloaded_error");
      expect(Number(err.headers.get("retry-after"))).toBe(OVERLOADED_RETRY_AFTER_SECONDS);
      // The turn runner retried the same account with backoff before giving up.
      expect(e.accounts[0]!.chatCalls).toBeGreaterThan(1);
    });

    test("first token never comes → 504 timeout_error as the SDK's typed error", async () => {
      const e = await setup([{ behaviour: { slowFirstByteMs: 700 } }]);
      Object.assign(e.services.settings.runtime, { firstTokenTimeoutMs: 150 });
      const err = await ask(new S({ baseURL: e.url, apiKey: e.clientKey, maxRetries: 0 })).catch((z) => z);
      expect(err).toBeInstanceOf(isV1(S) ? (S as any).GatewayTimeoutError : S.InternalServerError);
      expect(err.status).toBe(504);
      expect(err.error.error.type).toBe("timeout_error");
      expect(err.error.error.message).toContain("150 ms");
    });
  });

  test("only model capacity gets the default retry-after; other errors keep their own", () => {
    const hdr = (e: TurnError) => anthropicErrorResponse(e, "req_x").headers.get("retry-after");
    expect(hdr(new TurnError("overloaded", "busy"))).toBe(String(OVERLOADED_RETRY_AFTER_SECONDS));
    expect(hdr(new TurnError("overloaded", "busy", { retryAfterSeconds: 2 }))).toBe("2");
    expect(hdr(new TurnError("no_account", "none configured"))).toBeNull();
    expect(hdr(new TurnError("upstream", "bad gateway"))).toBeNull();
    expect(hdr(new TurnError("rate_limited", "slow down", { retryAfterSeconds: 30 }))).toBe("30");
  });
});

describe("requests through a shared server", () => {
  let e: E2E;
  beforeAll(async () => {
    e = await startE2E({ accounts: [{}] });
  });
  afterAll(async () => {
    await e.stop();
  });

  const chatBodies = () => e.fake.requests.filter((r) => r.path.endsWith("generateAssistantResponse")).map((r) => r.body as any);
  const lastChat = () => chatBodies().at(-1);

  describe.each(sdks)("%s", (_n, S) => {
    const client = (extra: Record<string, unknown> = {}) => new S({ baseURL: e.url, apiKey: e.clientKey, maxRetries: 0, ...extra });

    test("tool_choice any / tool / none as the upstream receives them", async () => {
      const c = client();
      const run = (tool_choice: any) =>
        c.messages.create({ model: MODEL, max_tokens: 64, tools: [weatherTool, timeTool], tool_choice, messages: [{ role: "user", content: "Weather?" }] });

      await run({ type: "any" });
      let sent = lastChat();
      expect(JSON.stringify(sent)).toContain("You must respond by calling at least one of the available tools.");
      expect(sent.conversationState.currentMessage.userInputMessage.userInputMessageContext.tools.length).toBe(2);

      await run({ type: "tool", name: "get_time" });
      sent = lastChat();
      expect(JSON.stringify(sent)).toContain('You must respond by calling the tool \\"get_time\\".');
      expect(JSON.stringify(sent)).not.toContain("at least one of the available tools");

      await run({ type: "none" });
      sent = lastChat();
      // Nothing is declared, so the model cannot call a tool; no forcing instruction either.
      expect(sent.conversationState.currentMessage.userInputMessage.userInputMessageContext?.tools).toBeUndefined();
      expect(JSON.stringify(sent)).not.toContain("You must respond by calling");

      await run({ type: "auto", disable_parallel_tool_use: true });
      expect(JSON.stringify(lastChat())).toContain("Call at most one tool per response.");
    });

    test("redacted_thinking is accepted and not forwarded; a text document reaches the upstream", async () => {
      e.fake.enqueue(textScenario("Read it."));
      const msg = await client().messages.create({
        model: MODEL,
        max_tokens: 4096,
        thinking: { type: "enabled", budget_tokens: 1024 },
        messages: [
          { role: "user", content: "Earlier question" },
          {
            role: "assistant",
            content: [
              { type: "thinking", thinking: "Visible reasoning.", signature: "sig-1" },
              { type: "redacted_thinking", data: "ENCRYPTED-REDACTED-PAYLOAD" },
              { type: "text", text: "Earlier answer" },
            ],
          },
          {
            role: "user",
            content: [
              { type: "document", source: { type: "text", media_type: "text/plain", data: "The launch code is 0000." }, title: "Memo", context: "internal" },
              { type: "text", text: "What does the memo say?" },
            ],
          },
        ] as any,
      });
      expect((msg.content.find((b) => b.type === "text") as any).text).toBe("Read it.");
      const sent = JSON.stringify(lastChat());
      expect(sent).toContain("Document: Memo");
      expect(sent).toContain("The launch code is 0000.");
      expect(sent).toContain("Earlier answer");
      expect(sent).not.toContain("ENCRYPTED-REDACTED-PAYLOAD");
    });

    test("count_tokens counts images (by size) and the text next to them", async () => {
      const c = client();
      const text = { type: "text" as const, text: "Describe this picture." };
      // ~300 KB of image bytes: the estimate is bytes / 1e6 × 1100 ≈ 330 tokens.
      const data = Buffer.from(crypto.getRandomValues(new Uint8Array(60_000)).buffer).toString("base64").repeat(5);
      const image = { type: "image" as const, source: { type: "base64" as const, media_type: "image/png" as const, data } };
      const plain = (await c.messages.countTokens({ model: MODEL, messages: [{ role: "user", content: [text] }] })).input_tokens;
      const withImage = (await c.messages.countTokens({ model: MODEL, messages: [{ role: "user", content: [image, text] }] })).input_tokens;
      const inResult = (
        await c.messages.countTokens({
          model: MODEL,
          tools: [weatherTool],
          messages: [
            { role: "user", content: "look" },
            { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "x" } }] },
            { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: [image] }, text] },
          ],
        })
      ).input_tokens;
      expect(withImage - plain).toBeGreaterThan(300);
      expect(withImage - plain).toBeLessThan(360);
      expect(inResult).toBeGreaterThan(withImage);
      // Unsupported image sources are a 400, not a silent zero.
      const err = await c.messages
        .countTokens({ model: MODEL, messages: [{ role: "user", content: [{ type: "image", source: { type: "url", url: "http://127.0.0.1/x.png" } }] }] })
        .catch((z) => z);
      expect(err).toBeInstanceOf(S.BadRequestError);
    });

    test("beta.messages.create (0.x: ?beta=true) with anthropic-beta works, create and stream", async () => {
      const seen: Array<{ url: string; beta: string | null }> = [];
      const c = client({
        fetch: (url: RequestInfo | URL, init?: RequestInit) => {
          seen.push({ url: String(url), beta: new Headers(init?.headers).get("anthropic-beta") });
          return fetch(url, init);
        },
      });
      e.fake.enqueue(textScenario("Beta answer."));
      const msg = await (c as any).beta.messages.create({
        model: MODEL,
        max_tokens: 64,
        betas: ["interleaved-thinking-2025-05-14"],
        messages: [{ role: "user", content: "beta?" }],
      });
      expect(msg.content[0].text).toBe("Beta answer.");
      // 0.x marks beta calls with ?beta=true (as Claude Code does); 1.x uses the header alone.
      expect(seen.at(-1)!.url).toEndWith(isV1(S) ? "/v1/messages" : "/v1/messages?beta=true");
      expect(seen.at(-1)!.beta).toContain("interleaved-thinking-2025-05-14");

      e.fake.enqueue(textScenario("Beta stream."));
      const streamed = await (c as any).beta.messages
        .stream({ model: MODEL, max_tokens: 64, betas: ["context-management-2025-06-27"], messages: [{ role: "user", content: "beta?" }] })
        .finalMessage();
      expect(streamed.content[0].text).toBe("Beta stream.");
      expect(seen.at(-1)!.beta).toContain("context-management-2025-06-27");
      if (!isV1(S)) expect(seen.at(-1)!.url).toEndWith("?beta=true");
    });

    test("tool ids are unique within a message and the same in stream, JSON and the tool_result round trip", async () => {
      const c = client();
      const idA = toolUseId();
      const idB = toolUseId();
      const twoCalls = (): Scenario => {
        const a = toolSteps({ name: "get_weather", input: { city: "Oslo" }, id: idA });
        const b = toolSteps({ name: "get_time", input: { zone: "CET" }, id: idB });
        // A stray repeat of the first call's frames after it finished must not become a third block.
        return { steps: [...textSteps("Checking.", 1), ...a, ...b, ...a, ...usageSteps()] };
      };
      const req = { model: MODEL, max_tokens: 512, tools: [weatherTool, timeTool], messages: [{ role: "user" as const, content: "Weather and time in Oslo" }] };

      e.fake.enqueue(twoCalls());
      const streamed = await c.messages.stream(req).finalMessage();
      e.fake.enqueue(twoCalls());
      const json = await c.messages.create(req);
      const ids = (m: typeof json) => m.content.filter((b) => b.type === "tool_use").map((b: any) => b.id);
      expect(ids(streamed)).toEqual([idA, idB]);
      expect(ids(json)).toEqual([idA, idB]);
      expect(new Set(ids(streamed)).size).toBe(2);

      e.fake.enqueue(textScenario("Sunny, 10:00."));
      await c.messages.create({
        ...req,
        messages: [
          ...req.messages,
          { role: "assistant", content: streamed.content as any },
          {
            role: "user",
            content: [
              { type: "tool_result", tool_use_id: idA, content: "sunny" },
              { type: "tool_result", tool_use_id: idB, content: "10:00" },
            ],
          },
        ],
      });
      const sent = lastChat().conversationState;
      const assistant = sent.history.at(-1).assistantResponseMessage;
      expect(assistant.toolUses.map((u: any) => u.toolUseId)).toEqual([idA, idB]);
      expect(sent.currentMessage.userInputMessage.userInputMessageContext.toolResults.map((r: any) => r.toolUseId)).toEqual([idA, idB]);
    });

    test("empty messages and an empty final user turn are 400 invalid_request_error (no upstream call)", async () => {
      const c = client();
      const before = chatBodies().length;
      const empty = await c.messages.create({ model: MODEL, max_tokens: 16, messages: [] }).catch((z) => z);
      expect(empty).toBeInstanceOf(S.BadRequestError);
      expect(empty.error.error).toEqual({ type: "invalid_request_error", message: "messages: at least one message is required" });
      const counted = await c.messages.countTokens({ model: MODEL, messages: [] }).catch((z) => z);
      expect(counted).toBeInstanceOf(S.BadRequestError);
      const unknownOnly = await c.messages
        .create({ model: MODEL, max_tokens: 16, messages: [{ role: "user", content: [{ type: "container_upload", file_id: "f1" }] as any }] })
        .catch((z) => z);
      expect(unknownOnly).toBeInstanceOf(S.BadRequestError);
      expect(unknownOnly.error.error.message).toStartWith("messages.0.content: ");
      const typo = await c.messages.create({ model: MODEL, max_tokens: "10" as any, messages: [{ role: "user", content: "x" }] }).catch((z) => z);
      expect(typo.error.error.message).toBe("max_tokens: must be a number, not a string");
      expect(chatBodies().length).toBe(before);
    });
  });
});
