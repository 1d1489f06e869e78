import { describe, expect, test } from "bun:test";
import { buildToolNameMap } from "../../../src/kiro/request/tool-names";

const VALID = /^[a-zA-Z0-9_-]{1,64}$/;

describe("tool name map", () => {
  test("valid names are kept as they are", () => {
    const m = buildToolNameMap(["Bash", "read_file", "mcp-x"]);
    expect(m.toShort("Bash")).toBe("Bash");
    expect(m.restore("read_file")).toBe("read_file");
    expect(m.renamed.size).toBe(0);
  });

  test("70-char names shorten to ≤ 64 and round-trip", () => {
    const long = "mcp__very_long_server_name__" + "x".repeat(42);
    expect(long.length).toBe(70);
    const m = buildToolNameMap([long]);
    const s = m.toShort(long);
    expect(s.length).toBeLessThanOrEqual(64);
    expect(s).toMatch(VALID);
    expect(m.restore(s)).toBe(long);
  });

  test("deterministic across requests and independent of order", () => {
    const a = "a".repeat(70), b = "b.c/d";
    const m1 = buildToolNameMap([a, b, "Bash"]);
    const m2 = buildToolNameMap(["Bash", b, a]);
    expect(m1.toShort(a)).toBe(m2.toShort(a));
    expect(m1.toShort(b)).toBe(m2.toShort(b));
  });

  test("names sharing a 64-char prefix stay distinct", () => {
    const base = "p".repeat(64);
    const names = [base + "1", base + "2", base + "3", base + "_suffix_x"];
    const m = buildToolNameMap(names);
    const shorts = names.map((n) => m.toShort(n));
    expect(new Set(shorts.map((s) => s.toLowerCase())).size).toBe(names.length);
    for (const [i, s] of shorts.entries()) {
      expect(s).toMatch(VALID);
      expect(m.restore(s)).toBe(names[i]);
    }
  });

  test("sanitizing collisions: a.b vs a_b vs case-only differences", () => {
    const m = buildToolNameMap(["a.b", "a_b", "A_B", "a b"]);
    const shorts = ["a.b", "a_b", "A_B", "a b"].map((n) => m.toShort(n));
    expect(m.toShort("a_b")).toBe("a_b"); // the valid name keeps its name
    expect(new Set(shorts.map((s) => s.toLowerCase())).size).toBe(4);
    for (const s of shorts) expect(s).toMatch(VALID);
    for (const n of ["a.b", "a_b", "A_B", "a b"]) expect(m.restore(m.toShort(n))).toBe(n);
  });

  test("empty and non-ASCII names get a valid name", () => {
    const m = buildToolNameMap(["", "搜索", "ü"]);
    for (const n of ["", "搜索", "ü"]) {
      expect(m.toShort(n)).toMatch(VALID);
      expect(m.restore(m.toShort(n))).toBe(n);
    }
  });

  test("restore of unknown names is the identity; case-insensitive fallback", () => {
    const long = "z".repeat(80);
    const m = buildToolNameMap([long]);
    expect(m.restore("never_declared")).toBe("never_declared");
    expect(m.restore(m.toShort(long).toUpperCase())).toBe(long);
  });

  test("1,000 random long names: all distinct, valid and reversible", () => {
    const names = Array.from({ length: 1000 }, (_, i) => `tool_${"q".repeat(60)}_${i}`);
    const m = buildToolNameMap(names);
    const shorts = new Set(names.map((n) => m.toShort(n).toLowerCase()));
    expect(shorts.size).toBe(1000);
    for (const n of names) expect(m.restore(m.toShort(n))).toBe(n);
  });
});
