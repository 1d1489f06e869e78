import { describe, expect, test } from "bun:test";
import { allowedHosts, hostName, isAllowedHost, isAllowedOrigin } from "../../src/admin/host-guard";
import { AdminSessions } from "../../src/admin/session";
import { RollingStats } from "../../src/panel/shared/rolling";
import { parseImportText } from "../../src/pool/import";
import { fmtTime } from "../../src/panel/shared/format";
import { RequestLogQueries, likeLiteral } from "../../src/logs/request-log";
import { shellQuote, snippets, strLit } from "../../src/panel/dashboard/page";
import { makeServices } from "../support/app";
import { fakeRefreshToken } from "../support/e2e";

describe("host guard", () => {
  test("parses host names with ports and IPv6 brackets", () => {
    expect(hostName("127.0.0.1:7860")).toBe("127.0.0.1");
    expect(hostName("[::1]:7860")).toBe("[::1]");
    expect(hostName("LocalHost")).toBe("localhost");
  });

  test("allows loopback names and the bound address only", () => {
    const allowed = allowedHosts("192.168.1.20");
    for (const h of ["localhost:7860", "127.0.0.1", "[::1]:1", "192.168.1.20:7860"]) expect(isAllowedHost(h, allowed)).toBe(true);
    for (const h of ["evil.example", "127.0.0.1.nip.io:7860", "", "localhost.evil.example"]) expect(isAllowedHost(h, allowed)).toBe(false);
    expect(isAllowedHost(null, allowed)).toBe(false);
    expect(isAllowedHost("[fe80::1]:7860", allowedHosts("fe80::1"))).toBe(true);
  });

  test("origins: absent is fine, foreign or garbage is not", () => {
    const allowed = allowedHosts("127.0.0.1");
    expect(isAllowedOrigin(null, allowed)).toBe(true);
    expect(isAllowedOrigin("http://127.0.0.1:7860", allowed)).toBe(true);
    expect(isAllowedOrigin("http://evil.example", allowed)).toBe(false);
    expect(isAllowedOrigin("null", allowed)).toBe(false);
  });
});

describe("admin sessions", () => {
  test("signed ids; idle sessions expire", () => {
    let now = 1_000_000;
    const sessions = new AdminSessions(() => now);
    const { session, cookie } = sessions.create();
    expect(sessions.get(cookie)?.id).toBe(session.id);
    expect(sessions.get(`${session.id}.AAAA`)).toBeNull();
    expect(new AdminSessions().get(cookie)).toBeNull(); // another process's key
    now += 13 * 3_600_000;
    expect(sessions.get(cookie)).toBeNull();
  });
});

describe("rolling 24 h stats", () => {
  test("seed from the table, then count live events once", async () => {
    // The SQLite reader over this process's own table (PostgreSQL mode reads the shared one).
    const s = await makeServices({ dbPath: ":memory:" });
    const now = Date.now();
    s.requestLog.record({ requestId: "a", at: now - 2 * 3_600_000, dialect: "openai", status: 200, inputTokens: 10, outputTokens: 5, clientKeyId: "k1" });
    s.requestLog.record({ requestId: "b", at: now - 30 * 3_600_000, dialect: "openai", status: 200, inputTokens: 99, outputTokens: 1 }); // outside the day
    const r = new RollingStats(new RequestLogQueries(s.db), () => s.requestLog.flush());
    s.bus.on((e) => { if (e.kind === "request") r.add(e.data as never); });
    expect(r.series(3_600_000, 24).requests).toBe(1); // seeded (flushes the queued rows first)
    s.requestLog.record({ requestId: "c", at: now, dialect: "anthropic", status: 429, inputTokens: 1, outputTokens: 0, clientKeyId: "k1" });
    const hour = r.series(60_000, 60);
    expect(hour).toMatchObject({ requests: 1, tokens: 1, errors: 1 });
    expect(hour.buckets[59]!.requests).toBe(1);
    const day = r.series(3_600_000, 24);
    expect(day).toMatchObject({ requests: 2, tokens: 16, errors: 1 });
    expect(r.keyUsageSince(now - 86_400_000).get("k1")).toMatchObject({ requests: 2, tokens: 16, errors: 1 });
    s.requestLog.flush();
    expect(r.series(3_600_000, 24).requests).toBe(2); // the flush does not double count
    for (const fn of s.onShutdown.splice(0)) await fn();
  });
});

describe("import text formats", () => {
  test("kiro2api array, Kiro Account Manager export, IDE token, garbage", () => {
    const k2a = parseImportText(JSON.stringify([{ auth: "Social", refreshToken: fakeRefreshToken() }, { auth: "IdC", refreshToken: fakeRefreshToken() }]));
    expect("format" in k2a && k2a.format).toContain("kiro2api");
    if ("entries" in k2a) expect(k2a.entries.length).toBe(2);
    const kam = parseImportText(JSON.stringify({ version: "1", accounts: [{ email: "a@b.c", credentials: { refreshToken: fakeRefreshToken() } }] }));
    expect("format" in kam && kam.format).toContain("Account Manager");
    const ide = parseImportText(JSON.stringify({ refreshToken: fakeRefreshToken(), accessToken: "x", expiresAt: "2026-01-01T00:00:00Z", authMethod: "social", provider: "Google" }));
    expect("format" in ide && ide.format).toContain("kiro-auth-token");
    if ("entries" in ide) expect(ide.entries[0]!.input?.kind).toBe("social");
    expect(parseImportText("nope")).toEqual({ error: "not valid JSON" });
    expect(parseImportText("[]")).toEqual({ error: "the JSON holds no accounts" });
  });
});

describe("client snippets quote the key", () => {
  const key = `k'ey "with" $HOME \`id\` \\ and ünïcode`;
  const snip = snippets("http://127.0.0.1:7860", key);

  test("the shell reads back the exact key and URL", () => {
    const run = (script: string) => Bun.spawnSync(["sh", "-c", script]).stdout.toString();
    expect(run(`${snip.claudeCode.replace(/\nclaude$/, "")}\nprintf '%s|%s' "$ANTHROPIC_BASE_URL" "$ANTHROPIC_AUTH_TOKEN"`)).toBe(`http://127.0.0.1:7860|${key}`);
    expect(run(`printf '%s' ${shellQuote(key)}`)).toBe(key);
    // curl's header argument is one word holding the whole key.
    expect(run(`set -- ${snip.curl.replace(/^curl /, "").replace(/\\\n/g, "")}; printf '%s' "$3"`)).toBe(`Authorization: Bearer ${key}`);
  });

  test("Python/JSON/YAML string literals decode to the key", () => {
    expect(snip.openai).toContain(`api_key=${strLit(key)}`);
    expect(JSON.parse(strLit(key))).toBe(key);
    expect(JSON.parse(snip.continue).models[0].apiKey).toBe(key);
    expect(Bun.YAML.parse(snip.continueYaml)).toMatchObject({ models: [{ provider: "openai", apiKey: key, apiBase: "http://127.0.0.1:7860/v1" }] });
  });
});

describe("panel time and filter helpers", () => {
  test("fmtTime: clock today, date this year, year otherwise (UTC)", () => {
    const now = Date.parse("2026-11-29T12:00:00Z");
    expect(fmtTime(Date.parse("2026-11-29T08:01:02Z"), now)).toBe("08:01:02");
    expect(fmtTime(Date.parse("2026-03-04T08:01:02Z"), now)).toBe("Mar 4 08:01");
    expect(fmtTime(Date.parse("2025-12-31T23:59:00Z"), now)).toBe("Dec 31 2025 23:59");
  });

  test("request filters match by prefix, with % and _ taken literally", async () => {
    // The SQLite queries (PostgreSQL's are checked in tests/store-pg/request-log-pg.test.ts).
    const s = await makeServices({ dbPath: ":memory:" });
    const at = Date.now();
    for (const [id, model, key] of [["a", "claude-haiku-4-5", "ci_bot"], ["b", "claude-sonnet-4-5", "ci-bot"], ["c", "claude-sonnet-4-5", "default"]] as const) {
      s.requestLog.record({ requestId: id, at, dialect: "openai", status: 200, model, clientKeyName: key });
    }
    s.requestLog.flush();
    const log = new RequestLogQueries(s.db);
    const ids = async (f: Parameters<RequestLogQueries["page"]>[0]) => (await log.page(f)).map((r) => r.requestId).sort();
    expect(await ids({ model: "claude-s" })).toEqual(["b", "c"]);
    expect(await ids({ model: "CLAUDE-HAIKU" })).toEqual(["a"]);
    expect(await ids({ key: "ci_" })).toEqual(["a"]); // _ is not a wildcard
    expect(await ids({ key: "ci" })).toEqual(["a", "b"]);
    expect(await ids({ model: "%" })).toEqual([]);
    expect(await ids({ model: "sonnet" })).toEqual([]); // prefix, not substring
    expect(likeLiteral("a%b_c\\d")).toBe("a\\%b\\_c\\\\d");
    for (const fn of s.onShutdown.splice(0)) await fn();
  });
});
