/**
 * Processes a bench starts: helpers that print one JSON line once ready (the fake Kiro, the
 * passthrough, the statement counter) and kiro-server itself (`bun src/index.ts`), pointed at the
 * fake with the bench's accounts and client key, no pacing per account. Used by bench/cluster.ts and bench/stream.ts.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { RUNTIME_DEFAULTS } from "../../src/runtime-env";
import { anthropicTarget, benchRefreshTokens, longPrompt, timedRequest, type Target } from "./stream-clients";

export type Proc = ReturnType<typeof Bun.spawn>;

/** The repository root (kiro-server's working directory). */
export const ROOT = resolve(import.meta.dir, "../..");

/** Spawns `bun <args>` and returns it with the JSON line it prints once ready. */
export async function spawnReady<T>(args: string[], env: Record<string, string> = {}): Promise<{ proc: Proc; info: T }> {
  const proc = Bun.spawn([process.execPath, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdout: "pipe", stderr: "inherit" });
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${args.at(-1)} exited before it was ready: ${out}`);
    out += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return { proc, info: JSON.parse(out.slice(0, out.indexOf("\n"))) as T };
}

export function freePort(): number {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = s.port!;
  s.stop(true);
  return port;
}

export type FakeUrls = { apiUrl: string; authUrl: string; oidcUrl: string };

/** kiro2api JSON for KIRO_AUTH_TOKEN: one social account per refresh token. */
export const authTokenJson = (tokens: string[]) => JSON.stringify(tokens.map((refreshToken, i) => ({ auth: "Social", refreshToken, description: `bench ${i}` })));

/**
 * kiro-server in its own process on a free port, its data (HOME) in `dir`, the fake's URLs, the
 * accounts of `tokens`, client key `clientKey`; `env` adds or overrides (e.g. KIRO_KV_PATH, or
 * DATABASE_URL + KIRO_SECRET_KEY). Its stdout is dropped, its stderr shown (or piped, to be read).
 * `root`: another checkout to run (`<root>/src/index.ts`) instead of this one.
 */
export function spawnKiroServer(o: { dir: string; fake: FakeUrls; tokens: string[]; clientKey: string; perAccount: number; env: Record<string, string>; stderr?: "inherit" | "pipe"; root?: string }): { proc: Proc; url: string } {
  const port = freePort();
  const proc = Bun.spawn([process.execPath, "src/index.ts"], {
    cwd: o.root ?? ROOT,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: o.dir,
      HOST: "127.0.0.1",
      PORT: String(port),
      KIRO_CLIENT_TOKEN: o.clientKey,
      KIRO_ADMIN_TOKEN: "bench-admin-token",
      KIRO_AUTH_TOKEN: authTokenJson(o.tokens),
      KIRO_API_URL: o.fake.apiUrl,
      KIRO_AUTH_URL: o.fake.authUrl,
      KIRO_OIDC_URL: o.fake.oidcUrl,
      LOG_LEVEL: "warn",
      // No pacing per account: the bench measures the server, not the pool's limits.
      KIRO_ACCOUNT_RPM: "0",
      KIRO_ACCOUNT_MIN_SPACING_MS: "0",
      KIRO_ACCOUNT_CONCURRENCY: String(o.perAccount),
      ...o.env,
    },
    stdout: "ignore",
    stderr: o.stderr ?? "inherit",
  });
  return { proc, url: `http://127.0.0.1:${port}` };
}

/** Waits until kiro-server answers a short streamed /v1/messages request completely. */
export async function untilServing(server: Proc, url: string, clientKey: string, timeoutMs = 30_000): Promise<void> {
  const ready = anthropicTarget(url, clientKey, server.pid);
  for (const t0 = Date.now(); ; await Bun.sleep(20)) {
    if (server.exitCode !== null) throw new Error(`kiro-server exited with code ${server.exitCode}`);
    if (Date.now() - t0 > timeoutMs) throw new Error(`kiro-server did not serve a request within ${timeoutMs / 1000} s`);
    const ok = await timedRequest(ready, longPrompt(4), true).then(
      (r) => (ready.check(r.body, 4), true),
      () => false,
    );
    if (ok) return;
  }
}

/** SIGTERM, then wait, newest first. */
export async function stopAll(procs: Proc[]): Promise<void> {
  for (const p of [...procs].reverse()) {
    p.kill("SIGTERM");
    await p.exited;
  }
}

/**
 * The fake Kiro (one write per frame) and one kiro-server on one account, with the runtime
 * settings its executable runs with (src/runtime-env.ts) and `env`, serving /v1/messages as
 * `target`. `onSpawn` sees the server's process before anything is sent (e.g. to read a piped
 * stderr from the start). `stop()` ends both and removes the server's data.
 */
export async function soloServer(o: { name: string; env?: Record<string, string>; stderr?: "inherit" | "pipe"; onSpawn?: (proc: Proc) => void }): Promise<{ proc: Proc; target: Target; stop(): Promise<void> }> {
  const key = `sk-bench-${o.name}-0123456789abcdef0123`;
  const fake = await spawnReady<FakeUrls>(["bench/lib/fake-upstream.ts", "--chunking", "frame"]);
  const dir = mkdtempSync(join(tmpdir(), `kiro-${o.name}-`));
  const env = { KIRO_KV_PATH: join(dir, "kiro.db"), ...RUNTIME_DEFAULTS, ...o.env };
  const server = spawnKiroServer({ dir, fake: fake.info, tokens: benchRefreshTokens(1), clientKey: key, perAccount: 8, env, stderr: o.stderr });
  o.onSpawn?.(server.proc);
  const stop = async () => {
    await stopAll([fake.proc, server.proc]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await untilServing(server.proc, server.url, key);
  } catch (err) {
    await stop();
    throw err;
  }
  return { proc: server.proc, target: anthropicTarget(server.url, key, server.proc.pid), stop };
}

/** `n` streamed requests, 400- and 40-frame answers in turn (warm-up, and jit.ts's window). */
export async function sendMixed(target: Target, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await timedRequest(target, longPrompt(i % 2 ? 400 : 40), false);
}
