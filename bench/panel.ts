/**
 * Panel render times with 1,000 accounts and 1,000,000 request-log rows over 30 days.
 * Budgets: the Usage page < 100 ms server time per range at 1,000,000 rows (served from the
 * rollups); every other page < 50 ms at 100,000 rows (ROWS=100000).
 * Run: npx bun bench/panel.ts   (uses a temporary on-disk database; nothing leaves 127.0.0.1)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../src/app";
import { RollingStats } from "../src/panel/shared/rolling";
import { RequestLogQueries } from "../src/logs/request-log";
import { RequestRollups } from "../src/logs/request-rollup";
import { TEST_ADMIN_TOKEN, TEST_CLIENT_KEY, makeServices } from "../tests/support/app";
import { fakeRefreshToken } from "../tests/support/e2e";

const ACCOUNTS = Number(process.env.ACCOUNTS ?? 1000);
const ROWS = Number(process.env.ROWS ?? 1_000_000);
const SPAN_MS = 30 * 86_400_000;
const RUNS = 30;

const dir = mkdtempSync(join(tmpdir(), "kiro-panel-bench-"));
const s = await makeServices({ dbPath: join(dir, "bench.db"), secretKey: "bench-secret-key-0123456789" });
const app = createApp(s);

let t = performance.now();
for (let i = 0; i < ACCOUNTS; i++) {
  await s.pool.upsert({ kind: i % 5 ? "social" : "idc", refreshToken: fakeRefreshToken(), clientId: i % 5 ? undefined : `client-${i}`, clientSecret: i % 5 ? undefined : `secret-${i}`, label: `account-${i}`, email: `user${i}@example.com`, source: "bench" });
}
for (const [i, a] of s.pool.list().entries()) if (i % 6 === 5) s.pool.setEnabled(a.id, false);
console.log(`seeded ${ACCOUNTS} accounts in ${(performance.now() - t).toFixed(0)} ms`);

t = performance.now();
const now = Date.now();
const insert = s.db.$client.prepare(`INSERT INTO request_log (request_id, at, client_key_id, client_key_name, dialect, model, account_id, account_label,
  stream, status, error_type, error_message, latency_ms, ttft_ms, input_tokens, output_tokens, attempts)
  VALUES ($rid, $at, $kid, $kname, $dialect, $model, $aid, $alabel, 1, $status, $etype, $emsg, $lat, $ttft, $in, $out, 1)`);
const ids = s.pool.list().map((a) => [a.id, a.label] as const);
s.db.$client.transaction(() => {
  for (let i = 0; i < ROWS; i++) {
    const err = i % 37 === 0;
    const [aid, alabel] = ids[i % ids.length]!;
    insert.run({
      rid: `req_${i}`, at: now - Math.floor(((ROWS - i) / ROWS) * SPAN_MS), kid: i % 3 ? "k1" : "k2", kname: i % 3 ? "default" : "ci",
      dialect: i % 2 ? "openai" : "anthropic", model: i % 4 ? "claude-sonnet-4-5" : "claude-haiku-4-5", aid, alabel,
      status: err ? 429 : 200, etype: err ? "rate_limit_error" : null, emsg: err ? "throttled upstream" : null,
      lat: 800 + (i % 900), ttft: 200 + (i % 300), in: 1000 + (i % 5000), out: 100 + (i % 800),
    });
  }
})();
console.log(`seeded ${ROWS} request-log rows (30-day span) in ${(performance.now() - t).toFixed(0)} ms`);

// The rollups of an existing log are built once, in the background after start; here in one go.
t = performance.now();
const backfill = new RequestRollups(s.db);
const folded = backfill.catchUp();
console.log(`one-time rollup of ${folded} log rows (minute/hour/day × total/model/account/key): ${(performance.now() - t).toFixed(0)} ms`);

const login = await app.handle(new Request(`http://127.0.0.1/login?token=${TEST_ADMIN_TOKEN}`));
const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
const someId = (s.db.$client.query(`SELECT id FROM request_log ORDER BY id DESC LIMIT 1 OFFSET 5000`).get() as { id: number }).id;

async function measure(path: string, headers: Record<string, string> = { cookie }): Promise<{ median: number; p95: number; bytes: number }> {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < RUNS + 3; i++) {
    const t0 = performance.now();
    const r = await app.handle(new Request(`http://127.0.0.1${path}`, { headers }));
    const body = await r.text();
    const dt = performance.now() - t0;
    if (r.status !== 200) throw new Error(`${path} → ${r.status}: ${body.slice(0, 200)}`);
    bytes = body.length;
    if (i >= 3) times.push(dt);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)]!, p95: times[Math.floor(times.length * 0.95)]!, bytes };
}

const rows: Array<[string, string, Record<string, string>?]> = [
  ["dashboard", "/"],
  ["dashboard live fragment (15 s poll)", "/dashboard/live"],
  ["accounts (page 1 of 10)", "/accounts"],
  ["accounts (page 10)", "/accounts?page=9"],
  ["accounts table fragment", "/accounts/table"],
  ["requests (newest 50)", "/requests"],
  ["requests, errors only", "/requests?status=error"],
  ["requests, model filter", "/requests?model=claude-haiku-4-5&dialect=openai"],
  ["requests, model prefix", "/requests?model=claude-h"],
  ["requests, account prefix", "/requests?account=account-99"],
  ["requests, no-match model (full scan)", "/requests?model=no-such-model"],
  ["requests, no-match key + account", "/requests/rows?key=nobody&account=x%25_y"],
  ["requests, older page", `/requests/rows?before=${someId}`],
  ["request detail", `/requests/${someId}`],
  ["keys (+24 h usage)", "/keys"],
  ["usage, last hour", "/usage?range=hour"],
  ["usage, last day", "/usage?range=day"],
  ["usage, last 7 days", "/usage?range=week"],
  ["usage, last 30 days", "/usage?range=month"],
  ["live logs", "/logs"],
  ["settings", "/settings"],
  ["/api/tokens (client key)", "/api/tokens", { authorization: `Bearer ${TEST_CLIENT_KEY}` }],
  ["/api/tokens (anonymous)", "/api/tokens", {}],
];
console.log(`\nserver time per page (app.handle, ${RUNS} runs after 3 warm-ups):`);
console.log("page".padEnd(38), "median".padStart(9), "p95".padStart(9), "bytes".padStart(9));
let worst = 0;
let worstUsage = 0;
for (const [name, path, headers] of rows) {
  const m = await measure(path, headers);
  if (path.startsWith("/usage")) worstUsage = Math.max(worstUsage, m.p95);
  else worst = Math.max(worst, m.p95);
  console.log(name.padEnd(38), `${m.median.toFixed(2)} ms`.padStart(9), `${m.p95.toFixed(2)} ms`.padStart(9), String(m.bytes).padStart(9));
}

// Charts and per-key usage come from in-memory minute buckets; this is their one-time seed
// (the first dashboard or keys view after start): one GROUP BY over the indexed `at` range.
const cold: number[] = [];
for (let i = 0; i < 10; i++) {
  const r = new RollingStats(new RequestLogQueries(s.db), () => s.requestLog.flush());
  const t0 = performance.now();
  r.series(60_000, 60);
  cold.push(performance.now() - t0);
}
cold.sort((a, b) => a - b);
console.log(`\none-time seed of the rolling 24 h buckets (first view after start): median ${cold[5]!.toFixed(2)} ms, max ${cold[9]!.toFixed(2)} ms`);
console.log(`worst p95, Usage page at ${ROWS} rows: ${worstUsage.toFixed(2)} ms — ${worstUsage < 100 ? "OK (< 100 ms)" : "OVER the 100 ms budget"}`);
console.log(`worst p95, other pages at ${ROWS} rows: ${worst.toFixed(2)} ms — ${ROWS > 100_000 ? "(the 50 ms budget is set at 100,000 rows: ROWS=100000)" : worst < 50 ? "OK (< 50 ms)" : "OVER the 50 ms budget"}`);

for (const fn of s.onShutdown.splice(0)) await fn();
s.db.$client.close();
rmSync(dir, { recursive: true, force: true });
