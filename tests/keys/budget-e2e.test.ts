/**
 * Monthly token budgets on SQLite end to end (real app, real pool, fake Kiro): one process counts
 * every request, so the check from memory is exact — a budget of N requests' worth lets exactly N
 * through, in both dialects and streaming, then refuses with 403 in the client's error shape —
 * and nothing of the near-budget path of a shared database (PostgreSQL) runs.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startE2E, type E2E } from "../support/e2e";

let e: E2E;
// SQLite whatever KIRO_TEST_DATABASE says: this is the one-process engine's behaviour.
beforeAll(async () => void (e = await startE2E({ config: { dbPath: ":memory:" } })));
afterAll(() => e.stop());

function anthropic(key: string, stream = false) {
  return fetch(`${e.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": key, "anthropic-version": "2023-06-01" },
    body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 64, stream, messages: [{ role: "user", content: "hi" }] }),
  });
}

function openai(key: string) {
  return fetch(`${e.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "hi" }] }),
  });
}

describe("monthly token budget on SQLite", () => {
  test("a budget of N requests' worth lets exactly N through, then 403 in each dialect's shape; no database round trip", async () => {
    expect(e.services.store.engine).toBe("sqlite");
    expect(e.services.store.keys.clusterUsage).toBeUndefined();
    expect(e.services.store.keys.addUsageNow).toBeUndefined();
    const probe = await e.services.keys.create({ name: "probe" });
    expect((await anthropic(probe.key)).status).toBe(200);
    const perRequest = e.services.keys.list().find((k) => k.id === probe.record.id)!.tokensThisMonth;
    expect(perRequest).toBeGreaterThan(0);

    const N = 3;
    const { key, record } = await e.services.keys.create({ name: "budgeted", monthlyTokenBudget: N * perRequest });
    const served: number[] = [];
    for (let i = 0; i < N; i++) {
      const res = i === 1 ? await anthropic(key, true) : await anthropic(key);
      await res.text();
      served.push(res.status);
      // Memory is final on one process: no second stage, usage never written through.
      const live = e.services.keys.verify(key)!;
      expect(e.services.keys.clusterBudgetCheck(live)).toBeNull();
    }
    expect(served).toEqual([200, 200, 200]);
    expect(e.services.keys.list().find((k) => k.id === record.id)!.tokensThisMonth).toBe(N * perRequest);

    const refused = await anthropic(key);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ type: "error", error: { type: "permission_error", message: `this API key used its monthly budget of ${N * perRequest} tokens` } });
    const streamRefused = await anthropic(key, true);
    expect(streamRefused.status).toBe(403);
    await streamRefused.text();
    const o = await openai(key);
    expect(o.status).toBe(403);
    expect(((await o.json()) as any).error.message).toBe(`this API key used its monthly budget of ${N * perRequest} tokens`);
    expect(e.accounts[0]!.chatCalls).toBe(1 + N);
    // The usage is stored (batched) with exactly what was served.
    e.services.keys.flushUsage();
    expect(e.services.store.keys.get(record.id)!.tokensThisMonth).toBe(N * perRequest);
  });
});
