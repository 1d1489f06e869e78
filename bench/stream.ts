/**
 * Streaming overhead benchmark: CPU time per 1000 upstream frames and added time-to-first-byte
 * of kiro-server's dialect routes, against a raw byte passthrough of the same upstream stream.
 *
 *   bun bench/stream.ts [--mode paced|burst|both] [--requests N] [--frames N] [--warmup N] [--rounds N] [--route messages|chat]
 *
 * The fake Kiro runs in its own process (tests/fake-kiro/main.ts) so its frame encoding is not
 * counted; this process holds the client, kiro-server and the passthrough, so the client's own
 * reading cost is in every row alike. Each request asks for `[[fake:long:N]]` (N = --frames, 400).
 * The fake writes one frame per write, paced (each encoded as it is sent) or in a burst (see
 * --mode). (Its default random 1–97-byte splits are for decoder tests: every split costs the
 * passthrough a read and a write too, which inflates the baseline and flatters the ratio.)
 * Targets (issue 5): route CPU ≤ 1.5× passthrough, added TTFB p50 < 1 ms.
 *
 * TTFB is "time to the first usable bytes": for a route, its first body bytes (message_start /
 * the role chunk, written as soon as the first upstream event is decoded); for the passthrough,
 * the bytes of the first *complete* upstream frame (a route can only answer once a whole frame,
 * CRC included, is in).
 *
 * One target per route (passthrough, anthropic, openai), measured in interleaved rounds (measureAll).
 */
import { createApp } from "../src/app";
import type { CanonicalRequest } from "../src/core/canonical";
import { buildKiroRequest } from "../src/kiro/request/build";
import { kiroHeaders } from "../src/kiro/request/headers";
import { isUnavailable } from "../src/pool/types";
import type { Services } from "../src/services";
import { TEST_CLIENT_KEY, makeServices } from "../tests/support/app";

/** The value after `--name` on the command line, if given. */
function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

// --frames N: answer length in upstream frames. Per-request costs (validation, request building,
// pool, fetch set-up) are spread over the frames, so short and long answers show different ratios.
const FRAMES_PER_REQUEST = Number(arg("frames")) || 400;
const PROMPT = `Write a long answer [[fake:long:${FRAMES_PER_REQUEST}]]`;
const REQUESTS = Number(arg("requests")) || 300;
/** --rounds N: interleaved rounds the requests are split into (see measureAll). */
const ROUNDS = Number(arg("rounds")) || 10;
/**
 * --warmup N requests per row before measuring (default 200). A server runs for hours, so the
 * steady state is what counts: JSC keeps compiling the route's functions into higher tiers for
 * the first few hundred requests (its JIT threads' CPU lands in the process's CPU time), while
 * the native passthrough has nothing to compile. Measured per-thread (/proc/self/task): after
 * 20 requests the JIT workers still took ~150 µs per request, after 800 ~90.
 */
const WARMUP = arg("warmup") !== undefined ? Number(arg("warmup")) : 200;
/**
 * --mode paced|burst|both (default both). "paced": the fake encodes each frame as it writes it, as
 * a real upstream sends each event as the model produces it, so nearly every frame is its own
 * network read (the realistic case: Kiro's events come milliseconds apart). "burst": all frames
 * are encoded first and written back to back, so reads carry many frames (a stream that was held
 * up somewhere). Per-read costs dominate the first, per-frame costs the second.
 */
const MODES = (arg("mode") ?? "both") === "both" ? ["paced", "burst"] : [arg("mode")!];
/** --route: measure one route only (with the passthrough), e.g. under --cpu-prof. */
const ONLY = arg("route");

type Ctx = { services: Services; appUrl: string; passthroughUrl: string; stop: () => Promise<void> };
type Row = { name: string; cpuMsPer1000Frames: number; ratio: number; ttfbP50Ms: number; ttfbP90Ms: number };

// ------------------------------------------------------------------------------- setup

async function startFake(mode: string): Promise<{ apiUrl: string; authUrl: string; oidcUrl: string; refreshToken: string; kill: () => void }> {
  const refreshToken = `aorA${"benchRefreshTokenForTheFakeKiro".repeat(4)}`;
  const proc = Bun.spawn(["bun", "tests/fake-kiro/main.ts", "--port", "0", "--refresh-token", refreshToken, "--no-rotate", mode === "burst" ? "--burst" : "--per-frame"], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = proc.stdout.getReader();
  let out = "";
  while (!/KIRO_OIDC_URL=\S+/.test(out)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`fake Kiro exited: ${out}`);
    out += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const get = (k: string) => new RegExp(`${k}=(\\S+)`).exec(out)![1]!;
  return { apiUrl: get("KIRO_API_URL"), authUrl: get("KIRO_AUTH_URL"), oidcUrl: get("KIRO_OIDC_URL"), refreshToken, kill: () => proc.kill() };
}

async function setup(mode: string): Promise<Ctx> {
  const fake = await startFake(mode);
  const services = await makeServices({ apiUrl: fake.apiUrl, authUrl: fake.authUrl, oidcUrl: fake.oidcUrl });
  await services.pool.upsert({ kind: "social", refreshToken: fake.refreshToken, label: "bench", source: "bench" });
  services.log.info = () => {};

  const app = createApp(services);
  app.listen({ port: 0, hostname: "127.0.0.1", reusePort: false });
  const appUrl = `http://127.0.0.1:${app.server!.port}`;

  // The passthrough relays the same upstream bytes untouched: same request, same account.
  const lease = services.pool.acquire({});
  if (isUnavailable(lease)) throw new Error(lease.message);
  const creds = await lease.credentials();
  lease.release();
  const canonical: CanonicalRequest = {
    model: services.models.resolve("claude-sonnet-4-6"),
    system: "",
    messages: [{ role: "user", content: [{ type: "text", text: PROMPT }] }],
    tools: [],
    maxTokens: 32000,
    stopSequences: [],
    thinking: { type: "disabled" },
    metadata: { dialect: "anthropic" },
  };
  const built = buildKiroRequest(canonical, { profileArn: creds.profileArn });
  const body = built.json;
  const pass = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      // A proxy reads what the client sent before it can forward anything.
      await req.text();
      const headers = kiroHeaders({ accessToken: creds.accessToken, machineId: creds.machineId, authKind: creds.authKind });
      const up = await fetch(`${fake.apiUrl.replace("{region}", "us-east-1")}/generateAssistantResponse`, { method: "POST", headers, body });
      return new Response(up.body, { status: up.status, headers: { "content-type": up.headers.get("content-type") ?? "application/octet-stream" } });
    },
  });
  return {
    services,
    appUrl,
    passthroughUrl: `http://127.0.0.1:${pass.port}`,
    stop: async () => {
      await app.stop(true);
      pass.stop(true);
      for (const fn of services.onShutdown.splice(0)) await fn();
      fake.kill();
    },
  };
}

// ------------------------------------------------------------------------------- measuring

/** True once the bytes read so far hold something a client could act on (see file comment). */
type Usable = (received: Uint8Array[]) => boolean;
const anyBytes: Usable = (r) => r.some((c) => c.length > 0);
/** The first event-stream frame is complete: its 4-byte total_length is known and reached. */
const firstFrame: Usable = (r) => {
  const all = Buffer.concat(r);
  return all.length >= 4 && all.length >= all.readUInt32BE(0);
};

type Target = { name: string; once: () => Promise<Response>; check: (body: string) => void; usable: Usable };
type Sample = { cpuMs: number; requests: number; ttfb: number[] };

/** One streamed request read to the end; returns its time to the first usable bytes. */
async function timedRequest(t: Target): Promise<number> {
  const t0 = performance.now();
  const r = await t.once();
  const reader = r.body!.getReader();
  let ttfb = -1;
  const received: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (ttfb < 0) {
      if (value) received.push(value);
      if (done || t.usable(received)) ttfb = performance.now() - t0;
    }
    if (done) return ttfb;
  }
}

async function sample(t: Target, requests: number): Promise<Sample> {
  Bun.gc(true);
  const ttfb: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < requests; i++) ttfb.push(await timedRequest(t));
  // Each target pays for collecting its own garbage: a full GC inside its window, so a route's
  // garbage is not collected (and billed) during the next target's requests.
  Bun.gc(true);
  const cpu = process.cpuUsage(cpu0);
  return { cpuMs: (cpu.user + cpu.system) / 1000, requests, ttfb };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * p)]!;

/**
 * Paired measurement: after the warm-up, ROUNDS rounds each run every target for REQUESTS/ROUNDS
 * requests, and a route's ratio is the median over rounds of its CPU against the passthrough's CPU
 * *in the same round*. This machine's speed drifts by ±20 % over tens of seconds (shared 2-core
 * VM); measuring the passthrough once and the routes later folded that drift into the ratio.
 */
async function measureAll(targets: Target[]): Promise<Row[]> {
  for (const t of targets) for (let i = 0; i < WARMUP; i++) t.check(await (await t.once()).text());
  const perRound = Math.max(1, Math.round(REQUESTS / ROUNDS));
  const samples: Sample[][] = targets.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < targets.length; i++) samples[i]!.push(await sample(targets[i]!, perRound));
  }
  const perFrame = (x: Sample) => (x.cpuMs / (x.requests * FRAMES_PER_REQUEST)) * 1000;
  return targets.map((t, i) => {
    const mine = samples[i]!;
    const ttfb = mine.flatMap((x) => x.ttfb);
    return {
      name: t.name,
      cpuMsPer1000Frames: median(mine.map(perFrame)),
      ratio: median(mine.map((x, r) => perFrame(x) / perFrame(samples[0]![r]!))),
      ttfbP50Ms: pct(ttfb, 0.5),
      ttfbP90Ms: pct(ttfb, 0.9),
    };
  });
}

function passthrough(c: Ctx): Target {
  return {
    name: "raw passthrough",
    // The same request as the /v1/messages row sends (body and headers), so both pay to send it.
    once: () => fetch(c.passthroughUrl, { method: "POST", headers: { "x-api-key": TEST_CLIENT_KEY, "content-type": "application/json" }, body: ANTHROPIC_BODY }),
    check: (b) => {
      if (b.length < FRAMES_PER_REQUEST * 100) throw new Error("passthrough returned a short body");
    },
    usable: firstFrame,
  };
}

const ANTHROPIC_BODY = JSON.stringify({ model: "claude-sonnet-4-6", max_tokens: 32000, stream: true, messages: [{ role: "user", content: PROMPT }] });

function anthropic(c: Ctx): Target {
  return {
    name: "POST /v1/messages",
    once: () => fetch(`${c.appUrl}/v1/messages`, { method: "POST", headers: { "x-api-key": TEST_CLIENT_KEY, "content-type": "application/json" }, body: ANTHROPIC_BODY }),
    check: (b) => {
      if (!b.includes("event: message_stop")) throw new Error(`/v1/messages did not complete: ${b.slice(0, 300)}`);
    },
    usable: anyBytes,
  };
}

function openai(c: Ctx): Target {
  const body = JSON.stringify({ model: "claude-sonnet-4-6", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: PROMPT }] });
  return {
    name: "POST chat/completions",
    once: () => fetch(`${c.appUrl}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${TEST_CLIENT_KEY}`, "content-type": "application/json" }, body }),
    check: (b) => {
      if (!b.endsWith("data: [DONE]\n\n")) throw new Error(`/v1/chat/completions did not complete: ${b.slice(0, 300)}`);
    },
    usable: anyBytes,
  };
}

// ------------------------------------------------------------------------------- main

for (const mode of MODES) {
  const ctx = await setup(mode);
  try {
    const targets = [passthrough(ctx)];
    if (ONLY !== "chat") targets.push(anthropic(ctx));
    if (ONLY !== "messages") targets.push(openai(ctx));
    const rows = await measureAll(targets);
    const base = rows[0]!;
    console.log(`\n${mode}: ${REQUESTS} streamed requests per route × ${FRAMES_PER_REQUEST} upstream frames each, in ${ROUNDS} interleaved rounds, after ${WARMUP} warm-up requests per route\n`);
    console.log("route                 CPU ms/1000 frames   × passthrough   TTFB p50 ms   added p50 ms   TTFB p90 ms");
    for (const r of rows) {
      console.log(
        `${r.name.padEnd(22)}${r.cpuMsPer1000Frames.toFixed(2).padStart(18)}${r.ratio.toFixed(2).padStart(16)}` +
          `${r.ttfbP50Ms.toFixed(2).padStart(14)}${(r.ttfbP50Ms - base.ttfbP50Ms).toFixed(2).padStart(15)}${r.ttfbP90Ms.toFixed(2).padStart(14)}`,
      );
    }
  } finally {
    await ctx.stop();
  }
}
