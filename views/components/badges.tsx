import { until } from "../../src/admin/format";

/** Account state with its reason, e.g. "exhausted — 402 monthly limit — until Dec 1". */
export function StateBadge(props: { state: string; reason: string | null; until: number | null; now: number }) {
  const when = props.state === "cooling" || props.state === "exhausted" ? until(props.until, props.now) : "";
  const why = [props.reason, when].filter(Boolean).join(" — ");
  return (
    <span class="state">
      <span class={`badge s-${props.state}`} safe>{props.state}</span>
      {why ? <small class="why" safe>{why}</small> : ""}
    </span>
  );
}

export function StatusBadge(props: { status: number }) {
  return <span class={props.status >= 400 ? "badge s-exhausted" : "badge s-active"} safe>{String(props.status)}</span>;
}
