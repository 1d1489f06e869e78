import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { chromium } from "playwright-core";
import { resolve } from "node:path";
import { REASON_TEXTS, type ReasonCode, reasonOf, reasonText } from "../../src/pool/reasons";
import { CATALOGUES } from "../../src/panel/shared/i18n";
import { en } from "../../src/panel/shared/i18n/en";
import { trOf } from "../../src/panel/shared/i18n/tr";
import { TEST_ADMIN_TOKEN } from "../support/app";
import { fakeRefreshToken, startE2E, type E2E } from "../support/e2e";

/**
 * The pool's own texts (account state reasons, last errors, import and upsert report rows) carry a
 * reason code recovered from the stored English, so a Chinese page shows them in Chinese; the
 * upstream's own words are quoted as they are and anything unknown stays as written.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARTIFACTS = new URL("../artifacts/", import.meta.url).pathname;
const SAMPLE: Record<string, string | number> = { detail: "MONTHLY_REQUEST_COUNT", upstream: "Upstream said: no (really)", n: 5, cls: "throttled", method: "saml", path: "/tmp/x.json", file: "abc.json", at: "2026-01-01T00:00:00.000Z", who: "a@b.example", id: "acc-1" };
const paramsOf = (code: ReasonCode) => Object.fromEntries([...REASON_TEXTS[code].matchAll(/\{(\w+)\}/g)].map((m) => [m[1]!, SAMPLE[m[1]!]!]));
/** Words of four letters or more that are not part of a quoted parameter. */
const englishWords = (s: string, quoted: string[]) => quoted.reduce((acc, q) => acc.split(q).join(" "), s).match(/[A-Za-z]{4,}/g) ?? [];
/** Names the Chinese texts keep on purpose: field and file names, products, protocols. */
const KEPT = new Set(["refreshToken", "Kiro", "Account", "Manager", "clientId", "clientSecret", "clientIdHash", "auth_kv", "SQLite", "JSON", "http", "https", "user", "pass", "host", "port", "error", "kiro", "auth"]);

describe("reason codes", () => {
  test("every code's English text gives back the same code and parameters", () => {
    for (const code of Object.keys(REASON_TEXTS) as ReasonCode[]) {
      const params = paramsOf(code);
      const text = reasonText(code, params);
      expect(reasonOf(text), code).toEqual({ code, params, text });
    }
    expect(reasonText("state.autoDisabled", { n: 3, cls: "transient" })).toStartWith("auto-disabled");
    expect(reasonOf("Your User ID temporarily is suspended")).toBeUndefined();
    expect(reasonOf("nonsense: not a class")).toBeUndefined();
  });

  test("the English page reads exactly what is stored; the Chinese page translates all but the quoted parts", () => {
    for (const code of Object.keys(REASON_TEXTS) as ReasonCode[]) {
      const params = paramsOf(code);
      const text = reasonText(code, params);
      expect(trOf("en").said(text)).toBe(text);
      const zh = trOf("zh-CN").said(text);
      expect(zh).not.toBe(text);
      const quoted = Object.entries(params).filter(([k]) => k !== "cls" && k !== "n").map(([, v]) => String(v));
      expect(englishWords(zh, quoted).filter((w) => !KEPT.has(w)), `${code}: ${zh}`).toEqual([]);
    }
    expect(trOf("zh-CN").said("something the upstream said")).toBe("something the upstream said");
    expect(trOf("zh-CN").said(undefined)).toBe("");
  });

  test("the catalogues hold a message for every code and error class", () => {
    for (const code of Object.keys(REASON_TEXTS)) {
      expect(en[`reason.${code}` as keyof typeof en]).toBe(REASON_TEXTS[code as ReasonCode]);
      expect((CATALOGUES["zh-CN"] as Record<string, string>)[`reason.${code}`]).toBeTruthy();
    }
  });

  test("the literal reasons written outside the reason table are all recognized", () => {
    // identity.ts, quota.ts and pool.ts write some reasons as literals: a change of wording there
    // must come with the table's, or the Chinese page would silently fall back to English.
    const root = resolve(import.meta.dir, "..", "..", "src", "pool");
    const found: string[] = [];
    for (const f of ["identity.ts", "quota.ts", "pool.ts"]) {
      const src = readFileSync(resolve(root, f), "utf8");
      // An upsert's answer (identity.ts); the other files' `why` name events for the log.
      if (f === "identity.ts") for (const m of src.matchAll(/\bwhy: (?:[^"`\n]*\? )?"([^"]+)"(?: : "([^"]+)")?/g)) found.push(...[m[1], m[2]].filter((x): x is string => !!x));
      for (const m of src.matchAll(/setState\(rec, "(?:disabled|exhausted|cooling)", "([^"]+)"/g)) found.push(m[1]!);
    }
    expect(found.length).toBeGreaterThan(8);
    // identity.ts re-enables an account a new token revives by these prefixes of the reasons written here.
    const dead = /DEAD_TOKEN_REASONS = \[([^\]]+)\]/.exec(readFileSync(resolve(root, "identity.ts"), "utf8"))![1]!.match(/"([^"]+)"/g)!.map((q) => q.slice(1, -1));
    expect(dead.map((prefix) => [reasonText("state.refreshRejected"), reasonText("state.reauth", { upstream: "x" })].some((r) => r.startsWith(prefix)))).toEqual(dead.map(() => true));
    expect(found.filter((t) => !reasonOf(t))).toEqual([]);
  });
});

describe("a Chinese Accounts page: import report, cooling, exhausted and disabled accounts", () => {
  let e: E2E;
  let cookie = "";
  let csrf = "";
  const SUSPENDED = "Your User ID (fake) temporarily is suspended. Please contact support.";
  const panel = (path: string, init: RequestInit = {}, lang = "zh-CN") =>
    fetch(`${e.url}${path}`, { ...init, headers: { cookie: `${cookie}; kiro_lang=${lang}`, "x-csrf-token": csrf, ...(init.headers as Record<string, string>) } });
  /** The visible text of an HTML fragment (tags and attributes dropped, entities of the quoted text decoded). */
  const visible = (html: string) => html.replace(/<script[\s\S]*?<\/script>/g, " ").replace(/<style[\s\S]*?<\/style>/g, " ").replace(/<[^>]+>/g, " ")
    .replace(/&#39;|&#x27;/g, "'").replace(/&#34;|&quot;/g, "\"").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&").replace(/\s+/g, " ");
  /** English phrases (from the catalogue, including every reason) a Chinese page must not show. */
  const zh = CATALOGUES["zh-CN"] as Record<string, string>;
  const ENGLISH_ONLY = [...new Set(Object.entries(en).filter(([k, v]) => zh[k] !== v)
    .flatMap(([, v]) => v.split(/\{\w+\}/)).map((s) => s.trim()).filter((s) => s.length >= 10 && / /.test(s)))];

  beforeAll(async () => {
    e = await startE2E({
      accounts: [
        { label: "cools", behaviour: { throttleCalls: 1, retryAfterSec: 3600 } },
        { label: "spent", behaviour: { quota: true } },
        { label: "held", behaviour: { suspended: true } },
        { label: "lost" },
        { label: "works" },
      ],
    });
    e.services.settings.update({ strategy: "priority" });
    const r = await fetch(`${e.url}/login?token=${TEST_ADMIN_TOKEN}`, { redirect: "manual" });
    cookie = r.headers.get("set-cookie")!.split(";")[0]!;
    const page = await (await panel("/")).text();
    csrf = /x-csrf-token&#34;:&#34;([^&]+)&#34;|"x-csrf-token":"([^"]+)"/.exec(page)!.slice(1).find(Boolean)!;
  });
  afterAll(async () => {
    await e?.stop();
  });

  test("each account's state and error in Chinese, the upstream's words quoted", async () => {
    // One request walks the pool in priority order: 429 → cooling, 402 → exhausted, 403 suspended → disabled, then served.
    const res = await fetch(`${e.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": e.clientKey, "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 32, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(200);
    await res.text();
    // A dead refresh token, found by a refresh: disabled.
    e.accounts[3]!.behaviour.dead = true;
    await e.services.pool.refreshNow(e.accountIds[3]!).catch(() => undefined);
    const states = e.accountIds.map((id) => e.services.pool.get(id)!.state);
    expect(states).toEqual(["cooling", "exhausted", "disabled", "disabled", "active"]);

    const html = await (await panel("/accounts")).text();
    const text = visible(html);
    expect(ENGLISH_ONLY.filter((p) => text.includes(p))).toEqual([]);
    for (const zhText of ["被限流（429）", "额度已用完（MONTHLY_REQUEST_COUNT）", "刷新令牌被拒绝", `账号已被暂停：${SUSPENDED}`, "刷新失败：刷新令牌失效：Bad credentials"]) {
      expect(text).toContain(zhText);
    }
    // What is stored (and what the API and logs say) is still the English text.
    expect(e.services.pool.get(e.accountIds[0]!)!.stateReason).toBe("throttled (429)");
    // The English page shows the stored text as before.
    const enText = visible(await (await panel("/accounts", {}, "en")).text());
    for (const s of ["throttled (429)", "quota exhausted (MONTHLY_REQUEST_COUNT)", "refresh token rejected", `suspended: ${SUSPENDED}`]) expect(enText).toContain(s);
  }, 30_000);

  test("an import report with skipped rows", async () => {
    const known = e.accounts[4]!;
    const body = new URLSearchParams({
      text: JSON.stringify([
        { refreshToken: known.refreshToken, label: "works" },
        { label: "nothing" },
        { refreshToken: fakeRefreshToken(), status: "error", label: "odd" },
        { refreshToken: "short...", authMethod: "social", label: "cut" },
        "not an object",
      ]),
    });
    const res = await panel("/accounts/import", { method: "POST", body, headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(res.status).toBe(200);
    const text = visible(await res.text());
    expect(ENGLISH_ONLY.filter((p) => text.includes(p))).toEqual([]);
    expect(text).toContain("导入（Kiro Account Manager 导出文件）");
    for (const zhText of ["已存在，无变化", "缺少 refreshToken", "导出文件中该账号的状态为 \"error\"", "刷新令牌似乎被截断", "不是 JSON 对象"]) expect(text).toContain(zhText);
    for (const english of ["already present", "in the export", "looks truncated", "not an object"]) expect(text).not.toContain(english);
  }, 30_000);

  test.skipIf(!existsSync(CHROMIUM))("the same page in Chromium, at desktop and phone width: nothing in English but the quoted upstream text", async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"] });
    try {
      for (const [width, height] of [[1366, 900], [390, 844]] as const) {
        const ctx = await browser.newContext({ locale: "zh-CN", viewport: { width, height } });
        const page = await ctx.newPage();
        await page.goto(`${e.url}/login?token=${TEST_ADMIN_TOKEN}`);
        await page.goto(`${e.url}/accounts`);
        await page.click("#import summary");
        await page.fill('#import-form textarea[name="text"]', JSON.stringify([{ refreshToken: e.accounts[4]!.refreshToken, label: "works" }, { label: "nothing" }]));
        await page.click('#import-form button[type="submit"]');
        await page.locator('#import-result .job[data-done="1"]').waitFor();
        mkdirSync(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: `${ARTIFACTS}zh-CN-${width}-accounts-states.png`, fullPage: true });
        const text = await page.evaluate(() => document.body.innerText);
        expect(ENGLISH_ONLY.filter((p) => text.includes(p)), `English left at ${width} px`).toEqual([]);
        for (const zhText of ["已存在，无变化", "缺少 refreshToken", "被限流（429）", "额度已用完（MONTHLY_REQUEST_COUNT）", "刷新令牌被拒绝", `账号已被暂停：${SUSPENDED}`]) expect(text).toContain(zhText);
        await ctx.close();
      }
    } finally {
      await browser.close();
    }
  }, 60_000);
});
