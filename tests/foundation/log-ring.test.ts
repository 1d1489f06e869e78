/**
 * The live log's history (LogRing): the last lines, oldest first, bounded in lines and in bytes,
 * each line read back as it was logged; over-long and unserialisable lines are kept shortened.
 */
import { describe, expect, test } from "bun:test";
import { EventBus, type LogEvent } from "../../src/logs/bus";
import { LogRing, MAX_LINE_BYTES } from "../../src/logs/ring";

const line = (i: number, msg = `line ${i}`, fields?: Record<string, unknown>): LogEvent => ({
  kind: "log",
  at: 1_700_000_000_000 + i,
  level: i % 3 ? "info" : "warn",
  msg,
  requestId: `req_${i}`,
  ...(fields ? { fields } : {}),
});

/** A deterministic mix of line sizes, non-ASCII text included. */
function varied(i: number): LogEvent {
  const size = (i * 7919) % 900;
  return line(i, `m${i} ${"é✓🙂x".repeat(size / 4)}`, i % 2 ? { account: `acct-${i}`, n: i, nested: { ok: true } } : undefined);
}

describe("LogRing", () => {
  test("keeps the last N lines, oldest first, exactly as logged", () => {
    const bus = new EventBus();
    const ring = new LogRing(bus, 5);
    const sent = Array.from({ length: 12 }, (_, i) => line(i, `line ${i}`, { account: `a${i}`, ok: i % 2 === 0 }));
    for (const e of sent) bus.emit(e);
    expect(ring.recent()).toEqual(sent.slice(-5));
    expect(ring.recent(2)).toEqual(sent.slice(-2));
    expect(ring.recent(50)).toEqual(sent.slice(-5));
  });

  test("only log lines are kept (domain events pass by)", () => {
    const bus = new EventBus();
    const ring = new LogRing(bus, 5);
    bus.emit({ kind: "request", at: 1, data: { x: 1 } });
    bus.emit(line(1));
    expect(ring.recent()).toEqual([line(1)]);
  });

  test("bounded in bytes: across many wraps it holds a suffix of what was logged, in order, within its buffer", () => {
    const bus = new EventBus();
    const bytes = 16 * 1024;
    const ring = new LogRing(bus, 1000, bytes);
    const sent: LogEvent[] = [];
    for (let i = 0; i < 3000; i++) {
      const e = varied(i);
      sent.push(e);
      bus.emit(e);
      if (i % 97 === 0 || i === 2999) {
        const got = ring.recent();
        expect(got.length).toBeGreaterThan(0);
        expect(got).toEqual(sent.slice(-got.length));
        const used = got.reduce((n, g) => n + Buffer.byteLength(JSON.stringify(g)), 0);
        expect(used).toBeLessThanOrEqual(bytes);
        // Dropping happens only as room is needed: the line before the kept ones would not have fit
        // beside them (with at most one line's worth lost at the buffer's end when it wrapped).
        if (got.length < sent.length) {
          const before = Buffer.byteLength(JSON.stringify(sent[sent.length - got.length - 1]));
          expect(used + before).toBeGreaterThan(bytes - MAX_LINE_BYTES);
        }
      }
    }
  });

  test("a line longer than the limit is kept with its message cut and no fields; unserialisable fields do not lose the line", () => {
    const bus = new EventBus();
    const ring = new LogRing(bus, 10);
    const huge = "\u0001".repeat(50_000);
    bus.emit(line(1, huge, { body: "x".repeat(20_000) }));
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    bus.emit(line(2, "cyclic fields", cyclic));
    bus.emit(line(3, "bigint", { n: 10n }));
    bus.emit(line(4));
    const [a, b, c, d] = ring.recent();
    expect(a!.msg.startsWith("\u0001".repeat(1000))).toBe(true);
    expect(a!.msg).toContain("(cut: 50000 characters)");
    expect(a!.fields).toBeUndefined();
    expect(a!.requestId).toBe("req_1");
    expect(Buffer.byteLength(JSON.stringify(a))).toBeLessThanOrEqual(MAX_LINE_BYTES);
    expect(b).toEqual(line(2, "cyclic fields"));
    expect(c).toEqual(line(3, "bigint"));
    expect(d).toEqual(line(4));
  });
});
