/**
 * Builds the real executable (`bun run build`) and runs it the way a user would: from an unrelated
 * directory, with a fresh database. Proves the migrations are embedded (the binary resolves them under
 * /$bunfs/root, never the repo), the reusePort trap is closed, and a hostile bunfig.toml/.env in the
 * working directory is ignored.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { ASSET_URLS } from "../../src/panel/shared/asset-urls";
import { usePostgres } from "../support/postgres";

const root = resolve(import.meta.dir, "..", "..");
const binary = join(root, "dist", "kiro-server");
const version = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;
const scratch = mkdtempSync(join(tmpdir(), "kiro-binary-"));
const cwd = join(scratch, "elsewhere");
const marker = join(scratch, "PRELOAD_RAN");

function freePort(): number {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = s.port!;
  s.stop(true);
  return port;
}

/** Only what the binary needs: nothing from this test process (e.g. a KIRO_CLIENT_TOKEN) leaks in. */
const cleanEnv = (extra: Record<string, string>) => ({ PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: scratch, ...extra });

/** Polls /health; if the binary dies first, fails with what it printed on stderr. */
async function waitForHealth(port: number, proc: Subprocess, stderr: Promise<string>, ms = 10_000): Promise<Response> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`binary exited early with code ${proc.exitCode}: ${(await stderr).trim()}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      if (res.status === 200) return res;
    } catch { /* not listening yet */ }
    await Bun.sleep(25);
  }
  throw new Error(`no 200 from /health on port ${port} within ${ms} ms`);
}

beforeAll(async () => {
  const build = Bun.spawn([process.execPath, "run", "build"], { cwd: root, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(build.stdout).text(), new Response(build.stderr).text(), build.exited]);
  if (code !== 0) throw new Error(`bun run build failed:\n${out}${err}`);

  mkdirSync(cwd, { recursive: true });
  // If the binary honoured this bunfig.toml, the preload would run inside it and leave the marker.
  writeFileSync(join(cwd, "bunfig.toml"), `preload = ["./evil-preload.ts"]\n`);
  writeFileSync(join(cwd, "evil-preload.ts"), `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "preload ran");\n`);
  // PORT=1 would move the server; KIRO_CLIENT_TOKEN would change the logged key source.
  writeFileSync(join(cwd, ".env"), "PORT=1\nKIRO_CLIENT_TOKEN=from-dotenv-file-must-not-load\n");
}, 120_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("compiled binary (dist/kiro-server)", () => {
  test("--version prints the package version baked in with --define", async () => {
    const proc = Bun.spawn([binary, "--version"], { cwd, env: cleanEnv({}), stdout: "pipe", stderr: "pipe" });
    expect((await new Response(proc.stdout).text()).trim()).toBe(version);
    expect(await proc.exited).toBe(0);
  });

  test("no .map file is left next to the binary", () => {
    expect(existsSync(`${binary}.map`)).toBe(false);
  });

  test("from another directory: migrates a fresh DB, serves /health, refuses a second copy, stops cleanly on SIGTERM", async () => {
    const port = freePort();
    const dbPath = join(scratch, "data", "kiro.db");
    const proc = Bun.spawn([binary], {
      cwd,
      env: cleanEnv({ KIRO_KV_PATH: dbPath, HOST: "127.0.0.1", PORT: String(port) }),
      stdout: "pipe",
      stderr: "pipe",
    });
    const stdout = new Response(proc.stdout).text();
    const stderr = new Response(proc.stderr).text();
    try {
      const res = await waitForHealth(port, proc, stderr);
      const body = (await res.json()) as { status: string; version: string };
      expect(body).toMatchObject({ status: "ok", version });

      // Panel assets are embedded with `with { type: "file" }`: served byte-identical to their sources.
      const sources: Record<keyof typeof ASSET_URLS, string> = {
        htmx: "node_modules/htmx.org/dist/htmx.min.js",
        sse: "node_modules/htmx-ext-sse/dist/sse.min.js",
        uplot: "node_modules/uplot/dist/uPlot.iife.min.js",
        uplotCss: "node_modules/uplot/dist/uPlot.min.css",
        css: "views/assets/panel.css",
        js: "views/assets/panel.js",
      };
      for (const [key, url] of Object.entries(ASSET_URLS) as [keyof typeof ASSET_URLS, string][]) {
        const asset = await fetch(`http://127.0.0.1:${port}${url}`);
        expect(asset.status).toBe(200);
        expect(Buffer.from(await asset.arrayBuffer()).equals(readFileSync(join(root, sources[key])))).toBe(true);
      }

      // Second copy on the same port: Elysia's reusePort default would let it share the port silently.
      const second = Bun.spawn([binary], {
        cwd,
        env: cleanEnv({ KIRO_KV_PATH: join(scratch, "second", "kiro.db"), HOST: "127.0.0.1", PORT: String(port) }),
        stdout: "pipe",
        stderr: "pipe",
      });
      const secondErr = new Response(second.stderr).text();
      const secondCode = await second.exited;
      expect(secondCode).not.toBe(0);
      expect(await secondErr).toContain(`port ${port} is already in use — stop the other program or set PORT`);
      // The first one still answers.
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    } finally {
      proc.kill("SIGTERM");
    }
    expect(await proc.exited).toBe(0);
    const out = await stdout;
    expect(out).toContain("stopped");
    // .env was not loaded: the client key was generated, not taken from KIRO_CLIENT_TOKEN in .env.
    expect(out).toContain("client API key generated now and stored");
    expect(out).not.toContain("from KIRO_CLIENT_TOKEN");
    expect(await stderr).not.toContain("preload");
    expect(existsSync(marker)).toBe(false);

    // The binary looks for migrations under import.meta.dir (/$bunfs/root/migrations); a frozen build
    // path would point at src/db/migrations, which does not exist, so applied migrations prove embedding.
    const journal = JSON.parse(readFileSync(join(root, "migrations", "meta", "_journal.json"), "utf8")) as { entries: unknown[] };
    const db = new Database(dbPath, { readonly: true });
    try {
      const tables = db.query("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((r) => (r as { name: string }).name);
      expect(tables).toEqual(expect.arrayContaining(["__drizzle_migrations", "accounts", "client_keys", "request_log", "settings"]));
      const applied = db.query("SELECT count(*) AS n FROM __drizzle_migrations").get() as { n: number };
      expect(applied.n).toBe(journal.entries.length);
    } finally {
      db.close();
    }
  }, 30_000);

  test("serves real traffic from the fake Kiro: count_tokens (tokenizer inside the binary), chat, a stream, the panel", async () => {
    const { startFakeKiro } = await import("../fake-kiro/server");
    const fake = await startFakeKiro();
    const refreshToken = "aorA" + "b".repeat(150);
    fake.addAccount({ refreshToken });
    const port = freePort();
    const dir = mkdtempSync(join(scratch, "traffic-"));
    const proc = Bun.spawn([binary], {
      cwd,
      env: cleanEnv({
        PORT: String(port), KIRO_KV_PATH: join(dir, "k.db"), KIRO_CLIENT_TOKEN: "sk-binary-traffic-key",
        KIRO_AUTH_TOKEN: JSON.stringify([{ auth: "Social", refreshToken }]),
        KIRO_API_URL: fake.upstream.apiUrl, KIRO_AUTH_URL: fake.upstream.authUrl, KIRO_OIDC_URL: fake.upstream.oidcUrl,
      }),
      stdout: "pipe", stderr: "pipe",
    });
    const stderr = new Response(proc.stderr).text();
    try {
      await waitForHealth(port, proc, stderr);
      const base = `http://127.0.0.1:${port}`;
      const anth = { "x-api-key": "sk-binary-traffic-key", "content-type": "application/json", "anthropic-version": "2023-06-01" };
      const count = await fetch(`${base}/v1/messages/count_tokens`, { method: "POST", headers: anth, body: JSON.stringify({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "Hello there, how are you today?" }] }) });
      expect(count.status).toBe(200);
      expect(((await count.json()) as { input_tokens: number }).input_tokens).toBeGreaterThan(3);
      const chat = await fetch(`${base}/v1/chat/completions`, { method: "POST", headers: { authorization: "Bearer sk-binary-traffic-key" }, body: JSON.stringify({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "ping from the binary" }] }) });
      expect(chat.status).toBe(200);
      expect(((await chat.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).toContain("ping from the binary");
      const stream = await fetch(`${base}/v1/messages`, { method: "POST", headers: anth, body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 64, stream: true, messages: [{ role: "user", content: "hi" }] }) });
      const sse = await stream.text();
      expect(sse).toContain("event: message_start");
      expect(sse).toContain("event: message_stop");
      // The panel and its embedded htmx come out of the binary too.
      const login = await fetch(`${base}/login`);
      const page = await login.text();
      expect(page).toContain("<form");
      const { ASSET_URLS } = await import("../../src/panel/shared/asset-urls");
      const htmx = await fetch(`${base}${ASSET_URLS.htmx}`);
      expect(htmx.status).toBe(200);
      expect(await htmx.text()).toContain("htmx");
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
      await fake.stop();
    }
  }, 30_000);
});

const pg = usePostgres();
describe.skipIf(!pg.available)("compiled binary on PostgreSQL", () => {
  test("the PostgreSQL migrations are embedded too: DATABASE_URL start applies them from /$bunfs and serves", async () => {
    const url = await pg.newDatabase("binary");
    const port = freePort();
    const proc = Bun.spawn([binary], { cwd, env: cleanEnv({ DATABASE_URL: url, KIRO_SECRET_KEY: "binary-check-secret-key-123", HOST: "127.0.0.1", PORT: String(port), KIRO_INSTANCE_ID: "bin-1" }), stdout: "pipe", stderr: "pipe" });
    const stdout = new Response(proc.stdout).text();
    const stderr = new Response(proc.stderr).text();
    try {
      const health = (await (await waitForHealth(port, proc, stderr)).json()) as { instance: string; database: { engine: string; ok: boolean } };
      expect(health.instance).toBe("bin-1");
      expect(health.database).toMatchObject({ engine: "postgres", ok: true });
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
    }
    const pgJournal = JSON.parse(readFileSync(join(root, "migrations", "pg", "meta", "_journal.json"), "utf8")) as { entries: unknown[] };
    expect(await stdout).toContain(`schema: ${pgJournal.entries.length} migration(s), ${pgJournal.entries.length} applied now`);
  }, 30_000);
});
