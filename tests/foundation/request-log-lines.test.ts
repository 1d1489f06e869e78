import { until } from "../support/until";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { LogEvent } from "../../src/logs/bus";
import { startE2E, type E2E } from "../support/e2e";

/** Every /v1 request leaves one line in the live log, including ones rejected before a turn. */
describe("one log line per request", () => {
  let e: E2E;
  const lines: LogEvent[] = [];
  beforeAll(async () => {
    e = await startE2E();
    e.services.bus.on((ev) => { if (ev.kind === "log") lines.push(ev); });
  });
  afterAll(async () => { await e.stop(); });

  const post = (path: string, key: string, body: unknown) =>
    fetch(`${e.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });

  test("a served request: info line with dialect, model, status, account and tokens", async () => {
    const r = await post("/v1/chat/completions", e.clientKey, { model: "claude-sonnet-4-5", messages: [{ role: "user", content: "hi" }] });
    expect(r.status).toBe(200);
    const id = r.headers.get("x-request-id")!;
    await until("the request's log line", () => lines.some((l) => l.requestId === id));
    const mine = lines.filter((l) => l.requestId === id);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.level).toBe("info");
    expect(mine[0]!.msg).toBe("openai claude-sonnet-4-5 → 200 end_turn");
    expect(mine[0]!.fields).toMatchObject({ account: "fake-1", in: expect.any(Number), out: expect.any(Number) });
  });

  test("a streamed request: the turn's summary line only, no access line from when its headers went out", async () => {
    const r = await post("/v1/messages", e.clientKey, { model: "claude-sonnet-4-5", max_tokens: 64, stream: true, messages: [{ role: "user", content: "hi" }] });
    expect(r.status).toBe(200);
    const id = r.headers.get("x-request-id")!;
    await r.text();
    await until("the request's summary line", () => lines.some((l) => l.requestId === id && l.msg.includes("(stream) → 200")));
    expect(lines.filter((l) => l.requestId === id).map((l) => [l.level, l.msg])).toEqual([["info", "anthropic claude-sonnet-4-5 (stream) → 200 end_turn"]]);
  });

  test("a bad key and a bad body: one warn line each, no secret in it", async () => {
    const bad = await post("/v1/chat/completions", "sk-wrong-key-1234567890", {});
    const broken = await post("/v1/messages", e.clientKey, "{not json");
    for (const res of [bad, broken]) await until("the refused request's log line", () => lines.some((l) => l.requestId === res.headers.get("x-request-id")));
    for (const [res, status, path] of [[bad, 401, "/v1/chat/completions"], [broken, 400, "/v1/messages"]] as const) {
      const mine = lines.filter((l) => l.requestId === res.headers.get("x-request-id"));
      expect(mine.map((l) => [l.level, l.msg])).toEqual([["warn", `POST ${path} → ${status}`]]);
    }
    expect(JSON.stringify(lines)).not.toContain("sk-wrong-key-1234567890");
  });
});
