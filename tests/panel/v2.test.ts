import { ModelCatalog } from "../../src/core/models";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { makeApp, TEST_ADMIN_TOKEN } from "../support/app";
import { fakeRefreshToken } from "../support/e2e";
import type { Services } from "../../src/services";
import { DAY, HOUR, MINUTE, RequestRollups } from "../../src/logs/request-rollup";
import { csvCell, csvLine } from "../../src/panel/usage/csv";
import { usageData } from "../../src/panel/usage/data";
import { fieldErrors } from "../../src/panel/settings/routes";
import { runtimeSettingsSchema } from "../../src/db/settings-store";
import { unknownModels } from "../../src/panel/keys/routes";
import { parseAccountQuery, selectAccounts } from "../../src/panel/accounts/query";
import { trOf } from "../../src/panel/shared/i18n/tr";
import type { AccountView } from "../../src/pool/types";

/** Panel v2 behaviour without a browser: rollups, CSV, settings errors, keys, accounts table, empty dashboard. */
type App = Awaited<ReturnType<typeof makeApp>>["app"];
let app: App;
let s: Services;
let cookie = "";
let csrf = "";
const req = (path: string, init: RequestInit = {}) =>
  app.handle(new Request(`http://127.0.0.1:7860${path}`, { ...init, headers: { cookie, "x-csrf-token": csrf, ...(init.headers as Record<string, string>) } }));
const form = (o: Record<string, string | string[]>) => {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(o)) for (const x of [v].flat()) body.append(k, x);
  return { method: "POST", body, headers: { "content-type": "application/x-www-form-urlencoded" } };
};

beforeAll(async () => {
  ({ app, services: s } = await makeApp());
  const r = await app.handle(new Request(`http://127.0.0.1:7860/login?token=${TEST_ADMIN_TOKEN}`));
  cookie = r.headers.get("set-cookie")!.split(";")[0]!;
  const page = await (await req("/")).text();
  csrf = /x-csrf-token&#34;:&#34;([^&]+)&#34;|"x-csrf-token":"([^"]+)"/.exec(page)!.slice(1).find(Boolean)!;
});
afterAll(async () => {
  for (const fn of s.onShutdown.splice(0)) await fn();
});

describe("request-log rollups", () => {
  test("agree with a direct count of the log, folded in chunks and again after new rows", async () => {
    // The SQLite rollups over this process's own table (PostgreSQL mode has its own, tests/store-pg).
    const { services } = await makeApp({ dbPath: ":memory:" });
    const base = Date.parse("2026-12-01T10:00:00Z");
    const now = base + 2 * HOUR;
    const rows = 500;
    for (let i = 0; i < rows; i++) {
      services.requestLog.record({
        requestId: `r${i}`, at: base + i * 13_000, dialect: "openai", model: i % 3 ? "m-a" : null, accountId: `acc-${i % 4}`,
        clientKeyId: i % 5 ? "k1" : null, status: i % 9 ? 200 : 500, inputTokens: i, outputTokens: i % 7 ? 2 : null, cachedTokens: i % 4 ? i : null, latencyMs: i % 11 ? 100 + i : null, credits: 0.5,
      });
    }
    services.requestLog.flush();
    const r = new RequestRollups(services.db, () => services.requestLog.flush(), () => now);
    expect(r.catchUp(123)).toBe(123); // a limited step
    expect(r.pending()).toBe(rows - 123);
    expect(r.catchUp()).toBe(rows - 123);
    expect(r.pending()).toBe(0);
    const direct = services.db.$client.query(`SELECT count(*) AS n, sum(status >= 400) AS e, sum(coalesce(input_tokens,0)) AS i, sum(coalesce(output_tokens,0)) AS o, sum(coalesce(cached_tokens,0)) AS c,
      sum(coalesce(latency_ms,0)) AS l, count(latency_ms) AS lc FROM request_log`).get() as { n: number; e: number; i: number; o: number; c: number; l: number; lc: number };
    for (const step of [MINUTE, HOUR, DAY] as const) {
      const pts = await r.series(step, step, 0, now + DAY);
      const sum = (f: (p: (typeof pts)[number]) => number) => pts.reduce((a, p) => a + f(p), 0);
      expect({ n: sum((p) => p.requests), e: sum((p) => p.errors), i: sum((p) => p.inputTokens), o: sum((p) => p.outputTokens), c: sum((p) => p.cachedTokens), l: sum((p) => p.latencyMsSum), lc: sum((p) => p.latencyCount) }).toEqual(direct);
    }
    const byModel = await r.breakdown(HOUR, "model", 0, now + DAY);
    expect(byModel.map((m) => [m.value, m.requests])).toEqual([["m-a", 333], ["", 167]]);
    expect((await r.breakdown(DAY, "account", 0, now + DAY)).map((a) => a.requests)).toEqual([125, 125, 125, 125]);
    // New rows are added to the existing buckets, never counted twice.
    services.requestLog.record({ requestId: "late", at: base, dialect: "openai", model: "m-a", status: 200 });
    r.catchUp();
    expect((await r.series(HOUR, HOUR, base, base + HOUR))[0]!.requests).toBe(Math.ceil(HOUR / 13_000) + 1);
    r.catchUp();
    expect((await r.series(DAY, DAY, 0, now + DAY)).reduce((a, p) => a + p.requests, 0)).toBe(rows + 1);
    // The Usage page's day range: 96 quarter hours, every row of the last day in its bucket.
    const d = await usageData(r, "day", now);
    expect(d.x.length).toBe(96);
    expect(d.sum.requests).toBe(rows + 1);
    for (const fn of services.onShutdown.splice(0)) await fn();
  });
});

describe("request-log rollups when the server goes quiet", () => {
  test("the panel registers a fold with Services.onQuiet: new rows are folded when it runs, and it is gone after shutdown", async () => {
    const { services } = await makeApp({ dbPath: ":memory:" });
    expect(services.onQuiet.length).toBe(1);
    const at = Date.parse("2026-12-01T10:00:00Z");
    for (let i = 0; i < 40; i++) services.requestLog.record({ requestId: `q${i}`, at: at + i, dialect: "anthropic", model: "m-q", status: 200 });
    const r = new RequestRollups(services.db, () => services.requestLog.flush(), () => at + HOUR);
    services.requestLog.flush();
    expect(r.pending()).toBe(40);
    for (const hook of services.onQuiet) hook();
    expect(r.pending()).toBe(0);
    expect((await r.breakdown(DAY, "model", 0, at + DAY)).map((m) => [m.value, m.requests])).toEqual([["m-q", 40]]);
    for (const fn of services.onShutdown.splice(0)) await fn();
    expect(services.onQuiet.length).toBe(0);
  });
});

describe("CSV export", () => {
  test("cells are quoted, and formulas are defused", () => {
    expect(csvCell('say "hi", ok')).toBe('"say ""hi"", ok"');
    expect(csvCell("=HYPERLINK(\"x\")")).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell("-2+3")).toBe("'-2+3");
    expect(csvCell(-5)).toBe("-5"); // numbers stay numbers
    expect(csvCell(null)).toBe("");
    expect(csvCell(true)).toBe("1");
    expect(csvCell("line\nbreak")).toBe('"line\nbreak"');
  });

  test("a day's rows, with a bad range refused by field", async () => {
    const at = Date.parse("2026-11-02T12:00:00Z");
    s.requestLog.record({ requestId: "csv-1", at, dialect: "openai", model: "=cmd", status: 200, errorMessage: "a, b" });
    s.requestLog.record({ requestId: "csv-2", at: at + DAY, dialect: "openai", status: 200 });
    const r = await req("/usage/export.csv?from=2026-11-02&to=2026-11-02");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-disposition")).toContain("kiro-requests-2026-11-02-to-2026-11-02.csv");
    const lines = (await r.text()).trim().split("\r\n");
    expect(lines.length).toBe(2);
    expect(lines[1]).toStartWith("2026-11-02T12:00:00.000Z,");
    expect(lines[1]).toContain(",csv-1,");
    expect(lines[1]).toContain(",'=cmd,");
    expect(lines[1]).toContain(',"a, b",');
    const bad = await req("/usage/export.csv?from=2026-11-05&to=2026-11-02");
    expect(bad.status).toBe(400);
    expect(await bad.text()).toStartWith("to:");
    expect((await req("/usage/export.csv?from=yesterday&to=2026-11-02")).status).toBe(400);
    expect(csvLine({ at, id: 1 } as Parameters<typeof csvLine>[0]).startsWith("2026-11-02T12:00:00.000Z,1,")).toBe(true);
  });
});

describe("settings errors", () => {
  test("name the field by its label and speak in its unit", () => {
    const bad = runtimeSettingsSchema.safeParse({ cooldownBaseMs: 10, maxConsecutiveFailures: 1.5, logRetentionDays: 99999 });
    expect(bad.success).toBe(false);
    const errs = fieldErrors(trOf("en"), bad.error!.issues as never);
    expect(errs.find((e) => e.name === "cooldownBaseMs")!.text).toBe("Cooldown after a 429 must be at least 1 s.");
    expect(errs.find((e) => e.name === "maxConsecutiveFailures")!.text).toBe("Failures before auto-disable must be a whole number.");
    expect(errs.find((e) => e.name === "logRetentionDays")!.text).toBe("Keep request log for must be at most 3650 days.");
    expect(fieldErrors(trOf("zh-CN"), bad.error!.issues as never).find((e) => e.name === "cooldownBaseMs")!.text).toBe("遇到 429 后的冷却时间不能小于 1 秒。");
  });

  test("the form shows them next to the field, without internal names or milliseconds", async () => {
    const r = await req("/settings", form({ strategy: "balanced", cooldownBaseMs: "0.2", cooldownMaxMs: "300", maxConsecutiveFailures: "5", perAccountConcurrency: "4", firstTokenTimeoutMs: "90", logRetentionDays: "30" }));
    expect(r.status).toBe(422);
    const html = await r.text();
    expect(html).toContain('data-field="cooldownBaseMs"');
    expect(html).toContain("Cooldown after a 429 must be at least 1 s.");
    expect(html).not.toMatch(/cooldownBaseMs:|>=1000|Too small/);
    expect(html).toContain('value="0.2"'); // what was typed stays for correcting
    expect(s.settings.runtime.cooldownBaseMs).toBe(2000);
  });

  test("pacing settings are shown in friendly units, saved in the store's, and their errors speak those units", async () => {
    const page = await (await req("/settings", { headers: { cookie: `${cookie}; kiro_lang=en` } })).text();
    const pacing = page.slice(page.indexOf('id="pacing-settings"'));
    expect(pacing).toContain("<span>Requests per account per window</span>");
    const before = s.settings.runtime;
    expect(pacing).toContain(`name="accountRpm" value="${before.accountRpm}"`);
    expect(pacing).toContain(`name="pacingWindowMs" value="${before.pacingWindowMs / 1000}"`);
    expect(pacing).toContain(`name="accountMinSpacingMs" value="${before.accountMinSpacingMs / 1000}"`);
    expect(pacing).toContain(`name="queueWaitMs" value="${before.queueWaitMs / 1000}"`);
    expect(pacing).toContain(`name="abuseCooldownMs" value="${before.abuseCooldownMs / 60_000}"`);
    expect(pacing).toContain(`name="perAccountConcurrency" value="${before.perAccountConcurrency}"`);
    const base = { strategy: before.strategy, accountRpm: "12", pacingWindowMs: "60", accountMinSpacingMs: "0.5", queueWaitMs: "10", abuseCooldownMs: "45", perAccountConcurrency: "3" };
    const bad = await req("/settings", form({ ...base, abuseCooldownMs: "0.5", accountRpm: "20000" }));
    expect(bad.status).toBe(422);
    const html = await bad.text();
    expect(html).toContain("Cooldown after a &quot;suspicious activity&quot; 429 must be at least 1 min.");
    expect(html).toContain("Requests per account per window must be at most 10000.");
    const zh = await (await req("/settings", { ...form({ ...base, queueWaitMs: "601" }), headers: { cookie: `${cookie}; kiro_lang=zh-CN`, "content-type": "application/x-www-form-urlencoded" } })).text();
    expect(zh).toContain("排队最长等待时间不能大于 600 秒。");
    const ok = await req("/settings", form(base));
    expect(ok.status).toBe(200);
    expect(s.settings.runtime).toMatchObject({ accountRpm: 12, pacingWindowMs: 60_000, accountMinSpacingMs: 500, queueWaitMs: 10_000, abuseCooldownMs: 2_700_000, perAccountConcurrency: 3 });
    s.settings.update({ accountRpm: before.accountRpm, accountMinSpacingMs: before.accountMinSpacingMs, queueWaitMs: before.queueWaitMs, abuseCooldownMs: before.abuseCooldownMs, perAccountConcurrency: before.perAccountConcurrency });
  });
});

describe("keys", () => {
  test("unknown model names in an allow-list are warned about, the form is reset on success", async () => {
    expect(unknownModels(["gpt-4o", "claude-sonnet-4-5", "claude-3-5-haiku"], new ModelCatalog({ fallback: "family" }))).toEqual(["gpt-4o"]);
    const check = await (await req("/keys/check-models?models=gpt-4o,claude-sonnet-4-5")).text();
    expect(check).toContain("No model is called gpt-4o");
    const r = await req("/keys", form({ name: "allow-list key", models: "gpt-4o, claude-sonnet-4-5" }));
    expect(r.status).toBe(200);
    expect(await r.text()).toContain('id="new-key-warning"');
    const page = await (await req("/keys")).text();
    expect(page).toContain('id="key-form" data-reset-on-success="1"');
    for (const label of ["Requests, 24 h", "Tokens, 24 h", "Tokens this month", "Answered, all time"]) expect(page).toContain(label);
  });

  test("rate limits are set on create, edited afterwards, and the row shows live use and limit hits", async () => {
    const tooBig = await req("/keys", form({ name: "limited", rpm: "2000000" }));
    expect(tooBig.status).toBe(422);
    expect(await tooBig.text()).toContain("Requests per minute must be at most 1,000,000.");
    const frac = await req("/keys", form({ name: "limited", tpm: "1.5" }));
    expect(await frac.text()).toContain("Tokens per minute must be a whole number of at least 1 (or empty for no limit).");
    expect(s.keys.list().some((k) => k.name === "limited")).toBe(false);

    const r = await req("/keys", form({ name: "limited", rpm: "2", tpm: "", concurrency: "3" }));
    expect(r.status).toBe(200);
    const k = s.keys.list().find((x) => x.name === "limited")!;
    expect([k.rpmLimit, k.tpmLimit, k.concurrencyLimit]).toEqual([2, null, 3]);

    // Two requests admitted, a third refused by requests/min: the row says so.
    const a = s.keyLimiter.admit(k, 100);
    const b = s.keyLimiter.admit(k, 0);
    expect(s.keyLimiter.admit(k, 0)).toBeInstanceOf(Error);
    if (a instanceof Error || b instanceof Error) throw new Error("admitted requests were refused");
    a.done(1500);
    const row = (html: string) => html.slice(html.indexOf(`id="key-${k.id}"`), html.indexOf("</tr>", html.indexOf(`id="key-${k.id}"`)));
    const table = row(await (await req("/keys/table")).text());
    expect(table).toContain('data-limit="rpm"><span class="muted">Requests</span> <span class="num">2 / 2</span>');
    expect(table).toContain('data-limit="tpm"><span class="muted">Tokens</span> <span class="num">1,500 / —</span>');
    expect(table).toContain('data-limit="concurrency"><span class="muted">At once</span> <span class="num">1 / 3</span>');
    expect(table).toContain("1 refused by a limit");
    expect(table).toContain("requests/min: 1 · tokens/min: 0 · at once: 0");
    b.done(0);

    const bad = await req(`/keys/${k.id}/limits`, form({ rpm: "0", tpm: "", concurrency: "3" }));
    expect(bad.status).toBe(422);
    const badRow = await bad.text();
    expect(badRow).toContain("Requests per minute must be a whole number of at least 1");
    expect(badRow).toContain('<details class="limits-edit" open');
    expect(s.keys.list().find((x) => x.id === k.id)!.rpmLimit).toBe(2);

    const ok = await req(`/keys/${k.id}/limits`, form({ rpm: "", tpm: "50000", concurrency: "1" }));
    expect(ok.status).toBe(200);
    const after = s.keys.list().find((x) => x.id === k.id)!;
    expect([after.rpmLimit, after.tpmLimit, after.concurrencyLimit]).toEqual([null, 50000, 1]);
    expect(await ok.text()).toContain("1,500 / 50,000");
    expect((await req("/keys/nope/limits", form({ rpm: "1" }))).status).toBe(404);
    const zh = await (await req("/keys/table", { headers: { cookie: `${cookie}; kiro_lang=zh-CN` } })).text();
    expect(zh).toContain("最近一分钟 / 上限");
    expect(zh).toContain("1 次因超限被拒");
  });
});

describe("accounts", () => {
  const view = (o: Partial<AccountView>): AccountView => ({
    id: crypto.randomUUID(), kind: "social", label: "", region: "us-east-1", fingerprint: "0123456789abcdef", state: "active", inflight: 0, priority: 0,
    requests: 0, errors: 0, consecutiveFailures: 0, hasClientSecret: false, source: "test", createdAt: 0, updatedAt: 0,
    pacing: { recentRequests: 0, windowMs: 60_000, limit: 0 }, ...o,
  });

  test("search, state filter and sort", () => {
    const all = [
      view({ label: "beta", email: "b@corp.example", state: "disabled", errors: 3 }),
      view({ label: "alpha", email: "a@corp.example", quota: { used: 10, limit: 50, remaining: 40, fetchedAt: 0 } }),
      view({ label: "gamma", email: "g@home.example", state: "cooling", quota: { used: 45, limit: 50, remaining: 5, fetchedAt: 0 } }),
    ];
    const names = (q: Record<string, string>) => selectAccounts(all, parseAccountQuery(q)).rows.map((a) => a.label);
    expect(names({})).toEqual(["beta", "alpha", "gamma"]);
    expect(names({ q: "CORP" })).toEqual(["beta", "alpha"]);
    expect(names({ state: "cooling" })).toEqual(["gamma"]);
    expect(names({ sort: "label" })).toEqual(["alpha", "beta", "gamma"]);
    expect(names({ sort: "credits" })).toEqual(["alpha", "gamma", "beta"]);
    expect(names({ sort: "errors" })[0]).toBe("beta");
    expect(names({ state: "bogus", sort: "bogus" })).toEqual(["beta", "alpha", "gamma"]);
  });

  test("bulk disable and delete of ticked accounts, as a job", async () => {
    const ids: string[] = [];
    for (const label of ["bulk-1", "bulk-2", "bulk-3"]) ids.push((await s.pool.upsert({ kind: "social", refreshToken: fakeRefreshToken(), label, source: "test" })).id);
    const r = await req("/accounts/bulk/disable", form({ ids: [ids[0]!, ids[1]!] }));
    const html = await r.text();
    expect(html).toContain("Disable 2 accounts");
    expect(html).toContain("2 of 2 done");
    expect(ids.map((id) => s.pool.get(id)!.state)).toEqual(["disabled", "disabled", "active"]);
    expect((await req("/accounts/bulk/delete", form({ ids: ids[2]! }))).status).toBe(200);
    expect(s.pool.get(ids[2]!)).toBeUndefined();
    expect((await req("/accounts/bulk/delete", form({}))).status).toBe(422);
    expect((await req("/accounts/bulk/explode", form({ ids: ids[0]! }))).status).toBe(404);
    const table = await (await req("/accounts/table?q=bulk-&state=disabled&sort=label")).text();
    expect(table).toContain(`data-total="2"`);
    expect(table.indexOf('data-label="bulk-1"')).toBeLessThan(table.indexOf('data-label="bulk-2"'));
  });
});

describe("dashboard", () => {
  test("with no account it leads to adding one instead of showing a request that would fail", async () => {
    const { app: empty, services } = await makeApp();
    const login = await empty.handle(new Request(`http://127.0.0.1:7860/login?token=${TEST_ADMIN_TOKEN}`));
    const c = login.headers.get("set-cookie")!.split(";")[0]!;
    const html = await (await empty.handle(new Request("http://127.0.0.1:7860/", { headers: { cookie: c } }))).text();
    expect(html).toContain('id="empty-pool"');
    expect(html).toContain('href="/accounts#sign-in"');
    expect(html).toContain("These settings work as soon as the pool has an account.");
    for (const fn of services.onShutdown.splice(0)) await fn();
    const withAccounts = await (await req("/")).text();
    expect(withAccounts).not.toContain('id="empty-pool"');
  });
});
