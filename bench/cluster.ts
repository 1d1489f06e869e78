/**
 * PostgreSQL mode next to SQLite mode: what the shared database adds to the request path.
 *
 *   bun bench/cluster.ts [--accounts 8] [--requests 1000] [--rounds 50] [--frames 20] [--warmup 60]
 *                        [--picks 30000] [--pick-rounds 6] [--no-count] [--db-delay-ms 0]
 *
 * Starts a throwaway PostgreSQL cluster (tests/support/postgres.ts), the fake Kiro with --accounts
 * accounts (bench/lib/fake-upstream.ts, paced: one write per frame), the raw passthrough
 * (bench/lib/passthrough.ts) and two kiro-servers, each in its own process and up at once: one on
 * a SQLite file, one on the PostgreSQL database (DATABASE_URL, KIRO_SECRET_KEY), its connection
 * relayed through bench/lib/pg-wire-count.ts, which counts every statement it sends (--no-count:
 * connected directly, to see what the relay itself costs on a small machine; --db-delay-ms N: the
 * relay holds each of the database's answers back N ms, a database that far away — if the request
 * path waited on it, the added time to first text would grow by at least N).
 *
 * 1. Added time to first text: --requests streamed POST /v1/messages per target (answers of
 *    --frames frames) in --rounds interleaved rounds whose order rotates, after --warmup requests
 *    each. "First text" is the client holding the first complete text event (for the passthrough,
 *    the first complete upstream text frame: the same upstream frame every target waits for);
 *    "added" = a server's percentile minus the passthrough's. Target: PostgreSQL mode's added time
 *    within 1 ms of SQLite mode's. The statements the PostgreSQL-mode server sent while its
 *    requests were measured are counted by kind: writes batched on short timers (key usage with
 *    its cluster totals, account counters, the request log) and the change feed's reconcile; no
 *    request waits for one.
 * 2. Pick latency: the real AccountPool's acquire() — synchronous, it cannot wait on a database —
 *    timed in this process on two booted service sets (src/boot.ts, as the server boots them) with
 *    the same accounts: one on a SQLite file, one on the same PostgreSQL database as the server
 *    above, its store attached and change feed running (a second instance of that cluster). Between
 *    batches of 5 picks the event loop runs (timers, write queues, the feed); meanwhile this
 *    process keeps one request at a time going to the same-mode server, so in PostgreSQL mode the
 *    feed delivers that server's key-usage announcements during the picks. Each pick is followed
 *    by the lease's success() and release(), as a request does. Rounds alternate the two modes.
 *
 * Numbers are written down in docs/multi-instance.md and the README's bench table.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootServices, shutdownServices } from "../src/boot";
import { loadConfig } from "../src/config/load";
import type { Services } from "../src/services";
import { isUnavailable } from "../src/pool/types";
import { startPostgres } from "../tests/support/postgres";
import { authTokenJson, spawnKiroServer, spawnReady, stopAll, untilServing, type FakeUrls, type Proc } from "./lib/kiro-procs";
import { anthropicTarget, benchRefreshTokens, longPrompt, passthroughTarget, timedRequest, type Target } from "./lib/stream-clients";
import { arg, num } from "./lib/args";
import { pct } from "./lib/stats";

const ACCOUNTS = num("accounts", 8);
const REQUESTS = num("requests", 1000);
const ROUNDS = num("rounds", 50);
const FRAMES = num("frames", 20);
const WARMUP = num("warmup", 60);
const PICKS = num("picks", 30_000);
const PICK_ROUNDS = num("pick-rounds", 6);
const CLIENT_KEY = "bench-client-key";
const SECRET_KEY = "bench-secret-key-for-both-modes";
const PER_ACCOUNT = 4;
const MODEL = "claude-sonnet-4.5";
const COUNT = !process.argv.includes("--no-count");
const DB_DELAY_MS = num("db-delay-ms", 0);
if (!COUNT && DB_DELAY_MS) throw new Error("--db-delay-ms needs the relay (drop --no-count)");

type Counts = { total: number; byKind: Record<string, number> };
const diff = (a: Counts, b: Counts): Counts => ({
  total: b.total - a.total,
  byKind: Object.fromEntries(Object.entries(b.byKind).map(([k, v]) => [k, v - (a.byKind[k] ?? 0)]).filter(([, v]) => (v as number) > 0)),
});
const add = (a: Counts, b: Counts): Counts => {
  const byKind = { ...a.byKind };
  for (const [k, v] of Object.entries(b.byKind)) byKind[k] = (byKind[k] ?? 0) + v;
  return { total: a.total + b.total, byKind };
};

// ------------------------------------------------------------------------------- processes

const startedAt = performance.now();
const cluster = await startPostgres();
const dbUrl = await cluster.newDatabase("kiro");
const dir = mkdtempSync(join(tmpdir(), "kiro-cluster-bench-"));
const procs: Proc[] = [];
const booted: Services[] = [];
const tokens = benchRefreshTokens(ACCOUNTS);

try {
  const fake = await spawnReady<FakeUrls>(["bench/lib/fake-upstream.ts", "--accounts", String(ACCOUNTS), "--chunking", "frame"]);
  procs.push(fake.proc);
  const refreshed = await fetch(`${fake.info.authUrl.replace("{region}", "us-east-1")}/refreshToken`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ refreshToken: tokens[0] }),
  });
  const { accessToken } = (await refreshed.json()) as { accessToken: string };
  const pt = await spawnReady<{ port: number }>(["bench/lib/passthrough.ts"], { PT_API_URL: fake.info.apiUrl, PT_ACCESS_TOKEN: accessToken });
  procs.push(pt.proc);
  const counter = COUNT ? await spawnReady<{ port: number; statsUrl: string }>(["bench/lib/pg-wire-count.ts"], { PGC_TARGET: `127.0.0.1:${cluster.port}`, PGC_DELAY_MS: String(DB_DELAY_MS) }) : undefined;
  if (counter) procs.push(counter.proc);
  const counted = async (): Promise<Counts> => (counter ? ((await fetch(counter.info.statsUrl)).json() as Promise<Counts>) : { total: 0, byKind: {} });

  const common = { dir, fake: fake.info, tokens, clientKey: CLIENT_KEY, perAccount: PER_ACCOUNT };
  const lite = spawnKiroServer({ ...common, env: { KIRO_KV_PATH: join(dir, "server.db"), KIRO_SECRET_KEY: SECRET_KEY } });
  procs.push(lite.proc);
  const pgUrlCounted = counter ? dbUrl.replace(`:${cluster.port}/`, `:${counter.info.port}/`) : dbUrl;
  const pg = spawnKiroServer({ ...common, env: { DATABASE_URL: pgUrlCounted, KIRO_SECRET_KEY: SECRET_KEY, KIRO_INSTANCE_ID: "bench-pg" } });
  procs.push(pg.proc);
  await Promise.all([untilServing(lite.proc, lite.url, CLIENT_KEY), untilServing(pg.proc, pg.url, CLIENT_KEY)]);

  // ----------------------------------------------------------------------------- time to first text

  const targets: Array<{ label: string; t: Target; ft: number[] }> = [
    { label: "passthrough", t: passthroughTarget(`http://127.0.0.1:${pt.info.port}`, CLIENT_KEY, pt.proc.pid), ft: [] },
    { label: "SQLite", t: anthropicTarget(lite.url, CLIENT_KEY, lite.proc.pid), ft: [] },
    { label: "PostgreSQL", t: anthropicTarget(pg.url, CLIENT_KEY, pg.proc.pid), ft: [] },
  ];
  process.stderr.write(`warm-up: ${WARMUP} requests per target…\n`);
  for (const { t } of targets) for (let i = 0; i < WARMUP; i++) t.check((await timedRequest(t, longPrompt(FRAMES), true)).body, FRAMES);

  process.stderr.write(`time to first text: ${REQUESTS} requests per target in ${ROUNDS} rounds…\n`);
  const perWindow = Math.max(1, Math.round(REQUESTS / ROUNDS));
  let pgStatements: Counts = { total: 0, byKind: {} };
  let pgWindowMs = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < targets.length; k++) {
      const target = targets[(round + k) % targets.length]!;
      const isPg = target.label === "PostgreSQL";
      const before = isPg ? await counted() : undefined;
      const t0 = performance.now();
      for (let i = 0; i < perWindow; i++) target.ft.push((await timedRequest(target.t, longPrompt(FRAMES), false)).firstTextMs);
      if (before) {
        pgWindowMs += performance.now() - t0;
        pgStatements = add(pgStatements, diff(before, await counted()));
      }
    }
  }

  // ----------------------------------------------------------------------------- pick latency

  process.stderr.write(`pick latency: ${PICKS} picks per mode in ${PICK_ROUNDS} alternating rounds…\n`);
  const { config: defaults } = loadConfig([], {});
  const base = {
    ...defaults,
    clientToken: CLIENT_KEY,
    adminToken: "bench-admin-token",
    secretKey: SECRET_KEY,
    authToken: authTokenJson(tokens),
    apiUrl: fake.info.apiUrl,
    authUrl: fake.info.authUrl,
    oidcUrl: fake.info.oidcUrl,
    logLevel: "error" as const,
    accountRpm: 0,
    accountMinSpacingMs: 0,
    accountConcurrency: PER_ACCOUNT,
  };
  const liteSvc = (await bootServices({ ...base, dbPath: join(dir, "picks.db") })).services;
  booted.push(liteSvc);
  const pgSvc = (await bootServices({ ...base, dbPath: join(dir, "unused.db"), databaseUrl: dbUrl, instanceId: "bench-picks" })).services;
  booted.push(pgSvc);
  if (pgSvc.store.engine !== "postgres" || liteSvc.store.engine !== "sqlite") throw new Error(`engines: ${liteSvc.store.engine}, ${pgSvc.store.engine}`);

  const pickUs: Record<"SQLite" | "PostgreSQL", number[]> = { SQLite: [], PostgreSQL: [] };
  const pickRound = async (s: Services, out: number[], server: Target, n: number) => {
    let going = true;
    const traffic = (async () => {
      while (going) await timedRequest(server, longPrompt(4), false);
    })();
    for (let i = 0; i < n; i++) {
      const t0 = Bun.nanoseconds();
      const lease = s.pool.acquire({ model: MODEL });
      const t1 = Bun.nanoseconds();
      if (isUnavailable(lease)) throw new Error(`no account picked: ${lease.message}`);
      out.push((t1 - t0) / 1000);
      lease.success({ usage: { inputTokens: 100, outputTokens: 20 } });
      lease.release();
      if (i % 5 === 4) await Bun.sleep(0);
    }
    going = false;
    await traffic;
  };
  const perRound = Math.ceil(PICKS / PICK_ROUNDS);
  // The other instance's key usage reaches this one only through the change feed.
  const fedBefore = pgSvc.keys.verify(CLIENT_KEY)?.requests ?? 0;
  for (let r = 0; r < PICK_ROUNDS; r++) {
    const order = r % 2 ? (["PostgreSQL", "SQLite"] as const) : (["SQLite", "PostgreSQL"] as const);
    for (const mode of order) {
      const isPg = mode === "PostgreSQL";
      await pickRound(isPg ? pgSvc : liteSvc, pickUs[mode], isPg ? targets[2]!.t : targets[1]!.t, perRound);
    }
  }

  const fed = (pgSvc.keys.verify(CLIENT_KEY)?.requests ?? 0) - fedBefore;

  // ----------------------------------------------------------------------------- report

  const pass = targets[0]!.ft;
  const rows = targets.map(({ label, ft }) => {
    const picks = label === "passthrough" ? undefined : pickUs[label as "SQLite" | "PostgreSQL"];
    return {
      label,
      pick50: picks && pct(picks, 0.5),
      pick99: picks && pct(picks, 0.99),
      ft50: pct(ft, 0.5),
      ft90: pct(ft, 0.9),
      add50: label === "passthrough" ? undefined : pct(ft, 0.5) - pct(pass, 0.5),
      add90: label === "passthrough" ? undefined : pct(ft, 0.9) - pct(pass, 0.9),
    };
  });
  const cell = (x: number | undefined, digits: number, w: number) => (x === undefined ? "—" : x.toFixed(digits)).padStart(w);
  console.log(
    `\nPostgreSQL ${cluster.version} on loopback (fsync off${DB_DELAY_MS ? `, every answer to the server held back ${DB_DELAY_MS} ms` : ""}${COUNT ? "" : ", no counting relay"}) vs SQLite file; ${ACCOUNTS} accounts; POST /v1/messages, ${FRAMES}-frame answers, ` +
      `${REQUESTS} requests per target in ${ROUNDS} interleaved rounds after ${WARMUP} warm-up each; ${PICKS} picks per mode.`,
  );
  console.log(`${"mode".padEnd(12)}${"pick p50 µs".padStart(12)}${"pick p99 µs".padStart(12)}${"first text p50 ms".padStart(19)}${"p90 ms".padStart(8)}${"added p50 ms".padStart(14)}${"added p90 ms".padStart(14)}`);
  for (const r of rows) {
    console.log(r.label.padEnd(12) + cell(r.pick50, 2, 12) + cell(r.pick99, 2, 12) + cell(r.ft50, 2, 19) + cell(r.ft90, 2, 8) + cell(r.add50, 2, 14) + cell(r.add90, 2, 14));
  }
  const [, sq, pq] = rows as [unknown, (typeof rows)[number], (typeof rows)[number]];
  const d50 = pq.add50! - sq.add50!;
  const d90 = pq.add90! - sq.add90!;
  const holds = (d: number) => (d <= 1 ? "holds" : "does NOT hold");
  console.log(
    `Target "added time to first text within 1 ms of SQLite mode": p50 ${d50 >= 0 ? "+" : ""}${d50.toFixed(2)} ms (${holds(d50)}), ` +
      `p90 ${d90 >= 0 ? "+" : ""}${d90.toFixed(2)} ms (${holds(d90)}).`,
  );
  const pgRequests = targets[2]!.ft.length;
  const kinds = Object.entries(pgStatements.byKind).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", ");
  if (COUNT) console.log(
    `Statements the PostgreSQL-mode server sent during its ${pgRequests} measured requests (${(pgWindowMs / 1000).toFixed(1)} s): ` +
      `${pgStatements.total} (${(pgStatements.total / pgRequests).toFixed(2)} per request): ${kinds || "none"}.`,
  );
  console.log(
    fed > 0
      ? `During the PostgreSQL picks the change feed brought in the server's key usage of ${fed} requests (it ran between the picks).`
      : "During the PostgreSQL picks the change feed brought in none of the server's key usage (too few picks to span a usage write; raise --picks).",
  );
} finally {
  for (const s of booted.reverse()) await shutdownServices(s).catch((e) => console.error(`shutdown: ${e}`));
  await stopAll(procs);
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
  console.log(`(bench ran ${((performance.now() - startedAt) / 1000).toFixed(0)} s)`);
}
