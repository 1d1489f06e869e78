/**
 * What the panel shows about pacing, against the fake Kiro's accounts: each account's requests in
 * the pacing window against its limit and its next free slot (Accounts), the wait queue on the
 * dashboard only while something waits, and the Codex CLI snippet of "Connect a client".
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createApp } from "../../src/app";
import { isUnavailable, type PoolLease, type PoolUnavailable } from "../../src/pool/types";
import type { Services } from "../../src/services";
import { startFakeKiro, type FakeKiro } from "../fake-kiro/server";
import { addBoth, longToken, servicesFor } from "../pool/helpers";
import { TEST_ADMIN_TOKEN } from "../support/app";

let fake: FakeKiro;
let s: Services;
let app: ReturnType<typeof createApp>;
let cookie = "";
const get = async (path: string, lang = "en") =>
  (await app.handle(new Request(`http://127.0.0.1:7860${path}`, { headers: { cookie: `${cookie}; kiro_lang=${lang}` } }))).text();
const lease = (r: PoolLease | PoolUnavailable): PoolLease => {
  if (isUnavailable(r)) throw new Error(`expected a lease: ${r.message}`);
  return r;
};

beforeAll(async () => {
  fake = await startFakeKiro();
  s = await servicesFor(fake);
  app = createApp(s);
  const r = await app.handle(new Request(`http://127.0.0.1:7860/login?token=${TEST_ADMIN_TOKEN}`));
  cookie = r.headers.get("set-cookie")!.split(";")[0]!;
});
afterAll(async () => {
  for (const fn of s.onShutdown.splice(0)) await fn();
  await fake.stop();
});

test("accounts show requests in the window against the limit and the next free slot; the dashboard shows the queue while it waits", async () => {
  s.settings.update({ accountRpm: 2, pacingWindowMs: 60_000, accountMinSpacingMs: 0, queueWaitMs: 20_000 });
  const { id } = await addBoth(fake, s.pool, { refreshToken: longToken("pv"), label: "paced one" });
  const row = (html: string) => html.slice(html.indexOf(`id="acct-${id}"`), html.indexOf("</tbody>", html.indexOf(`id="acct-${id}"`)));

  expect(row(await get("/accounts/table"))).toContain("0 / 2 requests in 60 s");
  expect(await get("/dashboard/live")).not.toContain('id="wait-queue"');

  lease(s.pool.acquire()).release();
  lease(s.pool.acquire()).release();
  const full = row(await get("/accounts/table"));
  expect(full).toContain('data-pacing="2/2"');
  expect(full).toContain("2 / 2 requests in 60 s");
  expect(full).toMatch(/next request<\/span> <time datetime="[^"]+" data-t="until"/);
  expect(row(await get("/accounts/table", "zh-CN"))).toContain("60 秒内 2 / 2 个请求");

  // A third request has to wait: the dashboard says so, and stops saying it once it is served.
  const waiting = s.pool.acquireWait();
  expect(s.pool.queueStats().waiting).toBe(1);
  const live = await get("/dashboard/live");
  expect(live).toContain('id="wait-queue"');
  expect(live).toMatch(/1 requests are waiting for an account with head-room \(the oldest for \d+ s\)\. Since start: 0 served after waiting, 0 answered 429\./);
  s.settings.update({ accountRpm: 3 });
  lease(await waiting).release();
  const after = await get("/dashboard/live");
  expect(after).not.toContain('id="wait-queue"');
  expect(row(await get("/accounts/table"))).toContain("3 / 3 requests in 60 s");

  s.settings.update({ accountRpm: 0 });
  expect(row(await get("/accounts/table"))).toContain("3 requests in 60 s (no limit)");
});

test("Connect a client offers the Codex CLI set-up next to the others", async () => {
  const page = await get("/");
  expect(page).toContain('id="snip-codex"');
  const snippet = (/id="snip-codex"[^>]*>([^<]*)</.exec(page)?.[1] ?? "").replaceAll("&#x27;", "'");
  expect(snippet).toBe("kiro-server codex-config --base-url 'http://127.0.0.1:7860/v1'\nexport KIRO_API_KEY='test-client-key'\ncodex");
});
