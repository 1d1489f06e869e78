/**
 * The reproductions from the hostile-input report, as tests against the real server process:
 *  - 'Z' × 1,000,000 to count_tokens answers in < 1 s while /health keeps answering;
 *  - two malformed OpenAI tools → 400 naming tools[0].function, nothing sent upstream, no
 *    account error counter moves;
 *  - bodies over KIRO_MAX_BODY_MB → the dialect's 413 (declared size and chunked), on the wire.
 * Wall-clock bounds are asserted when the machine has a core to spare (see fuzz.test.ts); the
 * CPU the server spent inside one event-loop gap is asserted always.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpus, loadavg } from "node:os";
import { startFakeKiro, type FakeKiro } from "../fake-kiro/server";
import { fakeRefreshToken } from "../support/e2e";
import { startServerChild, type ServerChild } from "./child";

const KEY = "acceptance-client-key";
const anthropicHeaders = { "content-type": "application/json", "x-api-key": KEY, "anthropic-version": "2023-06-01" };
const openaiHeaders = { "content-type": "application/json", authorization: `Bearer ${KEY}` };
const busyMachine = () => loadavg()[0]! > cpus().length;

let fake: FakeKiro;
let server: ServerChild;

beforeAll(async () => {
  fake = await startFakeKiro();
  const accounts = [0, 1, 2].map(() => fake.addAccount({ refreshToken: fakeRefreshToken() }));
  server = await startServerChild({
    KIRO_CLIENT_TOKEN: KEY,
    KIRO_API_URL: fake.url,
    KIRO_AUTH_URL: fake.url,
    KIRO_OIDC_URL: fake.url,
    KIRO_MAX_BODY_MB: "2",
    KIRO_AUTH_TOKEN: JSON.stringify(accounts.map((a) => ({ auth: "Social", refreshToken: a.refreshToken }))),
  });
  // Warm up (tokenizer WASM, route compilation) so the timed requests measure steady state.
  const warm = await fetch(`${server.url}/v1/messages/count_tokens`, { method: "POST", headers: anthropicHeaders, body: JSON.stringify({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "warm up" }] }) });
  expect(warm.status).toBe(200);
}, 30_000);

afterAll(async () => {
  await server?.stop();
  await fake?.stop();
}, 30_000);

describe("token counting cannot freeze the server", () => {
  test("'Z' × 1,000,000 to count_tokens answers in < 1 s, /health answers meanwhile", async () => {
    await server.lag();
    const body = JSON.stringify({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "Z".repeat(1_000_000) }] });
    const t0 = performance.now();
    const counting = fetch(`${server.url}/v1/messages/count_tokens`, { method: "POST", headers: anthropicHeaders, body }).then(async (r) => ({ status: r.status, json: (await r.json()) as { input_tokens: number }, ms: performance.now() - t0 }));
    let finished = false;
    void counting.then(() => (finished = true));
    const health: number[] = [];
    while (!finished) {
      const h0 = performance.now();
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
      health.push(performance.now() - h0);
      await Bun.sleep(10);
    }
    const r = await counting;
    expect(r.status).toBe(200);
    // 'ZZ' is one token: half a million, plus the message framing.
    expect(r.json.input_tokens).toBeGreaterThanOrEqual(500_000);
    expect(r.json.input_tokens).toBeLessThan(500_100);
    expect(health.length).toBeGreaterThan(0);
    const lag = await server.lag();
    expect(lag.cpuMs).toBeLessThan(100);
    if (!busyMachine()) {
      expect(r.ms).toBeLessThan(1000);
      expect(Math.max(...health)).toBeLessThan(100);
    }
    console.log(`count_tokens 'Z' × 1e6: ${r.ms.toFixed(0)} ms, ${health.length} /health checks meanwhile (slowest ${Math.max(...health).toFixed(1)} ms), longest loop hold ${lag.cpuMs.toFixed(1)} ms CPU`);
  });
});

describe("malformed requests are the client's, never the upstream's or an account's", () => {
  test.each([
    ["function.name is not a string", { type: "function", function: { name: true, parameters: { type: "object" } } }],
    ["function is null", { type: "function", function: null }],
  ])("OpenAI tool where %s → 400 naming tools[0].function, no upstream call, no account error", async (_why, tool) => {
    const before = await server.accounts();
    const chatCalls = fake.requests.filter((r) => r.path.endsWith("generateAssistantResponse")).length;
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: openaiHeaders,
      body: JSON.stringify({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "hi" }], tools: [tool] }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { param: string; type: string; message: string } };
    expect(body.error.type).toBe("invalid_request_error");
    expect(body.error.param.startsWith("tools[0].function")).toBe(true);
    expect(body.error.message).toContain("tools[0].function");
    expect(fake.requests.filter((r) => r.path.endsWith("generateAssistantResponse")).length).toBe(chatCalls);
    expect((await server.accounts()).map((a) => a.errors)).toEqual(before.map((a) => a.errors));
  });

  test.each([
    ["name is not a string", { type: "function", name: true, parameters: { type: "object" } }, "tools[0].name"],
    ["name is missing", { type: "function", parameters: { type: "object" } }, "tools[0].name"],
  ])("Responses tool where %s → 400 naming %s, no upstream call, no account error", async (_why, tool, field) => {
    const before = await server.accounts();
    const chatCalls = fake.requests.filter((r) => r.path.endsWith("generateAssistantResponse")).length;
    const res = await fetch(`${server.url}/v1/responses`, {
      method: "POST",
      headers: openaiHeaders,
      body: JSON.stringify({ model: "claude-sonnet-4-5", input: "hi", tools: [tool] }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { param: string; type: string; message: string } };
    expect(body.error.type).toBe("invalid_request_error");
    expect(body.error.param).toBe(field);
    expect(fake.requests.filter((r) => r.path.endsWith("generateAssistantResponse")).length).toBe(chatCalls);
    expect((await server.accounts()).map((a) => a.errors)).toEqual(before.map((a) => a.errors));
  });

  test.each([
    ["name is not a string", { name: 5, input_schema: { type: "object" } }, "tools.0.name"],
    ["input_schema is an array", { name: "t", input_schema: [] }, "tools.0.input_schema"],
    ["tool is null", null, "tools.0"],
  ])("Anthropic tool where %s → 400 naming the field, no account error", async (_why, tool, field) => {
    const before = await server.accounts();
    const res = await fetch(`${server.url}/v1/messages`, {
      method: "POST",
      headers: anthropicHeaders,
      body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 10, messages: [{ role: "user", content: "hi" }], tools: [tool] }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { type: string; error: { type: string; message: string } };
    expect(body.type).toBe("error");
    expect(body.error.type).toBe("invalid_request_error");
    expect(body.error.message.startsWith(field)).toBe(true);
    expect((await server.accounts()).map((a) => a.errors)).toEqual(before.map((a) => a.errors));
  });
});

describe("request body limit (KIRO_MAX_BODY_MB=2 here)", () => {
  const big = (n: number) => JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 10, messages: [{ role: "user", content: "x".repeat(n) }] });

  test("a declared size over the limit → the dialect's 413 on every /v1 POST, body never parsed", async () => {
    const body = big(3 * 1024 * 1024);
    for (const [path, headers, anthropic] of [
      ["/v1/messages", anthropicHeaders, true],
      ["/v1/messages/count_tokens", anthropicHeaders, true],
      ["/v1/chat/completions", openaiHeaders, false],
      ["/v1/responses", openaiHeaders, false],
      ["/v1/responses/input_tokens", openaiHeaders, false],
    ] as const) {
      const res = await fetch(server.url + path, { method: "POST", headers, body });
      expect(res.status).toBe(413);
      const json = (await res.json()) as any;
      if (anthropic) {
        expect(json.type).toBe("error");
        expect(json.error.type).toBe("request_too_large");
      } else {
        expect(json.error.type).toBe("invalid_request_error");
        expect(json.error.param).toBe("body");
      }
      const message: string = anthropic ? json.error.message : json.error.message;
      expect(message).toContain("KIRO_MAX_BODY_MB");
    }
  });

  test.each([
    ["/v1/chat/completions", false],
    ["/v1/responses", false],
    ["/v1/responses/input_tokens", false],
    ["/v1/messages", true],
    ["/v1/messages/count_tokens", true],
  ] as const)("a chunked body (no Content-Length) that passes the limit → the same 413 while it streams in (%s)", async (path, anthropic) => {
    const chunk = new TextEncoder().encode("x".repeat(256 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent++ < 16) c.enqueue(chunk);
        else c.close();
      },
    });
    const res = await fetch(server.url + path, { method: "POST", headers: anthropic ? anthropicHeaders : openaiHeaders, body: stream, duplex: "half" } as RequestInit);
    expect(res.status).toBe(413);
    const json = (await res.json()) as any;
    if (anthropic) expect(json.error.type).toBe("request_too_large");
    else expect(json.error.param).toBe("body");
    expect(json.error.message).toContain("KIRO_MAX_BODY_MB");
  });

  test("on the wire: a raw HTTP/1.1 client gets a complete 413 response with a JSON body, not a reset", async () => {
    const url = new URL(server.url);
    const payload = big(3 * 1024 * 1024);
    const head = `POST /v1/messages HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nx-api-key: ${KEY}\r\nContent-Length: ${Buffer.byteLength(payload)}\r\nConnection: close\r\n\r\n`;
    const answer = await new Promise<string>((resolve, reject) => {
      let got = "";
      void Bun.connect({
        hostname: url.hostname,
        port: Number(url.port),
        socket: {
          open(s) {
            s.write(head);
            s.write(payload);
            s.flush();
          },
          data(_s, d) {
            got += new TextDecoder().decode(d);
          },
          close() {
            resolve(got);
          },
          error(_s, e) {
            reject(e);
          },
        },
      });
    });
    expect(answer.startsWith("HTTP/1.1 413")).toBe(true);
    const json = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4));
    expect(json.error.type).toBe("request_too_large");
  });

  test("a body under the limit is served as usual", async () => {
    const res = await fetch(`${server.url}/v1/messages/count_tokens`, { method: "POST", headers: anthropicHeaders, body: JSON.stringify({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "x".repeat(1024 * 1024) }] }) });
    expect(res.status).toBe(200);
  });
});
