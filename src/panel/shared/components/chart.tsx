import type { Series } from "../rolling";
import { fmtNum } from "../format";

/**
 * A small server-rendered bar chart (no JS). Errors are drawn as a red cap on each request bar.
 * Only numbers reach the SVG; the caption goes through `safe`.
 */
export function BarChart(props: { series: Series; metric: "requests" | "tokens"; caption: string; tickLabel: (i: number) => string }) {
  const { series, metric } = props;
  const W = 300;
  const H = 70;
  const n = series.buckets.length;
  const bw = W / n;
  const max = Math.max(1, ...series.buckets.map((b) => b[metric]));
  const total = metric === "requests" ? series.requests : series.tokens;
  return (
    <figure class="chart">
      <figcaption>
        <span safe>{props.caption}</span> <b safe>{fmtNum(total)}</b>
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={`${props.caption}: ${total}`}>
        <line class="base" x1="0" y1={String(H - 0.5)} x2={String(W)} y2={String(H - 0.5)} />
        {series.buckets.map((b) => {
          const h = (b[metric] / max) * (H - 2);
          const eh = metric === "requests" && b.requests ? (b.errors / max) * (H - 2) : 0;
          return (
            <g>
              <title safe>{`${props.tickLabel(b.i)}: ${fmtNum(b[metric])}${metric === "requests" ? `, ${b.errors} errors` : ""}`}</title>
              <rect class="bar" x={(b.i * bw + 0.5).toFixed(2)} y={(H - h).toFixed(2)} width={Math.max(0.5, bw - 1).toFixed(2)} height={h.toFixed(2)} />
              {eh > 0 ? <rect class="err" x={(b.i * bw + 0.5).toFixed(2)} y={(H - h).toFixed(2)} width={Math.max(0.5, bw - 1).toFixed(2)} height={eh.toFixed(2)} /> : ""}
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
