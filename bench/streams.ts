/**
 * 1,000 concurrent streams through kiro-server: do they all run at once, complete and arrive
 * exact, and what does it cost?
 *
 *   bun bench/streams.ts [--streams 1000] [--frames 60] [--hold-ms 1500] [--limit N] [--accounts N]
 *
 * The real executable entry (src/index.ts) runs as a child process against the fake Kiro in this
 * process; KIRO_MAX_UPSTREAM_REQUESTS (--limit, default: the server's default) makes the server
 * restart itself at start with Bun's fetch limit raised (src/kiro/fetch-limit.ts). Every stream
 * gets its first text frame at once, then the upstream holds it open for --hold-ms, then sends
 * the rest: so all streams are open together. Prints: completed/exact counts, first-byte p50/p99,
 * total p50/p99, the server's peak RSS (VmHWM), and the server's upstream queue counters (a
 * request that had to wait for a connection is counted there and logged, never silent).
 * With --limit 256 the same run shows the queue at work (waits > 0, p99 first byte up).
 *
 * This process is the client too, so it needs Bun's fetch limit raised as well: it restarts
 * itself with BUN_CONFIG_MAX_HTTP_REQUESTS set when needed.
 */
import { UNPACED } from "../tests/reliability/child";
import { join } from "node:path";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { startFakeKiro } from "../tests/fake-kiro/server";
import { textEvent, usageSteps, type Scenario } from "../tests/fake-kiro/scenarios";
import { arg } from "./lib/args";
import { pct } from "./lib/stats";

const STREAMS = Number(arg("streams") ?? 1000);
const FRAMES = Number(arg("frames") ?? 60);
const HOLD_MS = Number(arg("hold-ms") ?? 1500);
const LIMIT = arg("limit");
// The pool serves at most 4 requests per account at once (runtime setting perAccountConcurrency).
const ACCOUNTS = Number(arg("accounts") ?? Math.ceil(STREAMS / 4) + 10);
const CLIENT_KEY = "bench-streams-client-key";

if (Number(process.env.BUN_CONFIG_MAX_HTTP_REQUESTS ?? 256) < STREAMS + 16) {
  const child = Bun.spawn([process.execPath, ...process.argv.slice(1)], {
    env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: String(Math.min(65535, STREAMS + 64)) },
    stdio: ["inherit", "inherit", "inherit"],
  });
  process.exit(await child.exited);
}

const frameText = (i: number) => `${i} `.padEnd(40, "lorem ipsum é ✓ ");
const EXPECTED = Array.from({ length: FRAMES }, (_, i) => frameText(i)).join("");
const scenario: Scenario = {
  name: "held",
  steps: [textEvent(frameText(0)), { delayMs: HOLD_MS }, ...Array.from({ length: FRAMES - 1 }, (_, i) => textEvent(frameText(i + 1))), ...usageSteps()],
};

const fake = await startFakeKiro({ chunking: "frame" });
fake.setDefaultScenario(scenario);
const tokens = Array.from({ length: ACCOUNTS }, (_, i) => fake.addAccount({ refreshToken: `aorA${String(i).padStart(6, "0")}${"b".repeat(170)}`, rotateRefreshToken: false }).refreshToken);

const dir = mkdtempSync(join(tmpdir(), "kiro-bench-streams-"));
const server = Bun.spawn([process.execPath, join(import.meta.dir, "..", "src", "index.ts")], {
  env: {
    ...process.env,
    BUN_CONFIG_MAX_HTTP_REQUESTS: "",
    PORT: "0",
    HOST: "127.0.0.1",
    KIRO_KV_PATH: join(dir, "kiro.db"),
    KIRO_CLIENT_TOKEN: CLIENT_KEY,
    KIRO_API_URL: fake.url,
    KIRO_AUTH_URL: fake.url,
    KIRO_OIDC_URL: fake.url,
    // No pacing: the bench measures the server under a burst, not the pool's request spacing.
    ...UNPACED,
    KIRO_AUTH_TOKEN: JSON.stringify(tokens.map((t) => ({ auth: "Social", refreshToken: t }))),
    LOG_LEVEL: "info",
    LOG_FORMAT: "json",
    ...(LIMIT ? { KIRO_MAX_UPSTREAM_REQUESTS: LIMIT } : {}),
  },
  stdout: "pipe",
  stderr: "inherit",
});
let logs = "";
// One reader for the whole run: the server's stdout must stay drained (a closed pipe kills it).
const url = await new Promise<string>((resolve, reject) => {
  let found = false;
  void (async () => {
    for await (const chunk of server.stdout) {
      logs += new TextDecoder().decode(chunk);
      const m = found ? null : /listening on (http:\/\/[^\s"]+)/.exec(logs);
      if (m) {
        found = true;
        resolve(m[1]!);
      }
    }
    if (!found) reject(new Error(`server exited before listening:\n${logs}`));
  })();
});

async function one(): Promise<{ firstByteMs: number; totalMs: number; exact: boolean; error?: string }> {
  const t0 = performance.now();
  try {
    const res = await fetch(`${url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": CLIENT_KEY, "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 4000, stream: true, messages: [{ role: "user", content: "stream please" }] }),
    });
    if (res.status !== 200) return { firstByteMs: NaN, totalMs: performance.now() - t0, exact: false, error: `${res.status} ${await res.text()}` };
    const reader = res.body!.getReader();
    let firstByteMs = NaN;
    let sse = "";
    const dec = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (Number.isNaN(firstByteMs)) firstByteMs = performance.now() - t0;
      sse += dec.decode(value, { stream: true });
    }
    let text = "";
    for (const m of sse.matchAll(/"type":"text_delta","text":("(?:[^"\\]|\\.)*")/g)) text += JSON.parse(m[1]!);
    const ok = text === EXPECTED && sse.includes("event: message_stop");
    return { firstByteMs, totalMs: performance.now() - t0, exact: ok, error: ok ? undefined : sse.includes("event: error") ? "error event" : "text differs" };
  } catch (err) {
    return { firstByteMs: NaN, totalMs: performance.now() - t0, exact: false, error: String(err) };
  }
}

const metric = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? NaN);

// Warm-up: every account refreshed once, routes compiled.
await Promise.all(Array.from({ length: Math.min(ACCOUNTS, 64) }, () => fetch(`${url}/v1/messages/count_tokens`, {
  method: "POST",
  headers: { "content-type": "application/json", "x-api-key": CLIENT_KEY },
  body: JSON.stringify({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "warm" }] }),
}).then((r) => r.text())));

const t0 = performance.now();
const results = await Promise.all(Array.from({ length: STREAMS }, one));
const wallMs = performance.now() - t0;
const metrics = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${CLIENT_KEY}` } })).text();
const status = readFileSync(`/proc/${server.pid}/status`, "utf8");
const peakRssMiB = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
const rssMiB = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;

const exact = results.filter((r) => r.exact).length;
const errors = new Map<string, number>();
for (const r of results) if (r.error) errors.set(r.error.slice(0, 120), (errors.get(r.error.slice(0, 120)) ?? 0) + 1);
console.log(`streams: ${STREAMS} concurrent, ${FRAMES} frames each, upstream holds each open ${HOLD_MS} ms after its first frame; ${ACCOUNTS} accounts`);
console.log(`completed exact: ${exact}/${STREAMS}${errors.size ? `; failures: ${JSON.stringify([...errors])}` : ""}`);
console.log(`first byte: p50 ${pct(results.map((r) => r.firstByteMs), 0.5).toFixed(1)} ms, p99 ${pct(results.map((r) => r.firstByteMs), 0.99).toFixed(1)} ms`);
console.log(`total: p50 ${pct(results.map((r) => r.totalMs), 0.5).toFixed(0)} ms, p99 ${pct(results.map((r) => r.totalMs), 0.99).toFixed(0)} ms, wall ${wallMs.toFixed(0)} ms`);
console.log(`server: peak RSS ${peakRssMiB.toFixed(1)} MiB (now ${rssMiB.toFixed(1)} MiB); upstream connection limit ${metric(metrics, "kiro_upstream_connections_limit")}, waited ${metric(metrics, "kiro_upstream_queue_waits_total")}, gave up ${metric(metrics, "kiro_upstream_queue_timeouts_total")}`);
const queueLines = logs.split("\n").filter((l) => l.includes("upstream connection"));
if (queueLines.length) console.log(`server log about the queue:\n  ${queueLines.slice(0, 4).join("\n  ")}`);

server.kill("SIGTERM");
await server.exited;
await fake.stop();
rmSync(dir, { recursive: true, force: true });
process.exit(exact === STREAMS ? 0 : 1);
