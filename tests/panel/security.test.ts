import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { makeApp, TEST_ADMIN_TOKEN, TEST_CLIENT_KEY } from "../support/app";
import { fakeRefreshToken } from "../support/e2e";
import type { Services } from "../../src/services";

/**
 * Panel security through app.handle(): session required everywhere, CSRF on writes, Host guard,
 * escaping of user-controlled text, and /api/tokens disclosure rules.
 */
type App = Awaited<ReturnType<typeof makeApp>>["app"];
let app: App;
let s: Services;
let cookie = "";
let csrf = "";

const req = (path: string, init: RequestInit & { host?: string } = {}) => {
  const headers = new Headers(init.headers);
  if (init.host) headers.set("host", init.host);
  return app.handle(new Request(`http://127.0.0.1:7860${path}`, { ...init, headers }));
};
const authed = (path: string, init: RequestInit = {}) => req(path, { ...init, headers: { cookie, "x-csrf-token": csrf, ...(init.headers as Record<string, string>) } });
const form = (o: Record<string, string>) => ({ method: "POST", body: new URLSearchParams(o), headers: { "content-type": "application/x-www-form-urlencoded" } });

const PAGES = ["/", "/dashboard/live", "/accounts", "/accounts/table", "/accounts/device/x", "/usage", "/usage/export.csv?from=2026-01-01&to=2026-01-02",
  "/logs", "/logs/feed", "/logs/stream", "/requests", "/requests/rows", "/requests/1", "/keys", "/keys/table", "/keys/check-models?models=x", "/settings", "/jobs/x"];
const WRITES: Array<[string, string]> = [
  ["POST", "/accounts"], ["POST", "/accounts/import"], ["POST", "/accounts/refresh-all"], ["POST", "/accounts/check-all"],
  ["POST", "/accounts/a/enable"], ["POST", "/accounts/a/disable"], ["POST", "/accounts/a/refresh"], ["POST", "/accounts/a/quota"],
  ["POST", "/accounts/a/label"], ["DELETE", "/accounts/a"], ["POST", "/keys"], ["POST", "/keys/a/revoke"], ["POST", "/settings"],
  ["POST", "/accounts/bulk/delete"], ["POST", "/accounts/device"], ["POST", "/accounts/device/x/cancel"],
];

beforeAll(async () => {
  ({ app, services: s } = await makeApp());
  const r = await req(`/login?token=${TEST_ADMIN_TOKEN}`);
  cookie = r.headers.get("set-cookie")!.split(";")[0]!;
  const page = await (await req("/", { headers: { cookie } })).text();
  csrf = /x-csrf-token&#34;:&#34;([^&]+)&#34;|"x-csrf-token":"([^"]+)"/.exec(page)!.slice(1).find(Boolean)!;
});
afterAll(async () => {
  for (const fn of s.onShutdown.splice(0)) await fn();
});

describe("login", () => {
  test("the token URL sets an HttpOnly SameSite=Strict cookie and redirects away from the token", async () => {
    const r = await req(`/login?token=${TEST_ADMIN_TOKEN}`);
    expect(r.status).toBe(303);
    expect(r.headers.get("location")).toBe("/");
    const c = r.headers.get("set-cookie")!;
    expect(c).toContain("HttpOnly");
    expect(c).toContain("SameSite=Strict");
    expect(c).not.toContain(TEST_ADMIN_TOKEN);
  });

  test("a wrong token is refused (URL and form)", async () => {
    expect((await req("/login?token=nope-nope")).status).toBe(401);
    const r = await req("/login", form({ token: "wrong-token" }));
    expect(r.status).toBe(401);
    expect(r.headers.get("set-cookie")).toBeNull();
  });

  test("the form logs in too", async () => {
    const r = await req("/login", form({ token: TEST_ADMIN_TOKEN }));
    expect(r.status).toBe(303);
    expect(r.headers.get("set-cookie")).toContain("kiro_admin=");
  });

  test("a forged or tampered cookie is not a session", async () => {
    const [id] = cookie.slice("kiro_admin=".length).split(".");
    for (const c of [`kiro_admin=${id}.forged`, "kiro_admin=abc", `kiro_admin=${id}`]) {
      expect((await req("/keys", { headers: { cookie: c } })).status).toBe(401);
    }
  });

  test("logout ends the session (needs CSRF)", async () => {
    const r0 = await req("/login", form({ token: TEST_ADMIN_TOKEN }));
    const c = r0.headers.get("set-cookie")!.split(";")[0]!;
    const page = await (await req("/settings", { headers: { cookie: c } })).text();
    const token = /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
    expect((await req("/logout", { method: "POST", headers: { cookie: c } })).status).toBe(403);
    const r = await req("/logout", { ...form({ _csrf: token }), headers: { cookie: c, "content-type": "application/x-www-form-urlencoded" } });
    expect(r.status).toBe(303);
    expect(r.headers.get("set-cookie")).toContain("Max-Age=0");
    expect((await req("/settings", { headers: { cookie: c } })).status).toBe(401);
  });
});

describe("every admin route needs a session", () => {
  test.each(PAGES)("GET %s without a session → 401 (or redirect for a browser)", async (path) => {
    const r = await req(path);
    expect(r.status).toBe(401);
    const browser = await req(path, { headers: { accept: "text/html" } });
    expect([303, 401]).toContain(browser.status);
    if (browser.status === 303) expect(browser.headers.get("location")).toBe("/login");
  });

  test.each(WRITES)("%s %s without a session → 401", async (method, path) => {
    expect((await req(path, { method })).status).toBe(401);
  });

  test("htmx requests get HX-Redirect to the login page", async () => {
    const r = await req("/accounts/table", { headers: { "hx-request": "true" } });
    expect(r.status).toBe(401);
    expect(r.headers.get("hx-redirect")).toBe("/login");
  });
});

describe("CSRF", () => {
  test.each(WRITES)("%s %s with a session but no CSRF token → 403", async (method, path) => {
    const r = await req(path, { method, headers: { cookie } });
    expect(r.status).toBe(403);
  });

  test("a wrong CSRF token → 403; the right one passes", async () => {
    expect((await req("/settings", { ...form({ strategy: "balanced" }), headers: { cookie, "x-csrf-token": "x".repeat(32), "content-type": "application/x-www-form-urlencoded" } })).status).toBe(403);
    expect((await authed("/settings", form({ strategy: "balanced" }))).status).toBe(200);
  });

  test("a cross-origin write is refused even with the token", async () => {
    const r = await authed("/settings", { ...form({ strategy: "balanced" }), headers: { origin: "http://evil.example", "content-type": "application/x-www-form-urlencoded" } });
    expect(r.status).toBe(403);
  });
});

describe("Host guard (DNS rebinding)", () => {
  test.each(["/", "/login", "/accounts", "/logs/stream", "/assets/htmx-2.0.11.min.js"])("GET %s with a foreign Host → 403", async (path) => {
    const r = await req(path, { host: "evil.example:7860", headers: { cookie } });
    expect(r.status).toBe(403);
  });

  test("POST with a foreign Host → 403", async () => {
    expect((await authed("/keys", { ...form({ name: "x" }), headers: { host: "rebind.attacker.test" } })).status).toBe(403);
  });

  test.each(["localhost:7860", "127.0.0.1:7860", "[::1]:7860", "LOCALHOST"])("Host %s is accepted", async (host) => {
    expect((await req("/", { host, headers: { cookie } })).status).toBe(200);
  });
});

describe("escaping of user-controlled text", () => {
  const evil = `"><img src=x onerror=alert(1)>`;
  /** The markup with attribute values blanked: what is left must hold no injected element. */
  const outsideAttributes = (html: string) => html.replace(/="[^"]*"/g, '=""');

  test("account labels, key names and log lines are escaped", async () => {
    const up = await s.pool.upsert({ kind: "social", refreshToken: fakeRefreshToken(), label: evil, source: "test" });
    expect(up.outcome).toBe("added");
    await s.keys.create({ name: `key ${evil}` });
    s.log.warn(`upstream said ${evil}`, { detail: evil });
    for (const path of ["/accounts", "/keys", "/logs", "/accounts/table", "/keys/table"]) {
      const html = await (await authed(path)).text();
      expect(html).not.toContain(evil);
      expect(outsideAttributes(html)).not.toContain("<img");
    }
    expect(await (await authed("/accounts")).text()).toContain("&#34;>");
    expect(await (await authed("/logs")).text()).toContain("upstream said &quot;&gt;&lt;img");
  });

  test("request-log error text and model names are escaped", async () => {
    s.requestLog.record({ requestId: "req-evil", at: Date.now(), dialect: "openai", model: evil, status: 400, errorMessage: evil, clientKeyName: evil });
    s.requestLog.flush();
    const rows = await (await authed("/requests")).text();
    expect(outsideAttributes(rows)).not.toContain("<img");
    const id = /hx-get="\/requests\/(\d+)"/.exec(rows)![1];
    const detail = await (await authed(`/requests/${id}`)).text();
    expect(outsideAttributes(detail)).not.toContain("<img");
    expect(detail).toContain("&lt;img");
  });

  test("refresh tokens never appear in any page, only the fingerprint", async () => {
    const token = fakeRefreshToken();
    const up = await s.pool.upsert({ kind: "social", refreshToken: token, label: "fp-check", source: "test" });
    const html = await (await authed("/accounts")).text();
    expect(html).not.toContain(token);
    expect(html).toContain(s.pool.get(up.id)!.fingerprint);
    const api = await (await req("/api/tokens", { headers: { authorization: `Bearer ${TEST_CLIENT_KEY}` } })).text();
    expect(api).not.toContain(token);
  });
});

describe("GET /api/tokens", () => {
  test("without credentials: aggregate counts only", async () => {
    const body = await (await req("/api/tokens")).json();
    expect(body.total).toBeGreaterThan(0);
    expect(body.accounts).toBeUndefined();
    expect(JSON.stringify(body)).not.toContain("fp-check");
  });

  test("a wrong key is treated as no credentials", async () => {
    const body = await (await req("/api/tokens", { headers: { authorization: "Bearer wrong" } })).json();
    expect(body.accounts).toBeUndefined();
  });

  test.each([["authorization", `Bearer ${TEST_CLIENT_KEY}`], ["x-api-key", TEST_CLIENT_KEY]])("with %s: per-account status, redacted", async (h, v) => {
    const body = await (await req("/api/tokens", { headers: { [h]: v } })).json();
    expect(body.accounts.length).toBe(body.total);
    const a = body.accounts.find((x: { label: string }) => x.label === "fp-check");
    expect(a.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(Object.keys(a)).not.toContain("refreshToken");
  });

  test("with an admin session: per-account status", async () => {
    const body = await (await req("/api/tokens", { headers: { cookie } })).json();
    expect(Array.isArray(body.accounts)).toBe(true);
  });

  test("never refreshes or calls upstream: 200 calls leave the pool's tokens alone", async () => {
    const before = s.pool.list().map((a) => a.accessExpiresAt ?? null);
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) await req("/api/tokens", { headers: { "x-api-key": TEST_CLIENT_KEY } });
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(s.pool.list().map((a) => a.accessExpiresAt ?? null)).toEqual(before);
  });
});

describe("panel behaviour without a browser", () => {
  test("settings are validated and saved", async () => {
    const bad = await authed("/settings", form({ strategy: "balanced", cooldownBaseMs: "0.001" }));
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain("Not saved");
    const ok = await authed("/settings", form({ strategy: "round-robin", cooldownBaseMs: "3", logRequestBodies: "on" }));
    expect(ok.status).toBe(200);
    expect(s.settings.runtime.strategy).toBe("round-robin");
    expect(s.settings.runtime.cooldownBaseMs).toBe(3000);
    expect(s.settings.runtime.logRequestBodies).toBe(true);
  });

  test("the built-in key cannot be revoked from the panel", async () => {
    const builtin = s.keys.list().find((k) => k.builtin)!;
    expect((await authed(`/keys/${builtin.id}/revoke`, { method: "POST" })).status).toBe(409);
    expect(s.keys.verify(TEST_CLIENT_KEY)).not.toBeNull();
  });

  test("import reports bad JSON and the IdC token without registration", async () => {
    const bad = await authed("/accounts/import", form({ text: "{not json" }));
    expect(bad.status).toBe(422);
    const ide = await authed("/accounts/import", form({ text: JSON.stringify({ refreshToken: fakeRefreshToken(), authMethod: "IdC", provider: "BuilderId", clientIdHash: "../../etc/passwd" }) }));
    const html = await ide.text();
    expect(html).toContain("skipped");
    expect(html).toContain("client registration");
  });

  test("the SSE log stream pushes escaped lines as they are logged", async () => {
    const ac = new AbortController();
    const r = await authed("/logs/stream?level=info", { signal: ac.signal });
    expect(r.headers.get("content-type")).toContain("text/event-stream");
    const reader = r.body!.getReader();
    s.log.info("stream <b>check</b>");
    let text = "";
    while (!text.includes("stream &lt;b&gt;check")) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toContain("event: log");
    s.log.debug("below the level");
    ac.abort();
    await reader.cancel().catch(() => {});
    expect(text).not.toContain("below the level");
  });
});

describe("favicon", () => {
  test("/favicon.ico answers with the embedded SVG (no 404 on every page), behind the Host guard", async () => {
    for (const path of ["/favicon.ico", "/assets/icon-1.svg"]) {
      const r = await req(path);
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toBe("image/svg+xml");
      expect(await r.text()).toStartWith("<svg");
    }
    expect((await req("/favicon.ico", { host: "rebind.attacker.test" })).status).toBe(403);
  });
});
