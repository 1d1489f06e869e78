/**
 * Streaming cost of kiro-server's dialect routes, measured on the proxy process alone, against a
 * raw passthrough measured the same way.
 *
 *   bun bench/stream.ts [--mode paced|burst|both|realtime] [--frames 400] [--short 40] [--requests 200]
 *                       [--rounds 10] [--warmup 800] [--open 1000] [--idle-ms 5000] [--settle-ms 35000]   (--open 0: no open streams)
 *                       [--interval-ms 1] [--concurrency N] [--route messages|chat|responses] [--responses-extra JSON] [--cpu-prof DIR] [--prof-interval 100] [--log-level info] [--wrap CMD]
 *                       [--server-env K=V ...] [--baseline DIR] [--baseline-env K=V ...]
 *
 * Four processes: the fake Kiro (bench/lib/fake-upstream.ts), kiro-server (`bun src/index.ts`, env
 * pointing at the fake, a temp database, the fake's account in KIRO_AUTH_TOKEN), the passthrough
 * (bench/lib/passthrough.ts), and this one, the client. Only the server's and the passthrough's
 * CPU is counted, read from /proc for all their threads (bench/lib/proc.ts), so the client's
 * reading cost and the fake's encoding cost are in no row.
 *
 * Each request asks the fake for `[[fake:long:N]]`: N text frames of ~40 characters, then usage.
 * Modes: "paced", the fake encodes each frame as it writes it and yields one event-loop turn
 * between frames, so frames leave it tens of microseconds apart: a proxy's reads carry one to a
 * few frames (the "client reads per request" column: ~60–90 reads for the 220 frames of an average
 * request), depending on how fast it reads; "burst", all frames are encoded first and written
 * back to back (reads carry many frames). A real model's events arrive milliseconds apart, one per
 * read, which neither mode reproduces: there every read is a wake-up of the event loop for both
 * proxies, and both cost several times more per frame. "realtime" (not in "both") comes closer:
 * the fake waits --interval-ms (default 1) before each frame, so every frame is its own read, and
 * --concurrency (default 4, one account's limit) answers stream at once to keep the run short; it
 * warms up mostly on short answers and reads no memory. A model's events are further apart still
 * (tens of milliseconds); there too each frame is its own read.
 *
 * Per mode, after the warm-up (JavaScriptCore keeps compiling the route's functions into higher
 * tiers for the first several hundred requests: with BUN_JSC_reportDFGCompileTimes its log showed
 * compiles of the relay and the stream decoder taking 45–125 ms each still after 200 requests; a
 * server runs for hours, the steady state is what counts), --rounds interleaved rounds each send every target --requests/--rounds requests of
 * --short frames and as many of --frames frames. A window's CPU is the process's CPU from the
 * start of its window to the start of the next window of the same process, so garbage collected
 * or code compiled later while the process is otherwise idle is still billed to it. Per-request
 * CPU at two answer lengths gives, by a straight line through both, a fixed cost per request and a
 * cost per frame; ratios are medians over rounds of route / passthrough in the same round (this
 * shared VM's speed drifts by ±20 % over tens of seconds), and the long answers' per-round ratios
 * are also printed as quartiles: an A/A run (--baseline of the same checkout) puts two identical
 * servers up to ~0.1 apart.
 *
 * First text: the table's "first text" is end to end (request sent → the client holds the first
 * text event) and its "added ms" the difference of two targets' percentiles; below it, each long
 * answer's first text again without the fake's own time (what it takes to start the answer, which
 * varies by several milliseconds in burst mode), the fake reporting when each request reached it
 * and when it handed out the first chunk (bench/lib/stream-latency.ts; concurrency 1 only).
 *
 * Then, in the first mode only, kiro-server's resident memory: after the warm-up, after 1,000
 * requests, after --idle-ms idle and after --settle-ms idle; then, on a fresh server with enough accounts, with --open streams
 * held open mid-answer at once.
 *
 * --responses-extra JSON adds a second /v1/responses target whose bodies also hold those fields
 * (row "POST /v1/responses +extra"), e.g. '{"tools":[{"type":"web_search"}]}' to measure a turn
 * that declares the hosted web search (as Codex always does) beside a plain one.
 *
 * --cpu-prof DIR starts kiro-server under `bun --cpu-prof` (profile written to DIR when the server
 * stops; the passthrough's to DIR/passthrough, a --baseline server's to DIR/baseline); use it with
 * --mode burst --route chat to profile one route, and read it with `bun bench/lib/cpuprofile.ts FILE`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { RUNTIME_DEFAULTS } from "../src/runtime-env";
import { freePort, ROOT, spawnReady, untilServing, type Proc } from "./lib/kiro-procs";
import { rssMiB } from "./lib/proc";
import { anthropicTarget, benchRefreshTokens, chatTarget, longPrompt, passthroughTarget, responsesTarget, timedRequest, type Target } from "./lib/stream-clients";
import { arg, envArgs, num } from "./lib/args";
import { inParallel, measure } from "./lib/stream-measure";
import { report } from "./lib/stream-report";
import { FakeTimings } from "./lib/stream-latency";

if (process.argv.includes("--help")) {
  // The usage is this file's opening comment.
  const src = await Bun.file(import.meta.path).text();
  console.log(src.slice(0, src.indexOf("*/")).replace(/^\/\*\*\n?|^ \* ?/gm, ""));
  process.exit(0);
}

// Bun's fetch allows 256 requests in flight per process (more wait, silently) unless this variable,
// read once at start, says otherwise; the open-streams step needs more, so re-run with it set.
if (!process.env.BUN_CONFIG_MAX_HTTP_REQUESTS) {
  const self = Bun.spawn([process.execPath, ...process.argv.slice(1)], {
    env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: "4096" },
    stdio: ["inherit", "inherit", "inherit"],
  });
  process.exit(await self.exited);
}

const LONG = num("frames", 400);
const SHORT = num("short", 40);
const REQUESTS = num("requests", 200);
const ROUNDS = num("rounds", 10);
const WARMUP = num("warmup", 800);
const OPEN = num("open", 1000);
const IDLE_MS = num("idle-ms", 5000);
/** The second idle reading: past the idle trim's deep stage (30 s after the last request, src/http/idle-trim.ts). */
const SETTLE_MS = Math.max(IDLE_MS, num("settle-ms", 35_000));
const MODES = (arg("mode") ?? "both") === "both" ? ["paced", "burst"] : [arg("mode")!];
const ONLY = arg("route");
/** --mode realtime: milliseconds between the fake's frames (--interval-ms). */
const INTERVAL_MS = num("interval-ms", 1);
/** Requests in flight per window: --concurrency, default 1, in realtime mode PER_ACCOUNT (set below). */
const concurrencyFor = (mode: string) => Math.min(num("concurrency", mode === "realtime" ? PER_ACCOUNT : 1), PER_ACCOUNT);
/**
 * --responses-extra JSON: one more /v1/responses target (on each server) whose bodies also hold
 * these fields, e.g. '{"tools":[{"type":"web_search"}]}', measured beside the plain one.
 */
const RESPONSES_EXTRA = arg("responses-extra") ? (JSON.parse(arg("responses-extra")!) as Record<string, unknown>) : undefined;
/** The extra Responses target's name suffix (its row is "POST /v1/responses +extra"). */
const EXTRA_SUFFIX = " +extra";
const responsesTargets = (url: string, pid: number): Target[] =>
  RESPONSES_EXTRA
    ? [responsesTarget(url, CLIENT_KEY, pid), { ...responsesTarget(url, CLIENT_KEY, pid, RESPONSES_EXTRA), name: `POST /v1/responses${EXTRA_SUFFIX}` }]
    : [responsesTarget(url, CLIENT_KEY, pid)];
const CPU_PROF = arg("cpu-prof");
/** --prof-interval µs: the profiler's sampling interval (Bun's default 1000 gives few samples per run). */
const PROF_INTERVAL = num("prof-interval", 100);
const LOG_LEVEL = arg("log-level") ?? "info";
/** --wrap "CMD ARGS": run kiro-server under this command (e.g. "strace -f -c -o FILE"); its CPU numbers are then the wrapper's. */
const WRAP = arg("wrap")?.split(" ").filter(Boolean) ?? [];
/** --server-env K=V (repeatable): extra environment for kiro-server, e.g. an allocator setting to try. */
const SERVER_ENV = envArgs("--server-env");
/** --baseline-env K=V (repeatable): extra environment for the --baseline server only. */
const BASELINE_ENV = envArgs("--baseline-env");
/**
 * --baseline DIR: a second kiro-server from another checkout (e.g. `git archive main | tar -x -C
 * DIR`, node_modules linked), measured in the same interleaved rounds as this one: before/after
 * numbers from one run on this noisy machine. Its routes are printed with a "base " prefix.
 * The two positions are not symmetric: in runs with identical code the first server's
 * /v1/responses measured 20–35 % above the second's, so swap the checkouts before believing a
 * difference that size.
 */
const BASELINE = arg("baseline");
const CLIENT_KEY = "bench-client-key";
/** Requests one account may serve at once (KIRO_ACCOUNT_CONCURRENCY given to kiro-server). */
const PER_ACCOUNT = 4;

// ------------------------------------------------------------------------------- processes

type Procs = {
  fake: Proc;
  /** Where the fake serves what it timed per streamed answer (bench/lib/stream-latency.ts). */
  timingsUrl: string;
  server: Proc;
  passthrough: Proc;
  serverUrl: string;
  passthroughUrl: string;
  /** --baseline: the other checkout's kiro-server on the same fake. */
  baseline?: { proc: Proc; url: string };
  stop: () => Promise<void>;
};

/** kiro-server from the checkout at `root`, pointed at the fake, with its own database in `dir`. */
function spawnServer(root: string, dir: string, db: string, apiUrl: string, authUrl: string, oidcUrl: string, tokens: string[], prof: string[], extraEnv: Record<string, string>) {
  const port = freePort();
  const proc = Bun.spawn([...WRAP, process.execPath, ...prof, "src/index.ts"], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: dir,
      HOST: "127.0.0.1",
      PORT: String(port),
      KIRO_KV_PATH: join(dir, db),
      KIRO_CLIENT_TOKEN: CLIENT_KEY,
      KIRO_ADMIN_TOKEN: "bench-admin-token",
      KIRO_AUTH_TOKEN: JSON.stringify(tokens.map((refreshToken, i) => ({ auth: "Social", refreshToken, description: `bench ${i}` }))),
      KIRO_API_URL: apiUrl,
      KIRO_AUTH_URL: authUrl,
      KIRO_OIDC_URL: oidcUrl,
      LOG_LEVEL,
      // No pacing per account (the bench measures conversion cost, not the pool's limits); as
      // many requests at once per account as the open-streams step plans for.
      KIRO_ACCOUNT_RPM: "0",
      KIRO_ACCOUNT_MIN_SPACING_MS: "0",
      KIRO_ACCOUNT_CONCURRENCY: String(PER_ACCOUNT),
      // As for the client: more than 256 upstream streams at once (open-streams step).
      BUN_CONFIG_MAX_HTTP_REQUESTS: process.env.BUN_CONFIG_MAX_HTTP_REQUESTS!,
      // With the fetch limit already raised the server does not restart itself, so the runtime
      // settings its restart would carry (src/runtime-env.ts) are given here: the bench measures
      // the process as users run it.
      ...RUNTIME_DEFAULTS,
      ...extraEnv,
    },
    stdout: "ignore",
    stderr: "inherit",
  });
  return { proc, url: `http://127.0.0.1:${port}` };
}

/** The fake, the passthrough and kiro-server with `accounts` accounts, until kiro-server answers. */
async function startAll(mode: string, accounts = 1, withBaseline = true): Promise<Procs> {
  const tokens = benchRefreshTokens(accounts);
  const dir = mkdtempSync(join(tmpdir(), "kiro-stream-bench-"));
  const started: Proc[] = [];
  const stopAll = async () => {
    for (const p of started.reverse()) {
      p.kill("SIGTERM");
      await p.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const fake = await spawnReady<{ apiUrl: string; authUrl: string; oidcUrl: string; timingsUrl: string }>(
      ["bench/lib/fake-upstream.ts", "--timings", "--accounts", String(accounts), "--chunking", mode === "burst" ? "burst" : "frame", ...(mode === "realtime" ? ["--interval-ms", String(INTERVAL_MS)] : [])],
      {},
    );
    started.push(fake.proc);
    const { apiUrl, authUrl, oidcUrl } = fake.info;

    // The passthrough gets its own access token for the same (non-rotating) account.
    const refreshed = await fetch(`${authUrl.replace("{region}", "us-east-1")}/refreshToken`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refreshToken: tokens[0] }),
    });
    const { accessToken } = (await refreshed.json()) as { accessToken: string };
    /** `bun --cpu-prof` arguments writing the profile under CPU_PROF/`sub` (none without --cpu-prof). */
    const profArgs = (sub: string) => (CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${resolve(CPU_PROF, sub)}`, `--cpu-prof-interval=${PROF_INTERVAL}`] : []);
    const pt = await spawnReady<{ port: number }>([...profArgs("passthrough"), "bench/lib/passthrough.ts"], { PT_API_URL: apiUrl, PT_ACCESS_TOKEN: accessToken });
    started.push(pt.proc);

    const server = spawnServer(ROOT, dir, "kiro.db", apiUrl, authUrl, oidcUrl, tokens, profArgs("."), SERVER_ENV);
    started.push(server.proc);
    let baseline: typeof server | undefined;
    if (BASELINE && withBaseline) {
      baseline = spawnServer(resolve(BASELINE), dir, "baseline.db", apiUrl, authUrl, oidcUrl, tokens, profArgs("baseline"), BASELINE_ENV);
      started.push(baseline.proc);
    }
    for (const sv of [server, baseline]) if (sv) await untilServing(sv.proc, sv.url, CLIENT_KEY);
    return {
      fake: fake.proc,
      timingsUrl: fake.info.timingsUrl,
      server: server.proc,
      passthrough: pt.proc,
      serverUrl: server.url,
      passthroughUrl: `http://127.0.0.1:${pt.info.port}`,
      baseline: baseline && { proc: baseline.proc, url: baseline.url },
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

// ------------------------------------------------------------------------------- memory

/**
 * Per server: RSS after 1,000 requests (topped up with long answers), after --idle-ms idle (the
 * idle trim's light stage has run) and after --settle-ms idle (its deep stage too); all servers
 * idle at once.
 */
async function memoryAfterRequests(servers: Array<{ label: string; pid: number; targets: Target[]; served: number; warm: string }>): Promise<string[]> {
  const after = new Map<number, string>();
  for (const sv of servers) {
    let n = sv.served;
    for (let i = 0; n < 1000; i++, n++) await timedRequest(sv.targets[i % sv.targets.length]!, longPrompt(LONG), false);
    after.set(sv.pid, `after ${n} requests ${rssMiB(sv.pid).toFixed(1)}`);
  }
  await Bun.sleep(IDLE_MS);
  const idle = new Map(servers.map((sv) => [sv.pid, rssMiB(sv.pid).toFixed(1)]));
  await Bun.sleep(SETTLE_MS - IDLE_MS);
  return servers.map(
    (sv) => `${sv.label}: ${sv.warm} · ${after.get(sv.pid)} · then ${(IDLE_MS / 1000).toFixed(0)} s idle ${idle.get(sv.pid)} · ${(SETTLE_MS / 1000).toFixed(0)} s idle ${rssMiB(sv.pid).toFixed(1)}`,
  );
}

/**
 * RSS with --open streams held open mid-answer at once, on a fresh kiro-server whose pool has
 * enough accounts for them (each serves PER_ACCOUNT at a time), warmed by 200 requests first.
 * The fake sends each held stream a few text frames, then nothing (bench/lib/fake-upstream.ts).
 */
async function openStreams(mode: string): Promise<string> {
  const accounts = Math.ceil(OPEN / PER_ACCOUNT);
  const p = await startAll(mode, accounts, false);
  try {
    const pid = p.server.pid;
    const t = anthropicTarget(p.serverUrl, CLIENT_KEY, pid);
    for (let i = 0; i < 200; i++) await timedRequest(t, longPrompt(LONG), false);
    await Bun.sleep(500);
    const before = rssMiB(pid);
    const abort = new AbortController();
    const t0 = performance.now();
    const readers = await Promise.all(
      Array.from({ length: OPEN }, async () => {
        const r = await t.send("Hold this stream open", abort.signal);
        if (r.status !== 200) throw new Error(`${t.name}: a held stream got HTTP ${r.status}: ${(await r.text()).slice(0, 300)}`);
        const reader = r.body!.getReader();
        const decoder = new TextDecoder();
        let text = "";
        while (!t.firstText(text)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`${t.name}: a held stream ended: ${text.slice(0, 600)}`);
          text += decoder.decode(value, { stream: true });
        }
        return reader;
      }),
    );
    const openedS = (performance.now() - t0) / 1000;
    await Bun.sleep(500);
    const open = rssMiB(pid);
    abort.abort();
    await Promise.allSettled(readers.map((r) => r.cancel()));
    return (
      `${OPEN} streams open at once (${t.name}, ${accounts} accounts, all mid-answer after ${openedS.toFixed(1)} s): ` +
      `${before.toFixed(1)} MiB before, ${open.toFixed(1)} MiB open, ${(((open - before) * 1024) / OPEN).toFixed(1)} KiB per open stream`
    );
  } finally {
    await p.stop();
  }
}

// ------------------------------------------------------------------------------- main

const startedAt = performance.now();
let memoryRows: string[] = [];
for (const [modeIndex, mode] of MODES.entries()) {
  const p = await startAll(mode);
  try {
    const pid = p.server.pid;
    const all: Target[] = [
      passthroughTarget(p.passthroughUrl, CLIENT_KEY, p.passthrough.pid),
      anthropicTarget(p.serverUrl, CLIENT_KEY, pid),
      chatTarget(p.serverUrl, CLIENT_KEY, pid),
      ...responsesTargets(p.serverUrl, pid),
    ];
    const wanted = { messages: "POST /v1/messages", chat: "POST /v1/chat/completions", responses: "POST /v1/responses" } as Record<string, string>;
    // Count what kiro-server is sent (e.g. to divide a --wrap strace's totals by).
    let sentToServer = 1; // the start-up check
    for (const t of all.slice(1)) {
      const send = t.send;
      t.send = (prompt, signal) => (sentToServer++, send(prompt, signal));
    }
    if (p.baseline) {
      const b = p.baseline;
      for (const t of [anthropicTarget(b.url, CLIENT_KEY, b.proc.pid), chatTarget(b.url, CLIENT_KEY, b.proc.pid), ...responsesTargets(b.url, b.proc.pid)]) {
        all.push({ ...t, name: `base ${t.name}`, route: t.name } as Target & { route: string });
      }
    }
    const targets: Target[] = [all[0]!];
    for (const t of all.slice(1)) {
      if (ONLY && wanted[ONLY] !== ((t as { route?: string }).route ?? t.name).replace(EXTRA_SUFFIX, "")) continue;
      const probe = await t.send(longPrompt(1));
      await probe.text();
      if (probe.status === 404) console.log(`(${t.name}: the server answers 404, skipped)`);
      else targets.push(t);
    }
    const servers = [p.server, p.baseline?.proc].filter((x) => x !== undefined).map((proc) => {
      const mine = targets.filter((t) => t.pid === proc.pid);
      return { label: proc === p.server ? "kiro-server" : "baseline", pid: proc.pid, targets: mine, served: 0, warm: "" };
    });
    for (const t of targets) {
      // A realtime long answer takes about half a second: that mode warms up mostly on short ones
      // (the per-frame code is warm after a few answers; the per-request code needs the count).
      await inParallel(WARMUP, concurrencyFor(mode), async (n) => {
        const frames = mode === "realtime" ? (n % 20 === 19 ? LONG : SHORT) : n % 2 ? LONG : SHORT;
        t.check((await timedRequest(t, longPrompt(frames), true)).body, frames);
        const sv = servers.find((x) => x.pid === t.pid);
        if (sv) sv.served++;
      });
    }
    for (const sv of servers) sv.warm = `after the warm-up (${sv.served} requests) ${rssMiB(sv.pid).toFixed(1)}`;
    const run = { long: LONG, short: SHORT, requests: REQUESTS, rounds: ROUNDS, concurrency: concurrencyFor(mode) };
    const m = await measure(targets, run);
    report(mode, targets, m, { ...run, warmup: WARMUP, timings: await FakeTimings.load(p.timingsUrl), pacing: mode === "realtime" ? `The fake wrote each frame ${INTERVAL_MS} ms after the last` : undefined });
    for (const sv of servers) sv.served += m.windows.filter((w) => targets[w.target]!.pid === sv.pid).reduce((a, w) => a + w.requests, 0);
    if (modeIndex === 0 && mode !== "realtime") memoryRows = await memoryAfterRequests(servers.filter((sv) => sv.targets.length));
    console.log(`(kiro-server was sent ${sentToServer} requests in this mode)`);
  } finally {
    await p.stop();
  }
  if (memoryRows.length) {
    console.log(`\nRSS MiB (one account):\n  ${memoryRows.join("\n  ")}`);
    if (OPEN > 0) console.log(await openStreams(mode));
    memoryRows = [];
  }
}
console.log(`\n(bench ran ${((performance.now() - startedAt) / 1000).toFixed(0)} s)`);
