import { Page } from "../shared/layout";
import { COLORS, PALETTE, type ChartData, TimeChart } from "../shared/components/chart";
import { CreditsCard, type PoolCredits } from "../shared/components/credits";
import type { Share } from "../../logs/request-rollup";
import type { Tr } from "../shared/i18n/tr";
import { isoDay, pct } from "../shared/format";
import { RANGES, type Range, type UsageData } from "./data";

/** Names for the breakdown rows: account ids and key ids are shown by label/name. */
export type Names = { account: Map<string, string>; key: Map<string, string> };

function Breakdown(props: { tr: Tr; id: string; title: string; rows: Share[]; name: (v: string) => string }) {
  const { tr } = props;
  const t = tr.t;
  return (
    <section class="card breakdown" id={props.id}>
      <h2 safe>{props.title}</h2>
      {props.rows.length ? (
        <div class="scroll">
          <table class="grid cards">
            <thead>
              <tr>
                <th safe>{t("usage.col.name")}</th><th class="num" safe>{t("chart.requests")}</th><th class="num" safe>{t("usage.col.errorRate")}</th>
                <th class="num" safe>{t("chart.input")}</th><th class="num" safe>{t("chart.output")}</th><th class="num" safe>{t("usage.col.latency")}</th>
                <th class="num" safe>{t("usage.col.credits")}</th>
              </tr>
            </thead>
            <tbody>
              {props.rows.map((r) => (
                <tr data-value={r.value}>
                  <td data-label={t("usage.col.name")} class="name" safe>{props.name(r.value)}</td>
                  <td data-label={t("chart.requests")} class="num" safe>{tr.int(r.requests)}</td>
                  <td data-label={t("usage.col.errorRate")} class="num" safe>{pct(r.errors, r.requests)}</td>
                  <td data-label={t("chart.input")} class="num" safe>{tr.num(r.inputTokens)}</td>
                  <td data-label={t("chart.output")} class="num" safe>{tr.num(r.outputTokens)}</td>
                  <td data-label={t("usage.col.latency")} class="num">{r.latencyCount ? tr.ms(r.latencyMsSum / r.latencyCount) : "—"}</td>
                  <td data-label={t("usage.col.credits")} class="num" safe>{tr.num(Math.round(r.credits * 100) / 100)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : <p class="muted" safe>{t("usage.noData")}</p>}
    </section>
  );
}

function charts(tr: Tr, d: UsageData): Array<{ id: string; title: string; data: ChartData; totals: Array<[string, string]> }> {
  const t = tr.t;
  const x = d.x.map((b) => b / 1000);
  const step = d.group / 1000;
  const models = d.byModel.map((m, i) => ({ label: m.value || t("usage.unknown"), values: m.requests, color: PALETTE[i % PALETTE.length]! }));
  if (d.otherModels) models.push({ label: t("chart.other"), values: d.otherModels, color: PALETTE[PALETTE.length - 1]! });
  return [
    {
      id: "usage-requests", title: t("usage.chart.requests"), totals: [[t("chart.requests"), tr.int(d.sum.requests)], [t("chart.errors"), tr.int(d.sum.errors)]],
      data: { x, step, series: [
        { label: t("chart.requests"), values: d.totals.map((p) => p.requests), color: COLORS.requests, kind: "bars" },
        { label: t("chart.errors"), values: d.totals.map((p) => p.errors), color: COLORS.errors, kind: "bars" },
      ] },
    },
    {
      id: "usage-tokens", title: t("usage.chart.tokens"), totals: [[t("chart.input"), tr.num(d.sum.inputTokens)], [t("chart.output"), tr.num(d.sum.outputTokens)]],
      data: { x, step, series: [
        { label: t("chart.input"), values: d.totals.map((p) => p.inputTokens), color: COLORS.input, kind: "bars" },
        { label: t("chart.output"), values: d.totals.map((p) => p.outputTokens), color: COLORS.output, kind: "bars" },
      ] },
    },
    {
      id: "usage-latency", title: t("usage.chart.latency"),
      totals: [[t("usage.average"), d.sum.latencyCount ? tr.ms(d.sum.latencyMsSum / d.sum.latencyCount) : "—"]],
      data: { x, step, unit: "ms", series: [
        { label: t("chart.latency"), values: d.totals.map((p) => (p.latencyCount ? Math.round(p.latencyMsSum / p.latencyCount) : null)), color: COLORS.latency },
      ] },
    },
    { id: "usage-models", title: t("usage.chart.models"), totals: [], data: { x, step, series: models } },
  ];
}

export function UsagePage(props: { tr: Tr; csrf: string; version: string; data: UsageData; names: Names; credits: PoolCredits; now: number; pending: number }) {
  const { tr, data: d } = props;
  const t = tr.t;
  const name = (map: Map<string, string>) => (v: string) => (v ? map.get(v) ?? `${v.slice(0, 8)}…` : t("usage.unknown"));
  return (
    <Page tr={tr} title={t("nav.usage")} csrf={props.csrf} active="/usage" here={`/usage?range=${d.range}`} version={props.version} charts>
      <nav class="tabs" aria-label={t("usage.range")}>
        {RANGES.map((r: Range) => <a href={`/usage?range=${r}`} class={r === d.range ? "on" : ""} data-range={r} safe>{t(`usage.range.${r}`)}</a>)}
      </nav>
      {props.pending ? <p class="notice" safe>{t("usage.pending", { n: tr.int(props.pending) })}</p> : ""}
      <section class="stats">
        <div class="stat"><b safe>{tr.int(d.sum.requests)}</b><span safe>{t("chart.requests")}</span></div>
        <div class="stat bad"><b safe>{pct(d.sum.errors, d.sum.requests)}</b><span safe>{t("usage.col.errorRate")}</span></div>
        <div class="stat"><b safe>{tr.num(d.sum.inputTokens)}</b><span safe>{t("chart.input")}</span></div>
        <div class="stat"><b safe>{tr.num(d.sum.outputTokens)}</b><span safe>{t("chart.output")}</span></div>
        <div class="stat"><b>{d.sum.latencyCount ? tr.ms(d.sum.latencyMsSum / d.sum.latencyCount) : "—"}</b><span safe>{t("usage.col.latency")}</span></div>
      </section>
      <CreditsCard tr={tr} credits={props.credits} now={props.now} />
      <section class="charts wide">
        {charts(tr, d).map((c) => <TimeChart tr={tr} id={c.id} title={c.title} data={c.data} totals={c.totals} />)}
      </section>
      <Breakdown tr={tr} id="by-model" title={t("usage.byModel")} rows={d.breakdown.model} name={(v) => v || t("usage.unknown")} />
      <Breakdown tr={tr} id="by-account" title={t("usage.byAccount")} rows={d.breakdown.account} name={name(props.names.account)} />
      <Breakdown tr={tr} id="by-key" title={t("usage.byKey")} rows={d.breakdown.key} name={name(props.names.key)} />
      <section class="card" id="export">
        <h2 safe>{t("usage.export")}</h2>
        <form method="get" action="/usage/export.csv" class="toolbar">
          <label><span safe>{t("usage.export.from")}</span> <input type="date" name="from" value={isoDay(d.from)} required /></label>
          <label><span safe>{t("usage.export.to")}</span> <input type="date" name="to" value={isoDay(props.now)} required /></label>
          <button type="submit" safe>{t("usage.export.submit")}</button>
        </form>
        <p class="muted small" safe>{t("usage.export.help")}</p>
      </section>
    </Page>
  );
}
