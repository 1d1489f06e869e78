import { Time } from "./time";

/** Account state with its reason, e.g. "exhausted — 402 monthly limit — until Dec 1". */
export function StateBadge(props: { state: string; reason: string | null; until: number | null; now: number }) {
  const timed = (props.state === "cooling" || props.state === "exhausted") && props.until;
  return (
    <span class="state">
      <span class={`badge s-${props.state}`} safe>{props.state}</span>
      {props.reason || timed ? (
        <small class="why">
          <span safe>{props.reason ?? ""}</span>
          {timed ? <>{props.reason ? " — " : ""}until <Time at={props.until} kind="until" now={props.now} /></> : ""}
        </small>
      ) : ""}
    </span>
  );
}

export function StatusBadge(props: { status: number }) {
  return <span class={props.status >= 400 ? "badge s-exhausted" : "badge s-active"} safe>{String(props.status)}</span>;
}
