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
 * Bun rejects an unknown BUN_JSC_ option at start, so tests/reliability/runtime-env.test.ts
 * checks that the Bun in use accepts it.
 */
export const RUNTIME_DEFAULTS: Readonly<Record<string, string>> = {
  BUN_JSC_useFTLJIT: "0",
};

/** `env` with every runtime default it does not set itself. */
export function withRuntimeDefaults(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const out = { ...env };
  for (const [k, v] of Object.entries(RUNTIME_DEFAULTS)) if (out[k] === undefined || out[k] === "") out[k] = v;
  return out;
}
