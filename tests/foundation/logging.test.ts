import { describe, expect, test } from "bun:test";
import { EventBus, type BusEvent } from "../../src/logs/bus";
import { createLogger } from "../../src/logs/logger";
import { attachStdoutLogger, formatLogLine } from "../../src/logs/stdout";
import { LogRing } from "../../src/logs/ring";

describe("log bus and stdout logger", () => {
  test("secrets are redacted before any subscriber sees them", () => {
    const bus = new EventBus();
    const seen: BusEvent[] = [];
    bus.on((e) => seen.push(e));
    const log = createLogger(bus).child("req_abc");
    log.info("refresh with aorAAAAbbbbccccddddeeee done", { refreshToken: "aorSECRETSECRETSECRET", clientSecret: "eyJhbGciOi.x.y", inputTokens: 12, nested: { authorization: "Bearer sk-abcdefghijkl" } });
    const e = seen[0]!;
    expect(e.kind).toBe("log");
    const text = JSON.stringify(e);
    expect(text).not.toContain("SECRETSECRET");
    expect(text).not.toContain("bbbbccccdddd");
    expect(text).not.toContain("sk-abcdefghijkl");
    expect(text).toContain('"inputTokens":12');
    expect(text).toContain("req_abc");
  });

  test("pretty and JSON lines carry the request id; the level filter applies", () => {
    const bus = new EventBus();
    const lines: string[] = [];
    attachStdoutLogger(bus, { level: "info", format: "json", write: (l) => lines.push(l) });
    const log = createLogger(bus);
    log.debug("hidden");
    log.child("req_1").warn("shown", { model: "m" });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: "warn", msg: "shown", requestId: "req_1", model: "m" });
    const pretty = formatLogLine({ kind: "log", at: 0, level: "info", msg: "hi", requestId: "req_2", fields: { a: 1 } }, "pretty", false)!;
    expect(pretty).toBe("00:00:00.000 INFO  [req_2] hi a=1");
  });

  test("a throwing subscriber does not break logging; the ring keeps recent lines", () => {
    const bus = new EventBus();
    bus.on(() => { throw new Error("broken subscriber"); });
    const ring = new LogRing(bus, 3);
    const log = createLogger(bus);
    for (let i = 0; i < 10; i++) log.info(`line ${i}`);
    expect(ring.recent().map((e) => e.msg)).toEqual(["line 7", "line 8", "line 9"]);
  });
});
