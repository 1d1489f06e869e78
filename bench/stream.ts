/**
 * Streaming overhead benchmark: CPU time per 1000 upstream frames and added time-to-first-byte
 * of kiro-server's dialect routes, against a raw byte passthrough of the same upstream stream.
 *
 *   bun bench/stream.ts [--requests N] [--frames N]
 *
 * The fake Kiro runs in its own process (tests/fake-kiro/main.ts) so its frame encoding is not
 * counted; this process holds the client, kiro-server and the passthrough, so the client's own
 * reading cost is in every row alike. Each request asks for `[[fake:long:N]]` (N = --frames, 400).
 * The fake runs with --per-frame: one write per frame, as a real upstream flushes each event while
 * it generates. (Its default random 1–97-byte splits are for decoder tests: every split costs the
 * passthrough a read and a write too, which inflates the baseline and flatters the ratio.)
 * Targets (issue 5): route CPU ≤ 1.5× passthrough, added TTFB p50 < 1 ms.
 *
 * TTFB is "time to the first usable bytes": for a route, its first body bytes (message_start /
 * the role chunk, written as soon as the first upstream event is decoded); for the passthrough,
 * the bytes of the first *complete* upstream frame (a route can only answer once a whole frame,
 * CRC included, is in).
 *
 * One function per route: benchAnthropic (POST /v1/messages); the OpenAI route goes next to it.
 */
import { createApp } from "../src/app";
import type { CanonicalRequest } from "../src/core/canonical";
import { buildKiroRequest } from "../src/kiro/request/build";
import { kiroHeaders } from "../src/kiro/request/headers";
import { isUnavailable } from "../src/pool/types";
import type { Services } from "../src/services";
import { TEST_CLIENT_KEY, makeServices } from "../tests/support/app";

// --frames N: answer length in upstream frames. Per-request costs (validation, request building,
// pool, fetch set-up) are spread over the frames, so short and long answers show different ratios.
const FRAMES_PER_REQUEST = Number(process.argv[process.argv.indexOf("--frames") + 1]) || 400;
const PROMPT = `Write a long answer [[fake:long:${FRAMES_PER_REQUEST}]]`;
const REQUESTS = Number(process.argv[process.argv.indexOf("--requests") + 1]) || 40;

type Ctx = { services: Services; appUrl: string; passthroughUrl: string; stop: () => Promise<void> };
type Row = { name: string; cpuMsPer1000Frames: number; ttfbP50Ms: number; ttfbP90Ms: number };

// ------------------------------------------------------------------------------- setup

async function startFake(): Promise<{ apiUrl: string; authUrl: string; oidcUrl: string; refreshToken: string; kill: () => void }> {
  const refreshToken = `aorA${"benchRefreshTokenForTheFakeKiro".repeat(4)}`;
  const proc = Bun.spawn(["bun", "tests/fake-kiro/main.ts", "--port", "0", "--refresh-token", refreshToken, "--no-rotate", "--per-frame"], {
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

async function setup(): Promise<Ctx> {
  const fake = await startFake();
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
    model: "claude-sonnet-4-6",
    system: "",
    messages: [{ role: "user", content: [{ type: "text", text: PROMPT }] }],
    tools: [],
    maxTokens: 32000,
    stopSequences: [],
    thinking: { type: "disabled" },
    metadata: { dialect: "anthropic" },
  };
  const built = buildKiroRequest(canonical, { profileArn: creds.profileArn });
  const body = JSON.stringify(built.body);
  const pass = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch() {
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

async function measure(name: string, once: () => Promise<Response>, check: (body: string) => void, usable: Usable = anyBytes): Promise<Row> {
  // Warm-up: JIT tiers (compiled on background threads whose CPU would land in the measurement),
  // the tokenizer's first load, connections. 20 rather than 5: with 5, later tiers of the route's
  // hot functions still compiled during the measured requests. Same for every row.
  for (let i = 0; i < 20; i++) check(await (await once()).text());
  const ttfb: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < REQUESTS; i++) {
    const t0 = performance.now();
    const r = await once();
    const reader = r.body!.getReader();
    let first = true;
    const received: Uint8Array[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (first) {
        if (value) received.push(value);
        if (done || usable(received)) {
          ttfb.push(performance.now() - t0);
          first = false;
        }
      }
      if (done) break;
    }
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  ttfb.sort((a, b) => a - b);
  return {
    name,
    cpuMsPer1000Frames: (cpuMs / (REQUESTS * FRAMES_PER_REQUEST)) * 1000,
    ttfbP50Ms: ttfb[Math.floor(ttfb.length * 0.5)]!,
    ttfbP90Ms: ttfb[Math.floor(ttfb.length * 0.9)]!,
  };
}

function benchPassthrough(c: Ctx): Promise<Row> {
  return measure(
    "raw passthrough",
    () => fetch(c.passthroughUrl, { method: "POST" }),
    (b) => {
      if (b.length < 10_000) throw new Error("passthrough returned a short body");
    },
    firstFrame,
  );
}

function benchAnthropic(c: Ctx): Promise<Row> {
  const body = JSON.stringify({ model: "claude-sonnet-4-6", max_tokens: 32000, stream: true, messages: [{ role: "user", content: PROMPT }] });
  return measure(
    "POST /v1/messages",
    () => fetch(`${c.appUrl}/v1/messages`, { method: "POST", headers: { "x-api-key": TEST_CLIENT_KEY, "content-type": "application/json" }, body }),
    (b) => {
      if (!b.includes("event: message_stop")) throw new Error(`/v1/messages did not complete: ${b.slice(0, 300)}`);
    },
  );
}

function benchOpenAI(c: Ctx): Promise<Row> {
  const body = JSON.stringify({ model: "claude-sonnet-4-6", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: PROMPT }] });
  return measure(
    "POST chat/completions",
    () => fetch(`${c.appUrl}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${TEST_CLIENT_KEY}`, "content-type": "application/json" }, body }),
    (b) => {
      if (!b.endsWith("data: [DONE]\n\n")) throw new Error(`/v1/chat/completions did not complete: ${b.slice(0, 300)}`);
    },
  );
}

// ------------------------------------------------------------------------------- main

const ctx = await setup();
try {
  const base = await benchPassthrough(ctx);
  const rows = [base, await benchAnthropic(ctx), await benchOpenAI(ctx)];
  console.log(`${REQUESTS} streamed requests × ${FRAMES_PER_REQUEST} upstream frames each\n`);
  console.log("route                 CPU ms/1000 frames   × passthrough   TTFB p50 ms   added p50 ms   TTFB p90 ms");
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(22)}${r.cpuMsPer1000Frames.toFixed(2).padStart(18)}${(r.cpuMsPer1000Frames / base.cpuMsPer1000Frames).toFixed(2).padStart(16)}` +
        `${r.ttfbP50Ms.toFixed(2).padStart(14)}${(r.ttfbP50Ms - base.ttfbP50Ms).toFixed(2).padStart(15)}${r.ttfbP90Ms.toFixed(2).padStart(14)}`,
    );
  }
} finally {
  await ctx.stop();
}
