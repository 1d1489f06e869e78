import type { Tr } from "../i18n/tr";

/**
 * A moment in time as <time datetime="ISO">: the server writes UTC (labelled, so the page reads
 * right without JS) and src/panel/shared/assets/panel.js rewrites the text to the viewer's local
 * time in the page's language. `kind` picks the format: "when" (clock today, date otherwise),
 * "until" (a coming moment), "log" (clock with milliseconds, for log lines), "full" (date and time).
 */
export type TimeKind = "when" | "until" | "log" | "full";

export function utcText(tr: Tr, at: number, kind: TimeKind, now: number): string {
  const iso = new Date(at).toISOString();
  if (kind === "log") return iso.slice(11, 23);
  if (kind === "full") return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
  return `${kind === "until" ? tr.until(at, now) : tr.time(at, now)} UTC`;
}

export function Time(props: { tr: Tr; at: number | null | undefined; kind?: TimeKind; now: number; empty?: string }) {
  if (!props.at) return <span safe>{props.empty ?? "—"}</span>;
  const kind = props.kind ?? "when";
  const iso = new Date(props.at).toISOString();
  return <time datetime={iso} data-t={kind} title={iso} safe>{utcText(props.tr, props.at, kind, props.now)}</time>;
}
