import { Page } from "../layouts/page";
import { BarChart } from "../components/chart";
import { CopyField } from "../components/copy";
import type { Series } from "../../src/admin/stats";
import type { PoolSummary } from "../../src/pool/types";
import { pct, until } from "../../src/admin/format";

export type DashboardData = {
  csrf: string; version: string; now: number; baseUrl: string; clientKey: string | null;
  pool: PoolSummary; soonest: { cooling?: number; exhausted?: number }; hour: Series; day: Series;
};

const MODEL = "claude-sonnet-4-5";

export function snippets(baseUrl: string, key: string) {
  return {
    curl: `curl ${baseUrl}/v1/chat/completions \\\n  -H "Authorization: Bearer ${key}" \\\n  -H "Content-Type: application/json" \\\n  -d '{"model": "${MODEL}", "messages": [{"role": "user", "content": "Hello!"}]}'`,
    openai: `from openai import OpenAI\n\nclient = OpenAI(base_url="${baseUrl}/v1", api_key="${key}")\nr = client.chat.completions.create(model="${MODEL}", messages=[{"role": "user", "content": "Hello!"}])\nprint(r.choices[0].message.content)`,
    anthropic: `from anthropic import Anthropic\n\nclient = Anthropic(base_url="${baseUrl}", api_key="${key}")\nm = client.messages.create(model="${MODEL}", max_tokens=1024, messages=[{"role": "user", "content": "Hello!"}])\nprint(m.content[0].text)`,
    claudeCode: `export ANTHROPIC_BASE_URL=${baseUrl}\nexport ANTHROPIC_AUTH_TOKEN=${key}\nclaude`,
    continue: JSON.stringify({ models: [{ title: "Claude (kiro-server)", provider: "openai", model: MODEL, apiBase: `${baseUrl}/v1`, apiKey: key }] }, null, 2),
  };
}

export function DashboardPage(d: DashboardData) {
  const p = d.pool;
  const hhmm = (start: number, step: number) => (i: number) => new Date(start + i * step).toISOString().slice(11, 16);
  const snip = d.clientKey ? snippets(d.baseUrl, d.clientKey) : null;
  return (
    <Page title="Dashboard" csrf={d.csrf} active="/" version={d.version}>
      <section class="stats">
        <div class="stat"><b safe>{String(p.total)}</b><span>accounts</span></div>
        <div class="stat ok"><b safe>{String(p.active)}</b><span>healthy</span></div>
        <div class="stat warn"><b safe>{String(p.cooling)}</b><span>{p.cooling ? `cooling ${until(d.soonest.cooling, d.now)}` : "cooling"}</span></div>
        <div class="stat bad"><b safe>{String(p.exhausted)}</b><span>{p.exhausted ? `exhausted ${until(d.soonest.exhausted, d.now)}` : "exhausted"}</span></div>
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
            <details><summary>Continue (~/.continue/config.json)</summary><CopyField id="snip-continue" value={snip.continue} multiline /></details>
          </div>
        ) : ""}
      </section>
    </Page>
  );
}
