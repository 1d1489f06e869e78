import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeKiro, type FakeKiro } from "../fake-kiro/server";
import { stallScenario } from "../fake-kiro/scenarios";
import { fakeRefreshToken } from "../support/e2e";
import { until } from "../support/until";

/**
 * The real entry point as a child process, wired to the fake Kiro through its env settings
 * (KIRO_API_URL / KIRO_AUTH_URL / KIRO_AUTH_TOKEN). A slow stream is in flight when SIGTERM
 * arrives: it must finish completely, new connections must be refused, and the exit must be 0.
 */
const REPO = join(import.meta.dir, "..", "..");
let fake: FakeKiro;
let dir: string;
beforeAll(async () => {
  fake = await startFakeKiro();
  dir = mkdtempSync(join(tmpdir(), "kiro-shutdown-"));
});
afterAll(async () => {
  await fake.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("graceful shutdown of the real server", () => {
  test("a stream in flight at SIGTERM completes; then the process exits 0", async () => {
    const refreshToken = fakeRefreshToken();
    fake.addAccount({ refreshToken });
    // Slow: first frame after 400 ms, then 250 ms between frames (~1.2 s of streaming).
    fake.setDefaultScenario(stallScenario("slow but complete answer", { beforeMs: 400, betweenMs: 250 }));
    const port = await (async () => { const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") }); const p = s.port!; await s.stop(true); return p; })();
    const child = Bun.spawn([process.execPath, join(REPO, "src", "index.ts")], {
      cwd: REPO,
      env: {
        ...process.env,
        PORT: String(port),
        KIRO_KV_PATH: join(dir, "k.db"),
        KIRO_CLIENT_TOKEN: "sk-shutdown-test-key",
        KIRO_AUTH_TOKEN: JSON.stringify([{ auth: "Social", refreshToken }]),
        KIRO_API_URL: fake.upstream.apiUrl,
        KIRO_AUTH_URL: fake.upstream.authUrl,
        KIRO_OIDC_URL: fake.upstream.oidcUrl,
        KIRO_SHUTDOWN_GRACE_MS: "10000",
        LOG_FORMAT: "json",
      },
      stdout: "pipe",
      stderr: "pipe",
    });
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
      if (await fetch(`${base}/health`).then((r) => r.ok, () => false)) break;
      await Bun.sleep(50);
    }

    const res = await fetch(`${base}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": "sk-shutdown-test-key", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 100, stream: true, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(200);
    // The 200 is out: the stream is open and waiting on the slow upstream.
    let complete = false;
    const body = res.text().then((t) => ((complete = true), t));
    child.kill("SIGTERM");
    // No longer accepting, while the stream is still in flight (polled, not a fixed pause).
    await until("the server to refuse new connections", () => fetch(`${base}/health`).then(() => false, () => true));
    expect(complete).toBe(false);

    const text = await body;
    expect(text).toContain("event: message_stop");
    const deltas = [...text.matchAll(/"text":"([^"]*)"/g)].map((m) => m[1]).join("");
    expect(deltas).toContain("slow but complete answer");
    expect(await child.exited).toBe(0);
    const out = await new Response(child.stdout).text();
    expect(out).toContain("SIGTERM received");
    expect(out).toContain('"msg":"stopped"');
    expect(out).not.toContain("grace period over");
  }, 20000);
});
