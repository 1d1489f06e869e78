import { Page } from "../layouts/page";
import type { BusEvent, LogLevel } from "../../src/logs/bus";

export const LEVELS: LogLevel[] = ["debug", "info", "warn", "error"];
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Which events a viewer at `min` level sees: log lines at or above it, finished requests as info. */
export function visible(e: BusEvent, min: LogLevel): boolean {
  if (e.kind === "log") return RANK[e.level] >= RANK[min];
  return e.kind === "request" && RANK.info >= RANK[min];
}

function fieldText(fields: Record<string, unknown> | undefined): string {
  if (!fields) return "";
  return Object.entries(fields).filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(" ");
}

/** One live-log line. Messages and fields are user/upstream-controlled: always escaped. */
export function LogLine(props: { e: BusEvent }) {
  const e = props.e;
  const time = new Date(e.at).toISOString().slice(11, 23);
  if (e.kind === "log") {
    return (
      <li class={`lv-${e.level}`}>
        <time safe>{time}</time> <b safe>{e.level.toUpperCase()}</b>
        {e.requestId ? <span class="rid" safe>{e.requestId}</span> : ""} <span class="msg" safe>{e.msg}</span>
        {e.fields && Object.keys(e.fields).length ? <span class="fields" safe>{fieldText(e.fields)}</span> : ""}
      </li>
    );
  }
  const d = e.data as Record<string, unknown>;
  const summary = `${d.dialect ?? ""} ${d.model ?? ""} → ${d.accountLabel || d.accountId || "no account"} · ${d.status} · ${d.latencyMs ?? "?"} ms · in ${d.inputTokens ?? 0} / out ${d.outputTokens ?? 0}`;
  return (
    <li class={Number(d.status) >= 400 ? "lv-warn req" : "lv-info req"}>
      <time safe>{time}</time> <b>REQ</b>
      {e.requestId ? <span class="rid" safe>{e.requestId}</span> : ""} <span class="msg" safe>{summary}</span>
      {d.errorMessage ? <span class="fields" safe>{String(d.errorMessage)}</span> : ""}
    </li>
  );
}

/** The live feed: connected over SSE unless paused; recent lines from the ring first. */
export function LogFeed(props: { level: LogLevel; paused: boolean; recent: BusEvent[] }) {
  const lines = props.recent.filter((e) => visible(e, props.level));
  const list = (
    <ol id="log-lines" class="log" sse-swap="log" hx-swap="beforeend">
      {lines.map((e) => <LogLine e={e} />)}
    </ol>
  );
  return props.paused
    ? <div id="feed" data-state="paused">{list}</div>
    : <div id="feed" data-state="live" hx-ext="sse" sse-connect={`/logs/stream?level=${props.level}`}>{list}</div>;
}

export function LogsPage(props: { csrf: string; version: string; level: LogLevel; recent: BusEvent[] }) {
  return (
    <Page title="Live logs" csrf={props.csrf} active="/logs" version={props.version}>
      <form class="toolbar" id="log-controls" hx-get="/logs/feed" hx-target="#feed" hx-swap="outerHTML" hx-trigger="change">
        <label>Level
          <select name="level" id="log-level">
            {LEVELS.map((l) => <option value={l} selected={l === props.level}>{l}</option>)}
          </select>
        </label>
        <button type="button" id="log-pause" hx-get="/logs/feed" hx-include="#log-controls" hx-vals='{"paused":"1"}' hx-target="#feed" hx-swap="outerHTML">Pause</button>
        <button type="button" id="log-resume" hx-get="/logs/feed" hx-include="#log-controls" hx-target="#feed" hx-swap="outerHTML">Resume</button>
      </form>
      <LogFeed level={props.level} paused={false} recent={props.recent} />
    </Page>
  );
}
