/**
 * A/B of kiro-server's own CPU per streamed request: two servers, each in its own process, on one
 * fake Kiro, sent the same requests in alternating windows.
 *
 *   bun bench/ab.ts [--route messages|chat|responses] [--frames 20] [--rounds 300] [--window 10] [--warmup 800]
 *                   [--a-root DIR] [--b-root DIR] [--a-env K=V ...] [--b-env K=V ...]
 *                   [--a-route R] [--b-route R] [--a-extra JSON] [--b-extra JSON] [--settle-ms 2]
 *
 * A and B are this checkout unless --a-root / --b-root name another (a directory holding
 * `src/index.ts`, e.g. `git archive main | tar -x -C DIR` with node_modules linked, or
 * bench/minimal); both start with the runtime settings kiro-server's executable runs with
 * (src/runtime-env.ts), as in stream.ts, so a checkout that does not set them itself is not
 * measured without them; --a-env / --b-env add environment to one side (a runtime setting, or a
 * switch a change under test reads). --a-route / --b-route send one side another route than --route
 * (e.g. what /v1/responses costs over /v1/messages on the same server), and --a-extra / --b-extra
 * merge JSON into that side's /v1/responses bodies (e.g. '{"store":false}').
 * Each round sends --window requests of --frames-frame answers to A, then as many to B (B first in
 * every other round), and reads each server's CPU over its window (all threads, from /proc). The
 * per-round difference A − B is printed as a mean with its standard error, and as a median.
 *
 * Why beside bench/stream.ts: stream.ts compares kiro-server with a raw passthrough, whose own cost
 * varies by ±20 % between runs with the scheduling of its two threads, so its ratios carry about
 * ±0.1 of noise (an A/A run put identical servers 1.50 and 1.65× apart). Here two variants of the
 * server are compared with each other only, in windows of a few milliseconds with the order swapped
 * every round, so most of the VM's drift cancels. Eleven A/A runs (both sides this checkout) at 20
 * frames read −18 to +36 µs per request against ~530–570: the printed standard error (6–10 µs) is
 * well under the run-to-run spread, so believe a difference past ~40 µs at 20 frames, or ~80 µs at
 * 200 frames, or one that repeats. It measures CPU only, one request at a time; latency and memory are
 * stream.ts's. ~10 s at 20 frames, ~40 s at 400.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { arg, envArgs, num } from "./lib/args";
import { spawnKiroServer, spawnReady, stopAll, untilServing, type Proc } from "./lib/kiro-procs";
import { RUNTIME_DEFAULTS } from "../src/runtime-env";
import { CpuTracker, windowCpu } from "./lib/proc";
import { mean, median } from "./lib/stats";
import { anthropicTarget, benchRefreshTokens, chatTarget, longPrompt, responsesTarget, timedRequest, type Target } from "./lib/stream-clients";

if (process.argv.includes("--help")) {
  // The usage is this file's opening comment.
  const src = await Bun.file(import.meta.path).text();
  console.log(src.slice(0, src.indexOf("*/")).replace(/^\/\*\*\n?|^ \* ?/gm, ""));
  process.exit(0);
}

const ROUTE = arg("route") ?? "messages";
const ROUTES = [arg("a-route") ?? ROUTE, arg("b-route") ?? ROUTE];
const EXTRAS = [arg("a-extra"), arg("b-extra")].map((j) => (j ? (JSON.parse(j) as Record<string, unknown>) : {}));
const FRAMES = num("frames", 20);
const ROUNDS = num("rounds", 300);
const WINDOW = num("window", 10);
/**
 * --settle-ms: the pause after a window's last answer before its CPU is read, so work that answer
 * left behind lands in its window (work a variant leaves on a timer needs more than the timer's delay,
 * or it is billed to neither side).
 */
const SETTLE_MS = num("settle-ms", 2);
const WARMUP = num("warmup", 800);
const ROOTS = [arg("a-root"), arg("b-root")].map((r) => (r ? resolve(r) : undefined));
const ENVS = [envArgs("--a-env"), envArgs("--b-env")];
const CLIENT_KEY = "bench-ab-client-key-0123456789";
const targetFor: Record<string, (url: string, key: string, pid: number) => Target> = { messages: anthropicTarget, chat: chatTarget, responses: responsesTarget };
for (const r of ROUTES) if (!targetFor[r]) throw new Error(`a route is one of ${Object.keys(targetFor).join(", ")}, not ${r}`);

const dir = mkdtempSync(join(tmpdir(), "kiro-ab-"));
const started: Proc[] = [];
try {
  const fake = await spawnReady<{ apiUrl: string; authUrl: string; oidcUrl: string }>(["bench/lib/fake-upstream.ts", "--accounts", "1", "--chunking", "frame"], {});
  started.push(fake.proc);
  const tokens = benchRefreshTokens(1);
  const servers = ["a", "b"].map((side, i) => {
    const s = spawnKiroServer({ dir: join(dir, side), fake: fake.info, tokens, clientKey: CLIENT_KEY, perAccount: 8, env: { KIRO_KV_PATH: join(dir, `${side}.db`), ...RUNTIME_DEFAULTS, ...ENVS[i] }, root: ROOTS[i] });
    started.push(s.proc);
    return s;
  });
  for (const s of servers) await untilServing(s.proc, s.url, CLIENT_KEY);
  const targets = servers.map((s, i) => (ROUTES[i] === "responses" ? responsesTarget(s.url, CLIENT_KEY, s.proc.pid, EXTRAS[i]) : targetFor[ROUTES[i]!]!(s.url, CLIENT_KEY, s.proc.pid)));
  const prompt = longPrompt(FRAMES);
  for (const t of targets) {
    const r = await timedRequest(t, prompt, true);
    t.check(r.body, FRAMES);
  }
  for (let i = 0; i < WARMUP; i++) for (const t of targets) await timedRequest(t, prompt, false);

  const trackers = targets.map((t) => new CpuTracker(t.pid));
  const perRequest: number[][] = [[], []];
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of round % 2 ? [1, 0] : [0, 1]) {
      const before = trackers[side]!.mark();
      for (let i = 0; i < WINDOW; i++) await timedRequest(targets[side]!, prompt, false);
      // Work the last answer left behind (its request log row, a collection) lands in its window.
      await Bun.sleep(SETTLE_MS);
      let ns = 0;
      for (const v of windowCpu(before, trackers[side]!.mark()).values()) ns += v;
      perRequest[side]!.push(ns / 1000 / WINDOW);
    }
  }
  for (const t of trackers) t.stop();

  const [a, b] = perRequest as [number[], number[]];
  const diff = a.map((x, i) => x - b[i]!);
  const m = mean(diff);
  const se = Math.sqrt(diff.reduce((acc, x) => acc + (x - m) ** 2, 0) / (diff.length - 1) / diff.length);
  const path = (r: string) => `POST /v1/${r === "chat" ? "chat/completions" : r}`;
  const side = (i: number) => {
    const xs = perRequest[i]!;
    const env = ENVS[i]!;
    const routeNote = ROUTES[0] === ROUTES[1] ? "" : `  ${path(ROUTES[i]!)}`;
    const extraNote = Object.keys(EXTRAS[i]!).length ? ` ${JSON.stringify(EXTRAS[i])}` : "";
    return `${"AB"[i]} ${mean(xs).toFixed(0)} µs per request (median ${median(xs).toFixed(0)})  ${ROOTS[i] ?? "this checkout"}${Object.keys(env).length ? ` ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(" ")}` : ""}${routeNote}${extraNote}`;
  };
  const routes = ROUTES[0] === ROUTES[1] ? path(ROUTES[0]!) : `${path(ROUTES[0]!)} (A) vs ${path(ROUTES[1]!)} (B)`;
  console.log(`${routes}, ${FRAMES}-frame answers, ${ROUNDS} rounds of ${WINDOW} requests per side after ${WARMUP} warm-up requests each; CPU of each server process (all threads):`);
  console.log(`  ${side(0)}`);
  console.log(`  ${side(1)}`);
  console.log(`  A − B ${m >= 0 ? "+" : ""}${m.toFixed(1)} ± ${se.toFixed(1)} µs per request (mean ± standard error; median ${median(diff).toFixed(1)})`);
} finally {
  await stopAll(started);
  rmSync(dir, { recursive: true, force: true });
}
