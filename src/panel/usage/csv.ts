import { LIST_COLUMN_KEYS, type RequestLogQueries, type RequestRow } from "../../logs/request-log";

/**
 * The request log of a time range as CSV (RFC 4180: comma, CRLF, quotes doubled), streamed in
 * pages. A text cell starting with = + - @ or a tab/CR gets a leading apostrophe, so a spreadsheet
 * never runs a model name or an error message as a formula.
 */
export function csvCell(v: unknown): string {
  if (v == null) return "";
  let s = typeof v === "boolean" ? (v ? "1" : "0") : String(v);
  if (typeof v === "string" && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Column names as in the database (snake_case), plus the time as ISO text next to the epoch ms. */
const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
export const CSV_HEADER = ["at_iso", ...LIST_COLUMN_KEYS.map(snake)].join(",") + "\r\n";

export function csvLine(r: RequestRow): string {
  return [new Date(r.at).toISOString(), ...LIST_COLUMN_KEYS.map((k) => r[k])].map(csvCell).join(",") + "\r\n";
}

export function csvStream(log: RequestLogQueries, from: number, to: number): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  const pages = log.range(from, to);
  let started = false;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(enc.encode(CSV_HEADER));
        return;
      }
      const next = pages.next();
      if (next.done) return controller.close();
      controller.enqueue(enc.encode(next.value.map(csvLine).join("")));
    },
    cancel() {
      pages.return(undefined);
    },
  });
}
