/**
 * Bun's fetch limit can only be set at process start: the real executable entry restarts itself
 * in place (same pid) with BUN_CONFIG_MAX_HTTP_REQUESTS = KIRO_MAX_UPSTREAM_REQUESTS, and its
 * upstream connection slots use that number (visible in /metrics). bench/streams.ts shows the
 * effect: 1,000 streams open at once.
 */
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { RUNTIME_DEFAULTS } from "../../src/runtime-env";

async function start(env: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), "kiro-fetch-limit-"));
  const proc = Bun.spawn(["bun", join(import.meta.dir, "..", "..", "src", "index.ts")], {
    env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: "", PORT: "0", HOST: "127.0.0.1", KIRO_KV_PATH: join(dir, "kiro.db"), KIRO_CLIENT_TOKEN: "fetch-limit-key", KIRO_AUTH_TOKEN: "", LOG_FORMAT: "json", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  const url = await new Promise<string>((resolve, reject) => {
    let found = false;
    void (async () => {
      for await (const c of proc.stdout) {
        out += new TextDecoder().decode(c);
        const m = found ? null : /listening on (http:\/\/[^\s"]+)/.exec(out);
        if (m) {
          found = true;
          resolve(m[1]!);
        }
      }
      if (!found) reject(new Error(`no "listening" line: ${out}`));
    })();
  });
  return {
    url,
    pid: proc.pid,
    out: () => out,
    stop: async () => {
      proc.kill("SIGTERM");
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const limitOf = async (url: string) => {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: "Bearer fetch-limit-key" } })).text();
  return Number(/^kiro_upstream_connections_limit (\d+)$/m.exec(text)?.[1]);
};

test("KIRO_MAX_UPSTREAM_REQUESTS above Bun's 256: the server restarts itself in place with the limit raised", async () => {
  const s = await start({ KIRO_MAX_UPSTREAM_REQUESTS: "1500" });
  try {
    expect(await limitOf(s.url)).toBe(1500);
    // Same process (execve): the environment of the pid we started now carries the raised limit.
    const environ = readFileSync(`/proc/${s.pid}/environ`, "utf8").split("\0");
    expect(environ).toContain("BUN_CONFIG_MAX_HTTP_REQUESTS=1500");
    // The restart also carries the runtime defaults (src/runtime-env.ts).
    for (const [k, v] of Object.entries(RUNTIME_DEFAULTS)) expect(environ).toContain(`${k}=${v}`);
    expect(s.out()).not.toContain("upstream connections limited to");
  } finally {
    await s.stop();
  }
}, 30_000);

test("a limit within Bun's own needs no restart", async () => {
  const s = await start({ KIRO_MAX_UPSTREAM_REQUESTS: "100" });
  try {
    expect(await limitOf(s.url)).toBe(100);
    expect(readFileSync(`/proc/${s.pid}/environ`, "utf8").split("\0")).not.toContain("BUN_CONFIG_MAX_HTTP_REQUESTS=100");
  } finally {
    await s.stop();
  }
}, 30_000);
