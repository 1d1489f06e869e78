/**
 * "The fake is checked against Amazon's own decoder", end to end: the official
 * @aws/codewhisperer-streaming-client talks to startFakeKiro() over HTTP with a real account's
 * bearer (access token from the fake's /refreshToken), and gets the events of [[fake:…]]
 * directives / enqueued scenarios, and the typed HTTP-level exceptions the fake raises for
 * per-account behaviours, foreign members and the strict validator.
 */
import { describe, expect, test } from "bun:test";
import {
  AccessDeniedException,
  CodeWhispererStreaming,
  CodeWhispererStreamingServiceException,
  type GenerateAssistantResponseCommandInput,
  ServiceQuotaExceededException,
  ThrottlingException,
  ValidationException,
} from "@aws/codewhisperer-streaming-client";
import { reasoningScenario } from "../fake-kiro/scenarios";
import type { FakeBehaviour } from "../fake-kiro/server";
import { type FakeAccountCredentials, useFakeKiro } from "../support/kiro";

const kiro = useFakeKiro();

type Acct = FakeAccountCredentials;

/** A fake social account and a bearer the fake issued for it through its own refresh endpoint. */
const account = (behaviour: FakeBehaviour = {}): Promise<Acct> => kiro.account({ behaviour });

function client(a: Acct): CodeWhispererStreaming {
  return new CodeWhispererStreaming({ endpoint: kiro.fake.url, region: "us-east-1", token: { token: a.creds.accessToken }, maxAttempts: 1 });
}

function input(a: Acct, content: string, extra: { tools?: any[]; modelId?: string } = {}): GenerateAssistantResponseCommandInput {
  return {
    profileArn: a.creds.profileArn,
    conversationState: {
      conversationId: crypto.randomUUID(),
      chatTriggerType: "MANUAL",
      currentMessage: {
        userInputMessage: {
          content,
          origin: "AI_EDITOR",
          ...(extra.modelId ? { modelId: extra.modelId } : {}),
          ...(extra.tools ? { userInputMessageContext: { tools: extra.tools } } : {}),
        },
      },
    },
  };
}

async function events(a: Acct, req: GenerateAssistantResponseCommandInput): Promise<Record<string, any>[]> {
  const c = client(a);
  try {
    const res = await c.generateAssistantResponse(req);
    const out: Record<string, any>[] = [];
    for await (const ev of res.generateAssistantResponseResponse!) out.push(ev as Record<string, any>);
    return out;
  } finally {
    c.destroy();
  }
}

async function failure(a: Acct, req: GenerateAssistantResponseCommandInput): Promise<CodeWhispererStreamingServiceException> {
  const c = client(a);
  try {
    await c.generateAssistantResponse(req);
  } catch (e) {
    expect(e).toBeInstanceOf(CodeWhispererStreamingServiceException);
    return e as CodeWhispererStreamingServiceException;
  } finally {
    c.destroy();
  }
  throw new Error("expected the SDK call to fail");
}

const texts = (evs: Record<string, any>[]) => evs.filter((e) => e.assistantResponseEvent).map((e) => e.assistantResponseEvent.content).join("");

describe("official SDK ↔ fake Kiro: events", () => {
  test("[[fake:text]] → assistantResponseEvents, metering and context usage last", async () => {
    const a = await account();
    const evs = await events(a, input(a, "hello [[fake:text]]"));
    expect(texts(evs)).toBe("Hello from fake Kiro.");
    expect(evs.some((e) => e.meteringEvent)).toBe(true);
    expect(evs.at(-1)!.contextUsageEvent).toBeDefined();
    // The SDK's body passed the strict validator and carried the account's own ARN.
    const rec = kiro.fake.requests.at(-1)!;
    expect(rec.path).toBe("/generateAssistantResponse");
    expect(rec.accountRefreshToken).toBe(a.account.refreshToken);
    expect((rec.body as any).profileArn).toBe(a.creds.profileArn);
  });

  test("[[fake:tools]] → toolUseEvents whose fragments form the declared tool's input", async () => {
    const a = await account();
    const tools = [{ toolSpecification: { name: "get_weather", description: "Weather for a city.", inputSchema: { json: { type: "object", properties: { city: { type: "string" }, days: { type: "integer" } }, required: ["city", "days"] } } } }];
    const evs = await events(a, input(a, "weather? [[fake:tools]]", { tools }));
    expect(texts(evs)).toBe("Calling a tool.");
    const tool = evs.filter((e) => e.toolUseEvent).map((e) => e.toolUseEvent);
    expect(tool[0]).toMatchObject({ name: "get_weather" });
    expect(tool[0].toolUseId).toMatch(/^tooluse_[A-Za-z0-9_-]{22}$/);
    expect(JSON.parse(tool.map((t) => t.input ?? "").join(""))).toEqual({ city: "fake", days: 1 });
    expect(tool.at(-1)).toMatchObject({ stop: true, toolUseId: tool[0].toolUseId });
  });

  test("a scenario enqueued for the account → reasoningContentEvent text and signature", async () => {
    const a = await account();
    kiro.fake.enqueue(reasoningScenario("Weighing options.", "Done.", "sig-xyz"), a.account.refreshToken);
    const evs = await events(a, input(a, "think"));
    expect(evs.filter((e) => e.reasoningContentEvent?.text).map((e) => e.reasoningContentEvent.text).join("")).toBe("Weighing options.");
    expect(evs.find((e) => e.reasoningContentEvent?.signature)!.reasoningContentEvent).toEqual({ signature: "sig-xyz" });
    expect(texts(evs)).toBe("Done.");
  });
});

describe("official SDK ↔ fake Kiro: typed exceptions", () => {
  test("throttleCalls → ThrottlingException (429)", async () => {
    const a = await account({ throttleCalls: 1, retryAfterSec: 4 });
    const e = await failure(a, input(a, "hi"));
    expect(e).toBeInstanceOf(ThrottlingException);
    expect(e.$metadata.httpStatusCode).toBe(429);
    expect(e.message).toBe("Too many requests, please wait before trying again.");
    // The next call is served normally.
    expect(texts(await events(a, input(a, "[[fake:text]]")))).toBe("Hello from fake Kiro.");
  });

  test("capacityCalls → ThrottlingException with reason INSUFFICIENT_MODEL_CAPACITY", async () => {
    const a = await account({ capacityCalls: 1 });
    const e = await failure(a, input(a, "hi"));
    expect(e).toBeInstanceOf(ThrottlingException);
    expect((e as ThrottlingException).reason).toBe("INSUFFICIENT_MODEL_CAPACITY");
  });

  test("quota → ServiceQuotaExceededException (402) with reason MONTHLY_REQUEST_COUNT", async () => {
    const a = await account({ quota: true });
    const e = await failure(a, input(a, "hi"));
    expect(e).toBeInstanceOf(ServiceQuotaExceededException);
    expect(e.$metadata.httpStatusCode).toBe(402);
    expect((e as ServiceQuotaExceededException).reason).toBe("MONTHLY_REQUEST_COUNT");
  });

  test("suspended → AccessDeniedException (403) with reason TEMPORARILY_SUSPENDED", async () => {
    const a = await account({ suspended: true });
    const e = await failure(a, input(a, "hi"));
    expect(e).toBeInstanceOf(AccessDeniedException);
    expect(e.$metadata.httpStatusCode).toBe(403);
    expect((e as AccessDeniedException).reason).toBe("TEMPORARILY_SUSPENDED");
    expect(e.message).toContain("temporarily is suspended");
  });

  test("strict validator → ValidationException (400) worded by reason", async () => {
    const a = await account();
    const badModel = await failure(a, input(a, "hi", { modelId: "claude-nonexistent-9" }));
    expect(badModel).toBeInstanceOf(ValidationException);
    expect(badModel.$metadata.httpStatusCode).toBe(400);
    expect((badModel as ValidationException).reason).toBe("INVALID_MODEL_ID");
    expect(badModel.message).toBe("Invalid model. Please select a different model.");

    const tools = [{ toolSpecification: { name: "bad name!", inputSchema: { json: { type: "object" } } } }];
    const malformed = await failure(a, input(a, "hi", { tools }));
    expect(malformed).toBeInstanceOf(ValidationException);
    expect((malformed as ValidationException).reason).toBe("REQUEST_BODY_INVALID");
    expect(malformed.message).toBe("Improperly formed request.");

    const tooLong = await failure(a, input(a, "x".repeat(600_001)));
    expect(tooLong).toBeInstanceOf(ValidationException);
    expect((tooLong as ValidationException).reason).toBe("CONTENT_LENGTH_EXCEEDS_THRESHOLD");
    expect(tooLong.message).toBe("Input is too long.");
  });

  test("members the account may not use → AccessDeniedException (403)", async () => {
    const a = await account();
    const ws = await failure(a, { ...input(a, "hi"), conversationState: { ...input(a, "hi").conversationState!, workspaceId: "ws-1" } });
    expect(ws).toBeInstanceOf(AccessDeniedException);
    expect((ws as AccessDeniedException).reason).toBe("UNAUTHORIZED_WORKSPACE_CONTEXT_FEATURE_ACCESS");

    const cust = await failure(a, {
      ...input(a, "hi"),
      conversationState: { ...input(a, "hi").conversationState!, customizationArn: "arn:aws:codewhisperer:us-east-1:123456789012:customization/X" },
    });
    expect(cust).toBeInstanceOf(AccessDeniedException);
    expect((cust as AccessDeniedException).reason).toBe("UNAUTHORIZED_CUSTOMIZATION_RESOURCE_ACCESS");

    const foreign = await failure(a, { ...input(a, "hi"), profileArn: "arn:aws:codewhisperer:us-east-1:111122223333:profile/SOMEONEELSE" });
    expect(foreign).toBeInstanceOf(AccessDeniedException);
    expect(foreign.$metadata.httpStatusCode).toBe(403);
  });

  test("an unknown bearer → the nameless 403 the real service sends", async () => {
    const a = await account();
    const e = await failure({ ...a, creds: { ...a.creds, accessToken: "aoaAnot-a-token" } }, input(a, "hi"));
    expect(e.$metadata.httpStatusCode).toBe(403);
    expect(e.message).toBe("The bearer token included in the request is invalid.");
  });
});
