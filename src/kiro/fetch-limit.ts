/**
 * Bun's limit on concurrent fetch requests. Bun reads BUN_CONFIG_MAX_HTTP_REQUESTS (an integer
 * 1–65535, default 256) from the environment once, when the process starts; setting
 * process.env later has no effect (measured: 600 held-open fetches, 256 reach the server; with
 * the variable set at start, all 600 do). The compiled binary ignores .env files
 * (--no-compile-autoload-dotenv) and bunfig.toml has no such key, so the only way to raise the
 * limit from a setting is to start the process again with the variable set: on Linux and macOS
 * the process replaces itself with execve (same pid, same stdio: service managers and Kiro Account
 * Manager see nothing), elsewhere the limit stays and the upstream slots are sized to it.
 */

/** KIRO_MAX_UPSTREAM_REQUESTS when it is not set (src/config/schema.ts uses this one). */
export const DEFAULT_UPSTREAM_REQUESTS = 2048;

/** Bun's default when the variable is absent or invalid. */
export const BUN_DEFAULT_FETCH_LIMIT = 256;
/** Set on the replaced process, so a refused limit can never cause a restart loop. */
const REEXEC_MARK = "KIRO_SERVER_FETCH_LIMIT_REEXEC";

/** The fetch limit this process runs with, as Bun parsed it from the environment at start. */
export function bunFetchLimit(env: Record<string, string | undefined> = process.env): number {
  const raw = env.BUN_CONFIG_MAX_HTTP_REQUESTS;
  if (!raw || !/^\d+$/.test(raw.trim())) return BUN_DEFAULT_FETCH_LIMIT;
  const n = Number(raw.trim());
  return n >= 1 && n <= 65535 ? n : BUN_DEFAULT_FETCH_LIMIT;
}

export type ReexecOutcome =
  | { kind: "not_needed" }
  /** Could not restart (platform, or the restart already happened once): slots use `limit`. */
  | { kind: "unavailable"; limit: number; why: string };

/**
 * Restarts this process with BUN_CONFIG_MAX_HTTP_REQUESTS = `wanted` when its own limit is lower.
 * Does not return when the restart happens. Call it first thing, before anything is opened.
 */
export async function ensureFetchLimit(wanted: number, env: Record<string, string | undefined> = process.env): Promise<ReexecOutcome> {
  const current = bunFetchLimit(env);
  if (current >= wanted) return { kind: "not_needed" };
  if (env[REEXEC_MARK]) return { kind: "unavailable", limit: current, why: "the restarted process still has the old limit" };
  if (process.platform !== "linux" && process.platform !== "darwin") {
    return { kind: "unavailable", limit: current, why: `restarting is not supported on ${process.platform}; set BUN_CONFIG_MAX_HTTP_REQUESTS=${wanted} before starting` };
  }
  const compiled = Bun.main.startsWith("/$bunfs/");
  const argv = compiled
    ? [process.execPath, ...process.argv.slice(2)]
    : [process.execPath, ...process.execArgv, Bun.main, ...process.argv.slice(2)];
  const nextEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) nextEnv[k] = v;
  nextEnv.BUN_CONFIG_MAX_HTTP_REQUESTS = String(wanted);
  nextEnv[REEXEC_MARK] = "1";
  const why = await execve(process.execPath, argv, nextEnv);
  return { kind: "unavailable", limit: current, why };
}

/** Commands that never open upstream connections: no restart for them. */
const NO_UPSTREAM = new Set(["import", "codex-config", "migrate-store", "--help", "-h", "--version", "-v"]);

/**
 * KIRO_MAX_UPSTREAM_REQUESTS as the command line (`--max-upstream-requests N` or `=N`) or the
 * environment gives it, read without the config loader (which comes with the whole program);
 * undefined when absent or not a valid value (the config loader reports that later).
 */
export function wantedUpstreamRequests(argv: string[], env: Record<string, string | undefined> = process.env): number | undefined {
  let raw: string | undefined = env.KIRO_MAX_UPSTREAM_REQUESTS;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--max-upstream-requests") raw = argv[i + 1];
    else if (a.startsWith("--max-upstream-requests=")) raw = a.slice("--max-upstream-requests=".length);
  }
  if (raw === undefined || raw.trim() === "") return DEFAULT_UPSTREAM_REQUESTS;
  const n = Number(raw.trim());
  return Number.isInteger(n) && n >= 1 && n <= 65535 ? n : undefined;
}

/**
 * The same restart as ensureFetchLimit, decided from the command line and the environment alone,
 * first thing in src/index.ts: a restart then costs Bun's start-up only (measured on the compiled
 * binary: ~40 ms of CPU more when the whole program had been loaded first). Not for commands that
 * never call the upstream. Returns like ensureFetchLimit when no restart happens.
 */
export async function raiseFetchLimitEarly(argv: string[], env: Record<string, string | undefined> = process.env): Promise<ReexecOutcome> {
  if (argv.some((a) => NO_UPSTREAM.has(a))) return { kind: "not_needed" };
  const wanted = wantedUpstreamRequests(argv, env);
  if (wanted === undefined) return { kind: "not_needed" };
  return ensureFetchLimit(wanted, env);
}

/** Replaces the process image; returns only on failure (with the reason). */
async function execve(path: string, argv: string[], env: Record<string, string>): Promise<string> {
  try {
    const { dlopen, FFIType, ptr } = await import("bun:ffi");
    const libc = process.platform === "darwin" ? "/usr/lib/libSystem.B.dylib" : "libc.so.6";
    const lib = dlopen(libc, { execve: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 } });
    const keep: Buffer[] = [];
    const cstr = (s: string) => {
      const b = Buffer.from(`${s}\0`, "utf8");
      keep.push(b);
      return ptr(b);
    };
    const array = (items: string[]) => {
      const a = new BigUint64Array(items.length + 1);
      items.forEach((s, i) => (a[i] = BigInt(cstr(s))));
      keep.push(Buffer.from(a.buffer));
      return ptr(a);
    };
    const rc = lib.symbols.execve(cstr(path), array(argv), array(Object.entries(env).map(([k, v]) => `${k}=${v}`)));
    lib.close();
    return `execve failed (${rc})`;
  } catch (err) {
    return `execve unavailable: ${err instanceof Error ? err.message : String(err)}`;
  }
}
