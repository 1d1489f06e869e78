/**
 * openChat end to end against the fake upstream: real body building, headers, HTTP, event-stream
 * decoding, error classification, endpoint-family fallback and client aborts.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import type { CanonicalEvent, CanonicalRequest } from "../../src/core/canonical";
import { refreshAccessToken } from "../../src/kiro/auth";
import { type KiroCredentials, openChat } from "../../src/kiro/client";
import type { KiroUpstreamConfig } from "../../src/kiro/config";
import { EndpointSelector, type EndpointLogEvent } from "../../src/kiro/endpoints";
import { KiroError } from "../../src/kiro/errors";
import { exceptionScenario, stallScenario, textScenario, toolScenario } from "../fake-kiro/scenarios";
import { type FakeBehaviour, type FakeKiro, startFakeKiro } from "../fake-kiro/server";
import { kiroRejection, textRequest } from "../support/kiro";

let fake: FakeKiro;
let upstream: KiroUpstreamConfig;
let n = 0;

beforeAll(async () => {
  fake = await startFakeKiro();
  upstream = { ...fake.upstream };
});
afterAll(() => fake.stop());
beforeEach(() => fake.reset());

/** "You are terse." keeps the system text non-empty, as most clients send one. */
const request = (text: string, extra: Partial<CanonicalRequest> = {}) => textRequest(text, { system: "You are terse.", ...extra });

/** A fake account with a live access token. */
async function creds(behaviour: FakeBehaviour = {}): Promise<{ creds: KiroCredentials; refreshToken: string }> {
  const refreshToken = `aorAclient${++n}`.padEnd(120, "z");
  fake.addAccount({ refreshToken, behaviour });
  const r = await refreshAccessToken({ kind: "social", refreshToken, authRegion: "us-east-1", machineId: "c".repeat(64) }, upstream);
  return {
    refreshToken,
    creds: { accessToken: r.accessToken, authKind: "social", region: "us-east-1", profileArn: r.profileArn, machineId: "c".repeat(64) },
  };
}

async function collect(events: AsyncIterable<CanonicalEvent>): Promise<CanonicalEvent[]> {
  const out: CanonicalEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

const text = (evs: CanonicalEvent[]) => evs.flatMap((e) => (e.type === "text" ? [e.text] : [])).join("");

const chatError = kiroRejection;

describe("openChat against the fake", () => {
  test("text round trip: body, headers and decoded events", async () => {
    const { creds: c } = await creds();
    const { events, modelId } = await openChat(request("ping 42"), c, { upstream, signal: new AbortController().signal, conversationId: "0b4445e1-f5be-49e1-87ce-62bbc28ad705" });
    expect(modelId).toBe("claude-sonnet-4.5");
    const evs = await collect(events);
    expect(text(evs)).toContain("ping 42"); // the fake's default echo
    expect(evs.at(-1)).toEqual({ type: "stop", reason: "end_turn" });
    const rec = fake.requests.at(-1)!;
    expect(rec.path).toBe("/generateAssistantResponse");
    expect(rec.headers.authorization).toBe(`Bearer ${c.accessToken}`);
    expect(rec.headers["amz-sdk-request"]).toBe("attempt=1; max=3");
    const body = rec.body as any;
    expect(body.conversationState.conversationId).toBe("0b4445e1-f5be-49e1-87ce-62bbc28ad705");
    expect(body.profileArn).toBe(c.profileArn);
  });

  test("enqueued scenario for this account: text then a tool call", async () => {
    const { creds: c, refreshToken } = await creds();
    fake.enqueue(toolScenario([{ name: "Bash", input: { command: "ls -la" } }], { text: "Listing." }), refreshToken);
    const req = request("list files", {
      tools: [{ name: "Bash", description: "Run a shell command.", inputSchema: { type: "object", properties: { command: { type: "string" } }, required: ["command"] } }],
    });
    const { events } = await openChat(req, c, { upstream, signal: new AbortController().signal });
    const evs = await collect(events);
    expect(text(evs)).toBe("Listing.");
    const start = evs.find((e) => e.type === "tool_start") as Extract<CanonicalEvent, { type: "tool_start" }>;
    expect(start.name).toBe("Bash");
    const args = evs.flatMap((e) => (e.type === "tool_args" ? [e.json] : [])).join("");
    expect(JSON.parse(args)).toEqual({ command: "ls -la" });
    expect(evs.at(-1)).toEqual({ type: "stop", reason: "tool_use" });
  });

  test("mid-stream exception: events up to it, then a classified KiroError from the iterator", async () => {
    const { creds: c } = await creds();
    fake.enqueue(exceptionScenario("ThrottlingException", "Too many requests", { text: "Partial answer" }));
    const { events } = await openChat(request("hi"), c, { upstream, signal: new AbortController().signal });
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
    const { creds: c } = await creds();
    const e = await chatError(openChat(request("hi"), { ...c, accessToken: "aoaAstale" }, { upstream, signal: new AbortController().signal }));
    expect(e.cls).toBe("expired_token");
    expect(e.status).toBe(403);
    expect(e.upstreamMessage).toBe("The bearer token included in the request is invalid.");
  });

  test("402 MONTHLY_REQUEST_COUNT → quota_exhausted", async () => {
    const { creds: c } = await creds({ quota: true });
    const e = await chatError(openChat(request("hi"), c, { upstream, signal: new AbortController().signal }));
    expect(e.cls).toBe("quota_exhausted");
    expect(e.status).toBe(402);
    expect(e.reason).toBe("MONTHLY_REQUEST_COUNT");
  });

  test("429 with Retry-After → throttled with retryAfterMs; the next call succeeds", async () => {
    const { creds: c } = await creds({ throttleCalls: 1, retryAfterSec: 3 });
    const e = await chatError(openChat(request("hi"), c, { upstream, signal: new AbortController().signal }));
    expect(e.cls).toBe("throttled");
    expect(e.retryAfterMs).toBe(3000);
    const ok = await openChat(request("again"), c, { upstream, signal: new AbortController().signal });
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
      const { creds: c } = await creds(behaviour);
      const e = await chatError(openChat(request("hi"), c, { upstream, signal: new AbortController().signal }));
      expect(e.cls).toBe(cls as KiroError["cls"]);
    }
  });

  test("abort cancels the upstream stream (fake.aborts increments)", async () => {
    const { creds: c } = await creds();
    fake.enqueue(stallScenario("slow answer", { beforeMs: 10, betweenMs: 2000 }));
    const ac = new AbortController();
    const { events } = await openChat(request("hi"), c, { upstream, signal: ac.signal });
    const it = events[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.done).toBe(false);
    ac.abort();
    await it.next().catch(() => undefined); // the pending read rejects with the abort
    for (let i = 0; i < 50 && fake.aborts === 0; i++) await Bun.sleep(20);
    expect(fake.aborts).toBe(1);
  });
});

describe("stalled upstream", () => {
  test("no bytes for the idle timeout → transient KiroError (TIMEOUT) and the upstream is cancelled", async () => {
    const { creds: c } = await creds();
    // First frame quickly, then silence far longer than the idle timeout.
    fake.enqueue(stallScenario("slow answer", { beforeMs: 10, betweenMs: 5000 }));
    const abortsBefore = fake.aborts;
    const { events } = await openChat(request("hi"), c, { upstream, signal: new AbortController().signal, idleTimeoutMs: 300 });
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
    for (let i = 0; i < 50 && fake.aborts === abortsBefore; i++) await Bun.sleep(20);
    expect(fake.aborts).toBe(abortsBefore + 1);
  });

  test("a slow but steady upstream is not cut (idle-based, not a wall-clock cap)", async () => {
    const { creds: c } = await creds();
    // 3 text frames 200 ms apart: ~0.6 s in total, longer than the 300 ms idle timeout.
    fake.enqueue(stallScenario("slow but steady", { beforeMs: 10, betweenMs: 200 }));
    const { events } = await openChat(request("hi"), c, { upstream, signal: new AbortController().signal, idleTimeoutMs: 300 });
    let text = "";
    for await (const e of events) if (e.type === "text") text += e.text;
    expect(text).toBe("slow but steady");
  });
});

describe("endpoint-family fallback", () => {
  test("first family 404 → second family used and remembered (logged once)", async () => {
    const { creds: c } = await creds();
    const logs: EndpointLogEvent[] = [];
    const selector = new EndpointSelector({
      families: [
        { family: "A", template: `${fake.url}/gone` }, // a retired host: every path 404s
        { family: "B", template: fake.url },
      ],
      log: (e) => logs.push(e),
    });
    const noApi = { ...upstream, apiUrl: undefined };
    const r1 = await openChat(request("one"), c, { upstream: noApi, signal: new AbortController().signal, endpoints: selector });
    expect(text(await collect(r1.events))).toContain("one");
    expect(fake.requests.filter((r) => r.path.endsWith("/generateAssistantResponse")).map((r) => r.path)).toEqual([
      "/gone/generateAssistantResponse",
      "/generateAssistantResponse",
    ]);
    expect(selector.rememberedFamily("us-east-1")).toBe("B");

    const before = fake.requests.length;
    const r2 = await openChat(request("two"), c, { upstream: noApi, signal: new AbortController().signal, endpoints: selector });
    await collect(r2.events);
    // Remembered: the second call goes straight to family B.
    expect(fake.requests.slice(before).map((r) => r.path)).toEqual(["/generateAssistantResponse"]);
    expect(logs.length).toBe(1);
    expect(logs[0]).toMatchObject({ region: "us-east-1", family: "B" });
  });

  test("connection refused falls back too; a live 403 does not", async () => {
    const { creds: c } = await creds();
    const selector = new EndpointSelector({
      families: [
        { family: "A", template: "http://127.0.0.1:1" },
        { family: "B", template: fake.url },
      ],
    });
    const noApi = { ...upstream, apiUrl: undefined };
    const ok = await openChat(request("refused"), c, { upstream: noApi, signal: new AbortController().signal, endpoints: selector });
    expect(text(await collect(ok.events))).toContain("refused");

    const selector2 = new EndpointSelector({
      families: [
        { family: "A", template: fake.url },
        { family: "B", template: `${fake.url}/never-tried` },
      ],
    });
    const e = await chatError(openChat(request("x"), { ...c, accessToken: "bad" }, { upstream: noApi, signal: new AbortController().signal, endpoints: selector2 }));
    expect(e.cls).toBe("expired_token");
    expect(fake.requests.some((r) => r.path.startsWith("/never-tried"))).toBe(false);
  });

  test("every family unreachable → endpoint_unavailable", async () => {
    const { creds: c } = await creds();
    const selector = new EndpointSelector({ families: [{ family: "A", template: `${fake.url}/gone` }, { family: "B", template: `${fake.url}/also-gone` }] });
    const e = await chatError(openChat(request("x"), c, { upstream: { ...upstream, apiUrl: undefined }, signal: new AbortController().signal, endpoints: selector }));
    expect(e.cls).toBe("endpoint_unavailable");
    expect(e.status).toBe(404);
  });

  test("a pinned apiUrl means one host and no fallback", async () => {
    const { creds: c } = await creds();
    const e = await chatError(openChat(request("x"), c, { upstream: { ...upstream, apiUrl: `${fake.url}/gone` }, signal: new AbortController().signal }));
    expect(e.cls).toBe("endpoint_unavailable");
    expect(fake.requests.filter((r) => r.path.includes("generateAssistantResponse")).length).toBe(1);
  });
});

test("textScenario as the fake's default scenario", async () => {
  const { creds: c } = await creds();
  fake.setDefaultScenario(textScenario("always this"));
  const { events } = await openChat(request("anything"), c, { upstream, signal: new AbortController().signal });
  expect(text(await collect(events))).toBe("always this");
});

describe("fake directives and family A's profileArn rule", () => {
  test("[[fake:tools]] calls the first declared tool with its required fields", async () => {
    const { creds: c } = await creds();
    const req = request("please [[fake:tools]]", {
      tools: [{ name: "get_weather", description: "Weather.", inputSchema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } }],
    });
    const evs = await collect((await openChat(req, c, { upstream, signal: new AbortController().signal })).events);
    expect(evs.find((e) => e.type === "tool_start")).toMatchObject({ name: "get_weather" });
    expect(JSON.parse(evs.flatMap((e) => (e.type === "tool_args" ? [e.json] : [])).join(""))).toEqual({ city: "fake" });
    expect(evs.at(-1)).toEqual({ type: "stop", reason: "tool_use" });
  });

  test("family A 400 'profileArn is required' for an account without ARN → next family, remembered for that account only", async () => {
    let clock = 1_000_000;
    const selector = new EndpointSelector({
      families: [
        { family: "A", template: `${fake.url}/family-a` }, // the fake playing runtime.{region}.kiro.dev
        { family: "B", template: fake.url },
      ],
      now: () => clock,
    });
    const noApi = { ...upstream, apiUrl: undefined };
    const chatPaths = () => fake.requests.filter((r) => r.path.endsWith("/generateAssistantResponse")).map((r) => r.path);

    // A social account the service issued no ARN for (refresh answers without profileArn).
    const refreshToken = `aorAnoarn${++n}`.padEnd(120, "z");
    fake.addAccount({ refreshToken, profileArn: null });
    const r = await refreshAccessToken({ kind: "social", refreshToken, authRegion: "us-east-1", machineId: "e".repeat(64) }, upstream);
    expect(r.profileArn).toBeUndefined();
    const noArn: KiroCredentials = { accessToken: r.accessToken, authKind: "social", region: "us-east-1", machineId: "e".repeat(64) };

    const first = await openChat(request("no arn"), noArn, { upstream: noApi, signal: new AbortController().signal, endpoints: selector });
    expect(text(await collect(first.events))).toContain("no arn");
    expect(chatPaths()).toEqual(["/family-a/generateAssistantResponse", "/generateAssistantResponse"]);
    // Accounts with an ARN still belong on family A, so B must not become the region's choice.
    expect(selector.rememberedFamily("us-east-1")).toBeUndefined();

    // The same account again: straight to B, no second failed round trip on A.
    fake.requests.length = 0;
    await collect((await openChat(request("again"), noArn, { upstream: noApi, signal: new AbortController().signal, endpoints: selector })).events);
    expect(chatPaths()).toEqual(["/generateAssistantResponse"]);

    // Another account, with an ARN, still uses family A.
    fake.requests.length = 0;
    const { creds: withArn } = await creds();
    await collect((await openChat(request("has arn"), withArn, { upstream: noApi, signal: new AbortController().signal, endpoints: selector })).events);
    expect(chatPaths()).toEqual(["/family-a/generateAssistantResponse"]);
    expect((fake.requests.at(-1)!.body as any).profileArn).toBe(withArn.profileArn);

    // After the TTL the ARN-less account tries family A again (it may have gained a profile).
    clock += 60 * 60 * 1000;
    fake.requests.length = 0;
    await collect((await openChat(request("later"), noArn, { upstream: noApi, signal: new AbortController().signal, endpoints: selector })).events);
    expect(chatPaths()).toEqual(["/family-a/generateAssistantResponse", "/generateAssistantResponse"]);
  });

  test("startFakeKiro({requireProfileArn: true}) is family A on every path", async () => {
    const familyA = await startFakeKiro({ requireProfileArn: true });
    try {
      const refreshToken = "aorAfamilyA".padEnd(120, "z");
      familyA.addAccount({ refreshToken, profileArn: null });
      const r = await refreshAccessToken({ kind: "social", refreshToken, authRegion: "us-east-1", machineId: "f".repeat(64) }, familyA.upstream);
      const c: KiroCredentials = { accessToken: r.accessToken, authKind: "social", region: "us-east-1", machineId: "f".repeat(64) };
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
    const refreshToken = `aorAbuilder${++n}`.padEnd(120, "z");
    const acct = fake.addAccount({ refreshToken, kind: "idc", profileArn: null });
    const r = await refreshAccessToken(
      { kind: "idc", refreshToken, clientId: acct.clientId, clientSecret: acct.clientSecret, authRegion: "us-east-1", machineId: "b".repeat(64) },
      upstream,
    );
    const c: KiroCredentials = { accessToken: r.accessToken, authKind: "idc", region: "us-east-1", machineId: "b".repeat(64) };
    const ok = await openChat(request("builder id"), c, { upstream, signal: new AbortController().signal });
    expect(text(await collect(ok.events))).toContain("builder id");
    expect("profileArn" in (fake.requests.at(-1)!.body as object)).toBe(false);

    const arn = "arn:aws:codewhisperer:us-east-1:123456789012:profile/FAKEIDCPROFILE";
    const e = await chatError(openChat(request("x"), { ...c, profileArn: arn }, { upstream, signal: new AbortController().signal }));
    expect(e.cls).toBe("forbidden");
    expect(e.status).toBe(403);
  });

  test("an account with a profile accepts only its own ARN", async () => {
    const { creds: c } = await creds();
    const foreign = "arn:aws:codewhisperer:us-east-1:111122223333:profile/NOTMINE";
    const e = await chatError(openChat(request("x"), { ...c, profileArn: foreign }, { upstream, signal: new AbortController().signal }));
    expect(e.cls).toBe("forbidden");
  });
});

test("the fake also accepts the awsJson 1.0 form of the chat call", async () => {
  const { creds: c } = await creds();
  const { buildKiroRequest } = await import("../../src/kiro/request/build");
  const res = await fetch(`${fake.url}/`, {
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
