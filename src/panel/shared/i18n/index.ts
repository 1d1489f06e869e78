import { en, type MessageKey } from "./en";
import { zhCN } from "./zh-CN";

/**
 * The panel's languages. Every user-facing string of the panel is a key in the message catalogues
 * (en.ts, zh-CN.ts; the zh-CN one is typed against the English keys, and tests/panel/i18n.test.ts
 * fails on a key or a placeholder missing in either). The locale comes from the `kiro_lang` cookie
 * (set by the language switch), else from Accept-Language, else English.
 */
export const LOCALES = ["en", "zh-CN"] as const;
export type Locale = (typeof LOCALES)[number];
export type { MessageKey };
export type Params = Record<string, string | number>;

export const CATALOGUES: Record<Locale, Record<MessageKey, string>> = { en, "zh-CN": zhCN };
/** Each language's own name, for the switch. */
export const LOCALE_NAMES: Record<Locale, string> = { en: "English", "zh-CN": "简体中文" };
export const LANG_COOKIE = "kiro_lang";

export function isLocale(v: unknown): v is Locale {
  return typeof v === "string" && (LOCALES as readonly string[]).includes(v);
}

/** The best supported language for an Accept-Language header ("zh-TW,zh;q=0.9,en;q=0.8" → zh-CN). */
export function fromAcceptLanguage(header: string | null | undefined): Locale | null {
  if (!header) return null;
  const ranges = header.split(",").map((part, i) => {
    const [tag = "", ...rest] = part.trim().split(";");
    const q = rest.map((r) => r.trim()).find((r) => r.startsWith("q="));
    const weight = q ? Number(q.slice(2)) : 1;
    return { tag: tag.trim().toLowerCase(), q: Number.isFinite(weight) ? weight : 0, i };
  }).filter((r) => r.tag && r.q > 0).sort((a, b) => b.q - a.q || a.i - b.i);
  for (const r of ranges) {
    if (r.tag === "zh" || r.tag.startsWith("zh-")) return "zh-CN";
    if (r.tag === "en" || r.tag.startsWith("en-")) return "en";
    if (r.tag === "*") return "en";
  }
  return null;
}

/** The locale of a request: the remembered choice, then the browser's languages, then English. */
export function localeOf(request: Request): Locale {
  const cookie = request.headers.get("cookie") ?? "";
  for (const part of cookie.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === LANG_COOKIE) {
      const v = decodeURIComponent(part.slice(eq + 1).trim());
      if (isLocale(v)) return v;
    }
  }
  return fromAcceptLanguage(request.headers.get("accept-language")) ?? "en";
}

/** Fills `{name}` placeholders; an unknown placeholder stays visible rather than vanishing. */
export function interpolate(text: string, params?: Params): string {
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, k: string) => (k in params ? String(params[k]) : m));
}

export function translate(locale: Locale, key: MessageKey, params?: Params): string {
  return interpolate(CATALOGUES[locale][key] ?? en[key], params);
}
