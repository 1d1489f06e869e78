import { Page } from "../../../views/layouts/panel";
import type { BusEvent, LogLevel } from "../../logs/bus";
import { Time } from "../../../views/components/time";
import type { Tr } from "../shared/i18n/tr";

export const LEVELS: LogLevel[] = ["debug", "info", "warn", "error"];
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * Which events a viewer at `min` level sees: log lines at or above it. Finished requests are not
 * shown as such: the turn runner already logs one summary line per request (src/turn/record.ts).
 */
export function visible(e: BusEvent, min: LogLevel): boolean {
  return e.kind === "log" && RANK[e.level] >= RANK[min];
}

function fieldText(fields: Record<string, unknown> | undefined): string {
  if (!fields) return "";
  return Object.entries(fields).filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(" ");
}

/** One live-log line. Messages and fields are user/upstream-controlled: always escaped. */
export function LogLine(props: { tr: Tr; e: BusEvent }) {
  const e = props.e;
  if (e.kind !== "log") return "";
  return (
    <li class={`lv-${e.level}`}>
      <Time tr={props.tr} at={e.at} kind="log" now={e.at} /> <b safe>{e.level.toUpperCase()}</b>
      {e.requestId ? <span class="rid" safe>{e.requestId}</span> : ""} <span class="msg" safe>{e.msg}</span>
      {e.fields && Object.keys(e.fields).length ? <span class="fields" safe>{fieldText(e.fields)}</span> : ""}
    </li>
  );
}

/** The feed: connected over SSE unless paused; recent lines from the ring first. */
export function LogFeed(props: { tr: Tr; level: LogLevel; paused: boolean; recent: BusEvent[] }) {
  const lines = props.recent.filter((e) => visible(e, props.level));
  const list = (
    <ol id="log-lines" class="log" sse-swap="log" hx-swap="beforeend">
      {lines.map((e) => <LogLine tr={props.tr} e={e} />)}
    </ol>
  );
  return props.paused
    ? <div id="feed" data-state="paused">{list}</div>
    : <div id="feed" data-state="live" hx-ext="sse" sse-connect={`/logs/stream?level=${props.level}`}>{list}</div>;
}

/**
 * Controls and feed, swapped as one piece so the Pause/Resume toggle and the level always agree:
 * changing the level sends the current paused state along (it stays paused), the toggle flips it.
 */
export function LogView(props: { tr: Tr; level: LogLevel; paused: boolean; recent: BusEvent[] }) {
  const t = props.tr.t;
  const swap = { "hx-get": "/logs/feed", "hx-target": "#log-view", "hx-swap": "outerHTML" };
  return (
    <section id="log-view">
      <form class="toolbar" id="log-controls" {...swap} hx-trigger="change">
        <label><span safe>{t("logs.level")}</span>
          <select name="level" id="log-level">
            {LEVELS.map((l) => <option value={l} selected={l === props.level} safe>{t(`logs.level.${l}`)}</option>)}
          </select>
        </label>
        <input type="hidden" name="paused" value={props.paused ? "1" : "0"} />
        <button type="button" id="log-toggle" class="secondary" aria-pressed={props.paused ? "true" : "false"} {...swap}
          hx-include="#log-controls" hx-vals='{"toggle":"1"}' safe>{props.paused ? t("logs.resume") : t("logs.pause")}</button>
        <span class="muted small" id="log-status" safe>{props.paused ? t("logs.paused") : t("logs.live")}</span>
      </form>
      <LogFeed tr={props.tr} level={props.level} paused={props.paused} recent={props.recent} />
    </section>
  );
}

/** `instance` is set when several instances share the database: this tail shows only this one's lines. */
export function LogsPage(props: { tr: Tr; csrf: string; version: string; level: LogLevel; recent: BusEvent[]; instance?: string }) {
  return (
    <Page tr={props.tr} title={props.tr.t("nav.logs")} csrf={props.csrf} active="/logs" version={props.version}>
      {props.instance ? <p class="muted small" id="log-scope" safe>{props.tr.t("logs.thisInstance", { id: props.instance })}</p> : ""}
      <LogView tr={props.tr} level={props.level} paused={false} recent={props.recent} />
    </Page>
  );
}
