/**
 * Cached input tokens, end to end: the fake Kiro reports cache reads in its final usage, the
 * request log stores them, the rollups add them up, and the Usage page and the CSV show them.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createApp } from "../../src/app";
import type { Services } from "../../src/services";
import { startFakeKiro, type FakeKiro } from "../fake-kiro/server";
import { usageScenario } from "../fake-kiro/scenarios";
import { addBoth, longToken, servicesFor } from "../pool/helpers";
import { TEST_ADMIN_TOKEN, TEST_CLIENT_KEY } from "../support/app";
import { queryLog } from "../support/request-log";

let fake: FakeKiro;
let s: Services;
let app: ReturnType<typeof createApp>;
let cookie = "";
const get = (path: string, lang = "en") => app.handle(new Request(`http://127.0.0.1:7860${path}`, { headers: { cookie: `${cookie}; kiro_lang=${lang}` } }));

beforeAll(async () => {
  fake = await startFakeKiro();
  s = await servicesFor(fake);
  app = createApp(s);
  await addBoth(fake, s.pool, { refreshToken: longToken("cache"), label: "cache" });
  const r = await app.handle(new Request(`http://127.0.0.1:7860/login?token=${TEST_ADMIN_TOKEN}`));
  cookie = r.headers.get("set-cookie")!.split(";")[0]!;
});
afterAll(async () => {
  for (const fn of s.onShutdown.splice(0)) await fn();
  await fake.stop();
});

test("the final usage's cache reads reach the request log, the rollups, the Usage page and the CSV", async () => {
  for (let i = 0; i < 2; i++) {
    fake.enqueue(usageScenario());
    const r = await app.handle(new Request("http://127.0.0.1:7860/v1/messages", {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": TEST_CLIENT_KEY, "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 64, messages: [{ role: "user", content: `hello ${i}` }] }),
    }));
    expect(r.status).toBe(200);
    expect((await r.json()).usage.cache_read_input_tokens).toBe(100);
  }
  const rows = await queryLog(s, "SELECT cached_tokens FROM request_log ORDER BY id");
  expect(rows.map((r) => r.cached_tokens)).toEqual([100, 100]);

  const page = await (await get("/usage?range=hour")).text();
  expect(page).toMatch(/id="usage-cached"><b>200<\/b><span>Cached input tokens<\/span>/);
  expect(page).toContain('<td data-label="Cached input tokens" class="num cached">200</td>');
  const chart = JSON.parse(/id="usage-tokens" data-chart="([^"]+)"/.exec(page)![1]!.replace(/&(quot|#34|#x22);/g, '"').replaceAll("&amp;", "&")) as { series: Array<{ label: string; values: number[] }> };
  const cached = chart.series.find((x) => x.label === "Cached input tokens")!;
  expect(cached.values.reduce((a, b) => a + b, 0)).toBe(200);
  expect(await (await get("/usage?range=hour", "zh-CN")).text()).toContain("缓存命中的输入令牌");

  const day = new Date().toISOString().slice(0, 10);
  const csv = await (await get(`/usage/export.csv?from=${day}&to=${day}`)).text();
  const [header, ...lines] = csv.trim().split("\r\n");
  const cols = header!.split(",");
  const at = cols.indexOf("cached_tokens");
  expect(at).toBe(cols.indexOf("output_tokens") + 1);
  expect(lines.map((l) => l.split(",")[at])).toEqual(["100", "100"]);
});
