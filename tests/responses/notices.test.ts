/**
 * Notices a client repeats every turn (Codex's hosted web_search tool, replayed reasoning items):
 * the first of each type at info, later ones at debug — checked on the unit and through the route.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { FirstTimeNotices } from "../../src/dialects/responses/notices";
import { textScenario } from "../fake-kiro/scenarios";
import { startE2E, type E2E } from "../support/e2e";

type Line = { level: "info" | "debug"; msg: string };
const recorder = () => {
  const lines: Line[] = [];
  return { lines, log: { info: (msg: string) => lines.push({ level: "info", msg }), debug: (msg: string) => lines.push({ level: "debug", msg }) } };
};

describe("FirstTimeNotices", () => {
  test("info the first time per type, debug afterwards; a new type is info again", () => {
    const r = recorder();
    const n = new FirstTimeNotices(r.log);
    n.report("hosted tools dropped", ["web_search"]);
    n.report("hosted tools dropped", ["web_search", "web_search"]);
    n.report("hosted tools dropped", ["web_search", "file_search"]);
    n.report("hosted tools dropped", ["file_search"]);
    n.report("input items skipped", ["web_search"]);
    n.report("hosted tools dropped", []);
    expect(r.lines.map((l) => l.level)).toEqual(["info", "debug", "info", "debug", "info"]);
    expect(r.lines[0]!.msg).toContain("hosted tools dropped: web_search");
    expect(r.lines[1]!.msg).toBe("responses: hosted tools dropped: web_search");
    expect(r.lines[2]!.msg).toContain("web_search, file_search");
    expect(r.lines[4]!.msg).toContain("input items skipped: web_search");
  });

  test("a client inventing tool types cannot grow the memory without bound", () => {
    const r = recorder();
    const n = new FirstTimeNotices(r.log);
    for (let i = 0; i < 1000; i++) n.report("hosted tools dropped", [`t${i}`]);
    const infos = r.lines.filter((l) => l.level === "info").length;
    expect(infos).toBeGreaterThan(0);
    expect(infos).toBeLessThan(1000);
    expect(r.lines).toHaveLength(1000);
  });
});

describe("through POST /v1/responses", () => {
  let e: E2E;
  const logged: Array<{ level: string; msg: string }> = [];
  beforeAll(async () => {
    e = await startE2E();
    e.services.bus.on((ev) => {
      if (ev.kind === "log") logged.push({ level: ev.level, msg: ev.msg });
    });
  });
  afterAll(async () => {
    await e?.stop();
  });

  test("Codex's web_search tool, sent every turn, is reported at info once and then at debug", async () => {
    for (const text of ["one", "two", "three"]) {
      e.fake.enqueue(textScenario(text));
      const r = await fetch(`${e.url}/v1/responses`, {
        method: "POST",
        headers: { authorization: `Bearer ${e.clientKey}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "claude-sonnet-4-5", input: "hi", tools: [{ type: "web_search", external_web_access: false }] }),
      });
      expect(r.status).toBe(200);
      expect((await r.json()).output_text).toBe(text);
    }
    const notices = logged.filter((l) => l.msg.includes("hosted tools dropped"));
    expect(notices.map((l) => l.level)).toEqual(["info", "debug", "debug"]);
    expect(notices[0]!.msg).toContain("web_search");
  });
});
