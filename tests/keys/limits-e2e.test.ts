/**
 * Rate limits per client key end to end (real app, real pool, fake Kiro): a key limited to R
 * requests per minute gets exactly R through and then 429 + Retry-After in the dialect the client
 * speaks, while another key is unaffected; a concurrency limit refuses the request over it while
 * the others run; the key's usage and /metrics show the limit hits. Limits are stored on the key.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { stallScenario, textScenario } from "../fake-kiro/scenarios";
import { startE2E, type E2E } from "../support/e2e";

let x: E2E | undefined;
afterEach(async () => {
  await x?.stop();
  x = undefined;
});

function anthropic(e: E2E, key: string, stream = false) {
  return fetch(`${e.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": key, "anthropic-version": "2023-06-01" },
    body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 64, stream, messages: [{ role: "user", content: "hi" }] }),
  });
}

function openai(e: E2E, key: string) {
  return fetch(`${e.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "hi" }] }),
  });
}

describe("rate limits per client key", () => {
  test("R requests per minute: exactly R through, then 429 + Retry-After in each dialect's shape; another key unaffected", async () => {
    const e = (x = await startE2E());
    e.fake.setDefaultScenario(textScenario("ok", { usage: false }));
    const R = 3;
    const { key, record } = await e.services.keys.create({ name: "limited", rpmLimit: R });
    expect(record.rpmLimit).toBe(R);
    const other = (await e.services.keys.create({ name: "free" })).key;

    const statuses: number[] = [];
    for (let i = 0; i < R; i++) statuses.push((await (i % 2 ? openai(e, key) : anthropic(e, key))).status);
    expect(statuses).toEqual([200, 200, 200]);

    const a = await anthropic(e, key);
    expect(a.status).toBe(429);
    const aBody = (await a.json()) as any;
    expect(aBody.type).toBe("error");
    expect(aBody.error.type).toBe("rate_limit_error");
    expect(aBody.error.message).toBe("this API key's limit of 3 requests per minute is reached");
    const retryAfter = Number(a.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(50);
    expect(retryAfter).toBeLessThanOrEqual(60);

    const s = await anthropic(e, key, true);
    expect(s.status).toBe(429);
    expect(((await s.json()) as any).error.type).toBe("rate_limit_error");

    const o = await openai(e, key);
    expect(o.status).toBe(429);
    const oBody = (await o.json()) as any;
    expect(oBody.error.code).toBe("rate_limit_exceeded");
    expect(Number(o.headers.get("retry-after"))).toBeGreaterThan(50);

    // Nothing over the limit reached the upstream; the other key and the built-in key go on.
    expect(e.accounts[0]!.chatCalls).toBe(R);
    for (let i = 0; i < 5; i++) expect((await openai(e, other)).status).toBe(200);
    expect((await anthropic(e, e.clientKey)).status).toBe(200);

    // The key's usage shows it.
    expect(e.services.keyLimiter.usage(record.id)).toMatchObject({ requestsLastMinute: R, inflight: 0, hits: { rpm: 3, tpm: 0, concurrency: 0 } });
    const metrics = await (await fetch(`${e.url}/metrics`, { headers: { authorization: `Bearer ${e.clientKey}` } })).text();
    expect(metrics).toContain(`kiro_key_limit_hits_total{key="limited",key_id="${record.id}",limit="rpm"} 3`);
    expect(metrics).toContain(`kiro_key_requests_last_minute{key="free",`);
  });

  test("requests at once: the one over the limit is refused while the others run", async () => {
    const e = (x = await startE2E());
    const { key, record } = await e.services.keys.create({ name: "one-at-a-time" });
    expect(e.services.keys.setLimits(record.id, { concurrencyLimit: 1 })!.concurrencyLimit).toBe(1);
    e.fake.enqueue(stallScenario("slow", { beforeMs: 400, betweenMs: 10 }));
    const slow = anthropic(e, key);
    while (e.services.keyLimiter.usage(record.id).inflight === 0) await Bun.sleep(5);
    const second = await openai(e, key);
    expect(second.status).toBe(429);
    expect(((await second.json()) as any).error.message).toBe("this API key's limit of 1 concurrent request is reached");
    expect(second.headers.get("retry-after")).toBe("1");
    expect((await slow).status).toBe(200);
    // Once it ended, the key may send again.
    expect((await openai(e, key)).status).toBe(200);
    expect(e.services.keyLimiter.usage(record.id).hits.concurrency).toBe(1);
  });

  test("tokens per minute: refused once the last minute's tokens reach the limit", async () => {
    const e = (x = await startE2E());
    const { key, record } = await e.services.keys.create({ name: "tpm", tpmLimit: 10 });
    expect((await anthropic(e, key)).status).toBe(200);
    expect(e.services.keyLimiter.usage(record.id).tokensLastMinute).toBeGreaterThanOrEqual(10);
    const r = await openai(e, key);
    expect(r.status).toBe(429);
    expect(((await r.json()) as any).error.message).toMatch(/^this API key's limit of 10 tokens per minute is reached \(\d+ used in the last minute\)$/);
  });

  test("limits are stored on the key: validated, kept across a reload, cleared with null", async () => {
    const e = (x = await startE2E());
    const { record } = await e.services.keys.create({ name: "k", rpmLimit: 5, tpmLimit: 1000, concurrencyLimit: 2 });
    expect(() => e.services.keys.setLimits(record.id, { rpmLimit: 0 })).toThrow();
    await expect(e.services.keys.create({ name: "bad", tpmLimit: 1.5 })).rejects.toThrow();
    e.services.keys.reload();
    const stored = e.services.keys.list().find((k) => k.id === record.id)!;
    expect([stored.rpmLimit, stored.tpmLimit, stored.concurrencyLimit]).toEqual([5, 1000, 2]);
    const cleared = e.services.keys.setLimits(record.id, { rpmLimit: null })!;
    expect([cleared.rpmLimit, cleared.tpmLimit, cleared.concurrencyLimit]).toEqual([null, 1000, 2]);
    expect(e.services.keys.setLimits("no-such-key", { rpmLimit: 1 })).toBeUndefined();
  });
});
