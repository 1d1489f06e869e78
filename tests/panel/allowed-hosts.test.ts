import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../../src/config/load";
import { allowedHosts, isAllowedHost, isAllowedOrigin } from "../../src/admin/host-guard";
import type { Services } from "../../src/services";
import { makeApp, TEST_ADMIN_TOKEN, TEST_CLIENT_KEY } from "../support/app";

/**
 * KIRO_ALLOWED_HOSTS: the panel's Host guard refuses public names by default (DNS rebinding) and
 * accepts the names this setting adds, e.g. a load balancer's; bad values stop start-up.
 */

const started: Services[] = [];
afterAll(async () => {
  for (const s of started) for (const fn of s.onShutdown.splice(0)) await fn();
});

type App = Awaited<ReturnType<typeof makeApp>>["app"];

async function panel(allowed: string[]) {
  const { app, services } = await makeApp({ allowedHosts: allowed });
  started.push(services);
  const req = (path: string, host: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set("host", host);
    return (app as App).handle(new Request(`http://127.0.0.1:7860${path}`, { ...init, headers }));
  };
  return { req, services };
}

/** Signs in through `host` and returns the session cookie and its CSRF token. */
async function signIn(req: Awaited<ReturnType<typeof panel>>["req"], host: string): Promise<{ cookie: string; csrf: string }> {
  const r = await req(`/login?token=${TEST_ADMIN_TOKEN}`, host);
  expect(r.status).toBe(303);
  const cookie = r.headers.get("set-cookie")!.split(";")[0]!;
  const page = await (await req("/settings", host, { headers: { cookie } })).text();
  return { cookie, csrf: /name="_csrf" value="([^"]+)"/.exec(page)![1]! };
}

describe("the setting", () => {
  test("env and flag: comma-separated, trimmed, lower-cased; IPv6 bracketed as in a Host header; default empty", () => {
    expect(loadConfig([], {}).config.allowedHosts).toEqual([]);
    expect(loadConfig([], { KIRO_ALLOWED_HOSTS: " Kiro.Example.com, 10.0.0.5 ,fe80::1,[2001:db8::2]" }).config.allowedHosts).toEqual([
      "kiro.example.com", "10.0.0.5", "[fe80::1]", "[2001:db8::2]",
    ]);
    // The flag wins over the environment, as for every setting.
    expect(loadConfig(["--allowed-hosts", "panel.internal"], { KIRO_ALLOWED_HOSTS: "kiro.example.com" }).config.allowedHosts).toEqual(["panel.internal"]);
  });

  const bad: Array<[string, string]> = [
    ["https://kiro.example.com", `"https://kiro.example.com" is not a host name`],
    ["kiro.example.com:443", `"kiro.example.com:443" is not a host name`],
    ["*.example.com", `"*.example.com" is not a host name`],
    ["kiro.example.com,,other.example.com", "an entry is empty"],
    ["kiro example", `"kiro example" is not a host name`],
    ["[::1]:7860", `"[::1]:7860" is not a host name`],
  ];
  test.each(bad)("%s is refused, naming the setting, what is allowed and the bad entry", (value, why) => {
    let message = "";
    try {
      loadConfig([], { KIRO_ALLOWED_HOSTS: value });
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      message = (e as Error).message;
    }
    expect(message).toBe(`invalid setting KIRO_ALLOWED_HOSTS=${JSON.stringify(value)}: expected comma-separated host names (no scheme, port or wildcard), e.g. kiro.example.com,10.0.0.5 (${why})`);
  });

  test("an invalid value stops the real server at start: exit code 2, one line on stderr", async () => {
    const repo = join(import.meta.dir, "..", "..");
    const proc = Bun.spawn([process.execPath, join(repo, "src", "index.ts")], {
      cwd: repo,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/nonexistent", KIRO_ALLOWED_HOSTS: "https://kiro.example.com/", PORT: "0" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [code, stderr, stdout] = await Promise.all([proc.exited, new Response(proc.stderr).text(), new Response(proc.stdout).text()]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr.trim()).toBe(
      `kiro-server: invalid setting KIRO_ALLOWED_HOSTS="https://kiro.example.com/": expected comma-separated host names (no scheme, port or wildcard), e.g. kiro.example.com,10.0.0.5 ("https://kiro.example.com/" is not a host name)`,
    );
  });

  test("the guard's set: loopback, the bound address and the added names, nothing else", () => {
    const set = allowedHosts("0.0.0.0", ["kiro.example.com", "[fe80::1]"]);
    for (const h of ["kiro.example.com", "KIRO.example.com:443", "[fe80::1]:7860", "localhost:7860", "0.0.0.0"]) expect(isAllowedHost(h, set)).toBe(true);
    for (const h of ["example.com", "kiro.example.com.evil.test", "evil.kiro.example.com"]) expect(isAllowedHost(h, set)).toBe(false);
    expect(isAllowedOrigin("https://kiro.example.com", set)).toBe(true);
    expect(isAllowedOrigin("https://kiro.example.com.evil.test", set)).toBe(false);
  });
});

describe("the panel behind a load balancer", () => {
  test("by default a public name is refused, and the refusal says which setting to use", async () => {
    const { req } = await panel([]);
    const { cookie } = await signIn(req, "127.0.0.1:7860");
    for (const path of ["/", "/keys", "/login"]) {
      const r = await req(path, "kiro.example.com", { headers: { cookie } });
      expect(r.status).toBe(403);
      expect(await r.text()).toContain("add that name to KIRO_ALLOWED_HOSTS");
    }
    // The metrics route takes an admin session only on an allowed Host (a client key works anywhere).
    expect((await req("/metrics", "kiro.example.com", { headers: { cookie } })).status).toBe(401);
    expect((await req("/metrics", "kiro.example.com", { headers: { authorization: `Bearer ${TEST_CLIENT_KEY}` } })).status).toBe(200);
  });

  test("with KIRO_ALLOWED_HOSTS=kiro.example.com: sign in, pages, a write from that origin, metrics; other names still refused", async () => {
    const { req, services } = await panel(loadConfig([], { KIRO_ALLOWED_HOSTS: "kiro.example.com" }).config.allowedHosts);
    const host = "kiro.example.com";
    const { cookie, csrf } = await signIn(req, host);
    expect((await req("/keys", host, { headers: { cookie } })).status).toBe(200);
    expect((await req("/keys", `${host}:443`, { headers: { cookie } })).status).toBe(200);
    expect((await req("/metrics", host, { headers: { cookie } })).status).toBe(200);

    // A write as the browser sends it through the balancer: Origin is the public name.
    const before = services.keys.list().length;
    const created = await req("/keys", host, {
      method: "POST",
      body: new URLSearchParams({ name: "through the balancer", _csrf: csrf }),
      headers: { cookie, origin: `https://${host}`, "content-type": "application/x-www-form-urlencoded" },
    });
    expect(created.status).toBe(200);
    expect(services.keys.list().length).toBe(before + 1);

    // Another origin on the allowed host is still a cross-origin write; other hosts still rebinding.
    const foreign = await req("/keys", host, {
      method: "POST",
      body: new URLSearchParams({ name: "x", _csrf: csrf }),
      headers: { cookie, origin: "https://evil.example", "content-type": "application/x-www-form-urlencoded" },
    });
    expect(foreign.status).toBe(403);
    expect(services.keys.list().length).toBe(before + 1);
    expect((await req("/keys", "evil.example", { headers: { cookie } })).status).toBe(403);
    expect((await req("/keys", "127.0.0.1:7860", { headers: { cookie } })).status).toBe(200);
  });
});
