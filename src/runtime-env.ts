/**
 * Runtime settings that, like Bun's fetch limit, only take effect when the process starts: they
 * ride along the in-place restart src/index.ts makes to raise that limit (src/kiro/fetch-limit.ts),
 * so they apply to every normal start (KIRO_MAX_UPSTREAM_REQUESTS defaults above Bun's 256). A
 * value the environment already has is kept, so an operator can override each one. When no
 * restart happens (BUN_CONFIG_MAX_HTTP_REQUESTS already high enough, or a platform without execve)
 * the process runs with Bun's defaults.
 *
 * BUN_JSC_useFTLJIT=0: JavaScriptCore stops at its DFG tier and never runs FTL, its most
 * optimising one. Measured with bench/memory.ts (idle RSS after 1,000 requests): −2.2 MiB of the
 * executable's code pages (FTL's compiler is never touched) and 2–5 MiB less held by the JIT
 * threads, whose compiles are smaller. bench/stream.ts --mode burst (three A/B runs, each side
 * with and without): no CPU cost measurable on this machine — the FTL-less side was within the
 * run-to-run noise or cheaper on all three routes, and its JIT thread spent less CPU compiling.
 *
 * The thresholdFor… settings: JavaScriptCore compiles a function to its baseline JIT after ~500
 * and to DFG after ~1,000 runs (its defaults). The per-frame code gets there within a few
 * requests, but what runs once per request (body decoding, validation, the request build, the
 * request log, the summary line) needs about a thousand requests, so a server that has answered
 * 800 still spent 164 µs of JIT-thread CPU per request compiling it (64 DFG compiles, 65 ms, in
 * the next 400 requests; after 1,500 it was 16 compiles, 3.5 ms), and ran that code in the slower
 * tiers meanwhile. At 100 / 200 the same point comes after a few hundred requests: 3 compiles,
 * 4 ms, in the 400 requests after the first 800 (bench/jit.ts; another run: 6 compiles, 2.9 ms,
 * against 44 compiles, 52 ms with JavaScriptCore's thresholds). Measured with
 * bench/stream.ts (paced, /v1/messages, A/B in one run with the sides swapped): −6 % and −4 % of
 * the server's CPU per 400-frame request. Memory unchanged: bench/memory.ts on the compiled
 * executable settled at 74.7 and 75.0 MiB (before: 74.9–79.8).
 *
 * MIMALLOC_PURGE_DELAY / MIMALLOC_PURGE_HOLES_MIN_INTERVAL at 10,000 ms (Bun's allocator, mimalloc,
 * otherwise hands freed pages back to the system within ~100 ms, and a streamed answer frees and
 * reallocates the same pages many times a second, so its scavenger thread kept returning pages the
 * next request faulted straight back in). At 1,000 ms, measured with bench/stream.ts (paced,
 * /v1/messages, A/B in one run with the sides swapped): the scavenger thread 245–258 → 81–91 µs
 * per request, minor page faults 40–48 → 23–34, the server's CPU per 400-frame request −4.5 % and
 * −13 %; either setting alone changed nothing. At 10,000 ms against 1,000 (with the warm-up thread
 * below off, which leaves every fault to the main thread): bench/ab.ts, 400-frame answers, 200
 * rounds, the sides swapped, −387 ± 71 µs per request on /v1/messages and −398 ± 68 on
 * /v1/chat/completions (~6.5 %); in bench/stream.ts the scavenger thread fell from 65–292 µs per
 * request to under 40 and the minor faults from ~35 to ~3. The idle trim (src/http/idle-trim.ts)
 * still gives the memory back: bench/memory.ts on the compiled executable settled at 75.6 and
 * 75.9 MiB (at 1,000: 74.8 and 75.0), 4 s after the last request ~8 MiB above, and fresh after
 * start ~6 MiB above until its first 10 s have passed.
 * BUN_JSC_useWarmUpMarkedBlocks=0: JavaScriptCore's `JSCWarmUp` helper thread keeps 32 of the
 * collector's 16 KiB blocks ready with their pages already faulted in, so a mutator that grows its
 * heap fast does not take those faults itself. A streaming server reuses the same few MiB of heap
 * all the time, and the thread kept refilling its supply anyway: 93–316 µs of its CPU per request
 * in bench/stream.ts runs. Off, measured with bench/ab.ts (400-frame /v1/messages, 150 rounds,
 * the sides swapped): −323 ± 72 and −311 ± 76 µs per request (~5 %), the whole process counted,
 * the faults the main thread now takes included; bench/memory.ts on the compiled executable
 * settled where it did (the 32 blocks it held were 0.5 MiB).
 * Bun rejects an unknown BUN_JSC_ option at start, so tests/reliability/runtime-env.test.ts
 * checks that the Bun in use accepts it.
 */
const TIER_UP = {
  BUN_JSC_thresholdForJITAfterWarmUp: "100",
  BUN_JSC_thresholdForOptimizeAfterWarmUp: "200",
  BUN_JSC_thresholdForOptimizeAfterLongWarmUp: "200",
  BUN_JSC_thresholdForOptimizeSoon: "200",
};

/** Read by mimalloc at start; see above. */
const ALLOCATOR = {
  MIMALLOC_PURGE_DELAY: "10000",
  MIMALLOC_PURGE_HOLES_MIN_INTERVAL: "10000",
};

export const RUNTIME_DEFAULTS: Readonly<Record<string, string>> = {
  BUN_JSC_useFTLJIT: "0",
  BUN_JSC_useWarmUpMarkedBlocks: "0",
  ...TIER_UP,
  ...ALLOCATOR,
};

/** `env` with every runtime default it does not set itself. */
export function withRuntimeDefaults(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const out = { ...env };
  for (const [k, v] of Object.entries(RUNTIME_DEFAULTS)) if (out[k] === undefined || out[k] === "") out[k] = v;
  return out;
}
