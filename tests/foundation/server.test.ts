import { afterAll, describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { drain } from "../../src/server";
import { makeApp } from "../support/app";

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });
const REPO = join(import.meta.dir, "..", "..");
const ENTRY = join(REPO, "src", "index.ts");

async function freePort(): Promise<number> {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
  const p = s.port!;
  await s.stop(true);
  return p;
}

/** Starts the real entry point as a child process and resolves once it printed its first line. */
async function startChild(env: Record<string, string>, opts: { dir?: string; until?: RegExp } = {}) {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "kiro-srv-"));
  if (!opts.dir) dirs.push(dir);
  const until = opts.until ?? /listening on/;
  // Source runs need the repo's tsconfig (JSX runtime) from the cwd; the compiled binary is the
  // one that must run from any directory, and tests/build covers that.
  const proc = Bun.spawn([process.execPath, ENTRY], {
    cwd: REPO,
    env: { ...process.env, KIRO_KV_PATH: join(dir, "k.db"), LOG_FORMAT: "json", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const reader = proc.stdout.getReader();
  let out = "";
  const deadline = Date.now() + 10_000;
  while (!until.test(out) && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    out += new TextDecoder().decode(value);
  }
  const rest = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return out;
      out += new TextDecoder().decode(value);
    }
  })();
  return { proc, dir, output: () => out, allOutput: () => rest };
}

describe("server lifecycle", () => {
  test("drain lets an in-flight request finish, then stops", async () => {
    let finished = false;
    const { promise: arrived, resolve: arrive } = Promise.withResolvers<void>();
    const app = new Elysia().get("/slow", async () => { arrive(); await Bun.sleep(400); finished = true; return "done"; });
    app.listen({ port: 0, hostname: "127.0.0.1", reusePort: false });
    const server = app.server!;
    const inflight = fetch(`http://127.0.0.1:${server.port}/slow`).then((r) => r.text());
    // Drain once the request is in the handler (not after a fixed pause, which a loaded machine can outlast).
    await arrived;
    const stopped = drain(server, 5000);
    // New connections are refused once draining started.
    await expect(fetch(`http://127.0.0.1:${server.port}/slow`)).rejects.toThrow();
    expect(await inflight).toBe("done");
    expect((await stopped).forced).toBe(false);
    expect(finished).toBe(true);
  });

  test("drain gives up after the grace period and closes what is left", async () => {
    const { promise: arrived, resolve: arrive } = Promise.withResolvers<void>();
    const app = new Elysia().get("/hang", async () => { arrive(); await Bun.sleep(5000); return "late"; });
    app.listen({ port: 0, hostname: "127.0.0.1", reusePort: false });
    const server = app.server!;
    const inflight = fetch(`http://127.0.0.1:${server.port}/hang`).then(() => "answered", () => "cut");
    await arrived;
    const t0 = Date.now();
    expect((await drain(server, 200)).forced).toBe(true);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(await inflight).toBe("cut");
  });

  test("the real server: first log line, health, a second instance on the same port fails clearly, SIGTERM exits 0", async () => {
    const port = await freePort();
    const a = await startChild({ PORT: String(port), KIRO_CLIENT_TOKEN: "sk-test-client-token-123" });
    const first = a.output().split("\n")[0]!;
    expect(JSON.parse(first).msg).toBe(`kiro-server 0.1.0 listening on http://127.0.0.1:${port}`);
    expect(a.output()).not.toContain("sk-test-client-token-123");
    const health = await (await fetch(`http://127.0.0.1:${port}/health`)).json();
    expect(health).toMatchObject({ status: "ok", version: "0.1.0" });
    expect(typeof health.uptimeSeconds).toBe("number");

    const b = Bun.spawn([process.execPath, ENTRY], {
      env: { ...process.env, PORT: String(port), KIRO_KV_PATH: join(a.dir, "other.db") },
      stdout: "pipe", stderr: "pipe",
    });
    expect(await b.exited).not.toBe(0);
    expect(await new Response(b.stderr).text()).toContain(`port ${port} is already in use — stop the other program or set PORT`);

    a.proc.kill("SIGTERM");
    expect(await a.proc.exited).toBe(0);
    const all = await a.allOutput();
    expect(all).toContain('"msg":"stopped"');
  });

  test("a generated client key is printed once on first start, then only where it is kept", async () => {
    const port = await freePort();
    // The key lines follow the "listening" line: read until the last of them has arrived.
    const a = await startChild({ PORT: String(port) }, { until: /client API key: sk-kiro-\S+/ });
    a.proc.kill("SIGTERM");
    await a.proc.exited;
    const out = await a.allOutput();
    const m = /client API key: (sk-kiro-\S+)/.exec(out);
    expect(m).not.toBeNull();
    expect(out).toMatch(/admin panel: http:\/\/127\.0\.0\.1:\d+\/login\?token=/);
    const again = await startChild({ PORT: String(port) }, { dir: a.dir, until: /client API key stored in the database/ });
    again.proc.kill("SIGTERM");
    await again.proc.exited;
    const out2 = await again.allOutput();
    expect(out2).toContain("client API key stored in the database");
    expect(out2).not.toContain(m![1]!); // printed once only; the admin panel shows it afterwards
  });
});

describe("HTTP basics", () => {
  test("unknown routes get one JSON error shape and every response a request id", async () => {
    const { app } = await makeApp();
    const r = await app.handle(new Request("http://localhost/no/such/route"));
    expect(r.status).toBe(404);
    expect(r.headers.get("content-type")).toContain("application/json");
    expect(await r.json()).toEqual({ error: { type: "not_found_error", message: "no route for GET /no/such/route", param: null, code: null } });
    expect(r.headers.get("x-request-id")).toMatch(/^req_/);
    const h = await app.handle(new Request("http://localhost/health"));
    expect(h.headers.get("x-request-id")).toMatch(/^req_/);
  });
});
