import { Page } from "../../../views/layouts/panel";
import { COLORS, type ChartData, TimeChart } from "../../../views/components/chart";
import { CopyField } from "../../../views/components/copy";
import type { Series } from "../shared/rolling";
import type { PoolSummary } from "../../pool/types";
import type { QueueStats } from "../../pool/types";
import { pct } from "../shared/format";
import { Time } from "../../../views/components/time";
import type { Tr } from "../shared/i18n/tr";
import { CreditsCard, type PoolCredits } from "../../../views/components/credits";
import type { InstanceCount } from "../../logs/request-reads";

/** Requests per instance in the last hour (several instances on PostgreSQL), with this instance's id. */
export type InstanceShare = { self: string; rows: InstanceCount[] };

export type DashboardData = {
  tr: Tr; csrf: string; version: string; now: number; baseUrl: string; clientKey: string | null;
  pool: PoolSummary; soonest: { cooling?: number; exhausted?: number }; hour: Series; day: Series; credits: PoolCredits; queue: QueueStats;
  /** Null on one instance (SQLite). */
  instances: InstanceShare | null;
};

/** Which instance served how much of the last hour: the charts above count every instance. */
function Instances(props: { tr: Tr; data: InstanceShare }) {
  const { tr, data } = props;
  const t = tr.t;
  return (
    <section class="card breakdown" id="instances">
      <h2 safe>{t("dash.instances")}</h2>
      {data.rows.length ? (
        <div class="scroll">
          <table class="grid cards">
            <thead>
              <tr><th safe>{t("requests.col.instance")}</th><th class="num" safe>{t("chart.requests")}</th><th class="num" safe>{t("chart.errors")}</th><th class="num" safe>{t("chart.tokens")}</th></tr>
            </thead>
            <tbody>
              {data.rows.map((r) => (
                <tr data-instance={r.instanceId}>
                  <td data-label={t("requests.col.instance")} class="name">
                    <span safe>{r.instanceId || "—"}</span>{r.instanceId === data.self ? <> <small class="muted" safe>{t("dash.instances.self")}</small></> : ""}
                  </td>
                  <td data-label={t("chart.requests")} class="num" safe>{tr.int(r.requests)}</td>
                  <td data-label={t("chart.errors")} class="num" safe>{tr.int(r.errors)}</td>
                  <td data-label={t("chart.tokens")} class="num" safe>{tr.num(r.tokens)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : <p class="muted" safe>{t("dash.instances.none")}</p>}
    </section>
  );
}

/** The wait queue, shown only while requests wait for an account with head-room. */
function QueueNotice(props: { tr: Tr; q: QueueStats }) {
  const { tr, q } = props;
  if (!q.waiting) return "";
  return (
    <p class="notice" id="wait-queue" role="status" safe>
      {tr.t("dash.queue", { n: tr.int(q.waiting), s: tr.int(Math.round(q.oldestWaitMs / 1000)), served: tr.int(q.servedTotal), timedOut: tr.int(q.timedOutTotal) })}
    </p>
  );
}

const MODEL = "claude-sonnet-4-5";

/** A word for a POSIX shell: single quotes, each ' written as '\'' (a custom key may hold anything). */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A string literal for Python, JavaScript, JSON and YAML (double-quoted): JSON's escaping is valid in all four. */
export const strLit = (text: string) => JSON.stringify(text);

export function snippets(baseUrl: string, key: string) {
  const body = JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "Hello!" }] });
  return {
    curl: `curl ${shellQuote(`${baseUrl}/v1/chat/completions`)} \\\n  -H ${shellQuote(`Authorization: Bearer ${key}`)} \\\n  -H 'Content-Type: application/json' \\\n  -d ${shellQuote(body)}`,
    openai: `from openai import OpenAI\n\nclient = OpenAI(base_url=${strLit(`${baseUrl}/v1`)}, api_key=${strLit(key)})\nr = client.chat.completions.create(model="${MODEL}", messages=[{"role": "user", "content": "Hello!"}])\nprint(r.choices[0].message.content)`,
    anthropic: `from anthropic import Anthropic\n\nclient = Anthropic(base_url=${strLit(baseUrl)}, api_key=${strLit(key)})\nm = client.messages.create(model="${MODEL}", max_tokens=1024, messages=[{"role": "user", "content": "Hello!"}])\nprint(m.content[0].text)`,
    codex: `kiro-server codex-config --base-url ${shellQuote(`${baseUrl}/v1`)}\nexport KIRO_API_KEY=${shellQuote(key)}\ncodex`,
    claudeCode: `export ANTHROPIC_BASE_URL=${shellQuote(baseUrl)}\nexport ANTHROPIC_AUTH_TOKEN=${shellQuote(key)}\nclaude`,
    continue: JSON.stringify({ models: [{ title: "Claude (kiro-server)", provider: "openai", model: MODEL, apiBase: `${baseUrl}/v1`, apiKey: key }] }, null, 2),
    continueYaml: [
      "name: kiro-server", "version: 1.0.0", "schema: v1", "models:",
      "  - name: Claude (kiro-server)", "    provider: openai", `    model: ${MODEL}`,
      `    apiBase: ${strLit(`${baseUrl}/v1`)}`, `    apiKey: ${strLit(key)}`, "    roles:", "      - chat", "      - edit",
    ].join("\n"),
  };
}

/** A rolling series as chart data: requests and errors, or input + output tokens. */
function seriesChart(tr: Tr, s: Series, metric: "requests" | "tokens"): ChartData {
  const x = s.buckets.map((b) => (s.start + b.i * s.stepMs) / 1000);
  const series = metric === "requests"
    ? [
      { label: tr.t("chart.requests"), values: s.buckets.map((b) => b.requests), color: COLORS.requests, kind: "bars" as const },
      { label: tr.t("chart.errors"), values: s.buckets.map((b) => b.errors), color: COLORS.errors, kind: "bars" as const },
    ]
    : [{ label: tr.t("chart.tokens"), values: s.buckets.map((b) => b.tokens), color: COLORS.input, kind: "bars" as const }];
  return { x, series, step: s.stepMs / 1000 };
}

/** Pool summary, error rates, credits and charts: the part of the dashboard that refreshes itself. */
export function DashboardLive(d: Pick<DashboardData, "tr" | "now" | "pool" | "soonest" | "hour" | "day" | "credits" | "queue" | "instances">) {
  const p = d.pool;
  const { tr } = d;
  const t = tr.t;
  const until = (at: number | undefined, n: number) => (n && at ? <> <span safe>{t("time.until")}</span> <Time tr={tr} at={at} kind="until" now={d.now} /></> : "");
  return (
    <div id="dash-live" hx-get="/dashboard/live" hx-trigger="every 15s [document.visibilityState === 'visible']" hx-swap="outerHTML">
      <section class="stats">
        <div class="stat"><b safe>{tr.int(p.total)}</b><span safe>{t("dash.accounts")}</span></div>
        <div class="stat ok"><b safe>{tr.int(p.active)}</b><span safe>{t("state.active")}</span></div>
        <div class="stat warn"><b safe>{tr.int(p.cooling)}</b><span><span safe>{t("state.cooling")}</span>{until(d.soonest.cooling, p.cooling)}</span></div>
        <div class="stat bad"><b safe>{tr.int(p.exhausted)}</b><span><span safe>{t("state.exhausted")}</span>{until(d.soonest.exhausted, p.exhausted)}</span></div>
        <div class="stat off"><b safe>{tr.int(p.disabled)}</b><span safe>{t("state.disabled")}</span></div>
        <div class="stat"><b safe>{pct(d.hour.errors, d.hour.requests)}</b><span safe>{t("dash.errorsHour")}</span></div>
        <div class="stat"><b safe>{pct(d.day.errors, d.day.requests)}</b><span safe>{t("dash.errorsDay")}</span></div>
      </section>
      <QueueNotice tr={tr} q={d.queue} />
      {p.total ? <CreditsCard tr={tr} credits={d.credits} now={d.now} /> : ""}
      <section class="charts">
        <TimeChart tr={tr} id="chart-hour-requests" title={t("dash.chart.requestsHour")} data={seriesChart(tr, d.hour, "requests")}
          totals={[[t("chart.requests"), tr.int(d.hour.requests)], [t("chart.errors"), tr.int(d.hour.errors)]]} />
        <TimeChart tr={tr} id="chart-hour-tokens" title={t("dash.chart.tokensHour")} data={seriesChart(tr, d.hour, "tokens")} totals={[[t("chart.tokens"), tr.num(d.hour.tokens)]]} />
        <TimeChart tr={tr} id="chart-day-requests" title={t("dash.chart.requestsDay")} data={seriesChart(tr, d.day, "requests")}
          totals={[[t("chart.requests"), tr.int(d.day.requests)], [t("chart.errors"), tr.int(d.day.errors)]]} />
        <TimeChart tr={tr} id="chart-day-tokens" title={t("dash.chart.tokensDay")} data={seriesChart(tr, d.day, "tokens")} totals={[[t("chart.tokens"), tr.num(d.day.tokens)]]} />
      </section>
      {d.instances ? <Instances tr={tr} data={d.instances} /> : ""}
    </div>
  );
}

/** With no account the numbers and the snippets cannot work yet: the page leads to adding one. */
function EmptyPool(props: { tr: Tr }) {
  const t = props.tr.t;
  return (
    <section class="card cta" id="empty-pool">
      <h2 safe>{t("dash.empty.title")}</h2>
      <p safe>{t("dash.empty.body")}</p>
      <p class="actions">
        <a class="button" href="/accounts#sign-in" safe>{t("dash.empty.signIn")}</a>
        <a class="button secondary" href="/accounts#add" safe>{t("dash.empty.add")}</a>
      </p>
    </section>
  );
}

export function DashboardPage(d: DashboardData) {
  const { tr } = d;
  const t = tr.t;
  const snip = d.clientKey ? snippets(d.baseUrl, d.clientKey) : null;
  const empty = d.pool.total === 0;
  return (
    <Page tr={tr} title={t("nav.dashboard")} csrf={d.csrf} active="/" version={d.version} charts>
      {empty ? <EmptyPool tr={tr} /> : ""}
      <DashboardLive tr={tr} now={d.now} pool={d.pool} soonest={d.soonest} hour={d.hour} day={d.day} credits={d.credits} queue={d.queue} instances={d.instances} />
      <section class="card">
        <h2 safe>{t("dash.connect")}</h2>
        {empty ? <p class="notice" safe>{t("dash.connect.needAccount")}</p> : ""}
        <CopyField tr={tr} id="base-url" label={t("dash.baseUrl")} value={d.baseUrl} />
        {d.clientKey ? <CopyField tr={tr} id="client-key" label={t("dash.clientKey")} value={d.clientKey} /> : <p class="muted" safe>{t("dash.noBuiltinKey")}</p>}
        {snip ? (
          <div class="snippets">
            <details open={!empty}><summary>curl</summary><CopyField tr={tr} id="snip-curl" value={snip.curl} multiline /></details>
            <details><summary safe>{t("dash.snip.openai")}</summary><CopyField tr={tr} id="snip-openai" value={snip.openai} multiline /></details>
            <details><summary safe>{t("dash.snip.anthropic")}</summary><CopyField tr={tr} id="snip-anthropic" value={snip.anthropic} multiline /></details>
            <details><summary>Claude Code</summary><CopyField tr={tr} id="snip-claude" value={snip.claudeCode} multiline /></details>
            <details><summary safe>{t("dash.snip.codex")}</summary><CopyField tr={tr} id="snip-codex" value={snip.codex} multiline /><small class="muted" safe>{t("dash.snip.codexHelp")}</small></details>
            <details><summary safe>{t("dash.snip.continue")}</summary><CopyField tr={tr} id="snip-continue-yaml" value={snip.continueYaml} multiline /></details>
            <details><summary safe>{t("dash.snip.continueOld")}</summary><CopyField tr={tr} id="snip-continue" value={snip.continue} multiline /></details>
          </div>
        ) : ""}
      </section>
    </Page>
  );
}
