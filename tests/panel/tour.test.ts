import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { TEST_ADMIN_TOKEN } from "../support/app";
import { startE2E, type E2E } from "../support/e2e";
import { CATALOGUES } from "../../src/panel/shared/i18n";
import { en } from "../../src/panel/shared/i18n/en";

/**
 * Every page in 简体中文 and English, at desktop (1366) and phone (390) width, in Chromium:
 * screenshots under tests/artifacts/, no horizontal scrolling, no English left on a Chinese page
 * (and no Chinese on an English one), and the Usage charts drawing exactly the seeded data.
 */
const exe = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARTIFACTS = new URL("../artifacts/", import.meta.url).pathname;
const PAGES = [["dashboard", "/"], ["accounts", "/accounts"], ["usage", "/usage?range=day"], ["logs", "/logs"], ["requests", "/requests"], ["keys", "/keys"], ["settings", "/settings"]] as const;
const WIDTHS = [[1366, 900], [390, 844]] as const;
const MIN15 = 15 * 60_000;

/** English phrases (from the catalogue) that a Chinese page must not show; placeholders split them. */
const zh = CATALOGUES["zh-CN"] as Record<string, string>;
const ENGLISH_ONLY = [...new Set(Object.entries(en).filter(([k, v]) => zh[k] !== v)
  .flatMap(([, v]) => v.split(/\{\w+\}/)).map((s) => s.trim()).filter((s) => s.length >= 10 && / /.test(s)))];

describe.skipIf(!existsSync(exe))("every page, both languages, desktop and phone", () => {
  let e: E2E;
  let browser: Browser;
  const seeded: Array<{ at: number; tokens: number }> = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    e = await startE2E({ accounts: [{ label: "an account with a rather long label that must show whole" }, { label: "second" }] });
    // Known traffic over the last day: the Usage page must chart exactly this.
    const now = Date.now();
    const models = ["claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1"];
    for (let i = 0; i < 40; i++) {
      const at = now - (i * 35 + 5) * 60_000; // all within the last 23 hours
      const failed = i % 7 === 0;
      e.services.requestLog.record({
        requestId: `seed-${i}`, at, dialect: i % 2 ? "openai" : "anthropic", model: models[i % 3], status: failed ? 429 : 200,
        accountId: e.accountIds[i % 2], accountLabel: i % 2 ? "second" : "first", clientKeyName: "default",
        inputTokens: 100 + i, outputTokens: 10 + i, latencyMs: 500 + i * 10, ttftMs: 100,
        errorType: failed ? "rate_limit_error" : null, errorMessage: failed ? "Too many requests, please wait before trying again. ".repeat(3) : null,
      });
      seeded.push({ at, tokens: 110 + 2 * i });
    }
    e.services.requestLog.flush();
    browser = await chromium.launch({ executablePath: exe, args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"] });
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
    await e?.stop();
  }, 30_000);

  async function signedIn(locale: string, width: number, height: number): Promise<{ ctx: BrowserContext; page: Page }> {
    const ctx = await browser.newContext({ locale, viewport: { width, height } });
    const page = await ctx.newPage();
    await page.goto(`${e.url}/login?token=${TEST_ADMIN_TOKEN}`);
    return { ctx, page };
  }

  /** Waits for a drawn chart; if none comes, says where the page was and what it showed. */
  async function chartDrawn(page: Page, where: string): Promise<void> {
    try {
      await page.locator('.uchart[data-rendered="1"]').first().waitFor({ timeout: 20_000 });
    } catch (err) {
      const state = await page.evaluate(() => ({
        figures: document.querySelectorAll("figure[data-chart]").length,
        drawn: document.querySelectorAll("figure[data-rendered]").length,
        uPlot: typeof (window as unknown as { uPlot?: unknown }).uPlot,
        text: document.body.innerText.slice(0, 300),
      })).catch(() => undefined);
      throw new Error(`${where}: no chart drawn at ${page.url()}: ${JSON.stringify(state)} (${err instanceof Error ? err.message.split("\n")[0] : String(err)})`);
    }
  }

  async function checkPage(page: Page, locale: "en" | "zh-CN", name: string, width: number) {
    await page.screenshot({ path: `${ARTIFACTS}${locale}-${width}-${name}.png`, fullPage: true });
    expect(await page.evaluate(() => document.documentElement.lang)).toBe(locale);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, `${locale} ${width} ${name} scrolls sideways by ${overflow}px`).toBeLessThanOrEqual(0);
    const text = await page.evaluate(() => document.body.innerText);
    if (locale === "zh-CN") expect(ENGLISH_ONLY.filter((p) => text.includes(p)), `${name}: English left on the Chinese page`).toEqual([]);
    else expect(text.replace("简体中文", "").match(/[\u4e00-\u9fff]+/g), `${name}: Chinese on the English page`).toBeNull();
  }

  for (const locale of ["en", "zh-CN"] as const) {
    for (const [width, height] of WIDTHS) {
      test(`${locale} at ${width} px`, async () => {
        const { ctx, page } = await signedIn(locale, width, height);
        for (const [name, path] of PAGES) {
          await page.goto(`${e.url}${path}`);
          if (name === "dashboard" || name === "usage") await chartDrawn(page, `${locale} ${width} ${name}`);
          await checkPage(page, locale, name, width);
        }
        const anon = await browser.newContext({ locale, viewport: { width, height } });
        const login = await anon.newPage();
        await login.goto(`${e.url}/login`);
        await checkPage(login, locale, "login", width);
        await anon.close();
        await ctx.close();
      }, 60_000);
    }
  }

  test("the Usage chart shows the seeded data, bucket by bucket", async () => {
    const { ctx, page } = await signedIn("en", 1366, 900);
    await page.goto(`${e.url}/usage?range=day`);
    await page.locator('#usage-requests[data-rendered="1"]').waitFor();
    const read = (id: string) => page.evaluate((sel) => (document.querySelector(sel) as unknown as { uplot: { data: number[][]; series: Array<{ label: string }> } }).uplot, id)
      .then(() => page.evaluate((sel) => { const u = (document.querySelector(sel) as unknown as { uplot: { data: number[][]; series: Array<{ label: string }> } }).uplot; return { data: u.data, labels: u.series.map((s) => s.label) }; }, id));
    const requests = await read("#usage-requests");
    expect(requests.labels).toEqual(["Time", "Requests", "Errors"]);
    const expected = new Map<number, { n: number; tokens: number; errors: number }>();
    seeded.forEach((s, i) => {
      const b = (Math.floor(s.at / MIN15) * MIN15) / 1000;
      const cur = expected.get(b) ?? { n: 0, tokens: 0, errors: 0 };
      expected.set(b, { n: cur.n + 1, tokens: cur.tokens + s.tokens, errors: cur.errors + (i % 7 === 0 ? 1 : 0) });
    });
    const [x, reqs, errs] = requests.data as [number[], number[], number[]];
    expect(x.length).toBe(96); // a day in quarter hours
    for (let i = 0; i < x.length; i++) {
      expect(reqs[i]).toBe(expected.get(x[i]!)?.n ?? 0);
      expect(errs[i]).toBe(expected.get(x[i]!)?.errors ?? 0);
    }
    const tokens = await read("#usage-tokens");
    const [tx, input, output] = tokens.data as [number[], number[], number[]];
    for (let i = 0; i < tx.length; i++) expect(input[i]! + output[i]!).toBe(expected.get(tx[i]!)?.tokens ?? 0);
    const models = await read("#usage-models");
    expect(models.labels.slice(1).sort()).toEqual(["claude-haiku-4-5", "claude-opus-4-1", "claude-sonnet-4-5"]);
    // Breakdown by model: 40 requests split 14/13/13.
    expect(await page.locator('#by-model tr[data-value="claude-sonnet-4-5"] td').nth(1).textContent()).toBe("14");
    // The CSV export of the same day has the seeded rows.
    const today = new Date().toISOString().slice(0, 10);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const csv = await page.request.get(`${e.url}/usage/export.csv?from=${yesterday}&to=${today}`);
    expect(csv.headers()["content-type"]).toContain("text/csv");
    const lines = (await csv.text()).trim().split("\r\n");
    expect(lines[0]).toStartWith("at_iso,id,request_id,at,");
    expect(lines.filter((l) => l.includes(",seed-")).length).toBe(40);
    await ctx.close();
  }, 60_000);

  test("switching the language is remembered across pages", async () => {
    const { ctx, page } = await signedIn("en", 1366, 900);
    await page.goto(`${e.url}/keys`);
    await page.click('.lang a[data-lang="zh-CN"]');
    await page.waitForURL(/\/keys$/);
    expect(await page.locator("h1").textContent()).toBe("客户端密钥");
    await page.goto(`${e.url}/settings`);
    expect(await page.locator("#settings-form button[type=submit]").textContent()).toBe("保存设置");
    await page.click('.lang a[data-lang="en"]');
    expect(await page.locator("h1").textContent()).toBe("Settings");
    await ctx.close();
  }, 30_000);

  test("Requests on a phone: cards, no blank space under error rows", async () => {
    const { ctx, page } = await signedIn("en", 390, 844);
    await page.goto(`${e.url}/requests`);
    const rows = page.locator("#request-rows tr.click");
    await rows.first().waitFor();
    const gaps = await rows.evaluateAll((trs) => trs.map((tr) => {
      const cells = [...tr.querySelectorAll("td")].filter((td) => getComputedStyle(td).display !== "none");
      const inner = cells.reduce((a, td) => a + td.getBoundingClientRect().height, 0);
      return { display: getComputedStyle(tr).display, gap: tr.getBoundingClientRect().height - inner, width: tr.getBoundingClientRect().width };
    }));
    for (const g of gaps) {
      expect(g.display).toBe("block");
      expect(g.gap).toBeLessThan(12); // borders only
      expect(g.width).toBeLessThanOrEqual(390);
    }
    await ctx.close();
  }, 30_000);
});
