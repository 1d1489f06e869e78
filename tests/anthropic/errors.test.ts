/**
 * Pool and upstream failures through /v1/messages: typed SDK errors for both SDK lines, and the
 * turn runner's failover (before the first byte) and first-token timeout.
 */
import { afterEach, describe, expect, test } from "bun:test";
import Anthropic1 from "@anthropic-ai/sdk";
import Anthropic0 from "anthropic-sdk-0";
import { startE2E, type E2E, type FakeAccountSpec } from "../support/e2e";
import { textScenario } from "../fake-kiro/scenarios";

type Client = InstanceType<typeof Anthropic1>;
const sdks: Array<[string, typeof Anthropic1]> = [
  ["@anthropic-ai/sdk 1.x", Anthropic1],
  ["anthropic-sdk-0 (0.137)", Anthropic0 as unknown as typeof Anthropic1],
];

let e: E2E | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

async function setup(accounts: FakeAccountSpec[]): Promise<E2E> {
  e = await startE2E({ accounts });
  return e;
}

const ask = (c: Client, text = "hello") =>
  c.messages.create({ model: "claude-sonnet-4-6", max_tokens: 64, messages: [{ role: "user", content: text }] });

describe.each(sdks)("%s", (_n, SDK) => {
  const client = (x: E2E) => new SDK({ baseURL: x.url, apiKey: x.clientKey, maxRetries: 0 });

  test("all accounts throttled → 429 RateLimitError with retry-after", async () => {
    const x = await setup([{ behaviour: { throttleCalls: 10, retryAfterSec: 7 } }]);
    const err = await ask(client(x)).catch((z) => z);
    expect(err).toBeInstanceOf(SDK.RateLimitError);
    expect(err.status).toBe(429);
    expect(err.error.error.type).toBe("rate_limit_error");
    expect(Number(err.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  test("no usable account → 503 overloaded_error saying why", async () => {
    // A suspended account is disabled by the pool: nothing is left that could serve.
    const x = await setup([{ behaviour: { suspended: true } }]);
    const err = await ask(client(x)).catch((z) => z);
    expect(err).toBeInstanceOf(SDK.InternalServerError);
    expect(err.status).toBe(503);
    expect(err.error.error.type).toBe("overloaded_error");
    expect(err.error.error.message).toMatch(/suspended|disabled|account/i);
  });

  test("input too long → 400 BadRequestError 'prompt is too long' with the size", async () => {
    const x = await setup([{ behaviour: { inputTooLong: true } }]);
    const err = await ask(client(x), "a very long prompt").catch((z) => z);
    expect(err).toBeInstanceOf(SDK.BadRequestError);
    expect(err.error.error.type).toBe("invalid_request_error");
    expect(err.error.error.message).toMatch(/prompt is too long: \d+ tokens/);
  });
});

describe("failover before the first byte", () => {
  test("a throttled account hands over to the next one", async () => {
    const x = await setup([{ behaviour: { throttleCalls: 1 } }, { behaviour: { throttleCalls: 1 } }, {}]);
    x.services.settings.update({ strategy: "priority" });
    x.fake.setDefaultScenario(textScenario("served", { usage: false }));
    const c = new Anthropic1({ baseURL: x.url, apiKey: x.clientKey, maxRetries: 0 });
    const msg = await ask(c);
    expect((msg.content[0] as any).text).toBe("served");
    expect(x.accounts.reduce((n, a) => n + a.chatCalls, 0)).toBe(3);
  });

  test("an expired access token is refreshed and the same account retried", async () => {
    const x = await setup([{}]);
    const c = new Anthropic1({ baseURL: x.url, apiKey: x.clientKey, maxRetries: 0 });
    await ask(c);
    const refreshes = x.fake.refreshCalls.length;
    x.accounts[0]!.expireAccessTokens();
    const msg = await ask(c, "again [[fake:text]]");
    expect((msg.content[0] as any).text).toBe("Hello from fake Kiro.");
    expect(x.fake.refreshCalls.length).toBe(refreshes + 1);
  });

  test("first-token timeout moves to another account", async () => {
    const x = await setup([{ behaviour: { slowFirstByteMs: 1500 } }, { behaviour: { slowFirstByteMs: 1500 } }]);
    // The panel's minimum is 5 s; tests shorten the live value directly.
    Object.assign(x.services.settings.runtime, { firstTokenTimeoutMs: 250 });
    x.accounts[1]!.behaviour.slowFirstByteMs = 0;
    const c = new Anthropic1({ baseURL: x.url, apiKey: x.clientKey, maxRetries: 0 });
    const t0 = Date.now();
    const msg = await ask(c, "[[fake:text]]");
    expect((msg.content[0] as any).text).toBe("Hello from fake Kiro.");
    expect(Date.now() - t0).toBeLessThan(1400);
  });

  test("first-token timeout on every account → 504 timeout_error", async () => {
    const x = await setup([{ behaviour: { slowFirstByteMs: 700 } }]);
    Object.assign(x.services.settings.runtime, { firstTokenTimeoutMs: 150 });
    const r = await fetch(`${x.url}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": x.clientKey, "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-sonnet-4-6", max_tokens: 10, messages: [{ role: "user", content: "x" }] }),
    });
    expect(r.status).toBe(504);
    expect((await r.json()).error.type).toBe("timeout_error");
  });
});
