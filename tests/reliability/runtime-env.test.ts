/**
 * Runtime settings that ride along the in-place restart (src/runtime-env.ts): defaults fill only
 * what the environment leaves unset, and the Bun in use accepts each of them (it refuses to start
 * on an unknown BUN_JSC_ option, which would stop the server at its restart).
 */
import { expect, test } from "bun:test";
import { RUNTIME_DEFAULTS, withRuntimeDefaults } from "../../src/runtime-env";

test("defaults fill unset or empty variables and keep an operator's own value", () => {
  expect(withRuntimeDefaults({ PATH: "/bin" })).toEqual({ PATH: "/bin", ...RUNTIME_DEFAULTS });
  expect(RUNTIME_DEFAULTS.BUN_JSC_useFTLJIT).toBe("0");
  expect(withRuntimeDefaults({ BUN_JSC_useFTLJIT: "" }).BUN_JSC_useFTLJIT).toBe("0");
  expect(withRuntimeDefaults({ BUN_JSC_useFTLJIT: "1" }).BUN_JSC_useFTLJIT).toBe("1");
  // The caller's object is not changed.
  const env: Record<string, string | undefined> = { A: "1" };
  withRuntimeDefaults(env);
  expect(env).toEqual({ A: "1" });
});

test("this Bun starts with every runtime default set", async () => {
  const proc = Bun.spawn([process.execPath, "-e", "console.log('started')"], {
    env: { ...process.env, ...RUNTIME_DEFAULTS },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect(err).not.toContain("invalid JSC environment variable");
  expect({ code, out: out.trim() }).toEqual({ code: 0, out: "started" });
});

test("the allocator reads its settings (mimalloc lists its options when verbose)", async () => {
  const proc = Bun.spawn([process.execPath, "-e", "0"], {
    env: { ...process.env, ...RUNTIME_DEFAULTS, MIMALLOC_VERBOSE: "1" },
    stdout: "ignore",
    stderr: "pipe",
  });
  const [err, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  expect(code).toBe(0);
  expect(err).toContain(`option 'purge_delay': ${RUNTIME_DEFAULTS.MIMALLOC_PURGE_DELAY}`);
  expect(err).toContain(`option 'purge_holes_min_interval': ${RUNTIME_DEFAULTS.MIMALLOC_PURGE_HOLES_MIN_INTERVAL}`);
});

test("JavaScriptCore takes the BUN_JSC_ settings (it lists the ones changed from its defaults)", async () => {
  const proc = Bun.spawn([process.execPath, "-e", "0"], {
    env: { ...process.env, ...RUNTIME_DEFAULTS, BUN_JSC_dumpOptions: "1" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect(code).toBe(0);
  const listed = out + err;
  expect(listed).toContain("useWarmUpMarkedBlocks=false");
  expect(listed).toContain("useFTLJIT=false");
  expect(listed).toContain(`thresholdForJITAfterWarmUp=${RUNTIME_DEFAULTS.BUN_JSC_thresholdForJITAfterWarmUp}`);
});
