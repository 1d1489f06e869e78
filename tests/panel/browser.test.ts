import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import { TEST_ADMIN_TOKEN } from "../support/app";
import { fakeRefreshToken, startE2E, type E2E } from "../support/e2e";

/**
 * The panel in a real Chromium (playwright-core, Debian's /usr/bin/chromium) against the real app
 * and the fake Kiro: login → add → import → live logs → request log → keys → logout.
 * Screenshots go to tests/artifacts/ (git-ignored).
 */
const exe = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARTIFACTS = new URL("../artifacts/", import.meta.url).pathname;
if (!existsSync(exe)) console.warn(`[panel browser tests] SKIPPED: no Chromium at ${exe} (apt-get install chromium, or set CHROMIUM_PATH)`);

describe.skipIf(!existsSync(exe))("admin panel in Chromium", () => {
  let e: E2E;
  let browser: Browser;
  let page: Page;
  const shot = (name: string) => page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
  // A failed wait names its step and what the live log's event stream did, so a rare failure
  // on a loaded machine can be read from the test output alone.
  const step = async (name: string, wait: () => Promise<unknown>) => {
    try { await wait(); } catch (err) {
      const seen = await page.evaluate(() => {
        const w = window as unknown as { sseTrace?: string[] };
        const lines = [...document.querySelectorAll("#log-lines li")].slice(-8).map((li) => li.textContent);
        const f = document.getElementById("feed");
        return { now: Math.round(performance.now()), sse: w.sseTrace, state: f?.dataset.state, gap: f ? f.scrollHeight - f.scrollTop - f.clientHeight : null, lines };
      }).catch((e: unknown) => String(e));
      throw new Error(`wait for ${name} failed: ${(err as Error).message.split("\n")[0]}\npage: ${JSON.stringify(seen, null, 1)}`);
    }
  };
  const chat = (key: string, content = "hello from the browser test") =>
    fetch(`${e.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-sonnet-4-5", messages: [{ role: "user", content }] }),
    });

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    e = await startE2E({ accounts: [{ label: "seed-account" }] });
    browser = await chromium.launch({
      executablePath: exe,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.on("dialog", (d) => void d.accept());
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await e?.stop();
  }, 30_000);

  test("logs in through the printed URL and shows the dashboard", async () => {
    await page.goto(`${e.url}/login?token=${TEST_ADMIN_TOKEN}`);
    expect(new URL(page.url()).pathname).toBe("/");
    expect(page.url()).not.toContain(TEST_ADMIN_TOKEN);
    expect(await page.evaluate(() => (window as unknown as { htmx: { version: string } }).htmx.version)).toMatch(/^2\./);
    // Swapped-in controls work at once (views/layouts/panel.tsx): no settle delay.
    expect(await page.evaluate(() => (window as unknown as { htmx: { config: { defaultSettleDelay: number } } }).htmx.config.defaultSettleDelay)).toBe(0);
    await page.locator("h1", { hasText: "Dashboard" }).waitFor();
    expect(await page.locator("#client-key").textContent()).toBe(e.clientKey);
    expect(await page.locator("#base-url").textContent()).toBe(e.url);
    expect(await page.locator("#snip-claude").textContent()).toContain(`ANTHROPIC_BASE_URL='${e.url}'`);
    expect(await page.locator("#snip-continue-yaml").textContent()).toContain(`apiKey: "${e.clientKey}"`);
    expect(await page.locator("#snip-codex").textContent()).toContain(`kiro-server codex-config --base-url '${e.url}/v1'`);
    await page.locator('#dash-live .uchart[data-rendered="1"]').nth(3).waitFor(); // uPlot drew all four charts
    expect(await page.locator("#dash-live .uchart .u-legend").count()).toBe(4);
    // Summary and charts poll their own fragment while the tab is visible.
    expect(await page.locator("#dash-live").getAttribute("hx-trigger")).toContain("every 15s");
    const live = await page.request.get(`${e.url}/dashboard/live`);
    expect(live.status()).toBe(200);
    expect(await live.text()).toContain('id="dash-live"');
    expect(await page.locator("link[rel=icon]").count()).toBe(1);
  }, 20_000);

  test("adds an account with the form; the token is never shown again", async () => {
    const acct = e.fake.addAccount({ refreshToken: fakeRefreshToken() });
    await page.goto(`${e.url}/accounts`);
    await page.locator("summary", { hasText: "Add with a refresh token" }).click();
    await page.fill("#add-form textarea[name=refreshToken]", acct.refreshToken);
    await page.fill("#add-form input[name=label]", "added-in-browser");
    expect(await page.locator("#idc-fields").isVisible()).toBe(false); // IdC fields only for IdC
    await page.selectOption("#add-form select[name=kind]", "idc");
    expect(await page.locator("#idc-fields").isVisible()).toBe(true);
    await page.click("#add-form button[type=submit]");
    // A 422 answer is shown (htmx 2 would drop it by default) and the form keeps what was typed.
    await page.locator("#add-result .error", { hasText: "client id and client secret" }).waitFor();
    expect(await page.inputValue("#add-form textarea[name=refreshToken]")).toBe(acct.refreshToken);
    await page.selectOption("#add-form select[name=kind]", "social");
    await page.click("#add-form button[type=submit]");
    await page.locator("#add-result", { hasText: "Account added" }).waitFor();
    await page.locator('#accounts-table textarea.label-edit[data-label="added-in-browser"]').waitFor();
    expect(await page.inputValue("#add-form textarea[name=refreshToken]")).toBe(""); // form cleared after entry
    expect(await page.content()).not.toContain(acct.refreshToken);
  }, 20_000);

  test("an import with bad JSON shows why, and keeps the text for fixing", async () => {
    await page.locator("summary", { hasText: "Import accounts" }).click();
    await page.fill("#import-form textarea[name=text]", "{not json");
    await page.click("#import-form button[type=submit]");
    await page.locator("#import-result .error", { hasText: "not valid JSON" }).waitFor();
    expect(await page.inputValue("#import-form textarea[name=text]")).toBe("{not json");
  }, 20_000);

  test("imports a Kiro Account Manager export and reports the bad rows", async () => {
    const kam = {
      version: "1.8.3",
      accounts: [
        { email: "good@example.com", label: "kam-good", refreshToken: fakeRefreshToken() },
        { email: "broken@example.com", label: "kam-error", status: "error", refreshToken: fakeRefreshToken() },
        { email: "short@example.com", label: "kam-short", credentials: { refreshToken: "aorA-too-short" } },
      ],
    };
    // The good account is real at the fake: its quota is fetched during the import.
    e.fake.addAccount({ refreshToken: kam.accounts[0]!.refreshToken!, email: "good@example.com", quota: { used: 12, limit: 50 } });
    await page.fill("#import-form textarea[name=text]", JSON.stringify(kam));
    await page.click("#import-form button[type=submit]");
    const report = page.locator('#import-result .job[data-done="1"]');
    await report.waitFor();
    const text = (await report.textContent())!;
    expect(text).toContain("Kiro Account Manager export");
    expect(text).toContain("1 added");
    expect(text).toContain("2 skipped");
    expect(text).toContain('status is "error"');
    expect(await report.locator("tr.bad").count()).toBe(2);
    expect(await page.inputValue("#import-form textarea[name=text]")).toBe(""); // pasted tokens do not linger
    expect(await page.content()).not.toContain(kam.accounts[0]!.refreshToken!);
    await page.locator('#accounts-table textarea.label-edit[data-label="kam-good"]').waitFor();
    // Plan, credits and email without pressing "Check quota".
    const good = page.locator("tbody.acct", { has: page.locator('textarea.label-edit[data-label="kam-good"]') });
    expect(await good.locator(".email").textContent()).toBe("good@example.com");
    expect(await good.locator(".meter-text").textContent()).toBe("12 of 50 used");
    expect(await good.locator(".plan").textContent()).not.toBe("—");
    await shot("accounts");
  }, 20_000);

  test("edits a label and disables/enables an account in place", async () => {
    const row = page.locator("tbody.acct", { has: page.locator('textarea.label-edit[data-label="kam-good"]') });
    await row.locator("button", { hasText: "Disable" }).click();
    const disabled = page.locator("tbody.acct", { has: page.locator(".badge.s-disabled") }).filter({ has: page.locator('textarea[data-label="kam-good"]') });
    await disabled.waitFor();
    await disabled.locator("button", { hasText: "Enable" }).click();
    await page.locator("tbody.acct", { has: page.locator('textarea[data-label="kam-good"]') }).locator(".note", { hasText: "enabled" }).waitFor();
    const input = page.locator('textarea.label-edit[data-label="kam-good"]');
    await input.fill("kam-renamed");
    await input.press("Tab");
    await page.locator(".note", { hasText: "label saved" }).waitFor();
    expect(e.services.pool.list().some((a) => a.label === "kam-renamed")).toBe(true);
  }, 20_000);

  test("shows live log lines while a request runs: one line per request, pinned to the tail", async () => {
    // Every wait here is for an event (the stream opening, a line arriving, the scroll moving), bounded
    // generously so a loaded machine is slower but never flaky; none is a fixed sleep.
    const WAIT = { timeout: 30_000 };
    await page.addInitScript(() => {
      const w = window as unknown as { sseOpened: number; sseTrace: string[] };
      w.sseOpened = 0;
      w.sseTrace = [];
      const at = () => Math.round(performance.now());
      document.addEventListener("htmx:sseOpen", () => { w.sseOpened++; w.sseTrace.push(`${at()} open`); });
      document.addEventListener("htmx:sseError", () => { w.sseTrace.push(`${at()} error`); });
      document.addEventListener("htmx:sseClose", () => { w.sseTrace.push(`${at()} close`); });
    });
    for (let i = 0; i < 60; i++) e.services.log.info(`filler line ${i}`); // enough to scroll
    await page.goto(`${e.url}/logs?level=debug`);
    await step("feed live", () => page.locator('#feed[data-state="live"]').waitFor(WAIT));
    const gap = () => page.evaluate(() => { const f = document.getElementById("feed")!; return f.scrollHeight - f.scrollTop - f.clientHeight; });
    expect(await page.evaluate(() => { const f = document.getElementById("feed")!; return f.scrollHeight > f.clientHeight; })).toBe(true);
    expect(await gap()).toBeLessThan(2); // opens at the newest line
    // The stream is open (the SSE extension says so), so no line logged from now on is missed.
    await step("stream open", () => page.waitForFunction(() => (window as unknown as { sseOpened: number }).sseOpened > 0, undefined, WAIT));
    const before = await page.locator("#log-lines li").count();
    const r = await chat(e.clientKey, "live log please");
    expect(r.status).toBe(200);
    const requestId = r.headers.get("x-request-id")!;
    await r.text();
    await step("request's line", () => page.locator("#log-lines li", { hasText: "→ 200" }).filter({ hasText: requestId }).first().waitFor(WAIT));
    // Lines arrive in order: once a marker logged after the request is shown, any duplicate of the
    // request's line would be shown too.
    e.services.log.info("marker after the request");
    await step("marker line", () => page.locator("#log-lines li", { hasText: "marker after the request" }).waitFor(WAIT));
    expect(await page.locator("#log-lines li").count()).toBeGreaterThan(before);
    expect(await page.locator("#log-lines li", { hasText: "→ 200" }).filter({ hasText: requestId }).count()).toBe(1); // once, not twice
    await step("pinned to the tail", () => page.waitForFunction(() => { const f = document.getElementById("feed")!; return f.scrollHeight - f.scrollTop - f.clientHeight < 2; }, undefined, WAIT));
    expect(await gap()).toBeLessThan(2); // followed the tail
    expect(await page.locator("#log-lines time[data-local]").count()).toBeGreaterThan(0); // local time
    await shot("live-logs");
    // Scrolled up: new lines do not pull the view down.
    await page.evaluate(() => { document.getElementById("feed")!.scrollTop = 0; });
    await step("scrolled up", () => page.waitForFunction(() => document.getElementById("feed")!.scrollTop === 0, undefined, WAIT));
    e.services.log.warn("while reading older lines");
    await step("line while scrolled up", () => page.locator("#log-lines li", { hasText: "while reading older lines" }).waitFor(WAIT));
    expect(await page.evaluate(() => document.getElementById("feed")!.scrollTop)).toBe(0);
    // One Pause/Resume toggle; changing the level while paused stays paused.
    await page.click("#log-toggle");
    await step("paused", () => page.locator('#feed[data-state="paused"]').waitFor(WAIT));
    expect(await page.locator("#log-toggle").textContent()).toBe("Resume");
    await page.selectOption("#log-level", "warn");
    await step("level kept", () => page.locator("#log-level option[value=warn][selected]").waitFor({ state: "attached", ...WAIT }));
    expect(await page.locator("#feed").getAttribute("data-state")).toBe("paused");
    expect(await page.locator("#log-lines li.lv-info").count()).toBe(0);
    await page.click("#log-toggle");
    await step("live again", () => page.locator('#feed[data-state="live"]').waitFor(WAIT));
    expect(await page.locator("#log-toggle").textContent()).toBe("Pause");
    expect(await page.locator("#feed").getAttribute("sse-connect")).toBe("/logs/stream?level=warn");
  }, 120_000);

  test("lists the request in the request log and opens its details", async () => {
    await page.goto(`${e.url}/requests`);
    const row = page.locator("#request-rows tr.click", { hasText: "claude-sonnet-4-5" }).first();
    await row.waitFor();
    expect(await row.textContent()).toContain("200");
    await row.click();
    await page.locator("#request-detail dt", { hasText: "Request id" }).waitFor();
    expect(await page.locator("#request-detail").textContent()).toContain("Request bodies are not logged");
    expect(await page.locator("#request-detail").evaluate((d) => { const r = d.getBoundingClientRect(); return r.top < innerHeight && r.bottom > 0; })).toBe(true);
    await page.fill("input[name=model]", "claude-son"); // a prefix is enough
    const filtered = page.waitForResponse((res) => new URL(res.url()).pathname.startsWith("/requests") && res.url().includes("model=claude-son"), { timeout: 30_000 });
    await page.click(".filters button[type=submit]");
    await filtered;
    expect(await page.locator("#request-rows tr.click").count()).toBeGreaterThan(0);
    await page.fill("input[name=model]", "");
    await page.selectOption("select[name=status]", "error");
    await page.locator("#request-rows", { hasText: "No matching requests" }).waitFor();
    await shot("requests");
  }, 20_000);

  test("a key with a past expiry is refused with a visible message", async () => {
    await page.goto(`${e.url}/keys`);
    await page.fill("#key-form input[name=name]", "already expired");
    await page.fill("#key-form input[name=expires]", "2001-01-01");
    await page.click("#key-form button[type=submit]");
    await page.locator("#key-result .error", { hasText: "in the past" }).waitFor();
    expect(e.services.keys.list().some((k) => k.name === "already expired")).toBe(false);
  }, 20_000);

  test("creates a key, shows it once, and a revoked key gets 401", async () => {
    await page.goto(`${e.url}/keys`);
    await page.fill("#key-form input[name=name]", "browser key <b>x</b>");
    await page.fill("#key-form input[name=budget]", "100000");
    await page.click("#key-form button[type=submit]");
    const value = page.locator("#new-key-value");
    await value.waitFor();
    const key = (await value.textContent())!;
    expect(key).toMatch(/^sk-kiro-/);
    const row = page.locator("#keys-table tr", { hasText: "browser key <b>x</b>" });
    await row.waitFor();
    expect(await row.locator("b").count()).toBe(0); // the name is text, not markup
    const ok = await chat(key);
    expect(ok.status).toBe(200);
    await ok.text();
    await shot("keys");
    await row.locator("button", { hasText: "Revoke" }).click();
    await page.locator("#keys-table tr", { hasText: "browser key" }).locator(".badge", { hasText: "revoked" }).waitFor();
    const denied = await chat(key);
    expect(denied.status).toBe(401);
    await page.reload();
    expect(await page.locator("#new-key-value").count()).toBe(0); // shown once only
  }, 20_000);

  test("a key's rate limit is set on create, refuses over it, shows the hit, and is raised in place", async () => {
    const WAIT = { timeout: 30_000 };
    await page.goto(`${e.url}/keys`);
    await page.fill("#key-form input[name=name]", "limited in browser");
    await page.fill("#key-form input[name=rpm]", "1");
    await page.click("#key-form button[type=submit]");
    const value = page.locator("#new-key-value");
    await value.waitFor(WAIT);
    const key = (await value.textContent())!;
    expect(await page.locator("#key-form input[name=rpm]").inputValue()).toBe(""); // the form was reset
    const first = await chat(key);
    expect(first.status).toBe(200);
    await first.text();
    const second = await chat(key);
    expect(second.status).toBe(429);
    expect(Number(second.headers.get("retry-after"))).toBeGreaterThan(0);
    await second.text();
    await page.reload();
    const row = page.locator("#keys-table tr", { hasText: "limited in browser" });
    expect(await row.locator('[data-limit="rpm"] .num').textContent()).toBe("1 / 1");
    expect(await row.locator(".limit-hits").textContent()).toBe("1 refused by a limit");
    await row.locator(".limits-edit summary").click();
    await row.locator(".limits-edit input[name=rpm]").fill("5");
    await row.locator(".limits-edit button[type=submit]").click();
    await page.locator("#keys-table tr", { hasText: "limited in browser" }).locator('[data-limit="rpm"] .num', { hasText: "1 / 5" }).waitFor(WAIT);
    expect(e.services.keys.list().find((k) => k.name === "limited in browser")!.rpmLimit).toBe(5);
    const third = await chat(key);
    expect(third.status).toBe(200);
    await third.text();
    await shot("keys-limits");
  }, 60_000);

  test("saves settings", async () => {
    await page.goto(`${e.url}/settings`);
    await page.check("input[name=logRequestBodies]");
    await page.click("#settings-form button[type=submit]");
    await page.locator("#settings-form .ok-text", { hasText: "Saved" }).waitFor();
    expect(e.services.settings.runtime.logRequestBodies).toBe(true);
  }, 20_000);

  test("looks right at phone width", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${e.url}/`);
    await shot("dashboard-phone");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1280, height: 860 });
    await page.goto(`${e.url}/`);
    expect(await page.locator("#chart-hour-requests .uchart-totals b").first().textContent()).not.toBe("0"); // this hour's requests are charted
    await shot("dashboard");
  }, 20_000);

  test("logs out", async () => {
    await page.click("#logout");
    await page.waitForURL(/\/login$/);
    await page.goto(`${e.url}/accounts`);
    expect(new URL(page.url()).pathname).toBe("/login");
  }, 20_000);
});
