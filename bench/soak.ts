/**
 * Soak: minutes of mixed traffic with upstream faults through the real server process.
 * Not part of the test suite (it runs for minutes); run on an otherwise idle machine.
 *
 *   bun bench/soak.ts [--minutes 30] [--workers 16] [--report-s 30] [--accounts 8] [--seed 1]
 *
 * The real executable entry (src/index.ts) runs as a child against the fake Kiro in this process,
 * with --accounts social accounts. --workers clients loop over a seeded mix: Messages, Chat Completions and Responses,
 * streaming and not; plain answers, long answers, tool calls, count_tokens, /v1/models; faults
 * after the first byte (in-stream exception, error frame, cut body, corrupt CRC — each must end in
 * the dialect's error); malformed bodies (each must be a 4xx). Every minute one account misbehaves
 * for 10 s (429s, 500s or capacity errors): the pool must route around it, so plain requests must
 * still succeed. Each outcome is checked against what its request expects; anything else is an
 * "unexplained" error and printed.
 *
 * Every --report-s: requests, unexplained errors, p50/p99 latency of successful requests in the
 * interval and the server's RSS. At the end: totals, RSS over time (flat = no leak), exit code 1
 * when anything was unexplained.
 */
import { UNPACED } from "../tests/reliability/child";
import { join } from "node:path";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { startFakeKiro } from "../tests/fake-kiro/server";
import { rng } from "../tests/reliability/fuzz-cases";
import { arg } from "./lib/args";
import { pct } from "./lib/stats";

const MINUTES = Number(arg("minutes") ?? 30);
const WORKERS = Number(arg("workers") ?? 16);
const REPORT_S = Number(arg("report-s") ?? 30);
const ACCOUNTS = Number(arg("accounts") ?? 8);
const random = rng(Number(arg("seed") ?? 1));
const KEY = "soak-client-key";

const fake = await startFakeKiro();
const accounts = Array.from({ length: ACCOUNTS }, (_, i) => fake.addAccount({ refreshToken: `aorA${String(i).padStart(4, "0")}${"s".repeat(170)}` }));

const dir = mkdtempSync(join(tmpdir(), "kiro-soak-"));
const server = Bun.spawn([process.execPath, join(import.meta.dir, "..", "src", "index.ts")], {
  env: {
    ...process.env,
    PORT: "0",
    HOST: "127.0.0.1",
    KIRO_KV_PATH: join(dir, "kiro.db"),
    KIRO_CLIENT_TOKEN: KEY,
    KIRO_API_URL: fake.url,
    KIRO_AUTH_URL: fake.url,
    KIRO_OIDC_URL: fake.url,
    // No pacing: the bench measures the server under a burst, not the pool's request spacing.
    ...UNPACED,
    KIRO_AUTH_TOKEN: JSON.stringify(accounts.map((a) => ({ auth: "Social", refreshToken: a.refreshToken }))),
    LOG_LEVEL: "info",
    LOG_FORMAT: "json",
  },
  stdout: "pipe",
  stderr: "pipe",
});
let serverErr = "";
void (async () => {
  for await (const c of server.stderr) serverErr += new TextDecoder().decode(c);
})();
// One reader for the whole run: the server's stdout must stay drained.
const url = await new Promise<string>((resolve, reject) => {
  let buf = "";
  let found = false;
  void (async () => {
    for await (const c of server.stdout) {
      if (found) continue;
      buf += new TextDecoder().decode(c);
      const m = /listening on (http:\/\/[^\s"]+)/.exec(buf);
      if (m) {
        found = true;
        buf = "";
        resolve(m[1]!);
      }
    }
    if (!found) reject(new Error(`server exited before listening: ${buf}${serverErr}`));
  })();
});

type Expect = "ok" | "client_error" | "stream_error";
type Job = { name: string; expect: Expect; run: () => Promise<Response> };

const anthropic = (body: unknown) =>
  fetch(`${url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json", "x-api-key": KEY, "anthropic-version": "2023-06-01" }, body: typeof body === "string" ? body : JSON.stringify(body) });
const openai = (body: unknown) =>
  fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` }, body: typeof body === "string" ? body : JSON.stringify(body) });
const responses = (body: unknown) =>
  fetch(`${url}/v1/responses`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` }, body: typeof body === "string" ? body : JSON.stringify(body) });
/** The same turn as a Responses request (not stored: the soak would only fill the table). */
const asResponses = (b: ReturnType<typeof msg>) => {
  const { max_tokens, messages, tools, ...rest } = b as ReturnType<typeof msg> & { tools?: Array<{ type: string; function: { name: string; parameters: unknown } }> };
  return { ...rest, store: false, max_output_tokens: max_tokens, input: messages[0]!.content, ...(tools ? { tools: tools.map((t) => ({ type: "function", name: t.function.name, parameters: t.function.parameters })) } : {}) };
};
const msg = (text: string, stream: boolean, extra: Record<string, unknown> = {}) => ({ model: "claude-sonnet-4-5", max_tokens: 500, stream, messages: [{ role: "user", content: text }], ...extra });
const weatherTool = { name: "get_weather", description: "Weather", input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } };

function nextJob(): Job {
  const stream = random() < 0.6;
  const via = random();
  // Chat Completions 30 %, Responses 20 % (OpenAI-style tools), Messages 50 %.
  const viaOpenai = via < 0.5;
  const viaResponses = via >= 0.3 && via < 0.5;
  const send = (text: string, extra: Record<string, unknown> = {}) => () =>
    viaResponses ? responses(asResponses(msg(text, stream, extra))) : viaOpenai ? openai(msg(text, stream, extra)) : anthropic(msg(text, stream, extra));
  const x = random();
  if (x < 0.35) return { name: "plain", expect: "ok", run: send(`hello ${Math.floor(random() * 1e6)}`) };
  if (x < 0.5) return { name: "long", expect: "ok", run: send("[[fake:long:200]]") };
  if (x < 0.58) {
    const tools = viaOpenai ? [{ type: "function", function: { name: weatherTool.name, parameters: weatherTool.input_schema } }] : [weatherTool];
    return { name: "tools", expect: "ok", run: send("[[fake:tools]] weather?", { tools }) };
  }
  if (x < 0.68) {
    return {
      name: "count_tokens",
      expect: "ok",
      run: () => fetch(`${url}/v1/messages/count_tokens`, { method: "POST", headers: { "content-type": "application/json", "x-api-key": KEY }, body: JSON.stringify({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "word ".repeat(1 + Math.floor(random() * 20_000)) }] }) }),
    };
  }
  if (x < 0.72) return { name: "models", expect: "ok", run: () => fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${KEY}` } }) };
  if (x < 0.84) {
    const fault = ["exception", "error_frame", "abrupt", "bad_crc"][Math.floor(random() * 4)]!;
    return { name: `fault:${fault}`, expect: stream ? "stream_error" : "client_error", run: send(`go [[fake:${fault}]]`) };
  }
  const bad = [
    '{"model": 5}',
    "not json",
    JSON.stringify({ model: "claude-sonnet-4-5", messages: [] }),
    JSON.stringify({ ...msg("x", false), tools: [{ type: "function", function: null }] }),
    JSON.stringify({ ...msg("x", false), max_tokens: "many" }),
  ][Math.floor(random() * 5)]!;
  return { name: "malformed", expect: "client_error", run: () => (viaResponses ? responses(bad) : viaOpenai ? openai(bad) : anthropic(bad)) };
}

async function check(job: Job): Promise<string | undefined> {
  const res = await job.run();
  const text = await res.text();
  const streamed = (res.headers.get("content-type") ?? "").startsWith("text/event-stream");
  const streamFailed = streamed && (text.includes("event: error") || text.includes('data: {"error"') || text.includes("event: response.failed"));
  if (job.name.startsWith("fault:")) {
    // Non-streaming faults after the first upstream byte are HTTP errors (nothing was sent yet).
    if (job.expect === "stream_error" ? streamFailed : res.status >= 400) return undefined;
    return `${job.name}: expected an error, got ${res.status} ${text.slice(0, 200)}`;
  }
  if (job.expect === "client_error") return res.status >= 400 && res.status < 500 ? undefined : `${job.name}: expected a 4xx, got ${res.status} ${text.slice(0, 200)}`;
  if (res.status !== 200 || streamFailed) return `${job.name}: expected success, got ${res.status} ${text.slice(0, 300)}`;
  return undefined;
}

const rssMiB = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pid}/status`, "utf8"))?.[1] ?? NaN) / 1024;

const deadline = Date.now() + MINUTES * 60_000;
const unexplained: string[] = [];
let total = 0;
let interval: number[] = [];
const allOk: number[] = [];
const rssSeries: Array<{ minute: number; rss: number }> = [];
const started = Date.now();

// Fault windows: every minute one account misbehaves for 10 s.
const faults = setInterval(() => {
  const a = accounts[Math.floor(random() * accounts.length)]!;
  const kind = Math.floor(random() * 3);
  a.behaviour = kind === 0 ? { throttleCalls: 20, retryAfterSec: 5 } : kind === 1 ? { transient500Calls: 10 } : { capacityCalls: 10 };
  setTimeout(() => (a.behaviour = {}), 10_000);
}, 60_000);

const report = setInterval(() => {
  const rss = rssMiB();
  rssSeries.push({ minute: (Date.now() - started) / 60_000, rss });
  console.log(
    `${((Date.now() - started) / 1000).toFixed(0).padStart(5)} s  requests ${String(total).padStart(7)}  unexplained ${unexplained.length}  p50 ${pct(interval, 0.5).toFixed(0)} ms  p99 ${pct(interval, 0.99).toFixed(0)} ms  RSS ${rss.toFixed(1)} MiB`,
  );
  interval = [];
}, REPORT_S * 1000);

await Promise.all(
  Array.from({ length: WORKERS }, async () => {
    while (Date.now() < deadline) {
      const job = nextJob();
      const t0 = performance.now();
      let problem: string | undefined;
      try {
        problem = await check(job);
      } catch (err) {
        problem = `${job.name}: request failed: ${String(err)}`;
      }
      total++;
      if (problem) {
        unexplained.push(problem);
        console.log(`UNEXPLAINED ${problem}`);
      } else if (job.expect === "ok") {
        const ms = performance.now() - t0;
        interval.push(ms);
        allOk.push(ms);
      }
      // Keep the sample bounded on long runs.
      if (allOk.length > 200_000) allOk.splice(0, 100_000);
      // The fake records every request: keep its memory flat too.
      if (fake.requests.length > 10_000) fake.requests.splice(0, fake.requests.length);
    }
  }),
);
clearInterval(report);
clearInterval(faults);

const alive = server.exitCode === null;
console.log("");
console.log(`soak: ${MINUTES} min, ${WORKERS} workers, ${total} requests, unexplained errors: ${unexplained.length}, server alive: ${alive}`);
console.log(`latency of successful requests: p50 ${pct(allOk, 0.5).toFixed(0)} ms, p99 ${pct(allOk, 0.99).toFixed(0)} ms`);
console.log(`RSS over time (MiB): ${rssSeries.map((r) => `${r.minute.toFixed(1)}m ${r.rss.toFixed(0)}`).join(", ")}`);
if (!alive) console.log(`server stderr:\n${serverErr.slice(-3000)}`);
server.kill("SIGTERM");
await server.exited;
await fake.stop();
rmSync(dir, { recursive: true, force: true });
process.exit(unexplained.length === 0 && alive ? 0 : 1);
