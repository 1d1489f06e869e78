import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { CATALOGUES, LOCALES, fromAcceptLanguage, interpolate, localeOf } from "../../src/panel/shared/i18n";
import { en } from "../../src/panel/shared/i18n/en";
import { trOf } from "../../src/panel/shared/i18n/tr";
import { fmtNum, fmtTime, untilText } from "../../src/panel/shared/format";
import { localPath } from "../../src/panel/auth/routes";
import { createApp } from "../../src/app";
import { TEST_ADMIN_TOKEN, makeServices } from "../support/app";

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe("message catalogues", () => {
  test("every key is in every language, non-empty, with the same placeholders", () => {
    const keys = Object.keys(en).sort();
    expect(keys.length).toBeGreaterThan(300);
    for (const locale of LOCALES) {
      const cat = CATALOGUES[locale] as Record<string, string>;
      expect(Object.keys(cat).sort()).toEqual(keys);
      for (const k of keys) {
        expect(cat[k]!.trim().length, `${locale} ${k} is empty`).toBeGreaterThan(0);
        expect(placeholders(cat[k]!), `${locale} ${k}`).toEqual(placeholders(en[k as keyof typeof en]));
      }
    }
  });

  test("every message key named in the panel's source exists", () => {
    const root = resolve(import.meta.dir, "..", "..", "src", "panel");
    const used = new Set<string>();
    for (const f of new Bun.Glob("**/*.{ts,tsx}").scanSync(root)) {
      const text = readFileSync(join(root, f), "utf8");
      for (const m of text.matchAll(/\bt\(\s*"([a-zA-Z0-9_.-]+)"/g)) used.add(m[1]!);
      for (const m of text.matchAll(/\b(?:key|label|help|error|title): "([a-z]+\.[a-zA-Z0-9_.-]+)"/g)) used.add(m[1]!);
    }
    expect(used.size).toBeGreaterThan(150);
    expect([...used].filter((k) => !(k in en))).toEqual([]);
  });

  test("the Chinese catalogue is really translated (not English left in place)", () => {
    const zh = CATALOGUES["zh-CN"] as Record<string, string>;
    const untranslated = Object.entries(en).filter(([k, v]) => /[a-z]{4,}/.test(v) && zh[k] === v && !/^(Client id|Client secret)$/.test(v));
    expect(untranslated).toEqual([]);
  });
});

describe("language choice", () => {
  test("Accept-Language: quality order, Chinese variants, fallback", () => {
    expect(fromAcceptLanguage("zh-CN,zh;q=0.9,en;q=0.8")).toBe("zh-CN");
    expect(fromAcceptLanguage("zh-TW")).toBe("zh-CN");
    expect(fromAcceptLanguage("en-GB,en;q=0.9")).toBe("en");
    expect(fromAcceptLanguage("fr-FR,zh;q=0.5,en;q=0.7")).toBe("en");
    expect(fromAcceptLanguage("fr-FR,de;q=0.5")).toBeNull();
    expect(fromAcceptLanguage("zh;q=0,en")).toBe("en");
    expect(fromAcceptLanguage(null)).toBeNull();
  });

  test("the remembered choice beats the browser's languages", () => {
    const req = (headers: Record<string, string>) => new Request("http://127.0.0.1/", { headers });
    expect(localeOf(req({ "accept-language": "zh-CN" }))).toBe("zh-CN");
    expect(localeOf(req({ "accept-language": "zh-CN", cookie: "kiro_lang=en" }))).toBe("en");
    expect(localeOf(req({ cookie: "a=b; kiro_lang=zh-CN" }))).toBe("zh-CN");
    expect(localeOf(req({ cookie: "kiro_lang=xx", "accept-language": "de" }))).toBe("en");
  });

  test("placeholders are filled; an unknown one stays visible", () => {
    expect(interpolate("{n} of {all}", { n: 1, all: 2 })).toBe("1 of 2");
    expect(interpolate("{n} of {all}", { n: 1 })).toBe("1 of {all}");
  });

  test("dates and numbers in each locale", () => {
    const now = Date.parse("2026-11-29T12:00:00Z");
    expect(fmtTime(Date.parse("2026-03-04T08:01:02Z"), now, "zh-CN")).toBe("3月4日 08:01");
    expect(fmtTime(Date.parse("2025-12-31T23:59:00Z"), now, "zh-CN")).toBe("2025年12月31日 23:59");
    expect(untilText(Date.parse("2026-12-01T00:00:00Z"), now, "en")).toBe("Dec 1");
    expect(untilText(Date.parse("2026-12-01T00:00:00Z"), now, "zh-CN")).toBe("12月1日");
    expect(fmtNum(123_456, "en")).toBe("123.5k");
    expect(fmtNum(123_456, "zh-CN")).toBe("12.3万");
    expect(fmtNum(250_000_000, "zh-CN")).toBe("2.5亿");
    expect(trOf("en").int(1234567)).toBe("1,234,567");
    expect(trOf("zh-CN").ago(now - 5 * 60_000, now)).toBe("5 分钟前");
    expect(trOf("en").ago(undefined, now)).toBe("never");
  });

  test("the switch only goes back to a path on this server", () => {
    expect(localPath("/accounts?page=2")).toBe("/accounts?page=2");
    for (const evil of ["//evil.example/", "/\\evil.example", "https://evil.example/", "javascript:alert(1)", undefined, 7]) expect(localPath(evil)).toBe("/");
  });

  test("GET /lang remembers the choice; pages and the login follow it and Accept-Language", async () => {
    const s = await makeServices();
    const app = createApp(s);
    const get = (path: string, headers: Record<string, string> = {}) => app.handle(new Request(`http://127.0.0.1${path}`, { headers }));
    const zhLogin = await (await get("/login", { "accept-language": "zh-CN,zh;q=0.9" })).text();
    expect(zhLogin).toContain('<html lang="zh-CN">');
    expect(zhLogin).toContain("管理员令牌");
    expect(await (await get("/login", { "accept-language": "en-US" })).text()).toContain("Admin token");
    const sw = await get("/lang?to=zh-CN&next=%2Faccounts");
    expect(sw.status).toBe(303);
    expect(sw.headers.get("location")).toBe("/accounts");
    expect(sw.headers.get("set-cookie")).toContain("kiro_lang=zh-CN");
    expect((await get("/lang?to=klingon&next=//evil.example")).headers.get("set-cookie")).toBeNull();
    const login = await get(`/login?token=${TEST_ADMIN_TOKEN}`);
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
    const page = await (await get("/settings", { cookie: `${cookie}; kiro_lang=zh-CN`, "accept-language": "en" })).text();
    expect(page).toContain("保存设置");
    expect(page).not.toContain("Save settings");
    for (const fn of s.onShutdown.splice(0)) await fn();
  });
});
