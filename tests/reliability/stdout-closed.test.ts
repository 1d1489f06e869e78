/**
 * Whoever reads the server's stdout (a terminal, Kiro Account Manager, a service manager) may go
 * away. Found by bench/streams.ts: a closed stdout pipe made the next log line throw EPIPE out of
 * a token refresh and ended the process. The server must keep serving without its log.
 */
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { startFakeKiro } from "../fake-kiro/server";
import { fakeRefreshToken } from "../support/e2e";

test("the server keeps serving after its stdout pipe is closed", async () => {
  const fake = await startFakeKiro();
  const acct = fake.addAccount({ refreshToken: fakeRefreshToken() });
  const dir = mkdtempSync(join(tmpdir(), "kiro-stdout-"));
  const proc = Bun.spawn(["bun", join(import.meta.dir, "..", "..", "src", "index.ts")], {
    env: {
      ...process.env,
      PORT: "0",
      HOST: "127.0.0.1",
      KIRO_KV_PATH: join(dir, "kiro.db"),
      KIRO_CLIENT_TOKEN: "stdout-key",
      KIRO_MAX_UPSTREAM_REQUESTS: "200",
      KIRO_API_URL: fake.url,
      KIRO_AUTH_URL: fake.url,
      KIRO_OIDC_URL: fake.url,
      KIRO_AUTH_TOKEN: JSON.stringify([{ auth: "Social", refreshToken: acct.refreshToken }]),
      LOG_LEVEL: "debug",
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  try {
    const reader = proc.stdout.getReader();
    let out = "";
    let url: string | undefined;
    while (!url) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`server ended before listening: ${out}`);
      out += new TextDecoder().decode(value);
      url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
    }
    // Close our end of the pipe: every later log line meets EPIPE.
    await reader.cancel();
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${url}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": "stdout-key" },
        body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 20, messages: [{ role: "user", content: `hello ${i}` }] }),
      });
      expect(res.status).toBe(200);
      await res.text();
    }
    expect(proc.exitCode).toBeNull();
    expect((await fetch(`${url}/health`)).status).toBe(200);
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}, 30_000);
