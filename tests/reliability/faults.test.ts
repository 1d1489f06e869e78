/**
 * Every upstream fault mode of the fake, before and after the first byte, through both dialects,
 * streaming and not: the client always gets a complete answer in its own shape (an HTTP error
 * before the first byte; after it, the stream's own error event, never a silent cut), and the
 * server keeps serving. Also: the stream idle timeout (KIRO_STREAM_IDLE_MS) ends a stalled stream
 * with a clear error event, and the upstream connection queue (KIRO_MAX_UPSTREAM_REQUESTS) is
 * visible and bounded.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { stallScenario, textScenario } from "../fake-kiro/scenarios";
import type { FakeBehaviour } from "../fake-kiro/server";
import { startE2E, type E2E } from "../support/e2e";
import { until } from "../support/until";

let e: E2E | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

type Dialect = "anthropic" | "openai";

function ask(x: E2E, dialect: Dialect, stream: boolean, text = "hello"): Promise<Response> {
  if (dialect === "anthropic") {
    return fetch(`${x.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": x.clientKey, "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 200, stream, messages: [{ role: "user", content: text }] }),
    });
  }
  return fetch(`${x.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${x.clientKey}` },
    body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 200, stream, messages: [{ role: "user", content: text }] }),
  });
}

/** An HTTP error in the dialect's shape; returns the message. */
async function expectErrorShape(res: Response, dialect: Dialect): Promise<string> {
  const body = (await res.json()) as any;
  if (dialect === "anthropic") {
    expect(body.type).toBe("error");
    expect(typeof body.error.type).toBe("string");
  } else {
    expect(typeof body.error.type).toBe("string");
    expect("param" in body.error && "code" in body.error).toBe(true);
  }
  expect(body.error.message.length).toBeGreaterThan(0);
  return body.error.message;
}

/** A stream that started (first text relayed) and ended with the dialect's error event. */
function expectStreamError(sse: string, dialect: Dialect): string {
  if (dialect === "anthropic") {
    expect(sse).toContain("event: content_block_delta");
    const m = /event: error\ndata: (.*)\n/.exec(sse);
    expect(m).not.toBeNull();
    const ev = JSON.parse(m![1]!);
    expect(ev.type).toBe("error");
    expect(sse).not.toContain("event: message_stop");
    return ev.error.message;
  }
  expect(sse).toContain('"delta":{"');
  const line = sse.split("\n").find((l) => l.startsWith("data: {\"error\""));
  expect(line).toBeDefined();
  // A failed stream never claims success.
  expect(sse).not.toContain("data: [DONE]");
  return JSON.parse(line!.slice(6)).error.message;
}

const ALL_VARIANTS = [["anthropic", false], ["anthropic", true], ["openai", false], ["openai", true]] as const;

const BEFORE_FIRST_BYTE: Array<[string, FakeBehaviour, number[]]> = [
  ["refresh token dead", { dead: true }, [503]],
  ["account suspended", { suspended: true }, [503]],
  ["out of credits (402)", { quota: true }, [429]],
  ["throttled (429)", { throttleCalls: 100, retryAfterSec: 30 }, [429]],
  ["model at capacity", { capacityCalls: Number.POSITIVE_INFINITY }, [503, 529]],
  ["upstream 500", { transient500Calls: 100 }, [502]],
  ["input too long", { inputTooLong: true }, [400]],
];

describe("faults before the first byte: an HTTP error in the client's shape", () => {
  for (const [name, behaviour, statuses] of BEFORE_FIRST_BYTE) {
    test(name, async () => {
      e = await startE2E({ accounts: [{ behaviour: { ...behaviour } }] });
      // Capacity is retried with backoff (~1–2 s per request): two variants are enough there.
      const variants = name === "model at capacity" ? ([["anthropic", false], ["openai", true]] as const) : ALL_VARIANTS;
      for (const [dialect, stream] of variants) {
        {
          const res = await ask(e, dialect, stream);
          // The first request meets the fault itself; later ones may meet the pool state it left.
          expect(res.status).toBeGreaterThanOrEqual(400);
          if (dialect === "anthropic" && !stream) expect(statuses).toContain(res.status);
          await expectErrorShape(res, dialect);
        }
      }
      // Still serving: a healthy account added now answers.
      const acct = e.fake.addAccount({ refreshToken: `aorA${"h".repeat(180)}` });
      await e.services.pool.upsert({ kind: "social", refreshToken: acct.refreshToken, label: "healthy", region: "us-east-1", authRegion: "us-east-1", source: "test" });
      e.fake.setDefaultScenario(textScenario("still here", { usage: false }));
      const ok = await ask(e, "anthropic", false);
      if (name !== "input too long") expect(ok.status).toBe(200);
    }, 15_000);
  }

  test("upstream unreachable (connection refused)", async () => {
    e = await startE2E();
    const dead = Bun.serve({ port: 0, fetch: () => new Response("") });
    const port = dead.port;
    await dead.stop(true);
    e.services.upstream.apiUrl = `http://127.0.0.1:${port}`;
    for (const dialect of ["anthropic", "openai"] as const) {
      const res = await ask(e, dialect, true);
      expect([502, 503]).toContain(res.status);
      await expectErrorShape(res, dialect);
    }
    // An outage is nobody's account's fault: shown in the account's error count, never held against it.
    const acct = e.services.pool.list()[0]!;
    expect(acct.consecutiveFailures).toBe(0);
    expect(acct.state).toBe("active");
  });
});

const AFTER_FIRST_BYTE: Array<[string, string]> = [
  ["in-stream exception", "[[fake:exception]]"],
  ["error frame", "[[fake:error_frame]]"],
  ["body cut mid-frame", "[[fake:abrupt]]"],
  ["corrupt CRC", "[[fake:bad_crc]]"],
];

describe("faults after the first byte: the stream ends with its error event", () => {
  test.each(AFTER_FIRST_BYTE)("%s", async (_name, directive) => {
    e = await startE2E();
    for (const dialect of ["anthropic", "openai"] as const) {
      const res = await ask(e, dialect, true, `go ${directive}`);
      expect(res.status).toBe(200);
      const message = expectStreamError(await res.text(), dialect);
      expect(message.length).toBeGreaterThan(0);
      // Non-streaming: the same fault is an HTTP error (nothing was sent yet).
      const json = await ask(e, dialect, false, `go ${directive}`);
      expect(json.status).toBeGreaterThanOrEqual(400);
      await expectErrorShape(json, dialect);
    }
  });

  test("content length exceeded mid-answer is a normal max_tokens stop, not an error", async () => {
    e = await startE2E();
    const res = await ask(e, "anthropic", true, "go [[fake:content_length]]");
    const sse = await res.text();
    expect(sse).toContain('"stop_reason":"max_tokens"');
    expect(sse).toContain("event: message_stop");
  });
});

describe("stream idle timeout (KIRO_STREAM_IDLE_MS)", () => {
  test("a stream that stalls after its first text ends with a clear error event", async () => {
    e = await startE2E({ config: { streamIdleMs: 300 } });
    for (const dialect of ["anthropic", "openai"] as const) {
      e.fake.enqueue(stallScenario("slow answer", { beforeMs: 0, betweenMs: 5_000 }));
      const t0 = performance.now();
      const res = await ask(e, dialect, true);
      expect(res.status).toBe(200);
      const message = expectStreamError(await res.text(), dialect);
      expect(message).toContain("upstream sent nothing for 300 ms");
      expect(performance.now() - t0).toBeLessThan(4_000);
    }
    // A stall is not the account's fault.
    expect(e.services.pool.list()[0]!.errors).toBe(0);
  });
});

describe("upstream connection queue (KIRO_MAX_UPSTREAM_REQUESTS)", () => {
  test("requests over the limit wait visibly (log, metrics) and give up after KIRO_UPSTREAM_QUEUE_MS with a clear 503", async () => {
    e = await startE2E({ config: { maxUpstreamRequests: 2, upstreamQueueMs: 300, streamIdleMs: 10_000 } });
    const slots = e.services.upstream.slots!;
    expect(slots.max).toBe(2);
    // Two slow streams hold both connections.
    for (let i = 0; i < 2; i++) e.fake.enqueue(stallScenario("holding", { beforeMs: 0, betweenMs: 800 }));
    const holders = [ask(e, "anthropic", true), ask(e, "openai", true)];
    const held = await Promise.all(holders);
    expect(held.map((r) => r.status)).toEqual([200, 200]);
    expect(slots.stats().open).toBe(2);

    const res = await ask(e, "anthropic", false);
    expect(res.status).toBe(503);
    const message = await expectErrorShape(res, "anthropic");
    expect(message).toContain("KIRO_MAX_UPSTREAM_REQUESTS");
    const stats = slots.stats();
    expect(stats.waitedTotal).toBeGreaterThanOrEqual(1);
    expect(stats.timedOutTotal).toBeGreaterThanOrEqual(1);
    expect(e.services.ring.recent().some((l) => l.msg.includes("all 2 upstream connections are in use"))).toBe(true);
    expect(e.services.pool.list()[0]!.errors).toBe(0);

    // A request that waits less than the timeout is served as soon as a connection frees up
    // (here: both holders' clients hang up, which ends their upstream streams).
    const waitedBefore = slots.stats().waitedTotal;
    const waiting = ask(e, "openai", false);
    // Hang up only once it is queued (a fixed pause lost the race on a loaded machine: the request
    // then found a free connection without waiting).
    await until("the request to wait for a connection", () => slots.stats().queued === 1);
    await Promise.all(held.map((r) => r.body!.cancel()));
    const served = await waiting;
    expect(slots.stats().waitedTotal).toBe(waitedBefore + 1);
    expect(served.status).toBe(200);
    await served.text();
    // Every connection comes back: the served answer's at its end, the holders' once the server has
    // seen their clients hang up (which may land after this answer on a loaded machine).
    await until("every upstream connection to be free again", () => slots.stats().open === 0);

    const metrics = await (await fetch(`${e.url}/metrics`, { headers: { authorization: `Bearer ${e.clientKey}` } })).text();
    expect(metrics).toContain("kiro_upstream_connections_limit 2");
    expect(metrics).toMatch(/kiro_upstream_queue_timeouts_total [1-9]/);
  });
});
