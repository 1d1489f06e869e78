/**
 * The turn runner's failover budget and error messages end to end (real app, real pool, the
 * strict fake Kiro): hand-overs to exhausted/cooling accounts are free, so with 4 accounts where
 * 3 answer 402 (or 429) the 4th serves; when upstream answers empty the pool the client hears why
 * and when; accounts whose plan lacks the model are skipped or failed over.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { textScenario } from "../fake-kiro/scenarios";
import { startE2E, type E2E, type FakeAccountSpec } from "../support/e2e";

let x: E2E | undefined;
afterEach(async () => {
  await x?.stop();
  x = undefined;
});

async function setup(accounts: FakeAccountSpec[]): Promise<E2E> {
  x = await startE2E({ accounts });
  x.services.settings.update({ strategy: "priority" });
  return x;
}

function ask(e: E2E, model = "claude-sonnet-4-5", text = "hi") {
  return fetch(`${e.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": e.clientKey, "anthropic-version": "2023-06-01" },
    body: JSON.stringify({ model, max_tokens: 64, messages: [{ role: "user", content: text }] }),
  });
}

describe("failover budget: lasting hand-overs are free", () => {
  for (const [name, behaviour] of [
    ["402 (out of credits)", { quota: true }],
    ["429 (throttled)", { throttleCalls: 5, retryAfterSec: 30 }],
  ] as const) {
    test(`4 accounts, the first 3 answer ${name} → account 4 serves`, async () => {
      const e = await setup([{ behaviour: { ...behaviour } }, { behaviour: { ...behaviour } }, { behaviour: { ...behaviour } }, {}]);
      e.fake.setDefaultScenario(textScenario("served by four", { usage: false }));
      const res = await ask(e);
      expect(res.status).toBe(200);
      expect(((await res.json()) as any).content[0].text).toBe("served by four");
      expect(e.accounts.map((a) => a.chatCalls)).toEqual([1, 1, 1, 1]);
      const states = e.accountIds.map((id) => e.services.pool.get(id)!.state);
      expect(states).toEqual(name.startsWith("402") ? ["exhausted", "exhausted", "exhausted", "active"] : ["cooling", "cooling", "cooling", "active"]);
    });
  }

  test("soft failures (5xx) stop after 3 hand-overs even with more accounts", async () => {
    const e = await setup([0, 1, 2, 3, 4].map(() => ({ behaviour: { transient500Calls: 5 } })));
    const res = await ask(e);
    expect(res.status).toBe(502);
    expect(e.accounts.reduce((n, a) => n + a.chatCalls, 0)).toBe(3);
    expect(e.accounts[3]!.chatCalls + e.accounts[4]!.chatCalls).toBe(0);
  });
});

describe("why and when, once upstream answers emptied the pool", () => {
  test("every account out of credits → 429 rate_limit_error, Retry-After = earliest reset, one 'until' in the message", async () => {
    const e = await setup([{ behaviour: { quota: true } }, { behaviour: { quota: true } }]);
    const res = await ask(e);
    expect(res.status).toBe(429);
    const body = (await res.json()) as any;
    expect(body.error.type).toBe("rate_limit_error");
    const msg: string = body.error.message;
    expect(msg).toMatch(/^no Kiro account can serve this request: all 2 accounts are out of credits until \d{4}-\d\d-01 00:00 UTC \(last upstream answer: You have reached the limit\.\)$/);
    expect(msg).not.toContain("earliest");
    const d = new Date();
    const reset = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    const retryAfter = Number(res.headers.get("retry-after"));
    expect(Math.abs(retryAfter - (reset - Date.now()) / 1000)).toBeLessThan(5);
  });

  test("every account out of credits, OpenAI client → 429 insufficient_quota (not a retryable rate limit)", async () => {
    const e = await setup([{ behaviour: { quota: true } }, { behaviour: { quota: true } }]);
    const res = await fetch(`${e.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${e.clientKey}` },
      body: JSON.stringify({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(429);
    const body = (await res.json()) as any;
    expect(body.error).toMatchObject({ type: "insufficient_quota", code: "insufficient_quota", param: null });
    expect(body.error.message).toContain("out of credits until");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(60);
  });

  test("every account throttled → 429 with the shortest cooldown and the upstream wording", async () => {
    const e = await setup([{ behaviour: { throttleCalls: 1, retryAfterSec: 40 } }, { behaviour: { throttleCalls: 1, retryAfterSec: 20 } }]);
    const res = await ask(e);
    expect(res.status).toBe(429);
    const msg: string = ((await res.json()) as any).error.message;
    expect(msg).toMatch(/all 2 accounts are rate-limited; the first is back at .* UTC \(last upstream answer: Too many requests/);
    const retryAfter = Number(res.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(19);
    expect(retryAfter).toBeLessThanOrEqual(21);
  });

  test("mixed: one out of credits, one suspended → the message names both", async () => {
    const e = await setup([{ behaviour: { quota: true } }, { behaviour: { suspended: true } }]);
    const res = await ask(e);
    expect(res.status).toBe(429);
    const msg: string = ((await res.json()) as any).error.message;
    expect(msg).toMatch(/1 of 2 accounts are out of credits until .* UTC \(1 disabled\) \(last upstream answer: .*suspended/);
  });
});

describe("plan-aware selection", () => {
  const FREE_MODELS = ["auto", "claude-sonnet-4.5", "claude-sonnet-4", "claude-haiku-4.5"];

  test("a FREE-like account without opus is skipped once its model list is known", async () => {
    const e = await setup([{ models: FREE_MODELS }, {}]);
    for (const id of e.accountIds) await e.services.pool.checkQuota(id);
    e.fake.setDefaultScenario(textScenario("opus here", { usage: false }));
    const res = await ask(e, "claude-opus-4-5");
    expect(res.status).toBe(200);
    expect(e.accounts[0]!.chatCalls).toBe(0);
    expect(e.accounts[1]!.chatCalls).toBe(1);
    // Sonnet still goes to the first account (priority).
    expect((await ask(e)).status).toBe(200);
    expect(e.accounts[0]!.chatCalls).toBe(1);
  });

  test("only accounts without the model → 404 naming the model and what is available (never a retryable 503), no upstream call", async () => {
    const e = await setup([{ models: FREE_MODELS }]);
    await e.services.pool.checkQuota(e.accountIds[0]!);
    const res = await ask(e, "claude-opus-4-5");
    expect(res.status).toBe(404);
    const message = ((await res.json()) as any).error.message;
    expect(message).toContain("claude-opus-4-5");
    expect(message).toContain(`valid models: ${e.services.models.names().join(", ")}`);
    expect(e.accounts[0]!.chatCalls).toBe(0);
  });
});

describe("INVALID_MODEL_ID from one account", () => {
  /** In front of the fake: chat calls bearing `refuse()`'s access token get the real 400 INVALID_MODEL_ID. */
  function refusingProxy(e: E2E, refuse: () => string | undefined) {
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch(req) {
        const url = new URL(req.url);
        const bearer = req.headers.get("authorization")?.replace(/^Bearer /, "");
        if (url.pathname === "/generateAssistantResponse" && bearer && bearer === refuse()) {
          return Response.json(
            { __type: "com.amazon.aws.codewhisperer#ValidationException", message: "Invalid model. Please select a different model.", reason: "INVALID_MODEL_ID" },
            { status: 400, headers: { "x-amzn-errortype": "ValidationException:http://internal.amazon.com/coral/com.amazon.aws.codewhisperer/" } },
          );
        }
        const headers = new Headers(req.headers);
        headers.delete("host");
        return fetch(`${e.fake.url}${url.pathname}${url.search}`, { method: req.method, headers, body: req.method === "GET" ? undefined : await req.arrayBuffer() });
      },
    });
    return { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) };
  }

  test("fails over to an account that has the model and remembers the refusal", async () => {
    const e = await setup([{}, {}]);
    const proxy = refusingProxy(e, () => e.accounts[0]!.accessToken);
    try {
      e.services.upstream.apiUrl = proxy.url;
      e.fake.setDefaultScenario(textScenario("opus from two", { usage: false }));
      const res = await ask(e, "claude-opus-4-5");
      expect(res.status).toBe(200);
      expect(((await res.json()) as any).content[0].text).toBe("opus from two");
      expect(e.services.pool.get(e.accountIds[0]!)!.state).toBe("active");
      // The refusal is cached: the next opus request goes straight to account 2.
      const before = e.fake.requests.length;
      expect((await ask(e, "claude-opus-4-5")).status).toBe(200);
      expect(e.fake.requests.slice(before).filter((r) => r.path === "/generateAssistantResponse")).toHaveLength(1);
      expect(e.accounts[1]!.chatCalls).toBe(2);
    } finally {
      proxy.stop();
    }
  });

  test("no other account could serve it → 404 model_not_found to the client, account untouched", async () => {
    const e = await setup([{}]);
    const proxy = refusingProxy(e, () => e.accounts[0]!.accessToken);
    try {
      e.services.upstream.apiUrl = proxy.url;
      const res = await ask(e, "claude-opus-4-5");
      expect(res.status).toBe(404);
      const body = (await res.json()) as any;
      expect(body.error.type).toBe("not_found_error");
      expect(body.error.message).toContain("Invalid model");
      expect(e.services.pool.get(e.accountIds[0]!)!).toMatchObject({ state: "active", consecutiveFailures: 0 });
    } finally {
      proxy.stop();
    }
  });
});
