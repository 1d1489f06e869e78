/**
 * kiro-server's resident memory after traffic, measured on the server process alone.
 *
 *   bun bench/memory.ts [--requests 1000] [--frames 400] [--idle-ms 4000] [--settle-ms 35000] [--rejected 200]
 *                       [--heap] [--smaps] [--idle-trace] [--binary dist/kiro-server] [--root DIR] [--server-env K=V ...]
 *
 * Three processes: the fake Kiro (bench/lib/fake-upstream.ts), kiro-server (`bun src/index.ts`,
 * a temp database, the fake's account in KIRO_AUTH_TOKEN) and this one, the client. It prints the
 * server's RSS fresh (idle after start), then sends --requests streamed requests, mixed: the three
 * dialects in turn, answers of --frames and of 40 frames alternately, and every tenth request a
 * count_tokens call with a distinct ~20 KB prompt (the caches see new text, as with real
 * conversations). Then it waits --idle-ms (the idle trim's light stage runs 2 s after the last
 * request: a full collection and SQLite's page cache; src/http/idle-trim.ts) and prints RSS again with /proc/<pid>/smaps_rollup's split: file-backed pages (the Bun
 * executable's code and data mapped from disk, counted in RSS though shared and clean) and
 * anonymous memory (JavaScript heap, allocator, WASM memory); and once more --settle-ms after the
 * last request, past the trim's deep stage (30 s: JavaScriptCore drops its compiled code) and past
 * the exit of JavaScriptCore's JIT compiler threads, which stay alive 10 s after their last compile
 * and hold what other threads freed into their mimalloc pages until they exit (5–6 MiB at once).
 * The settled reading is the process's resting size.
 *
 * Then --rejected bad requests of ~1 MB each (non-JSON, then JSON whose fields have wrong types, to
 * each dialect in turn; all must be answered 4xx), another --settle-ms wait and RSS again: nothing
 * may hold a rejected body once it is answered (the issue's bound: within +20 % of the settled
 * value before them).
 *
 * --smaps prints, after the settled reading, every mapping whose resident size changed by ≥ 256 KiB
 * since the fresh reading (address range, name, RSS then → now, anonymous part), largest growth first.
 *
 * --binary PATH measures a compiled kiro-server (`npm run build` → dist/kiro-server) instead of
 * `bun src/index.ts`: the shipped executable, whose one bundled module replaces the ~750 source
 * modules (their module records and bytecode are a few MiB of the source run's heap).
 *
 * --root DIR runs DIR/src/index.ts (another checkout, e.g. the main branch) with this bench.
 *
 * --idle-trace prints the server's RSS (MiB) and thread count every 250 ms from the last request to
 * the settled reading.
 *
 * --heap preloads bench/lib/heap-probe.ts into the server and prints JavaScriptCore's heap size
 * and most numerous object types after the settled reading (the probe itself adds a little memory); with
 * `--server-env HEAP_PROBE_MIMALLOC=1` the probe also prints mimalloc's statistics (Bun's allocator:
 * live bytes per size class, arena committed and purged), fresh and after the settled reading.
 */
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { rssMiB } from "./lib/proc";
import { anthropicTarget, benchRefreshTokens, chatTarget, longPrompt, responsesTarget, timedRequest } from "./lib/stream-clients";
import { arg, envArgs, num } from "./lib/args";

const REQUESTS = num("requests", 1000);
const FRAMES = num("frames", 400);
const IDLE_MS = num("idle-ms", 4000);
const SETTLE_MS = Math.max(IDLE_MS, num("settle-ms", 35_000));
const HEAP = process.argv.includes("--heap");
const SMAPS = process.argv.includes("--smaps");
const IDLE_TRACE = process.argv.includes("--idle-trace");
/** A compiled kiro-server (npm run build → dist/kiro-server) to measure instead of `bun src/index.ts`. */
const BINARY = arg("binary");
const REJECTED = num("rejected", 200);
const SERVER_ENV = envArgs("--server-env");
const ROOT = resolve(import.meta.dir, "..");
/** --root DIR: another checkout's server (e.g. the main branch, for a before/after with this bench). */
const SERVER_ROOT = resolve(arg("root") ?? ROOT);
const KEY = "bench-client-key";

/** RSS split of /proc/<pid>/smaps_rollup, MiB. */
function smaps(pid: number): { rss: number; file: number; anon: number } {
  const t = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(t)?.[1] ?? 0) / 1024;
  return { rss: kb("Rss"), file: kb("Rss") - kb("Anonymous"), anon: kb("Anonymous") };
}
/** Every mapping of /proc/<pid>/smaps: key "start-end name" → resident and anonymous KiB. */
function mappings(pid: number): Map<string, { rss: number; anon: number }> {
  const out = new Map<string, { rss: number; anon: number }>();
  let cur: { rss: number; anon: number } | undefined;
  for (const l of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
    const head = /^([0-9a-f]+-[0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(l);
    if (head) {
      cur = { rss: 0, anon: 0 };
      out.set(`${head[1]} ${head[2] || "[anon]"}`, cur);
    } else if (cur && l.startsWith("Rss:")) cur.rss = Number(l.split(/\s+/)[1]);
    else if (cur && l.startsWith("Anonymous:")) cur.anon = Number(l.split(/\s+/)[1]);
  }
  return out;
}
function printMappingChanges(before: Map<string, { rss: number; anon: number }>, after: Map<string, { rss: number; anon: number }>): void {
  const rows: Array<[string, number, number, number]> = [];
  for (const [k, a] of after) {
    const b = before.get(k)?.rss ?? 0;
    if (Math.abs(a.rss - b) >= 256) rows.push([k, b, a.rss, a.anon]);
  }
  for (const [k, b] of before) if (!after.has(k) && b.rss >= 256) rows.push([k, b.rss, 0, 0]);
  rows.sort((x, y) => y[2] - y[1] - (x[2] - x[1]));
  const mib = (kb: number) => (kb / 1024).toFixed(1);
  console.log(`mappings changed by ≥ 256 KiB since fresh (RSS MiB then → now, anonymous now):`);
  for (const [k, b, a, anon] of rows) console.log(`  ${k.padEnd(60)} ${mib(b).padStart(6)} → ${mib(a).padStart(6)}  anon ${mib(anon)}`);
}
const fmt = (pid: number) => {
  const s = smaps(pid);
  return `RSS ${s.rss.toFixed(1)} MiB (file-backed ${s.file.toFixed(1)}, anonymous ${s.anon.toFixed(1)})`;
};

function freePort(): number {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = s.port!;
  s.stop(true);
  return port;
}

const dir = mkdtempSync(join(tmpdir(), "kiro-memory-bench-"));
const tokens = benchRefreshTokens(1);
const fake = Bun.spawn([process.execPath, "bench/lib/fake-upstream.ts", "--accounts", "1", "--chunking", "burst"], { cwd: ROOT, stdout: "pipe", stderr: "inherit" });
let server: ReturnType<typeof Bun.spawn> | undefined;
try {
  const reader = (fake.stdout as ReadableStream<Uint8Array>).getReader();
  let line = "";
  while (!line.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the fake exited: ${line}`);
    line += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const { apiUrl, authUrl, oidcUrl } = JSON.parse(line.slice(0, line.indexOf("\n"))) as Record<string, string>;
  const port = freePort();
  const probeOut = join(dir, "heap.json");
  if (BINARY && HEAP) throw new Error("--heap preloads a probe into `bun src/index.ts`: not with --binary");
  const command = BINARY
    ? [resolve(BINARY)]
    : [process.execPath, ...(HEAP ? ["--preload", join(ROOT, "bench/lib/heap-probe.ts")] : []), join(SERVER_ROOT, "src/index.ts")];
  server = Bun.spawn(command, {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: dir,
      HOST: "127.0.0.1",
      PORT: String(port),
      KIRO_KV_PATH: join(dir, "kiro.db"),
      KIRO_CLIENT_TOKEN: KEY,
      KIRO_ADMIN_TOKEN: "bench-admin-token",
      KIRO_AUTH_TOKEN: JSON.stringify(tokens.map((refreshToken) => ({ auth: "Social", refreshToken, description: "bench" }))),
      KIRO_API_URL: apiUrl!,
      KIRO_AUTH_URL: authUrl!,
      KIRO_OIDC_URL: oidcUrl!,
      KIRO_ACCOUNT_RPM: "0",
      KIRO_ACCOUNT_MIN_SPACING_MS: "0",
      HEAP_PROBE_OUT: probeOut,
      ...SERVER_ENV,
    },
    stdout: "ignore",
    stderr: "inherit",
  });
  const url = `http://127.0.0.1:${port}`;
  const pid = server.pid;
  const targets = [anthropicTarget(url, KEY, pid), chatTarget(url, KEY, pid), responsesTarget(url, KEY, pid)];
  for (const t0 = Date.now(); ; await Bun.sleep(50)) {
    if (Date.now() - t0 > 15_000) throw new Error("kiro-server did not answer within 15 s");
    if (await fetch(`${url}/health`).then((r) => r.ok, () => false)) break;
  }
  await Bun.sleep(1500); // the start-up collection runs 250 ms after listening
  console.log(`fresh, idle:                    ${fmt(pid)}`);
  const freshMaps = SMAPS ? mappings(pid) : undefined;
  if (HEAP && SERVER_ENV.HEAP_PROBE_MIMALLOC) {
    // The allocator's statistics of the fresh process too (the probe prints them on stderr).
    console.log("fresh process, after a full collection:");
    server.kill("SIGUSR2");
    for (const t1 = Date.now(); !existsSync(probeOut) && Date.now() - t1 < 10_000; ) await Bun.sleep(50);
    await Bun.sleep(200);
    rmSync(probeOut, { force: true });
  }

  const t0 = performance.now();
  let counted = 0;
  for (let i = 0; i < REQUESTS; i++) {
    if (i % 10 === 9) {
      // A distinct ~20 KB prompt: prose with a unique number per word group.
      const text = Array.from({ length: 400 }, (_, w) => `request ${i} word ${w} lorem ipsum dolor sit amet, consectetur`).join(" ");
      const r = await fetch(`${url}/v1/messages/count_tokens`, {
        method: "POST",
        headers: { "x-api-key": KEY, "content-type": "application/json", "anthropic-version": "2023-06-01" },
        body: JSON.stringify({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: text }] }),
      });
      if (r.status !== 200) throw new Error(`count_tokens: HTTP ${r.status} ${await r.text()}`);
      await r.arrayBuffer();
      counted++;
      continue;
    }
    const t = targets[i % targets.length]!;
    const frames = i % 2 ? FRAMES : 40;
    t.check((await timedRequest(t, longPrompt(frames), true)).body, frames);
  }
  console.log(`after ${REQUESTS} requests (${counted} count_tokens), ${((performance.now() - t0) / 1000).toFixed(0)} s: ${fmt(pid)}`);
  // Readings IDLE_MS and SETTLE_MS after the last request (the trace, when asked, spans both).
  const quietFrom = performance.now();
  const steps: string[] = [];
  const waitUntil = async (ms: number) => {
    while (performance.now() - quietFrom < ms) {
      await Bun.sleep(Math.min(250, ms - (performance.now() - quietFrom)));
      if (IDLE_TRACE && performance.now() - quietFrom >= (steps.length + 1) * 250 - 20) {
        const threads = /^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
        steps.push(`${smaps(pid).rss.toFixed(1)}/${threads}`);
      }
    }
  };
  await waitUntil(IDLE_MS);
  console.log(`then ${(IDLE_MS / 1000).toFixed(1)} s idle:              ${fmt(pid)}`);
  await waitUntil(SETTLE_MS);
  console.log(`settled, ${(SETTLE_MS / 1000).toFixed(1)} s idle:         ${fmt(pid)}`);
  if (IDLE_TRACE) console.log(`idle, every 250 ms, RSS MiB/threads: ${steps.join(" ")}`);
  if (freshMaps) printMappingChanges(freshMaps, mappings(pid));
  if (REJECTED > 0) {
    const before = smaps(pid).rss;
    const paths = ["/v1/messages", "/v1/chat/completions", "/v1/responses"];
    const big = "x".repeat(1 << 20);
    for (let i = 0; i < REJECTED; i++) {
      const body = i % 2 ? `{"model": "claude-sonnet-4-5", "messages": ${i}, "junk": "${big}` : JSON.stringify({ model: 7, messages: [{ role: "user", content: big + i }], max_tokens: "many" });
      const r = await fetch(`${url}${paths[i % 3]}`, {
        method: "POST",
        headers: { "x-api-key": KEY, authorization: `Bearer ${KEY}`, "content-type": "application/json", "anthropic-version": "2023-06-01" },
        body,
      });
      await r.arrayBuffer();
      if (r.status < 400 || r.status >= 500) throw new Error(`a bad body got HTTP ${r.status}`);
    }
    await Bun.sleep(SETTLE_MS);
    const after = smaps(pid).rss;
    console.log(`${REJECTED} rejected ~1 MB bodies, then idle: ${fmt(pid)} (${(((after - before) / before) * 100).toFixed(0)} % vs before them)`);
  }
  if (HEAP) {
    // The largest anonymous mappings (JavaScriptCore's heap and JIT regions, mimalloc segments, WASM memory).
    const maps: Array<[string, number]> = [];
    let head = "";
    for (const l of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
      if (/^[0-9a-f]+-[0-9a-f]+ /.test(l)) head = l;
      else if (l.startsWith("Anonymous:")) {
        const kb = Number(l.split(/\s+/)[1]);
        if (kb >= 1024) maps.push([head.split(/\s+/).slice(0, 2).join(" ") + " " + (head.split(/\s+/)[5] ?? ""), kb]);
      }
    }
    maps.sort((a, b) => b[1] - a[1]);
    console.log(`anonymous mappings ≥ 1 MiB: ${maps.map(([m, kb]) => `${m} ${(kb / 1024).toFixed(1)}`).join(", ")}`);
    server.kill("SIGUSR2");
    for (const t1 = Date.now(); !existsSync(probeOut) && Date.now() - t1 < 10_000; ) await Bun.sleep(50);
    await Bun.sleep(200);
    const h = JSON.parse(readFileSync(probeOut, "utf8")) as { heapSize: number; heapCapacity: number; extraMemorySize: number; objectCount: number; memoryUsage: Record<string, number>; top: [string, number][]; bySize: [string, number][]; largest: [string, number][] };
    const mib = (n: number) => (n / 1048576).toFixed(1);
    console.log(`heap after a full GC: size ${mib(h.heapSize)} MiB, capacity ${mib(h.heapCapacity)} MiB, extra ${mib(h.extraMemorySize)} MiB, ${h.objectCount} objects; RSS ${rssMiB(pid).toFixed(1)} MiB`);
    console.log(`memoryUsage: ${Object.entries(h.memoryUsage).map(([k, v]) => `${k} ${mib(v)}`).join(", ")}`);
    console.log(`bytes by type (snapshot): ${h.bySize.map(([k, v]) => `${k} ${(v / 1024).toFixed(0)} KiB`).join(", ")}`);
    console.log(`largest cells: ${h.largest.map(([k, v]) => `${k} ${(v / 1024).toFixed(0)} KiB`).join(", ")}`);
    console.log(`object types: ${h.top.map(([k, v]) => `${k} ${v}`).join(", ")}`);
  }
} finally {
  server?.kill("SIGTERM");
  await server?.exited;
  fake.kill("SIGTERM");
  await fake.exited;
  rmSync(dir, { recursive: true, force: true });
}
