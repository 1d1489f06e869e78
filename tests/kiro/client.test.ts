/**
 * openChat end to end against the fake upstream: real body building, headers, HTTP, event-stream
 * decoding, error classification, endpoint-family fallback and client aborts.
 */
import { describe, expect, test } from "bun:test";
import type { CanonicalEvent, CanonicalRequest } from "../../src/core/canonical";
import { openChat } from "../../src/kiro/client";
import type { KiroUpstreamConfig } from "../../src/kiro/config";
import { EndpointSelector, type EndpointLogEvent } from "../../src/kiro/endpoints";
import { KiroError } from "../../src/kiro/errors";
import { UpstreamSlots } from "../../src/kiro/slots";
import { exceptionScenario, stallScenario, textScenario, toolScenario } from "../fake-kiro/scenarios";
import { type FakeBehaviour, startFakeKiro } from "../fake-kiro/server";
import { fakeAccount, kiroRejection, textRequest, useFakeKiro } from "../support/kiro";

const kiro = useFakeKiro();

/** "You are terse." keeps the system text non-empty, as most clients send one. */
const request = (text: string, extra: Partial<CanonicalRequest> = {}) => textRequest(text, { system: "You are terse.", ...extra });

async function collect(events: AsyncIterable<CanonicalEvent>): Promise<CanonicalEvent[]> {
  const out: CanonicalEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

const text = (evs: CanonicalEvent[]) => evs.flatMap((e) => (e.type === "text" ? [e.text] : [])).join("");

const chatError = kiroRejection;

describe("openChat against the fake", () => {
  test("text round trip: body, headers and decoded events", async () => {
    const c = await kiro.creds();
    const { events, modelId } = await openChat(request("ping 42"), c, { upstream: kiro.upstream, signal: new AbortController().signal, conversationId: "0b4445e1-f5be-49e1-87ce-62bbc28ad705" });
    expect(modelId).toBe("claude-sonnet-4.5");
    const evs = await collect(events);
    expect(text(evs)).toContain("ping 42"); // the fake's default echo
    expect(evs.at(-1)).toEqual({ type: "stop", reason: "end_turn" });
    const rec = kiro.fake.requests.at(-1)!;
    expect(rec.path).toBe("/generateAssistantResponse");
    expect(rec.headers.authorization).toBe(`Bearer ${c.accessToken}`);
    expect(rec.headers["amz-sdk-request"]).toBe("attempt=1; max=3");
    const body = rec.body as any;
    expect(body.conversationState.conversationId).toBe("0b4445e1-f5be-49e1-87ce-62bbc28ad705");
    expect(body.profileArn).toBe(c.profileArn);
  });

  test("enqueued scenario for this account: text then a tool call", async () => {
    const { creds: c, account } = await kiro.account();
    kiro.fake.enqueue(toolScenario([{ name: "Bash", input: { command: "ls -la" } }], { text: "Listing." }), account.refreshToken);
    const req = request("list files", {
      tools: [{ name: "Bash", description: "Run a shell command.", inputSchema: { type: "object", properties: { command: { type: "string" } }, required: ["command"] } }],
    });
    const { events } = await openChat(req, c, { upstream: kiro.upstream, signal: new AbortController().signal });
    const evs = await collect(events);
    expect(text(evs)).toBe("Listing.");
    const start = evs.find((e) => e.type === "tool_start") as Extract<CanonicalEvent, { type: "tool_start" }>;
    expect(start.name).toBe("Bash");
    const args = evs.flatMap((e) => (e.type === "tool_args" ? [e.json] : [])).join("");
    expect(JSON.parse(args)).toEqual({ command: "ls -la" });
    expect(evs.at(-1)).toEqual({ type: "stop", reason: "tool_use" });
  });

  test("mid-stream exception: events up to it, then a classified KiroError from the iterator", async () => {
    const c = await kiro.creds();
    kiro.fake.enqueue(exceptionScenario("ThrottlingException", "Too many requests", { text: "Partial answer" }));
    const { events } = await openChat(request("hi"), c, { upstream: kiro.upstream, signal: new AbortController().signal });
    const seen: CanonicalEvent[] = [];
    let err: unknown;
    try {
      for await (const e of events) seen.push(e);
    } catch (e) {
      err = e;
    }
    expect(text(seen)).toBe("Partial answer");
    expect(err).toBeInstanceOf(KiroError);
    expect((err as KiroError).cls).toBe("throttled");
  });

  test("expired access token → the nameless 403 → expired_token", async () => {
    const c = await kiro.creds();
    const e = await chatError(openChat(request("hi"), { ...c, accessToken: "aoaAstale" }, { upstream: kiro.upstream, signal: new AbortController().signal }));
    expect(e.cls).toBe("expired_token");
    expect(e.status).toBe(403);
    expect(e.upstreamMessage).toBe("The bearer token included in the request is invalid.");
  });

  test("402 MONTHLY_REQUEST_COUNT → quota_exhausted", async () => {
    const c = await kiro.creds({ behaviour: { quota: true } });
    const e = await chatError(openChat(request("hi"), c, { upstream: kiro.upstream, signal: new AbortController().signal }));
    expect(e.cls).toBe("quota_exhausted");
    expect(e.status).toBe(402);
    expect(e.reason).toBe("MONTHLY_REQUEST_COUNT");
  });

  test("429 with Retry-After → throttled with retryAfterMs; the next call succeeds", async () => {
    const c = await kiro.creds({ behaviour: { throttleCalls: 1, retryAfterSec: 3 } });
    const e = await chatError(openChat(request("hi"), c, { upstream: kiro.upstream, signal: new AbortController().signal }));
    expect(e.cls).toBe("throttled");
    expect(e.retryAfterMs).toBe(3000);
    const ok = await openChat(request("again"), c, { upstream: kiro.upstream, signal: new AbortController().signal });
    expect(text(await collect(ok.events))).toContain("again");
  });

  test("other behaviours classify: suspended, capacity, transient 500, input too long", async () => {
    const cases: Array<[FakeBehaviour, string]> = [
      [{ suspended: true }, "suspended"],
      [{ capacityCalls: 1 }, "model_capacity"],
      [{ transient500Calls: 1 }, "transient"],
      [{ inputTooLong: true }, "input_too_long"],
    ];
    for (const [behaviour, cls] of cases) {
      const c = await kiro.creds({ behaviour });
      const e = await chatError(openChat(request("hi"), c, { upstream: kiro.upstream, signal: new AbortController().signal }));
      expect(e.cls).toBe(cls as KiroError["cls"]);
    }
  });

  test("abort cancels the upstream stream (fake.aborts increments)", async () => {
    const c = await kiro.creds();
    kiro.fake.enqueue(stallScenario("slow answer", { beforeMs: 10, betweenMs: 2000 }));
    const ac = new AbortController();
    const { events } = await openChat(request("hi"), c, { upstream: kiro.upstream, signal: ac.signal });
    const it = events[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.done).toBe(false);
    ac.abort();
    await it.next().catch(() => undefined); // the pending read rejects with the abort
    for (let i = 0; i < 50 && kiro.fake.aborts === 0; i++) await Bun.sleep(20);
    expect(kiro.fake.aborts).toBe(1);
  });
});

describe("stalled upstream", () => {
  test("no bytes for the idle timeout → transient KiroError (TIMEOUT) and the upstream is cancelled", async () => {
    const c = await kiro.creds();
    // First frame quickly, then silence far longer than the idle timeout.
    kiro.fake.enqueue(stallScenario("slow answer", { beforeMs: 10, betweenMs: 5000 }));
    const abortsBefore = kiro.fake.aborts;
    const { events } = await openChat(request("hi"), c, { upstream: kiro.upstream, signal: new AbortController().signal, idleTimeoutMs: 300 });
    const seen: CanonicalEvent[] = [];
    const t0 = Date.now();
    let err: unknown;
    try {
      for await (const e of events) seen.push(e);
    } catch (e) {
      err = e;
    }
    expect(seen.some((e) => e.type === "text")).toBe(true);
    expect(err).toBeInstanceOf(KiroError);
    expect((err as KiroError).cls).toBe("transient");
    expect((err as KiroError).reason).toBe("TIMEOUT");
    expect(Date.now() - t0).toBeLessThan(3000);
    for (let i = 0; i < 50 && kiro.fake.aborts === abortsBefore; i++) await Bun.sleep(20);
    expect(kiro.fake.aborts).toBe(abortsBefore + 1);
  });

  test("a slow but steady upstream is not cut (idle-based, not a wall-clock cap)", async () => {
    const c = await kiro.creds();
    // 8 text frames 150 ms apart: ~1.2 s in total, longer than the 750 ms idle timeout, with
    // 600 ms to spare between frames for a machine busy with other work.
    const words = "one two three four five six seven eight";
    kiro.fake.enqueue(stallScenario(words, { beforeMs: 10, betweenMs: 150, pieces: 8 }));
    const t0 = Date.now();
    const { events } = await openChat(request("hi"), c, { upstream: kiro.upstream, signal: new AbortController().signal, idleTimeoutMs: 750 });
    let text = "";
    for await (const e of events) if (e.type === "text") text += e.text;
    expect(text).toBe(words);
    expect(Date.now() - t0).toBeGreaterThan(750);
  });
});

describe("endpoint-family fallback", () => {
  test("first family 404 → second family used and remembered (logged once)", async () => {
    const c = await kiro.creds();
    const logs: EndpointLogEvent[] = [];
    const selector = new EndpointSelector({
      families: [
        { family: "A", template: `${kiro.fake.url}/gone` }, // a retired host: every path 404s
        { family: "B", template: kiro.fake.url },
      ],
      log: (e) => logs.push(e),
    });
    const noApi = { ...kiro.upstream, apiUrl: undefined };
    const r1 = await openChat(request("one"), c, { upstream: noApi, signal: new AbortController().signal, endpoints: selector });
    expect(text(await collect(r1.events))).toContain("one");
    expect(kiro.fake.requests.filter((r) => r.path.endsWith("/generateAssistantResponse")).map((r) => r.path)).toEqual([
      "/gone/generateAssistantResponse",
      "/generateAssistantResponse",
    ]);
    expect(selector.rememberedFamily("us-east-1")).toBe("B");

    const before = kiro.fake.requests.length;
    const r2 = await openChat(request("two"), c, { upstream: noApi, signal: new AbortController().signal, endpoints: selector });
    await collect(r2.events);
    // Remembered: the second call goes straight to family B.
    expect(kiro.fake.requests.slice(before).map((r) => r.path)).toEqual(["/generateAssistantResponse"]);
    expect(logs.length).toBe(1);
    expect(logs[0]).toMatchObject({ region: "us-east-1", family: "B" });
  });

  test("connection refused falls back too; a live 403 does not", async () => {
    const c = await kiro.creds();
    const selector = new EndpointSelector({
      families: [
        { family: "A", template: "http://127.0.0.1:1" },
        { family: "B", template: kiro.fake.url },
      ],
    });
    const noApi = { ...kiro.upstream, apiUrl: undefined };
    const ok = await openChat(request("refused"), c, { upstream: noApi, signal: new AbortController().signal, endpoints: selector });
    expect(text(await collect(ok.events))).toContain("refused");

    const selector2 = new EndpointSelector({
      families: [
        { family: "A", template: kiro.fake.url },
        { family: "B", template: `${kiro.fake.url}/never-tried` },
      ],
    });
    const e = await chatError(openChat(request("x"), { ...c, accessToken: "bad" }, { upstream: noApi, signal: new AbortController().signal, endpoints: selector2 }));
    expect(e.cls).toBe("expired_token");
    expect(kiro.fake.requests.some((r) => r.path.startsWith("/never-tried"))).toBe(false);
  });

  test("every family unreachable → endpoint_unavailable", async () => {
    const c = await kiro.creds();
    const selector = new EndpointSelector({ families: [{ family: "A", template: `${kiro.fake.url}/gone` }, { family: "B", template: `${kiro.fake.url}/also-gone` }] });
    const e = await chatError(openChat(request("x"), c, { upstream: { ...kiro.upstream, apiUrl: undefined }, signal: new AbortController().signal, endpoints: selector }));
    expect(e.cls).toBe("endpoint_unavailable");
    expect(e.status).toBe(404);
  });

  test("a pinned apiUrl means one host and no fallback", async () => {
    const c = await kiro.creds();
    const e = await chatError(openChat(request("x"), c, { upstream: { ...kiro.upstream, apiUrl: `${kiro.fake.url}/gone` }, signal: new AbortController().signal }));
    expect(e.cls).toBe("endpoint_unavailable");
    expect(kiro.fake.requests.filter((r) => r.path.includes("generateAssistantResponse")).length).toBe(1);
  });
});

test("textScenario as the fake's default scenario", async () => {
  const c = await kiro.creds();
  kiro.fake.setDefaultScenario(textScenario("always this"));
  const { events } = await openChat(request("anything"), c, { upstream: kiro.upstream, signal: new AbortController().signal });
  expect(text(await collect(events))).toBe("always this");
});

describe("fake directives and family A's profileArn rule", () => {
  test("[[fake:tools]] calls the first declared tool with its required fields", async () => {
    const c = await kiro.creds();
    const req = request("please [[fake:tools]]", {
      tools: [{ name: "get_weather", description: "Weather.", inputSchema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } }],
    });
    const evs = await collect((await openChat(req, c, { upstream: kiro.upstream, signal: new AbortController().signal })).events);
    expect(evs.find((e) => e.type === "tool_start")).toMatchObject({ name: "get_weather" });
    expect(JSON.parse(evs.flatMap((e) => (e.type === "tool_args" ? [e.json] : [])).join(""))).toEqual({ city: "fake" });
    expect(evs.at(-1)).toEqual({ type: "stop", reason: "tool_use" });
  });

  test("family A 400 'profileArn is required' for an account without ARN → next family, remembered for that account only", async () => {
    let clock = 1_000_000;
    const selector = new EndpointSelector({
      families: [
        { family: "A", template: `${kiro.fake.url}/family-a` }, // the fake playing runtime.{region}.kiro.dev
        { family: "B", template: kiro.fake.url },
      ],
      now: () => clock,
    });
    const noApi = { ...kiro.upstream, apiUrl: undefined };
    const chatPaths = () => kiro.fake.requests.filter((r) => r.path.endsWith("/generateAssistantResponse")).map((r) => r.path);

    // A social account the service issued no ARN for (refresh answers without profileArn).
    const noArn = await kiro.creds({ profileArn: null });
    expect(noArn.profileArn).toBeUndefined();

    const first = await openChat(request("no arn"), noArn, { upstream: noApi, signal: new AbortController().signal, endpoints: selector });
    expect(text(await collect(first.events))).toContain("no arn");
    expect(chatPaths()).toEqual(["/family-a/generateAssistantResponse", "/generateAssistantResponse"]);
    // Accounts with an ARN still belong on family A, so B must not become the region's choice.
    expect(selector.rememberedFamily("us-east-1")).toBeUndefined();

    // The same account again: straight to B, no second failed round trip on A.
    kiro.fake.requests.length = 0;
    await collect((await openChat(request("again"), noArn, { upstream: noApi, signal: new AbortController().signal, endpoints: selector })).events);
    expect(chatPaths()).toEqual(["/generateAssistantResponse"]);

    // Another account, with an ARN, still uses family A.
    kiro.fake.requests.length = 0;
    const withArn = await kiro.creds();
    await collect((await openChat(request("has arn"), withArn, { upstream: noApi, signal: new AbortController().signal, endpoints: selector })).events);
    expect(chatPaths()).toEqual(["/family-a/generateAssistantResponse"]);
    expect((kiro.fake.requests.at(-1)!.body as any).profileArn).toBe(withArn.profileArn);

    // After the TTL the ARN-less account tries family A again (it may have gained a profile).
    clock += 60 * 60 * 1000;
    kiro.fake.requests.length = 0;
    await collect((await openChat(request("later"), noArn, { upstream: noApi, signal: new AbortController().signal, endpoints: selector })).events);
    expect(chatPaths()).toEqual(["/family-a/generateAssistantResponse", "/generateAssistantResponse"]);
  });

  test("startFakeKiro({requireProfileArn: true}) is family A on every path", async () => {
    const familyA = await startFakeKiro({ requireProfileArn: true });
    try {
      const { creds: c } = await fakeAccount(familyA, { profileArn: null });
      const e = await chatError(openChat(request("x"), c, { upstream: { ...familyA.upstream }, signal: new AbortController().signal }));
      expect(e.cls).toBe("bad_request");
      expect(e.status).toBe(400);
      expect(e.reason).toBe("PROFILE_ARN_REQUIRED");
      expect(e.upstreamMessage).toBe("profileArn is required for this request");
    } finally {
      await familyA.stop();
    }
  });
});

describe("the fake's profileArn ownership rule (a profile-less identity gets 403 for any ARN)", () => {
  test("a profile-less IdC (Builder ID) account works without an ARN and gets 403 forbidden with one", async () => {
    const c = await kiro.creds({ kind: "idc", profileArn: null });
    const ok = await openChat(request("builder id"), c, { upstream: kiro.upstream, signal: new AbortController().signal });
    expect(text(await collect(ok.events))).toContain("builder id");
    expect("profileArn" in (kiro.fake.requests.at(-1)!.body as object)).toBe(false);

    const arn = "arn:aws:codewhisperer:us-east-1:123456789012:profile/FAKEIDCPROFILE";
    const e = await chatError(openChat(request("x"), { ...c, profileArn: arn }, { upstream: kiro.upstream, signal: new AbortController().signal }));
    expect(e.cls).toBe("forbidden");
    expect(e.status).toBe(403);
  });

  test("an account with a profile accepts only its own ARN", async () => {
    const c = await kiro.creds();
    const foreign = "arn:aws:codewhisperer:us-east-1:111122223333:profile/NOTMINE";
    const e = await chatError(openChat(request("x"), { ...c, profileArn: foreign }, { upstream: kiro.upstream, signal: new AbortController().signal }));
    expect(e.cls).toBe("forbidden");
  });
});

test("the fake also accepts the awsJson 1.0 form of the chat call", async () => {
  const c = await kiro.creds();
  const { buildKiroRequest } = await import("../../src/kiro/request/build");
  const res = await fetch(`${kiro.fake.url}/`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${c.accessToken}`,
      "content-type": "application/x-amz-json-1.0",
      "x-amz-target": "AmazonCodeWhispererStreamingService.GenerateAssistantResponse",
    },
    body: JSON.stringify(buildKiroRequest(request("aws json"), { profileArn: c.profileArn }).body),
  });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("application/vnd.amazon.eventstream");
  const { decodeKiroStream } = await import("../../src/kiro/stream/decode");
  expect(text(await collect(decodeKiroStream(res.body!, { restoreToolName: (x) => x })))).toContain("aws json");
});

describe("openChat's upstream connection slot", () => {
  const slotted = (max = 1) => {
    const slots = new UpstreamSlots(max, 5_000);
    return { slots, upstream: { ...kiro.upstream, slots } as KiroUpstreamConfig };
  };

  test("held while the answer is read, given back when it ends", async () => {
    const { slots, upstream } = slotted();
    const c = await kiro.creds();
    const { events } = await openChat(request("ping 7"), c, { upstream, signal: new AbortController().signal });
    expect(slots.stats().open).toBe(1);
    expect(text(await collect(events))).toContain("ping 7");
    expect(slots.stats().open).toBe(0);
  });

  test("given back on an upstream error answer and when the caller aborts an unread stream", async () => {
    const { slots, upstream } = slotted();
    const c = await kiro.creds();
    const refused = await chatError(openChat(request("x"), { ...c, accessToken: "not-a-token" }, { upstream, signal: new AbortController().signal }));
    expect(refused.status).toBe(403);
    expect(slots.stats().open).toBe(0);
    const ac = new AbortController();
    const opened = await openChat(request("never read"), c, { upstream, signal: ac.signal });
    expect(slots.stats().open).toBe(1);
    await opened.batches[Symbol.asyncIterator]().return?.(undefined); // dropped before the first read
    ac.abort(new Error("client gone"));
    expect(slots.stats().open).toBe(0);
  });

  test("given back when the reader stops early", async () => {
    const { slots, upstream } = slotted();
    const c = await kiro.creds();
    const { events } = await openChat(request("Write a long answer [[fake:long:50]]"), c, { upstream, signal: new AbortController().signal });
    for await (const e of events) if (e.type === "text") break;
    expect(slots.stats().open).toBe(0);
  });
});
