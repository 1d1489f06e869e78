import type { BusEvent, EventBus, LogLevel } from "./bus";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const COLOR: Record<LogLevel, string> = { debug: "\x1b[90m", info: "\x1b[36m", warn: "\x1b[33m", error: "\x1b[31m" };

/** Formats one log event; pretty for people, JSON lines for machines (LOG_FORMAT=json). */
/** `instance`: the instance id, named on every line when several instances share one database. */
export function formatLogLine(e: BusEvent, format: "pretty" | "json", color: boolean, instance?: string): string | undefined {
  if (e.kind !== "log") return undefined;
  if (format === "json") {
    return JSON.stringify({ time: new Date(e.at).toISOString(), level: e.level, ...(instance ? { instance } : {}), msg: e.msg, requestId: e.requestId, ...e.fields });
  }
  const time = new Date(e.at).toISOString().slice(11, 23);
  const lvl = e.level.toUpperCase().padEnd(5);
  const rid = e.requestId ? ` [${e.requestId}]` : "";
  const extra = e.fields && Object.keys(e.fields).length
    ? " " + Object.entries(e.fields).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(" ")
    : "";
  const head = color ? `${COLOR[e.level]}${lvl}\x1b[0m` : lvl;
  return `${time} ${head}${instance ? ` ${instance}` : ""}${rid} ${e.msg}${extra}`;
}

/** Subscribes the stdout writer (Kiro Account Manager shows this stream as live logs). */
export function attachStdoutLogger(bus: EventBus, opts: { level: LogLevel; format: "pretty" | "json"; instance?: string; write?: (line: string) => void }) {
  const color = opts.format === "pretty" && !!process.stdout.isTTY && !process.env.NO_COLOR;
  const write =
    opts.write ??
    ((line: string) => {
      try {
        process.stdout.write(line + "\n");
      } catch {
        // stdout closed (EPIPE: whoever read our log went away): keep serving without it.
      }
    });
  // The same failure can also arrive as an 'error' event; unhandled, it would end the process.
  if (!opts.write) process.stdout.on?.("error", () => {});
  return bus.on((e) => {
    if (e.kind !== "log" || RANK[e.level] < RANK[opts.level]) return;
    const line = formatLogLine(e, opts.format, color, opts.instance);
    if (line) write(line);
  });
}
