import type { Locale } from "./i18n";

/**
 * Numbers, durations and dates in the panel's two locales (pure; no user text is produced here).
 * Dates are written in UTC on the server and rewritten to the viewer's local time, with the same
 * rules, by src/panel/shared/assets/panel.js.
 */
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

const trim1 = (x: number) => x.toFixed(1).replace(/\.0$/, "");

/** Compact numbers: "12.3k", "4.5M" in English; "1.2万", "3.4亿" in Chinese (ten thousand, hundred million). */
export function fmtNum(n: number | null | undefined, locale: Locale = "en"): string {
  if (n == null) return "—";
  const a = Math.abs(n);
  if (locale === "zh-CN") {
    if (a >= 100_000_000) return trim1(n / 100_000_000) + "亿";
    if (a >= 10_000) return trim1(n / 10_000) + "万";
  } else {
    if (a >= 1_000_000) return trim1(n / 1_000_000) + "M";
    if (a >= 10_000) return trim1(n / 1000) + "k";
  }
  return String(Math.round(n * 100) / 100);
}

/** A whole number with the locale's digit grouping ("1,234,567"). */
export function fmtInt(n: number | null | undefined, locale: Locale = "en"): string {
  return n == null ? "—" : new Intl.NumberFormat(locale).format(Math.round(n));
}

/** "850 ms", "1.2 s" (the unit symbols are the same in both languages). */
export function fmtMs(ms: number | null | undefined): string {
  if (ms == null) return "—";
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function pct(part: number, whole: number): string {
  return whole ? `${((part / whole) * 100).toFixed(1)}%` : "0%";
}

/** "Mar 4" / "Mar 4 2025" in English, "3月4日" / "2025年3月4日" in Chinese (UTC). */
function dayText(d: Date, withYear: boolean, locale: Locale): string {
  if (locale === "zh-CN") return `${withYear ? `${d.getUTCFullYear()}年` : ""}${d.getUTCMonth() + 1}月${d.getUTCDate()}日`;
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}${withYear ? ` ${d.getUTCFullYear()}` : ""}`;
}

/** "14:03:22" for today, "Nov 28 14:03" this year, "Nov 28 2024 14:03" before (UTC). */
export function fmtTime(at: number | null | undefined, now = Date.now(), locale: Locale = "en"): string {
  if (!at) return "—";
  const d = new Date(at);
  const iso = d.toISOString();
  const today = new Date(now).toISOString();
  if (today.slice(0, 10) === iso.slice(0, 10)) return iso.slice(11, 19);
  return `${dayText(d, today.slice(0, 4) !== iso.slice(0, 4), locale)} ${iso.slice(11, 16)}`;
}

/** "14:05" within a day, "Dec 1" beyond (UTC; with the year when it differs). */
export function untilText(at: number, now = Date.now(), locale: Locale = "en"): string {
  if (at - now < 86_400_000) return new Date(at).toISOString().slice(11, 16);
  const d = new Date(at);
  return dayText(d, d.getUTCFullYear() !== new Date(now).getUTCFullYear(), locale);
}

/** Seconds, minutes, hours or days since `at`, as [unit, count] for the catalogue's "ago" messages. */
export function agoParts(at: number, now = Date.now()): ["s" | "m" | "h" | "d", number] {
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 60) return ["s", s];
  if (s < 3600) return ["m", Math.floor(s / 60)];
  if (s < 86400) return ["h", Math.floor(s / 3600)];
  return ["d", Math.floor(s / 86400)];
}

/** A date for <input type="date"> and CSV file names: "2026-12-06" (UTC). */
export const isoDay = (at: number) => new Date(at).toISOString().slice(0, 10);
