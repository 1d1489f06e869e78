/**
 * The panel of one instance shows the whole cluster: three instances on one PostgreSQL database,
 * requests through each, then the request log, its detail view, its filter, the dashboard, the
 * Usage page, the keys page and the CSV export of ONE instance (over HTTP, signed in as admin)
 * count every instance's requests, with the instance that served each. The live log stays per
 * instance and says so. On SQLite (one instance) none of the instance columns appear.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createApp } from "../../src/app";
import type { Services } from "../../src/services";
import { startFakeKiro, type FakeAccount, type FakeKiro } from "../fake-kiro/server";
import { TEST_ADMIN_TOKEN, TEST_CLIENT_KEY, closePgServices, makeApp, makeServices } from "../support/app";
import { fakeRefreshToken } from "../support/e2e";
import { usePostgres } from "../support/postgres";

const pg = usePostgres();
const SECRET = "cluster-panel-secret-key-012345";
const BASE = "http://127.0.0.1:7860";

type Node = { id: string; services: Services; handle(path: string, init?: RequestInit): Promise<Response> };

async function startNode(id: string, databaseUrl: string, fake: FakeKiro): Promise<Node> {
  const up = fake.upstream;
  const services = await makeServices({ databaseUrl, secretKey: SECRET, instanceId: id, region: up.region, apiUrl: up.apiUrl, authUrl: up.authUrl, oidcUrl: up.oidcUrl });
  const app = createApp(services);
  return { id, services, handle: (path, init) => app.handle(new Request(`${BASE}${path}`, init)) };
}

function chat(n: Node, text = "[[fake:usage]] hi") {
  return n.handle("/v1/messages", {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": TEST_CLIENT_KEY, "anthropic-version": "2023-06-01" },
    body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 64, messages: [{ role: "user", content: text }] }),
  });
}

async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await Bun.sleep(10);
  }
}

async function login(n: Node): Promise<string> {
  const r = await n.handle(`/login?token=${TEST_ADMIN_TOKEN}`);
  return r.headers.get("set-cookie")!.split(";")[0]!;
}

const unescape = (s: string) => s.replace(/&quot;|&#34;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

/** The values of the first series of a dashboard chart (its data-chart attribute). */
function chartSum(html: string, id: string): number {
  const m = new RegExp(`id="${id}" data-chart="([^"]*)"`).exec(html);
  if (!m) throw new Error(`no chart ${id}`);
  const data = JSON.parse(unescape(m[1]!)) as { series: Array<{ values: number[] }> };
  return data.series[0]!.values.reduce((a, b) => a + b, 0);
}

/** The request-log rows of a page or fragment: id and the instance cell. */
function logRows(html: string): Array<{ id: number; instance: string }> {
  return [...html.matchAll(/<tr class="click[^"]*" hx-get="\/requests\/(\d+)"[^>]*>[\s\S]*?<td data-label="Instance" class="instance">([^<]*)<\/td>/g)]
    .map((m) => ({ id: Number(m[1]), instance: m[2]! }));
}

describe.skipIf(!pg.available)("the panel of one instance shows the whole cluster", () => {
  let fake: FakeKiro;
  let account: FakeAccount;
  let nodes: Node[] = [];
  // Requests sent through each instance (node-c's last one fails upstream: an error row).
  const sent: Record<string, number> = { "node-a": 4, "node-b": 3, "node-c": 2 };
  const total = 9;

  beforeAll(async () => {
    fake = await startFakeKiro();
    const databaseUrl = await pg.newDatabase("panel");
    for (const id of ["node-a", "node-b", "node-c"]) nodes.push(await startNode(id, databaseUrl, fake));
    account = fake.addAccount({ refreshToken: fakeRefreshToken() });
    const up = fake.upstream;
    const r = await nodes[0]!.services.pool.upsert({ kind: account.kind, refreshToken: account.refreshToken, label: "acct-1", email: account.email, region: up.region, authRegion: up.region, source: "test" });
    if (r.outcome === "skipped") throw new Error(r.why);
    for (const n of nodes) await until(`${n.id} knows the account`, () => n.services.pool.summary().total === 1);
    for (const n of nodes) {
      for (let i = 0; i < sent[n.id]!; i++) {
        const last = n.id === "node-c" && i === sent[n.id]! - 1;
        if (last) account.behaviour.inputTooLong = true;
        const res = await chat(n);
        await res.text();
        if (last) account.behaviour.inputTooLong = false;
        expect(res.status).toBe(last ? 400 : 200);
      }
    }
    // The other instances store their rows within their own flush interval; node-a's panel sends its own.
    for (const n of nodes.slice(1)) { n.services.requestLog.flush(); await n.services.store.flush(); }
  }, 60_000);

  afterAll(async () => {
    for (const n of nodes) {
      for (const fn of n.services.onShutdown.splice(0)) await fn();
      await closePgServices(n.services);
    }
    await fake?.stop();
  });

  test("the request log lists every instance's rows with an Instance column, a detail field and a filter", async () => {
    const a = nodes[0]!;
    const cookie = await login(a);
    const page = await (await a.handle("/requests", { headers: { cookie } })).text();
    expect(page).toContain("<th>Instance</th>");
    expect(page).toContain('name="instance"');
    const rows = logRows(page);
    expect(rows.length).toBe(total);
    const per: Record<string, number> = {};
    for (const r of rows) per[r.instance] = (per[r.instance] ?? 0) + 1;
    expect(per).toEqual(sent);

    const fromC = rows.find((r) => r.instance === "node-c")!;
    const detail = await (await a.handle(`/requests/${fromC.id}`, { headers: { cookie } })).text();
    expect(detail).toMatch(/<dt>Instance<\/dt><dd>node-c<\/dd>/);

    const onlyB = logRows(await (await a.handle("/requests/rows?instance=NODE-B", { headers: { cookie } })).text());
    expect(onlyB.map((r) => r.instance)).toEqual(["node-b", "node-b", "node-b"]);
    const errors = logRows(await (await a.handle("/requests/rows?status=error", { headers: { cookie } })).text());
    expect(errors.map((r) => r.instance)).toEqual(["node-c"]);
  });

  test("the dashboard counts every instance's requests and breaks the last hour down by instance", async () => {
    const a = nodes[0]!;
    const cookie = await login(a);
    const html = await (await a.handle("/dashboard/live", { headers: { cookie } })).text();
    expect(chartSum(html, "chart-hour-requests")).toBe(total);
    expect(chartSum(html, "chart-day-requests")).toBe(total);
    // Errors: the second series of the request charts.
    const errs = JSON.parse(unescape(/id="chart-hour-requests" data-chart="([^"]*)"/.exec(html)![1]!)).series[1].values.reduce((x: number, y: number) => x + y, 0);
    expect(errs).toBe(1);
    expect(chartSum(html, "chart-hour-tokens")).toBeGreaterThan(0);
    for (const [id, n] of Object.entries(sent)) {
      const row = new RegExp(`<tr data-instance="${id}">[\\s\\S]*?<td data-label="Requests" class="num">(\\d+)</td>`).exec(html);
      expect(row?.[1]).toBe(String(n));
    }
    expect(html).toMatch(/<span>node-a<\/span> <small class="muted">\(this instance\)<\/small>/);
    // The whole page renders the same numbers (and in Chinese).
    const zh = await (await a.handle("/", { headers: { cookie: `${cookie}; kiro_lang=zh-CN`, "accept-language": "zh-CN" } })).text();
    expect(zh).toContain("各实例的请求（最近一小时）");
    expect(chartSum(zh, "chart-hour-requests")).toBe(total);
  });

  test("Usage, the keys page and the CSV export count the cluster; the live log says it is this instance's", async () => {
    const b = nodes[1]!;
    const cookie = await login(b);
    const usage = await (await b.handle("/usage?range=hour", { headers: { cookie } })).text();
    expect(usage).toContain(`<div class="stat"><b>${total}</b>`);
    const keys = await (await b.handle("/keys", { headers: { cookie } })).text();
    expect(keys).toMatch(new RegExp(`class="num day-requests">\\s*<span>${total}</span>`));
    const today = new Date().toISOString().slice(0, 10);
    const csv = (await (await b.handle(`/usage/export.csv?from=${today}&to=${today}`, { headers: { cookie } })).text()).trim().split("\r\n");
    expect(csv[0]).toEndWith(",instance_id");
    expect(csv.length).toBe(total + 1);
    expect(csv.slice(1).map((l) => l.split(",").at(-1)).sort()).toEqual(Object.entries(sent).flatMap(([id, n]) => Array(n).fill(id)).sort());
    const logs = await (await b.handle("/logs", { headers: { cookie } })).text();
    expect(logs).toMatch(/id="log-scope">This live log shows instance node-b only/);
  });
});

describe("one instance (SQLite)", () => {
  test("no Instance column, no per-instance card, no scope line", async () => {
    const { app, services } = await makeApp({ dbPath: ":memory:" });
    services.requestLog.record({ requestId: "solo", at: Date.now(), dialect: "openai", status: 200, model: "m" });
    const cookie = (await app.handle(new Request(`${BASE}/login?token=${TEST_ADMIN_TOKEN}`))).headers.get("set-cookie")!.split(";")[0]!;
    const get = async (path: string) => (await app.handle(new Request(`${BASE}${path}`, { headers: { cookie } }))).text();
    const requests = await get("/requests");
    expect(requests).toContain('data-request="solo"');
    expect(requests).not.toContain("Instance");
    const id = /hx-get="\/requests\/(\d+)"/.exec(requests)![1];
    expect(await get(`/requests/${id}`)).not.toContain("Instance");
    const dash = await get("/dashboard/live");
    expect(chartSum(dash, "chart-hour-requests")).toBe(1);
    expect(dash).not.toContain('id="instances"');
    expect(await get("/logs")).not.toContain("log-scope");
    const today = new Date().toISOString().slice(0, 10);
    expect((await get(`/usage/export.csv?from=${today}&to=${today}`)).split("\r\n")[0]).not.toContain("instance_id");
    for (const fn of services.onShutdown.splice(0)) await fn();
  });
});
