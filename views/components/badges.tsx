import type { Tr } from "../../src/panel/shared/i18n/tr";
import { Time } from "./time";

/** Account state with its reason, e.g. "exhausted — 402 monthly limit — until Dec 1". */
export function StateBadge(props: { tr: Tr; state: "active" | "cooling" | "exhausted" | "disabled"; reason: string | null; until: number | null; now: number }) {
  const timed = (props.state === "cooling" || props.state === "exhausted") && props.until;
  return (
    <span class="state">
      <span class={`badge s-${props.state}`} data-state={props.state} safe>{props.tr.t(`state.${props.state}`)}</span>
      {props.reason || timed ? (
        <small class="why">
          <span safe>{props.tr.said(props.reason)}</span>
          {timed ? <>{props.reason ? " — " : ""}<span safe>{props.tr.t("time.until")}</span> <Time tr={props.tr} at={props.until} kind="until" now={props.now} /></> : ""}
        </small>
      ) : ""}
    </span>
  );
}

export function StatusBadge(props: { status: number }) {
  return <span class={props.status >= 400 ? "badge s-exhausted" : "badge s-active"} safe>{String(props.status)}</span>;
}
