/**
 * Three kiro-server instances on one PostgreSQL database against the strict fake Kiro (the issue's
 * cluster acceptance): round-robin traffic, one refresh per account and expiry across the cluster,
 * a 429 seen by one instance honoured by the others, a budget shared by every instance, and an
 * instance killed with SIGKILL in the middle of a refresh losing no rotated token.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SESSION_COOKIE, sessionsFor } from "../../src/admin/session";
import { startFakeKiro, type FakeAccount, type FakeKiro } from "../fake-kiro/server";
import { TEST_CLIENT_KEY } from "../support/app";
import { fakeRefreshToken } from "../support/e2e";
import { startInstance, type Instance } from "../support/cluster";
import { usePostgres } from "../support/postgres";

const pg = usePostgres();
const SECRET = "cluster-test-secret-key-0123456";
const ENTRY = new URL("../../src/index.ts", import.meta.url).pathname;

function chat(url: string, key = TEST_CLIENT_KEY, text = "hi", stream = false) {
  return fetch(`${url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": key, "anthropic-version": "2023-06-01" },
    body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 64, stream, messages: [{ role: "user", content: text }] }),
  });
}

/** Polls `check` every 10 ms until it holds; returns how long that took (ms). */
async function until(what: string, check: () => boolean, ms = 5000): Promise<number> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await Bun.sleep(10);
  }
  return Date.now() - start;
}

/** Every refresh token the fake was shown is shown once: no generation was refreshed twice. */
function expectEachTokenRefreshedOnce(fake: FakeKiro) {
  const seen = fake.refreshCalls.map((c) => c.refreshToken);
  expect(new Set(seen).size).toBe(seen.length);
}

describe.skipIf(!pg.available)("three instances on one database", () => {
  let fake: FakeKiro;
  let nodes: Instance[] = [];
  let accounts: FakeAccount[] = [];
  let ids: string[] = [];
  let databaseUrl = "";

  beforeAll(async () => {
    fake = await startFakeKiro();
    databaseUrl = await pg.newDatabase("cluster");
    nodes = [];
    for (const id of ["node-a", "node-b", "node-c"]) nodes.push(await startInstance(id, databaseUrl, fake, SECRET));
    accounts = [0, 1, 2].map(() => fake.addAccount({ refreshToken: fakeRefreshToken() }));
    const up = fake.upstream;
    for (const [i, a] of accounts.entries()) {
      const r = await nodes[0]!.services.pool.upsert({ kind: a.kind, refreshToken: a.refreshToken, label: `acct-${i + 1}`, email: a.email, region: up.region, authRegion: up.region, source: "test" });
      if (r.outcome === "skipped") throw new Error(r.why);
      ids.push(r.id);
    }
    // Accounts added on one instance reach the others through the change feed.
    for (const n of nodes) await until(`${n.id} knows the 3 accounts`, () => n.services.pool.summary().total === 3);
  }, 60_000);

  afterAll(async () => {
    for (const n of nodes) await n.stop();
    await fake?.stop();
  });

  test("300 requests spread round-robin all succeed; each account is refreshed once per expiry across the cluster", async () => {
    const statuses: number[] = [];
    let firstError = "";
    let next = 0;
    const worker = async () => {
      for (;;) {
        const i = next++;
        if (i >= 300) return;
        // Twice during the run the service invalidates every access token at once: every instance
        // meets 403s for the same accounts at the same moment and must not refresh them twice.
        if (i === 100 || i === 200) for (const a of accounts) a.expireAccessTokens();
        const res = await chat(nodes[i % 3]!.url);
        statuses.push(res.status);
        const body = await res.text();
        if (res.status !== 200 && !firstError) firstError = `${nodes[i % 3]!.id}: ${body}`;
      }
    };
    const refreshesBefore = fake.refreshCalls.length;
    await Promise.all(Array.from({ length: 6 }, worker));
    expect(firstError).toBe("");
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(statuses).toHaveLength(300);
    expectEachTokenRefreshedOnce(fake);
    // Exactly one refresh per account and expiry across the three instances (the others adopt
    // it): the first access token (the accounts were added with a refresh token only) and the two
    // invalidations.
    expect(fake.refreshCalls.length - refreshesBefore).toBe(3 * (1 + 2));
    for (const a of accounts) expect(a.chatCalls).toBeGreaterThan(0);
    // Every instance wrote its share of the request log into the shared table, with its id.
    for (const n of nodes) { n.services.requestLog.flush(); await n.services.store.flush(); }
    expect(await logRowsByInstance(databaseUrl)).toEqual({ "node-a": 100, "node-b": 100, "node-c": 100 });
  }, 120_000);

  test("a 429 seen by one instance makes the others skip that account within 2 s", async () => {
    const [a, b, c] = nodes as [Instance, Instance, Instance];
    for (const n of nodes) n.services.settings.update({ strategy: "round-robin" });
    const victim = accounts[0]!;
    victim.behaviour.throttleCalls = 1;
    victim.behaviour.retryAfterSec = 60;
    // Requests on instance A until it has met the 429 (its failover serves the request elsewhere).
    const before = victim.chatCalls;
    for (let i = 0; i < 30 && victim.behaviour.throttleCalls > 0; i++) expect((await chat(a.url)).status).toBe(200);
    expect(victim.behaviour.throttleCalls).toBe(0);
    expect(a.services.pool.get(ids[0]!)!.state).toBe("cooling");
    const waited = await Promise.all([b, c].map((n) => until(`${n.id} sees the cooldown`, () => n.services.pool.get(ids[0]!)!.state === "cooling", 2000)));
    expect(Math.max(...waited)).toBeLessThan(2000);
    console.log(`cooldown seen by the other instances after ${waited.join(" and ")} ms`);
    const calls = victim.chatCalls;
    expect(calls).toBe(before + 1);
    for (let i = 0; i < 20; i++) expect((await chat([b, c][i % 2]!.url)).status).toBe(200);
    expect(victim.chatCalls).toBe(calls); // nobody sent it anything more
    // Back in service for the next test.
    for (const n of nodes) n.services.pool.setEnabled(ids[0]!, true);
  }, 60_000);

  /** Counts the calls of the key repository's near-budget methods on every instance (each is one database statement). */
  function countNearBudgetCalls() {
    const calls = { clusterUsage: 0, addUsageNow: 0 };
    const restore: Array<() => void> = [];
    for (const n of nodes) {
      const repo = n.services.store.keys;
      const { clusterUsage, addUsageNow } = repo;
      repo.clusterUsage = (id) => (calls.clusterUsage++, clusterUsage!.call(repo, id));
      repo.addUsageNow = (u) => (calls.addUsageNow++, addUsageNow!.call(repo, u));
      restore.push(() => Object.assign(repo, { clusterUsage, addUsageNow }));
    }
    return { calls, restore: () => restore.forEach((fn) => fn()) };
  }

  /** Tokens one request counts against a key (this answer, this prompt). */
  async function tokensPerRequest(): Promise<number> {
    const [a] = nodes as [Instance];
    const probe = await a.services.keys.create({ name: "probe" });
    expect((await chat(a.url, probe.key)).status).toBe(200);
    const perRequest = a.services.keys.list().find((k) => k.id === probe.record.id)!.tokensThisMonth;
    expect(perRequest).toBeGreaterThan(0);
    return perRequest;
  }

  test("a key budget shared by three instances is overrun by at most the requests in flight", async () => {
    const [a] = nodes as [Instance];
    const perRequest = await tokensPerRequest();
    // Near-instant requests (the fake answers at once): with budget checks from memory alone, the
    // usage still travelling between instances would let far more than the requests in flight
    // through. 60 requests' worth: the first ones are admitted from memory, the last ones (within
    // the near-budget margin) by the cluster total.
    const budget = perRequest * 60;
    const { key, record } = await a.services.keys.create({ name: "shared budget", monthlyTokenBudget: budget });
    for (const n of nodes) await until(`${n.id} knows the key`, () => n.services.keys.verify(key) !== null);
    const spy = countNearBudgetCalls();
    const inFlight = 6;
    let refusedInARow = 0;
    let served = 0;
    let next = 0;
    let running = 0;
    let maxRunning = 0;
    const worker = async () => {
      while (refusedInARow < inFlight && next < 400) {
        running++;
        maxRunning = Math.max(maxRunning, running);
        // Every other request streams: its final events wait for the usage write as the whole answer does.
        const i = next++;
        const res = await chat(nodes[i % 3]!.url, key, "hi", i % 2 === 1);
        const body = await res.text();
        running--;
        if (res.status === 200) { served++; refusedInARow = 0; } else { expect(res.status).toBe(403); expect(body).toContain("budget"); refusedInARow++; }
      }
    };
    try {
      await Promise.all(Array.from({ length: inFlight }, worker));
    } finally {
      spy.restore();
    }
    for (const n of nodes) await n.services.store.flush();
    const [{ used }] = await pgUsed(databaseUrl, record.id);
    expect(used).toBe(served * perRequest);
    expect(used).toBeGreaterThanOrEqual(budget);
    // Every admission near the budget read the cluster total after every finished request's usage
    // was stored: only the requests running alongside the last one admitted can add to it.
    expect(maxRunning).toBe(inFlight);
    const over = (used - budget) / perRequest;
    console.log(`budget overrun: ${over} request(s) with ${inFlight} in flight (${served} served, budget ${budget / perRequest} requests; ${spy.calls.clusterUsage} cluster checks, ${spy.calls.addUsageNow} usages written at once)`);
    expect(used - budget).toBeLessThanOrEqual(inFlight * perRequest);
    // Both sides of the rule were used: admissions from memory first, from the database near the end.
    expect(spy.calls.clusterUsage).toBeGreaterThan(0);
    expect(spy.calls.clusterUsage).toBeLessThan(served + 3 * inFlight);
    expect(spy.calls.addUsageNow).toBeGreaterThan(0);
    expect(spy.calls.addUsageNow).toBeLessThan(served);
  }, 60_000);

  test("keys far from their budget, or without one, are admitted and counted without a database round trip", async () => {
    const [a] = nodes as [Instance];
    const perRequest = await tokensPerRequest();
    const far = await a.services.keys.create({ name: "far", monthlyTokenBudget: perRequest * 1_000_000 });
    const none = await a.services.keys.create({ name: "no budget" });
    const tight = await a.services.keys.create({ name: "tight", monthlyTokenBudget: perRequest * 2 });
    for (const n of nodes) await until(`${n.id} knows the keys`, () => [far, none, tight].every((k) => n.services.keys.verify(k.key) !== null));
    const spy = countNearBudgetCalls();
    try {
      for (let i = 0; i < 30; i++) expect((await chat(nodes[i % 3]!.url, i % 2 ? far.key : none.key)).status).toBe(200);
      expect(spy.calls).toEqual({ clusterUsage: 0, addUsageNow: 0 });
      // The same counters see a key near its budget ask the database: the second request (one
      // request's worth left) is admitted by the cluster total, the third refused by it.
      expect((await chat(a.url, tight.key)).status).toBe(200);
      expect((await chat(a.url, tight.key)).status).toBe(200);
      expect(spy.calls.clusterUsage).toBe(1);
      const refused = await chat(a.url, tight.key);
      expect(refused.status).toBe(403);
      expect(await refused.text()).toContain("budget");
    } finally {
      spy.restore();
    }
  }, 60_000);

  test("settings, keys and admin sessions changed on one instance reach the others within a second", async () => {
    const [a, b, c] = nodes as [Instance, Instance, Instance];
    a.services.settings.update({ queueWaitMs: 12_345 });
    const { key, record } = await a.services.keys.create({ name: "spread" });
    const login = sessionsFor(a.services).create();
    const waits = await Promise.all([b, c].map((n) => until(`${n.id} has the setting, key and session`, () =>
      n.services.settings.runtime.queueWaitMs === 12_345 && n.services.keys.verify(key) !== null && sessionsFor(n.services).get(login.cookie) !== null, 1000)));
    expect(Math.max(...waits)).toBeLessThan(1000);
    // The session works through the panel of another instance.
    const page = await fetch(`${b.url}/`, { headers: { cookie: `${SESSION_COOKIE}=${login.cookie}` }, redirect: "manual" });
    expect(page.status).toBe(200);
    a.services.keys.revoke(record.id);
    sessionsFor(a.services).destroy(login.session.id);
    await Promise.all([b, c].map((n) => until(`${n.id} dropped the key and the session`, () => n.services.keys.verify(key) === null && sessionsFor(n.services).get(login.cookie) === null, 1000)));
    expect((await chat(c.url, key)).status).toBe(401);
  }, 30_000);

  test("kill -9 of an instance in the middle of a refresh loses no rotated token", async () => {
    const up = fake.upstream;
    const child = Bun.spawn([process.execPath, ENTRY, "--port", "0", "--host", "127.0.0.1"], {
      env: { ...process.env, DATABASE_URL: databaseUrl, KIRO_SECRET_KEY: SECRET, KIRO_INSTANCE_ID: "node-k", KIRO_CLIENT_TOKEN: TEST_CLIENT_KEY, KIRO_API_URL: up.apiUrl, KIRO_AUTH_URL: up.authUrl, KIRO_OIDC_URL: up.oidcUrl, KIRO_REGION: up.region, LOG_FORMAT: "json" },
      stdout: "pipe", stderr: "pipe",
    });
    try {
      const port = await listeningPort(child);
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let arrived!: () => void;
      const refreshing = new Promise<void>((r) => (arrived = r));
      fake.beforeRefresh = () => { arrived(); return held; };
      for (const acct of accounts) acct.expireAccessTokens();
      // The child meets an invalid token, takes the account's cluster lock and asks for a refresh…
      const inFlight = chat(`http://127.0.0.1:${port}`).catch(() => null);
      await refreshing;
      // …and dies holding the lock, before the service has seen the refresh.
      child.kill("SIGKILL");
      await child.exited;
      fake.beforeRefresh = undefined;
      release();
      await inFlight;
      // The others refresh at once (PostgreSQL released the dead session's lock) with the stored
      // token, which the fake accepts: every request succeeds.
      for (let i = 0; i < 9; i++) expect((await chat(nodes[i % 3]!.url)).status).toBe(200);
      expectEachTokenRefreshedOnce(fake);
      for (const acct of accounts) expect(fake.refreshCalls.some((c) => c.refreshToken === acct.currentRefreshToken)).toBe(false);
    } finally {
      child.kill("SIGKILL");
      await child.exited;
    }
  }, 60_000);
});

async function pgUsed(url: string, id: string): Promise<Array<{ used: number }>> {
  const { SQL } = await import("bun");
  const sql = new SQL(url, { max: 1 });
  try {
    const rows: Array<{ used: string | number }> = await sql`select tokens_this_month as used from client_keys where id = ${id}`;
    return rows.map((r) => ({ used: Number(r.used) }));
  } finally {
    await sql.close();
  }
}

async function logRowsByInstance(url: string): Promise<Record<string, number>> {
  const { SQL } = await import("bun");
  const sql = new SQL(url, { max: 1 });
  try {
    const rows: Array<{ instance_id: string; n: number }> = await sql`select instance_id, count(*)::int as n from request_log group by instance_id order by instance_id`;
    return Object.fromEntries(rows.map((r) => [r.instance_id, r.n]));
  } finally {
    await sql.close();
  }
}

/** The port a started server prints in its "listening on" line. */
async function listeningPort(p: Bun.Subprocess<"ignore", "pipe", "pipe">): Promise<number> {
  const reader = p.stdout.getReader();
  let text = "";
  for (;;) {
    const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(text);
    if (m) { reader.releaseLock(); return Number(m[1]); }
    const { value, done } = await reader.read();
    if (done) throw new Error(`instance exited: ${await new Response(p.stderr).text()}`);
    text += new TextDecoder().decode(value);
  }
}
