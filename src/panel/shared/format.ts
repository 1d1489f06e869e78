/** Small text formatters shared by the panel views (pure; no user text is produced here). */
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

export function fmtNum(n: number | null | undefined): string {
  if (n == null) return "—";
  if (Math.abs(n) >= 1_000_000) return (n / 1_000_000).toFixed(1).replace(/\.0$/, "") + "M";
  if (Math.abs(n) >= 10_000) return (n / 1000).toFixed(1).replace(/\.0$/, "") + "k";
  return String(Math.round(n * 100) / 100);
}

export function fmtMs(ms: number | null | undefined): string {
  if (ms == null) return "—";
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * "14:03:22" for today, "Nov 28 14:03" this year, "Nov 28 2024 14:03" before (UTC; the panel's
 * script rewrites it to the viewer's local time with the same rules, see src/panel/shared/assets/panel.js).
 */
export function fmtTime(at: number | null | undefined, now = Date.now()): string {
  if (!at) return "—";
  const d = new Date(at);
  const iso = d.toISOString();
  const today = new Date(now).toISOString();
  if (today.slice(0, 10) === iso.slice(0, 10)) return iso.slice(11, 19);
  const year = today.slice(0, 4) === iso.slice(0, 4) ? "" : ` ${d.getUTCFullYear()}`;
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}${year} ${iso.slice(11, 16)}`;
}

export function ago(at: number | null | undefined, now = Date.now()): string {
  if (!at) return "never";
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

/** "14:05" within a day, "Dec 1" beyond (UTC; "Dec 1 2026" when the year differs). */
export function untilText(at: number, now = Date.now()): string {
  if (at - now < 86_400_000) return new Date(at).toISOString().slice(11, 16);
  const d = new Date(at);
  const year = d.getUTCFullYear() === new Date(now).getUTCFullYear() ? "" : ` ${d.getUTCFullYear()}`;
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}${year}`;
}

/** "until 14:05" within a day, "until Dec 1" beyond (plain text, UTC). */
export function until(at: number | null | undefined, now = Date.now()): string {
  return at ? `until ${untilText(at, now)}` : "";
}

export function pct(part: number, whole: number): string {
  return whole ? `${((part / whole) * 100).toFixed(1)}%` : "0%";
}

/** Parsed `accounts.quota_json` (QuotaSnapshot), tolerant of missing fields. */
export type Quota = { used?: number; limit?: number; remaining?: number; resetAt?: number; subscription?: string };
export function parseQuota(json: string | null): Quota | null {
  if (!json) return null;
  try {
    const q = JSON.parse(json);
    return q && typeof q === "object" ? q : null;
  } catch {
    return null;
  }
}
