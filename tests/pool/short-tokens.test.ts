/**
 * Access tokens that live 2 seconds, end to end (real app on a socket, real pool, the fake Kiro
 * issuing 2-second tokens): a successful refresh never blocks the next one, an expired token is
 * refreshed before use, concurrent requests share one refresh, and no account is refreshed more
 * than once per token lifetime.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { PoolScheduler } from "../../src/pool/scheduler";
import { startE2E, type E2E } from "../support/e2e";

const TTL_SEC = 2;
let e: E2E | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

async function chat(env: E2E, text: string): Promise<{ status: number; body: string }> {
  const r = await fetch(`${env.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${env.clientKey}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: text }] }),
  });
  return { status: r.status, body: await r.text() };
}

/** Times (ms) at which the fake's social refresh endpoint was called for each account, in order. */
function refreshTimes(env: E2E): number[][] {
  return env.accounts.map((a) =>
    env.fake.requests.filter((r) => r.path === "/refreshToken" && r.accountRefreshToken === a.refreshToken).map((r) => r.at),
  );
}

describe("2-second access tokens", () => {
  test("60 sequential requests over 10 s across two accounts all succeed, at most one refresh per account per expiry", async () => {
    e = await startE2E({ accounts: [{ accessTokenTtlSec: TTL_SEC }, { accessTokenTtlSec: TTL_SEC }] });
    const env = e;
    const n = 60;
    const spanMs = 10_000;
    const t0 = Date.now();
    const failures: string[] = [];
    for (let i = 0; i < n; i++) {
      // The scenario is a request every spanMs / n: wait for this request's slot.
      const slot = t0 + (i * spanMs) / n;
      if (slot > Date.now()) await Bun.sleep(slot - Date.now());
      const r = await chat(env, `request ${i}`);
      if (r.status !== 200) failures.push(`#${i}: ${r.status} ${r.body.slice(0, 300)}`);
      else expect(r.body).toContain(`Fake Kiro says: request ${i}`);
    }
    const elapsed = Date.now() - t0;
    expect(failures).toEqual([]);
    const times = refreshTimes(env);
    for (const [i, ts] of times.entries()) {
      // Both accounts served (the balanced strategy spreads 60 requests over two accounts).
      expect(env.accounts[i]!.chatCalls).toBeGreaterThan(0);
      // At most one refresh per token lifetime: a token is replaced only in the last quarter of its
      // life (or after it expired), never twice, so refreshes are at least ~3/4 of a lifetime apart.
      const minGap = TTL_SEC * 1000 * 0.7;
      for (let k = 1; k < ts.length; k++) expect(ts[k]! - ts[k - 1]!).toBeGreaterThanOrEqual(minGap);
      expect(ts.length).toBeLessThanOrEqual(Math.floor(elapsed / minGap) + 1);
    }
    // The tokens really expired and were replaced along the way (the busier account alone sees
    // about one refresh per lifetime).
    expect(times[0]!.length + times[1]!.length).toBeGreaterThanOrEqual(Math.floor(elapsed / (TTL_SEC * 1000)));
  }, 30_000);

  test("20 concurrent requests on one account whose token just expired all succeed with exactly one refresh", async () => {
    e = await startE2E({ accounts: [{ accessTokenTtlSec: TTL_SEC }] });
    const env = e;
    // Room for 20 at once on the one account (the default cap is 4 per account).
    env.services.settings.update({ perAccountConcurrency: 20 });
    expect((await chat(env, "warm up")).status).toBe(200);
    expect(refreshTimes(env)[0]).toHaveLength(1);
    // The background refresh (due: far less than 10 min left) does not repeat the request's fresh refresh.
    const sched = new PoolScheduler(env.services.pool, env.services.upstream, env.services.log, { jitterMs: 1, tickMs: 3_600_000 });
    sched.tick();
    await sched.idle();
    sched.stop();
    expect(refreshTimes(env)[0]).toHaveLength(1);
    // Wait for the moment the token expires (our side and the fake's agree on it).
    const expiresAt = env.services.pool.get(env.accountIds[0]!)!.accessExpiresAt!;
    expect(expiresAt).toBeGreaterThan(Date.now() - 100);
    await Bun.sleep(Math.max(0, expiresAt - Date.now()) + 20);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => chat(env, `concurrent ${i}`)));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    for (const [i, r] of results.entries()) expect(r.body).toContain(`Fake Kiro says: concurrent ${i}`);
    expect(refreshTimes(env)[0]).toHaveLength(2);
    expect(env.accounts[0]!.chatCalls).toBe(21);
  }, 30_000);
});
