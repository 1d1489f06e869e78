/**
 * Pacing end to end (real app, real pool, the strict fake Kiro judging the rate): with N requests
 * per window per account and M accounts, a burst of 3·N·M requests is served at the paced rate,
 * no account ever gets more than N within a window (the fake enforces Kiro's abuse throttle one
 * step stricter than the pool's limit and never has to use it), and the overflow waits the queue
 * time and then gets 429 + Retry-After in the client's own error shape. Kiro's "suspicious
 * activity" 429 cools its account far longer than an ordinary throttle while the others serve.
 * Windows are seconds long here (pacingWindowMs); the arithmetic is the same as with a minute.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { DomainEvent } from "../../src/logs/bus";
import { textScenario } from "../fake-kiro/scenarios";
import { startE2E, type E2E } from "../support/e2e";

let x: E2E | undefined;
afterEach(async () => {
  await x?.stop();
  x = undefined;
});

const N = 2; // requests per window per account
const M = 2; // accounts
const W = 2000; // pacing window (ms)
const S = 100; // least spacing (ms)
const Q = 3000; // queue wait (ms)

function anthropic(e: E2E, stream = false) {
  return fetch(`${e.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": e.clientKey, "anthropic-version": "2023-06-01" },
    body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 64, stream, messages: [{ role: "user", content: "hi" }] }),
  });
}

function openai(e: E2E) {
  return fetch(`${e.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${e.clientKey}` },
    body: JSON.stringify({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "hi" }] }),
  });
}

/** Resolves once `cond` holds (checked every few ms); fails after `ms`. */
async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await Bun.sleep(5);
  }
}

type Sent = { dialect: "anthropic" | "openai"; sentAt: number; res: Response; doneAt: number };

async function timed(dialect: Sent["dialect"], p: Promise<Response>): Promise<Sent> {
  const sentAt = Date.now();
  const res = await p;
  return { dialect, sentAt, res, doneAt: Date.now() };
}

describe("pacing per account", () => {
  test(`burst of 3·N·M = ${3 * N * M}: served at N per window per account, the overflow gets 429 + Retry-After after the queue wait, in each dialect's shape`, async () => {
    // The fake's own abuse limit is N per (W − 250 ms): it trips if the pool ever sends an
    // (N+1)-th request within a window, even with some network delay between pool and fake.
    const e = (x = await startE2E({ accounts: [0, 1].map(() => ({ behaviour: { abuseLimit: { requests: N, windowMs: W - 250 } } })) }));
    e.fake.setDefaultScenario(textScenario("paced", { usage: false }));
    e.services.settings.update({ accountRpm: N, pacingWindowMs: W, accountMinSpacingMs: S, queueWaitMs: Q });
    // Tokens first, so every chat request leaves right when its account is picked.
    for (const id of e.accountIds) await e.services.pool.refreshNow(id);
    const starts = new Map<string, number[]>();
    const logs: string[] = [];
    e.services.bus.on((ev) => {
      if (ev.kind === "log") logs.push(ev.msg);
      if (ev.kind !== "selection") return;
      const d = (ev as DomainEvent).data as { accountId: string };
      starts.set(d.accountId, [...(starts.get(d.accountId) ?? []), ev.at]);
    });

    const t0 = Date.now();
    const first = Array.from({ length: 2 * N * M }, (_, i) => (i % 2 ? timed("openai", openai(e)) : timed("anthropic", anthropic(e))));
    // N·M go at once (spacing aside), N·M wait for the next window: only then send the last N·M,
    // so they queue behind them (first come, first served) and are the ones left over.
    await until(() => e.services.pool.queueStats().waiting === N * M && e.accounts.reduce((n, a) => n + a.chatCalls, 0) === N * M);
    const last = [timed("anthropic", anthropic(e)), timed("anthropic", anthropic(e, true)), timed("openai", openai(e)), timed("openai", openai(e))];
    const all = await Promise.all([...first, ...last]);

    // The first 2·N·M are served: N·M at once, N·M a window later.
    const served = all.slice(0, 2 * N * M);
    for (const r of served) expect(r.res.status).toBe(200);
    const lateServed = served.map((r) => r.doneAt - t0).sort((a, b) => a - b).slice(N * M);
    for (const ms of lateServed) expect(ms).toBeGreaterThanOrEqual(W - 50);

    // Never more than N per window on an account, never closer than S: as the pool started them…
    for (const id of e.accountIds) {
      const t = starts.get(id) ?? [];
      expect(t.length).toBe(2 * N);
      for (let i = 1; i < t.length; i++) expect(t[i]! - t[i - 1]!).toBeGreaterThanOrEqual(S);
      for (let i = N; i < t.length; i++) expect(t[i]! - t[i - N]!).toBeGreaterThanOrEqual(W);
    }
    // …and as the upstream saw them: its abuse limit never fired, every account is still active.
    for (const a of e.accounts) {
      expect(a.behaviour.abuseAnswers ?? 0).toBe(0);
      expect(a.chatCalls).toBe(2 * N);
    }
    for (const id of e.accountIds) expect(e.services.pool.get(id)!.state).toBe("active");

    // The overflow: 429 after the queue wait, with Retry-After, each in its dialect's shape.
    const overflow = all.slice(2 * N * M);
    for (const r of overflow) {
      expect(r.res.status).toBe(429);
      expect(r.doneAt - r.sentAt).toBeGreaterThanOrEqual(Q - 50);
      const retryAfter = Number(r.res.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(Math.ceil(W / 1000) + 1);
      const body = (await r.res.json()) as any;
      if (r.dialect === "anthropic") {
        expect(body.type).toBe("error");
        expect(body.error.type).toBe("rate_limit_error");
        expect(body.error.message).toMatch(/at their limit \(paced at 2 requests per 2 s, one every 0\.1 s.*waited \d+\.\d s in the queue/);
      } else {
        expect(body.error.type).toBe("requests");
        expect(body.error.code).toBe("rate_limit_exceeded");
        expect(r.res.headers.get("retry-after-ms")).not.toBeNull();
      }
    }
    expect(e.accounts.reduce((n, a) => n + a.chatCalls, 0)).toBe(2 * N * M);

    const q = e.services.pool.queueStats();
    expect(q.waiting).toBe(0);
    expect(q.servedTotal).toBeGreaterThanOrEqual(N * M);
    expect(q.timedOutTotal).toBe(N * M);
    // The accounts' views carry the pacing state the panel and /metrics show.
    const v = e.services.pool.get(e.accountIds[0]!)!;
    expect(v.pacing.limit).toBe(N);
    expect(v.pacing.windowMs).toBe(W);
    const metrics = await (await fetch(`${e.url}/metrics`, { headers: { authorization: `Bearer ${e.clientKey}` } })).text();
    expect(metrics).toContain('kiro_queue_requests_total{outcome="timed_out"} 4');
    expect(metrics).toContain("kiro_queue_waiting 0");
    expect(metrics).toMatch(/kiro_account_requests_in_window\{account="fake-1",state="active"\} [0-2]\n/);
    expect(metrics).toMatch(/kiro_account_next_slot_seconds\{account="fake-1",state="active"\} [0-9.]+\n/);
    expect(metrics).toContain(`kiro_account_pacing_limit{account="fake-1",state="active"} ${N}`);
    // And the log says when requests start waiting and when the queue is empty again.
    expect(logs.some((m) => m.startsWith("every account that can serve is at its pacing or concurrency limit: requests wait up to 3000 ms"))).toBe(true);
    expect(logs.some((m) => /^the account queue is empty again: \d+ requests waited, the longest \d+ ms$/.test(m))).toBe(true);
  }, 20_000);

  test("without pacing limits the fake's abuse limit trips: the check above is not vacuous", async () => {
    const e = (x = await startE2E({ accounts: [{ behaviour: { abuseLimit: { requests: N, windowMs: W - 250 } } }, {}] }));
    e.services.settings.update({ strategy: "priority", accountRpm: 0, accountMinSpacingMs: 0, queueWaitMs: 0 });
    for (let i = 0; i <= N; i++) expect((await anthropic(e)).status).toBe(200);
    // The (N+1)-th request in the window got the abuse 429; the second account served it.
    expect(e.accounts[0]!.behaviour.abuseAnswers).toBe(1);
    expect(e.accounts[1]!.chatCalls).toBe(1);
    expect(e.services.pool.get(e.accountIds[0]!)!.state).toBe("cooling");
  });
});

describe("abuse detection (\"suspicious activity\" 429)", () => {
  test("cools its account far longer than an ordinary throttle; the other accounts keep serving", async () => {
    const e = (x = await startE2E({ accounts: [{ behaviour: { abuseCalls: 1 } }, { behaviour: { throttleCalls: 1, retryAfterSec: 7 } }, {}] }));
    e.services.settings.update({ strategy: "priority" });
    const t0 = Date.now();
    const res = await anthropic(e);
    expect(res.status).toBe(200);
    const [abused, throttled, third] = e.accountIds.map((id) => e.services.pool.get(id)!);
    expect(abused!.state).toBe("cooling");
    expect(abused!.stateReason).toMatch(/suspicious activity/);
    // abuseCooldownMs (30 minutes) with ±20 % jitter…
    expect(abused!.stateUntil! - t0).toBeGreaterThanOrEqual(0.8 * 30 * 60_000);
    // …against the ordinary throttle's 7 s Retry-After.
    expect(throttled!.state).toBe("cooling");
    expect(throttled!.stateUntil! - t0).toBeLessThan(9000);
    expect(third!.state).toBe("active");

    // The others keep serving; the abused account gets nothing more.
    for (let i = 0; i < 4; i++) expect((await anthropic(e)).status).toBe(200);
    expect(e.accounts[0]!.chatCalls).toBe(1);
    expect(e.accounts[0]!.behaviour.abuseAnswers).toBe(1);
    expect(e.accounts[2]!.chatCalls).toBe(5);
  });

  test("cooldowns follow the upstream's reset: an abuse 429 with a longer Retry-After, an ordinary one beyond cooldownMaxMs", async () => {
    const e = (x = await startE2E({ accounts: [{ behaviour: { abuseCalls: 1, abuseRetryAfterSec: 7200 } }, { behaviour: { throttleCalls: 1, retryAfterSec: 900 } }, {}] }));
    e.services.settings.update({ strategy: "priority", cooldownMaxMs: 300_000 });
    const t0 = Date.now();
    expect((await anthropic(e)).status).toBe(200);
    const t1 = Date.now();
    const [abused, throttled] = e.accountIds.map((id) => e.services.pool.get(id)!);
    expect(abused!.stateUntil! - t0).toBeGreaterThanOrEqual(7200_000);
    expect(abused!.stateUntil! - t1).toBeLessThanOrEqual(7200_000);
    // 900 s although cooldownMaxMs is 300 s: the service said when its limit resets.
    expect(throttled!.stateUntil! - t0).toBeGreaterThanOrEqual(900_000);
    expect(throttled!.stateUntil! - t1).toBeLessThanOrEqual(900_000);
  });

  test("the setting sets the abuse cooldown", async () => {
    const e = (x = await startE2E({ accounts: [{ behaviour: { abuseCalls: 1 } }, {}] }));
    e.services.settings.update({ strategy: "priority", abuseCooldownMs: 60_000 });
    const t0 = Date.now();
    expect((await anthropic(e)).status).toBe(200);
    const until = e.services.pool.get(e.accountIds[0]!)!.stateUntil! - t0;
    expect(until).toBeGreaterThanOrEqual(48_000);
    expect(until).toBeLessThanOrEqual(72_000 + 1000);
  });
});
