import { Page } from "../shared/layout";
import { BarChart } from "../shared/components/chart";
import { CopyField } from "../shared/components/copy";
import type { Series } from "../shared/rolling";
import type { PoolSummary } from "../../pool/types";
import { pct } from "../shared/format";
import { Time } from "../shared/components/time";

export type DashboardData = {
  csrf: string; version: string; now: number; baseUrl: string; clientKey: string | null;
  pool: PoolSummary; soonest: { cooling?: number; exhausted?: number }; hour: Series; day: Series;
};

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
    claudeCode: `export ANTHROPIC_BASE_URL=${shellQuote(baseUrl)}\nexport ANTHROPIC_AUTH_TOKEN=${shellQuote(key)}\nclaude`,
    continue: JSON.stringify({ models: [{ title: "Claude (kiro-server)", provider: "openai", model: MODEL, apiBase: `${baseUrl}/v1`, apiKey: key }] }, null, 2),
    continueYaml: [
      "name: kiro-server", "version: 1.0.0", "schema: v1", "models:",
      "  - name: Claude (kiro-server)", "    provider: openai", `    model: ${MODEL}`,
      `    apiBase: ${strLit(`${baseUrl}/v1`)}`, `    apiKey: ${strLit(key)}`, "    roles:", "      - chat", "      - edit",
    ].join("\n"),
  };
}

/** Pool summary, error rates and charts: the part of the dashboard that refreshes itself. */
export function DashboardLive(d: Pick<DashboardData, "now" | "pool" | "soonest" | "hour" | "day">) {
  const p = d.pool;
  const hhmm = (start: number, step: number) => (i: number) => `${new Date(start + i * step).toISOString().slice(11, 16)} UTC`;
  return (
    <div id="dash-live" hx-get="/dashboard/live" hx-trigger="every 15s [document.visibilityState === 'visible']" hx-swap="outerHTML">
      <section class="stats">
        <div class="stat"><b safe>{String(p.total)}</b><span>accounts</span></div>
        <div class="stat ok"><b safe>{String(p.active)}</b><span>healthy</span></div>
        <div class="stat warn"><b safe>{String(p.cooling)}</b><span>cooling{p.cooling && d.soonest.cooling ? <> until <Time at={d.soonest.cooling} kind="until" now={d.now} /></> : ""}</span></div>
        <div class="stat bad"><b safe>{String(p.exhausted)}</b><span>exhausted{p.exhausted && d.soonest.exhausted ? <> until <Time at={d.soonest.exhausted} kind="until" now={d.now} /></> : ""}</span></div>
        <div class="stat off"><b safe>{String(p.disabled)}</b><span>disabled</span></div>
        <div class="stat"><b safe>{pct(d.hour.errors, d.hour.requests)}</b><span>errors, last hour</span></div>
        <div class="stat"><b safe>{pct(d.day.errors, d.day.requests)}</b><span>errors, last day</span></div>
      </section>
      <section class="charts">
        <BarChart series={d.hour} metric="requests" caption="Requests, last hour" tickLabel={hhmm(d.hour.start, d.hour.stepMs)} />
        <BarChart series={d.hour} metric="tokens" caption="Tokens, last hour" tickLabel={hhmm(d.hour.start, d.hour.stepMs)} />
        <BarChart series={d.day} metric="requests" caption="Requests, last day" tickLabel={hhmm(d.day.start, d.day.stepMs)} />
        <BarChart series={d.day} metric="tokens" caption="Tokens, last day" tickLabel={hhmm(d.day.start, d.day.stepMs)} />
      </section>
    </div>
  );
}

export function DashboardPage(d: DashboardData) {
  const snip = d.clientKey ? snippets(d.baseUrl, d.clientKey) : null;
  return (
    <Page title="Dashboard" csrf={d.csrf} active="/" version={d.version}>
      <DashboardLive now={d.now} pool={d.pool} soonest={d.soonest} hour={d.hour} day={d.day} />
      <section class="card">
        <h2>Connect a client</h2>
        <CopyField id="base-url" label="Base URL (OpenAI: add /v1)" value={d.baseUrl} />
        {d.clientKey ? <CopyField id="client-key" label="Client key" value={d.clientKey} /> : <p class="muted">The built-in client key is not available.</p>}
        {snip ? (
          <div class="snippets">
            <details open><summary>curl</summary><CopyField id="snip-curl" value={snip.curl} multiline /></details>
            <details><summary>OpenAI SDK (Python)</summary><CopyField id="snip-openai" value={snip.openai} multiline /></details>
            <details><summary>Anthropic SDK (Python)</summary><CopyField id="snip-anthropic" value={snip.anthropic} multiline /></details>
            <details><summary>Claude Code</summary><CopyField id="snip-claude" value={snip.claudeCode} multiline /></details>
            <details><summary>Continue (~/.continue/config.yaml)</summary><CopyField id="snip-continue-yaml" value={snip.continueYaml} multiline /></details>
            <details><summary>Continue, older versions (~/.continue/config.json)</summary><CopyField id="snip-continue" value={snip.continue} multiline /></details>
          </div>
        ) : ""}
      </section>
    </Page>
  );
}
