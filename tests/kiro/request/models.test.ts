import { describe, expect, test } from "bun:test";
import { listModels, resolveModel, setModelFallback } from "../../../src/kiro/models";

describe("resolveModel", () => {
  const cases: Array<[string, string, string | undefined]> = [
    // the six names of the original product doc
    ["claude-sonnet-4-5", "claude-sonnet-4.5", "CLAUDE_SONNET_4_5_20250929_V1_0"],
    ["claude-sonnet-4-5-20250929", "claude-sonnet-4.5", "CLAUDE_SONNET_4_5_20250929_V1_0"],
    ["claude-sonnet-4-20250514", "claude-sonnet-4", "CLAUDE_SONNET_4_20250514_V1_0"],
    ["claude-3-7-sonnet-20250219", "claude-sonnet-4.5", "CLAUDE_3_7_SONNET_20250219_V1_0"],
    ["claude-3-5-haiku-20241022", "claude-haiku-4.5", "auto"],
    ["claude-haiku-4-5-20251001", "claude-haiku-4.5", "auto"],
    // 4.x names and aliases
    ["claude-haiku-4-5", "claude-haiku-4.5", "auto"],
    ["claude-opus-4-5", "claude-opus-4.5", undefined],
    ["claude-opus-4-5-20251101", "claude-opus-4.5", undefined],
    ["claude-opus-4-6", "claude-opus-4.6", undefined],
    ["claude-sonnet-4-6", "claude-sonnet-4.6", undefined],
    ["claude-opus-4-1", "claude-opus-4.6", undefined],
    ["claude-opus-4-1-20250805", "claude-opus-4.6", undefined],
    ["claude-opus-4-7", "claude-opus-4.7", undefined],
    ["claude-sonnet-4-0", "claude-sonnet-4", "CLAUDE_SONNET_4_20250514_V1_0"],
    ["claude-3-7-sonnet-latest", "claude-sonnet-4.5", "CLAUDE_3_7_SONNET_20250219_V1_0"],
    ["claude-sonnet-4-5-latest", "claude-sonnet-4.5", "CLAUDE_SONNET_4_5_20250929_V1_0"],
    ["auto", "auto", "auto"],
    // upstream id styles
    ["claude-sonnet-4.5", "claude-sonnet-4.5", "CLAUDE_SONNET_4_5_20250929_V1_0"],
    ["claude-haiku-4.5", "claude-haiku-4.5", "auto"],
    ["claude-opus-4.6", "claude-opus-4.6", undefined],
    ["claude-3.7-sonnet", "claude-sonnet-4.5", "CLAUDE_3_7_SONNET_20250219_V1_0"],
    ["CLAUDE_SONNET_4_5_20250929_V1_0", "claude-sonnet-4.5", "CLAUDE_SONNET_4_5_20250929_V1_0"],
    ["CLAUDE_SONNET_4_20250514_V1_0", "claude-sonnet-4", "CLAUDE_SONNET_4_20250514_V1_0"],
    ["CLAUDE_3_7_SONNET_20250219_V1_0", "claude-sonnet-4.5", "CLAUDE_3_7_SONNET_20250219_V1_0"],
    // tolerance: case, suffixes, provider prefixes, unknown dates
    ["Claude-Sonnet-4-5", "claude-sonnet-4.5", "CLAUDE_SONNET_4_5_20250929_V1_0"],
    ["claude-sonnet-4-5[1m]", "claude-sonnet-4.5", "CLAUDE_SONNET_4_5_20250929_V1_0"],
    ["claude-opus-4-6-thinking", "claude-opus-4.6", undefined],
    ["anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4.5", "CLAUDE_SONNET_4_5_20250929_V1_0"],
    ["claude-sonnet-4-6-20260115", "claude-sonnet-4.6", undefined],
  ];
  for (const [name, kiroId, legacyId] of cases) {
    test(`${name} → ${kiroId}`, () => {
      const m = resolveModel(name);
      expect(m?.kiroId).toBe(kiroId);
      expect(m?.legacyId).toBe(legacyId);
    });
  }

  test("unknown names do not resolve", () => {
    for (const n of ["gpt-4o", "", "  ", "claude", "sonnet"]) expect(resolveModel(n)).toBeUndefined();
    setModelFallback("strict");
    try {
      for (const n of ["claude-sonnet-9-9", "claude-opus-5-5"]) expect(resolveModel(n)).toBeUndefined();
    } finally {
      setModelFallback("family");
    }
  });

  test("context windows and native thinking follow §5 / rule 11a", () => {
    expect(resolveModel("claude-sonnet-4-6")!.contextWindow).toBe(1_000_000);
    expect(resolveModel("claude-opus-4-6")!.contextWindow).toBe(1_000_000);
    expect(resolveModel("claude-sonnet-4-5")!.contextWindow).toBe(200_000);
    expect(resolveModel("claude-opus-4-6")!.nativeThinking).toBe(true);
    expect(resolveModel("claude-sonnet-4-5")!.nativeThinking).toBe(false);
  });
});

describe("listModels", () => {
  test("lists every client-facing name once, aliases pointing at listed canonical names", () => {
    const all = listModels();
    const names = all.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    for (const six of ["claude-sonnet-4-5", "claude-sonnet-4-5-20250929", "claude-sonnet-4-20250514",
      "claude-3-7-sonnet-20250219", "claude-3-5-haiku-20241022", "claude-haiku-4-5-20251001"]) {
      expect(names).toContain(six);
    }
    for (const m of all) {
      if (m.aliasOf) expect(names).toContain(m.aliasOf);
      expect(resolveModel(m.name)?.kiroId).toBe(m.kiroId);
    }
  });
});

describe("family fallback for names Kiro does not serve", () => {
  test("unlisted opus/sonnet/haiku names are served by the newest confirmed model of the family", () => {
    const seen: Array<[string, string]> = [];
    setModelFallback("family", (a, b) => seen.push([a, b]));
    try {
      expect(resolveModel("claude-opus-5-5")!.kiroId).toBe("claude-opus-4.6"); // Claude Code's default
      expect(resolveModel("claude-sonnet-5-20270101")!.kiroId).toBe("claude-sonnet-4.6");
      expect(resolveModel("claude-haiku-5")!.kiroId).toBe("claude-haiku-4.5");
      expect(resolveModel("anthropic.claude-opus-9-v1:0")!.kiroId).toBe("claude-opus-4.6");
      // Listed names are never rerouted, and other vendors' names are never guessed.
      expect(resolveModel("claude-sonnet-4-5")!.kiroId).toBe("claude-sonnet-4.5");
      expect(resolveModel("gpt-4o")).toBeUndefined();
      expect(resolveModel("claude-instant-1")).toBeUndefined();
      expect(seen[0]).toEqual(["claude-opus-5-5", "claude-opus-4-6"]);
    } finally {
      setModelFallback("family");
    }
  });
});
