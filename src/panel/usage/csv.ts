import { LIST_COLUMN_KEYS, type RequestRow } from "../../logs/request-log";
import type { RequestLogReader } from "../../logs/request-reads";

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

/**
 * Column names as in the database (snake_case), plus the time as ISO text next to the epoch ms;
 * several instances (PostgreSQL) add the instance that served the request as the last column.
 */
const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const keysFor = (cluster: boolean): Array<keyof RequestRow> => (cluster ? [...LIST_COLUMN_KEYS, "instanceId"] : LIST_COLUMN_KEYS);
export const csvHeader = (cluster = false) => ["at_iso", ...keysFor(cluster).map(snake)].join(",") + "\r\n";

export function csvLine(r: RequestRow, cluster = false): string {
  return [new Date(r.at).toISOString(), ...keysFor(cluster).map((k) => r[k])].map(csvCell).join(",") + "\r\n";
}

export function csvStream(log: RequestLogReader, from: number, to: number): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  const pages = log.range(from, to);
  const cluster = log.cluster;
  let started = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(enc.encode(csvHeader(cluster)));
        return;
      }
      const next = await pages.next();
      if (next.done) return controller.close();
      controller.enqueue(enc.encode(next.value.map((r) => csvLine(r, cluster)).join("")));
    },
    async cancel() {
      await pages.return(undefined);
    },
  });
}
