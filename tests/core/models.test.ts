import { describe, expect, test } from "bun:test";
import { TurnError } from "../../src/core/errors";
import { ModelCatalog, listModels } from "../../src/core/models";

const family = new ModelCatalog({ fallback: "family" });
const strict = new ModelCatalog({ fallback: "strict" });
const resolveModel = (name: string) => family.find(name);

describe("ModelCatalog.find", () => {
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
  for (const [name, upstreamId, legacyId] of cases) {
    test(`${name} → ${upstreamId}`, () => {
      const m = resolveModel(name);
      expect(m?.upstreamId).toBe(upstreamId);
      expect(m?.legacyId).toBe(legacyId);
      // resolve() carries the same upstream model, and the name the client sent.
      const r = family.resolve(name);
      expect(r).toMatchObject({ requested: name, upstreamId, contextWindow: m!.contextWindow, nativeThinking: m!.nativeThinking });
      expect(r.legacyId).toBe(legacyId);
      expect(r.name).toBe(m!.aliasOf ?? m!.name);
    });
  }

  test("unknown names do not resolve", () => {
    for (const n of ["gpt-4o", "", "  ", "claude", "sonnet"]) expect(resolveModel(n)).toBeUndefined();
    for (const n of ["claude-sonnet-9-9", "claude-opus-5-5"]) expect(strict.find(n)).toBeUndefined();
  });

  test("resolve() refuses an unknown name with not_found on `model`, naming the valid models", () => {
    for (const cat of [family, strict]) {
      const err = (() => { try { cat.resolve("gpt-4o"); } catch (e) { return e; } })();
      expect(err).toBeInstanceOf(TurnError);
      expect(err).toMatchObject({ kind: "not_found", status: 404, param: "model" });
      expect((err as TurnError).message).toBe(`model 'gpt-4o' is not available; valid models: ${cat.names().join(", ")}`);
    }
    expect(() => strict.resolve("claude-opus-5-5")).toThrow(/valid models: claude-sonnet-4-5, /);
  });

  test("context windows: 1M from the 4.6 generation on; native (adaptive) thinking likewise", () => {
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
      expect(resolveModel(m.name)?.upstreamId).toBe(m.upstreamId);
    }
  });
});

describe("family fallback for names Kiro does not serve", () => {
  test("unlisted opus/sonnet/haiku names are served by the newest confirmed model of the family", () => {
    const seen: Array<[string, string]> = [];
    const cat = new ModelCatalog({ fallback: "family", onFallback: (a, b) => seen.push([a, b]) });
    const resolveModel = (name: string) => cat.find(name);
    {
      expect(resolveModel("claude-opus-5-5")!.upstreamId).toBe("claude-opus-4.6"); // Claude Code's default
      expect(resolveModel("claude-sonnet-5-20270101")!.upstreamId).toBe("claude-sonnet-4.6");
      expect(resolveModel("claude-haiku-5")!.upstreamId).toBe("claude-haiku-4.5");
      expect(resolveModel("anthropic.claude-opus-9-v1:0")!.upstreamId).toBe("claude-opus-4.6");
      // Listed names are never rerouted, and other vendors' names are never guessed.
      expect(resolveModel("claude-sonnet-4-5")!.upstreamId).toBe("claude-sonnet-4.5");
      expect(resolveModel("gpt-4o")).toBeUndefined();
      expect(resolveModel("claude-instant-1")).toBeUndefined();
      expect(seen[0]).toEqual(["claude-opus-5-5", "claude-opus-4-6"]);
      expect(cat.resolve("claude-opus-5-5")).toMatchObject({ requested: "claude-opus-5-5", name: "claude-opus-4-6", upstreamId: "claude-opus-4.6" });
    }
  });
});
