import { until } from "../support/until";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startE2E, type E2E } from "../support/e2e";

/** GET /metrics: Prometheus text, behind a client key, reflecting served turns and pool state. */
let e: E2E;
beforeAll(async () => { e = await startE2E({ accounts: [{ label: "acct-a" }, { label: "acct-b", behaviour: { dead: true } }] }); });
afterAll(async () => { await e.stop(); });

const scrape = (key?: string) => fetch(`${e.url}/metrics`, { headers: key ? { authorization: `Bearer ${key}` } : {} });

/** Parses "name{labels} value" lines into a lookup by the line's left side. */
function samples(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    m.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return m;
}

describe("/metrics", () => {
  test("needs a client key", async () => {
    const r = await scrape();
    expect(r.status).toBe(401);
    expect((await scrape("sk-wrong")).status).toBe(401);
  });

  test("counts turns, tokens and latency, and shows the pool by state", async () => {
    const ok = await fetch(`${e.url}/v1/chat/completions`, {
      method: "POST", headers: { authorization: `Bearer ${e.clientKey}` },
      body: JSON.stringify({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(ok.status).toBe(200);
    const missing = await fetch(`${e.url}/v1/chat/completions`, {
      method: "POST", headers: { authorization: `Bearer ${e.clientKey}` },
      body: JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(missing.status).toBe(404);
    await until("both requests in the metrics", async () => { const t = await (await scrape(e.clientKey)).text(); return t.includes('status="200"') && t.includes('status="404"'); });
    const r = await scrape(e.clientKey);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    const text = await r.text();
    const m = samples(text);
    expect(m.get('kiro_requests_total{dialect="openai",model="claude-sonnet-4-5",status="200"}')).toBe(1);
    expect(m.get('kiro_requests_total{dialect="openai",model="gpt-4o",status="404"}')).toBe(1);
    expect(m.get('kiro_request_errors_total{kind="not_found"}')).toBe(1);
    expect(m.get('kiro_tokens_total{direction="input"}')!).toBeGreaterThan(0);
    expect(m.get("kiro_request_duration_seconds_count")).toBe(2);
    expect(m.get('kiro_request_duration_seconds_bucket{le="+Inf"}')).toBe(2);
    expect(m.get("kiro_time_to_first_token_seconds_count")).toBe(1);
    expect(m.get('kiro_account_requests_total{account="acct-a",state="active"}')).toBe(1);
    expect(m.get('kiro_accounts{state="active"}')! + m.get('kiro_accounts{state="disabled"}')!).toBe(2);
    // Every sample line is "name{...} number" or "name number": what a Prometheus parser needs.
    for (const line of text.split("\n").filter((l) => l && !l.startsWith("#"))) expect(line).toMatch(/^[a-z_]+(\{[^}]*\})? -?[0-9.e+]+$/);
    expect(text).not.toContain(e.clientKey);
  });
});
