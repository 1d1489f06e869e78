import type { Tr } from "../i18n/tr";

/**
 * A time-series chart drawn in the browser by uPlot (embedded in the binary, see shared/assets.ts):
 * axes with time labels, a legend, and a cursor readout of every series at the pointed time. The
 * data rides in a data- attribute (escaped like any attribute; panel.js parses it), so nothing
 * user-controlled is ever written into a script. The caption and totals are plain text, so the
 * numbers are readable without JavaScript too.
 */
export type ChartSeries = { label: string; values: Array<number | null>; color: string; axis?: "left" | "right"; kind?: "line" | "bars" };
export type ChartData = { x: number[]; series: ChartSeries[]; unit?: string; rightUnit?: string; step: number };

export const COLORS = { requests: "#3858e9", errors: "#c53030", input: "#1f8a4c", output: "#b7791f", latency: "#7b3fc4", credits: "#0f7c8c" } as const;
export const PALETTE = ["#3858e9", "#1f8a4c", "#b7791f", "#c53030", "#7b3fc4", "#0f7c8c", "#d53f8c", "#687086"];

export function TimeChart(props: { tr: Tr; id: string; title: string; data: ChartData; totals?: Array<[string, string]> }) {
  const config = { ...props.data, locale: props.tr.locale };
  return (
    <figure class="uchart" id={props.id} data-chart={JSON.stringify(config)}>
      <figcaption>
        <span class="uchart-title" safe>{props.title}</span>
        {props.totals?.length ? (
          <span class="uchart-totals">
            {props.totals.map(([k, v]) => <span><span class="muted" safe>{k}</span> <b safe>{v}</b></span>)}
          </span>
        ) : ""}
      </figcaption>
      <div class="uchart-plot" role="img" aria-label={props.title}></div>
    </figure>
  );
}
