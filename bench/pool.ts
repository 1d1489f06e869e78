/**
 * Pool selection benchmark: 10,000 accounts, per-pick latency (acquire + release) for each
 * strategy, plus memory. Target: < 5 µs median per pick.
 *   bun bench/pool.ts [accounts=10000] [picks=200000]
 */
import { bootServices, shutdownServices } from "../src/boot";
import { loadConfig } from "../src/config/load";
import { isUnavailable } from "../src/pool/types";

const N = Number(process.argv[2] ?? 10_000);
const PICKS = Number(process.argv[3] ?? 200_000);
const mb = (b: number) => `${(b / 1048576).toFixed(1)} MB`;

const { config } = loadConfig([], {});
const { services: s } = await bootServices({ ...config, dbPath: ":memory:", clientToken: "bench", adminToken: "bench-admin", logLevel: "error" });
Bun.gc(true);
const mem0 = process.memoryUsage();

const tAdd = performance.now();
for (let i = 0; i < N; i++) {
  const r = await s.pool.upsert({ kind: "social", refreshToken: `aorAbench-${i}-`.padEnd(200, "b"), label: `bench-${i}` });
  // Half the accounts have a polled quota (varied credits), half are unknown yet.
  if (i % 2 === 0) s.pool.applyQuota(r.id, { used: 0, limit: 50 + (i % 500), remaining: 50 + (i % 500), fetchedAt: Date.now() });
}
const addMs = performance.now() - tAdd;
s.pool.flush();
Bun.gc(true);
const mem1 = process.memoryUsage();

function bench(strategy: "balanced" | "round-robin" | "priority", withAffinity = false) {
  s.settings.update({ strategy });
  const times = new Float64Array(PICKS);
  for (let i = 0; i < 2000; i++) { const l = s.pool.acquire(); if (!isUnavailable(l)) l.release(); } // warm-up
  for (let i = 0; i < PICKS; i++) {
    const opts = withAffinity ? { conversationId: `c${i % 5000}` } : undefined;
    const t0 = Bun.nanoseconds();
    const l = s.pool.acquire(opts);
    const t1 = Bun.nanoseconds();
    times[i] = t1 - t0;
    if (isUnavailable(l)) throw new Error(l.message);
    l.release();
  }
  times.sort();
  const q = (p: number) => (times[Math.floor(p * (PICKS - 1))]! / 1000).toFixed(2);
  console.log(`${(strategy + (withAffinity ? " + affinity" : "")).padEnd(22)} median ${q(0.5)} µs   p90 ${q(0.9)} µs   p99 ${q(0.99)} µs`);
}

console.log(`accounts: ${N} (added in ${(addMs / 1000).toFixed(2)} s, ${((addMs * 1000) / N).toFixed(0)} µs each incl. encryption + insert)`);
console.log(`memory for the pool: heap +${mb(mem1.heapUsed - mem0.heapUsed)}, rss +${mb(mem1.rss - mem0.rss)} (rss ${mb(mem1.rss)})`);
console.log(`pick = acquire() incl. selection event; ${PICKS} picks each:`);
bench("balanced");
bench("round-robin");
bench("priority");
bench("balanced", true);
await shutdownServices(s);
