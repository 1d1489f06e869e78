import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import { TEST_ADMIN_TOKEN } from "../support/app";
import { startE2E, type E2E } from "../support/e2e";
import { startFakeKiro, type FakeKiro } from "../fake-kiro/server";
import { DeviceLogins } from "../../src/panel/accounts/device-login";
import type { AccountInput } from "../../src/pool/types";

/**
 * Sign-in to add an account (OIDC device authorization) against the fake's strict device flow:
 * the flow itself without a browser, then end to end in Chromium.
 */
const post = (url: string, body: unknown) => fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("the fake's device flow is strict", () => {
  let fake: FakeKiro;
  beforeAll(async () => { fake = await startFakeKiro(); });
  afterAll(async () => { await fake.stop(); });

  test("registration, wrong secret, polling too fast, denial, one-time codes", async () => {
    expect((await post(`${fake.url}/client/register`, { clientName: "x", clientType: "confidential" })).status).toBe(400);
    const reg = await (await post(`${fake.url}/client/register`, { clientName: "x", clientType: "public", scopes: ["codewhisperer:completions"] })).json() as { clientId: string; clientSecret: string };
    const bad = await post(`${fake.url}/device_authorization`, { clientId: reg.clientId, clientSecret: "wrong", startUrl: "https://view.awsapps.com/start" });
    expect(bad.status).toBe(401);
    expect(bad.headers.get("x-amzn-errortype")).toStartWith("InvalidClientException");
    const auth = await (await post(`${fake.url}/device_authorization`, { ...reg, startUrl: "https://view.awsapps.com/start" })).json() as { deviceCode: string; userCode: string; interval: number; expiresIn: number };
    expect(auth.userCode).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
    const poll = () => post(`${fake.url}/token`, { ...reg, grantType: "urn:ietf:params:oauth:grant-type:device_code", deviceCode: auth.deviceCode });
    expect(((await (await poll()).json()) as { error: string }).error).toBe("authorization_pending");
    expect(((await (await poll()).json()) as { error: string }).error).toBe("slow_down"); // polled again at once
    fake.oidcDevice.deny(auth.userCode);
    await Bun.sleep(auth.interval * 1000 + 20); // the interval the service asked for
    expect(((await (await poll()).json()) as { error: string }).error).toBe("access_denied");
    const unknown = await post(`${fake.url}/token`, { ...reg, grantType: "urn:ietf:params:oauth:grant-type:device_code", deviceCode: "nope" });
    expect(((await unknown.json()) as { error: string }).error).toBe("invalid_grant");
  });

  test("the app's client follows the interval, and adopts the tokens with the registration", async () => {
    const added: AccountInput[] = [];
    const logins = new DeviceLogins({
      upstream: fake.upstream,
      pool: { upsert: async (i) => { added.push(i); return { id: "acct-1", outcome: "added" }; }, checkQuota: async () => ({}) },
      log: { info() {}, warn() {} },
    });
    const flow = await logins.start({ kind: "builder-id", region: "us-east-1" });
    expect(flow.state).toBe("pending");
    const polls = fake.oidcDevice.polls;
    fake.oidcDevice.approve(flow.userCode!, { email: "dev@example.com" });
    while (logins.get(flow.id)!.state === "pending") await Bun.sleep(20);
    expect(logins.get(flow.id)!.state).toBe("approved");
    expect(fake.oidcDevice.polls - polls).toBe(1); // no slow_down: it waited the interval
    expect(added[0]).toMatchObject({ kind: "idc", authRegion: "us-east-1", source: "device-login" });
    expect(added[0]!.clientId).toStartWith("cid");
    expect(added[0]!.refreshToken).toStartWith("aorA");
    logins.close();
  });
});

const exe = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARTIFACTS = new URL("../artifacts/", import.meta.url).pathname;

describe.skipIf(!existsSync(exe))("device sign-in in Chromium", () => {
  let e: E2E;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    e = await startE2E({ accounts: [] });
    browser = await chromium.launch({ executablePath: exe, args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"] });
    page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    await page.goto(`${e.url}/login?token=${TEST_ADMIN_TOKEN}`);
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
    await e?.stop();
  }, 30_000);

  const start = async () => {
    await page.goto(`${e.url}/accounts`);
    await page.selectOption("#device-kind", "builder-id");
    await page.click("#device-start");
    const code = page.locator("#device-user-code");
    await code.waitFor();
    return (await code.textContent())!;
  };

  test("start, show the code, the fake approves: the account appears with email, plan and credits", async () => {
    const code = await start();
    expect(code).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
    expect(await page.locator("#device-link").getAttribute("href")).toContain(`user_code=${code}`);
    expect(fake().oidcDevice.pending().map((p) => p.userCode)).toContain(code);
    await page.screenshot({ path: `${ARTIFACTS}device-login-code.png` });
    fake().oidcDevice.approve(code, { email: "builder@example.com", quota: { used: 46, limit: 50, subscriptionTitle: "KIRO FREE" } });
    await page.locator('.device-flow[data-state="approved"]').waitFor({ timeout: 10_000 });
    const row = page.locator("#accounts-table tbody.acct", { has: page.locator(".email", { hasText: "builder@example.com" }) });
    await row.waitFor();
    expect(await row.locator(".plan").textContent()).toBe("FREE");
    expect(await row.locator(".meter-text").textContent()).toBe("46 of 50 used");
    expect(await row.locator(".meter").getAttribute("data-level")).toBe("warn"); // near the limit
    expect(await row.locator('[data-label="Auth"]').textContent()).toBe("IdC");
    const acct = e.services.pool.list().find((a) => a.email === "builder@example.com")!;
    expect(acct.source).toBe("device-login");
    expect(acct.hasClientSecret).toBe(true);
    await page.screenshot({ path: `${ARTIFACTS}device-login-added.png`, fullPage: true });
    // The account really works: a chat through it.
    const r = await fetch(`${e.url}/v1/chat/completions`, {
      method: "POST", headers: { authorization: `Bearer ${e.clientKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "hello via device login" }] }),
    });
    expect(r.status).toBe(200);
    expect(await r.text()).toContain("hello via device login");
  }, 30_000);

  test("a denied code shows its error", async () => {
    const code = await start();
    fake().oidcDevice.deny(code);
    await page.locator('.device-flow[data-state="denied"] .error', { hasText: "denied" }).waitFor({ timeout: 10_000 });
  }, 30_000);

  test("an expired code shows its error; cancel stops a sign-in", async () => {
    fake().oidcDevice.configure({ expiresInSec: 2 });
    await start();
    await page.locator('.device-flow[data-state="expired"] .error', { hasText: "expired" }).waitFor({ timeout: 10_000 });
    fake().oidcDevice.configure({ expiresInSec: 600 });
    await start();
    await page.click("#device-cancel");
    await page.locator('.device-flow[data-state="cancelled"]').waitFor();
  }, 30_000);

  test("an organisation sign-in needs an https start URL", async () => {
    await page.goto(`${e.url}/accounts`);
    await page.selectOption("#device-kind", "idc");
    await page.fill("#device-form input[name=startUrl]", "http://insecure.example/start");
    await page.click("#device-start");
    await page.locator("#device-flow .error", { hasText: "start URL" }).waitFor();
  }, 30_000);

  function fake() {
    return e.fake;
  }
});
