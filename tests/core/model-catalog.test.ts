import { describe, expect, test } from "bun:test";
import { ModelCatalog, listModels, mergeServed, type ServedModel } from "../../src/core/models";
import { TurnError } from "../../src/core/errors";
import { FAKE_MODELS, FAKE_MODEL_LISTS } from "../fake-kiro/models";

/** What the pool reports for accounts with these fake lists (the fake's token limits included). */
function served(ids: readonly string[]): ServedModel[] {
  return ids.map((id) => {
    const m = FAKE_MODELS.find((x) => x.modelId === id)!;
    return { id, displayName: m.modelName, ...(m.tokenLimits ? { maxInputTokens: m.tokenLimits.maxInputTokens, maxOutputTokens: m.tokenLimits.maxOutputTokens } : {}) };
  });
}

function catalog(ids?: readonly string[], fallback: "family" | "strict" = "family") {
  const fallbacks: Array<[string, string]> = [];
  const c = new ModelCatalog({ fallback, onFallback: (a, b) => fallbacks.push([a, b]) });
  if (ids) c.setServed(served(ids));
  return { c, fallbacks };
}

const up = (c: ModelCatalog, name: string) => c.find(name)?.upstreamId;

/** Every table alias and name → upstream id, before any account reported a list. */
describe("before the accounts' lists are known: the table", () => {
  const { c } = catalog();
  test("every name and alias resolves to its table row", () => {
    for (const m of listModels()) expect([m.name, up(c, m.name)]).toEqual([m.name, m.upstreamId]);
  });
  test("family fallback goes to the table's newest confirmed model of the family", () => {
    const table: Array<[string, string]> = [
      ["claude-opus-9", "claude-opus-4.6"],
      ["claude-opus-5-5", "claude-opus-4.6"],
      ["claude-sonnet-9-9", "claude-sonnet-4.6"],
      ["claude-haiku-7", "claude-haiku-4.5"],
    ];
    for (const [name, id] of table) expect([name, up(c, name)]).toEqual([name, id]);
  });
  test("discovered non-Claude ids are unknown until a list says otherwise", () => {
    expect(c.find("deepseek-3.2")).toBeUndefined();
    expect(c.names()).toEqual(listModels().map((m) => m.name));
  });
});

describe("after the lists arrive: an older-Opus plan", () => {
  const { c, fallbacks } = catalog(FAKE_MODEL_LISTS.olderOpus);

  test("served table names keep their row; names of unserved models fall back within the family", () => {
    const table: Array<[string, string]> = [
      // served rows
      ["claude-sonnet-4-5", "claude-sonnet-4.5"],
      ["claude-sonnet-4-5-20250929", "claude-sonnet-4.5"],
      ["claude-sonnet-4-20250514", "claude-sonnet-4"],
      ["claude-3-7-sonnet-20250219", "claude-sonnet-4.5"],
      ["claude-3-5-haiku-20241022", "claude-haiku-4.5"],
      ["claude-haiku-4-5-20251001", "claude-haiku-4.5"],
      ["claude-opus-4-5", "claude-opus-4.5"],
      ["auto", "auto"],
      // Claude's dotted upstream ids are names too
      ["claude-opus-4.5", "claude-opus-4.5"],
      ["claude-sonnet-4.5", "claude-sonnet-4.5"],
      ["claude-haiku-4.5", "claude-haiku-4.5"],
      // family fallback: unserved table rows and unknown names → the newest served of the family
      ["claude-opus-4-8", "claude-opus-4.5"],
      ["claude-opus-4-6", "claude-opus-4.5"],
      ["claude-opus-4-7", "claude-opus-4.5"],
      ["claude-opus-4-1", "claude-opus-4.5"],
      ["claude-opus-5-5", "claude-opus-4.5"],
      ["claude-sonnet-4-6", "claude-sonnet-4.5"],
      ["claude-sonnet-9-9", "claude-sonnet-4.5"],
      ["claude-haiku-7", "claude-haiku-4.5"],
      ["claude-opus-4-8[1m]", "claude-opus-4.5"],
      // discovered models that are not Claude: under their upstream id
      ["deepseek-3.2", "deepseek-3.2"],
      ["glm-5", "glm-5"],
      ["minimax-m2.5", "minimax-m2.5"],
      ["qwen3-coder-next", "qwen3-coder-next"],
      ["DeepSeek-3.2", "deepseek-3.2"],
    ];
    for (const [name, id] of table) expect([name, up(c, name)]).toEqual([name, id]);
    expect(fallbacks).toContainEqual(["claude-opus-4-8", "claude-opus-4-5"]);
  });

  test("the list holds exactly the served names, no unserved one", () => {
    const names = c.names();
    for (const n of ["claude-opus-4-5", "claude-opus-4.5", "deepseek-3.2", "glm-5", "qwen3-coder-next", "auto", "claude-sonnet-4-5-20250929"]) expect(names).toContain(n);
    for (const n of ["claude-opus-4-6", "claude-opus-4-8", "claude-sonnet-4-6", "minimax-m2.1", "claude-opus-4-1"]) expect(names).not.toContain(n);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(c.find(n)).toBeDefined();
  });

  test("windows and output caps come from the upstream's token limits", () => {
    expect(c.resolve("deepseek-3.2")).toMatchObject({ name: "deepseek-3.2", upstreamId: "deepseek-3.2", contextWindow: 128_000, maxOutputTokens: 32_000, nativeThinking: false });
    expect(c.resolve("qwen3-coder-next")).toMatchObject({ contextWindow: 256_000, maxOutputTokens: 64_000 });
    expect(c.find("deepseek-3.2")!.displayName).toBe("DeepSeek 3.2");
    expect(c.resolve("claude-opus-4-8")).toMatchObject({ requested: "claude-opus-4-8", name: "claude-opus-4-5", upstreamId: "claude-opus-4.5", contextWindow: 200_000, maxOutputTokens: 64_000 });
    // auto reports no limits: the table's stay.
    expect(c.resolve("auto")).toMatchObject({ contextWindow: 200_000, maxOutputTokens: 64_000 });
  });

  test("a name outside every family is a 404 naming exactly the listed models", () => {
    const err = (() => { try { c.resolve("gpt-4o"); } catch (e) { return e; } })() as TurnError;
    expect(err).toBeInstanceOf(TurnError);
    expect(err).toMatchObject({ kind: "not_found", status: 404, param: "model" });
    expect(err.message).toBe(`model 'gpt-4o' is not available; valid models: ${c.names().join(", ")}`);
  });

  test("strict: unserved names are refused, served ones are not", () => {
    const { c: s } = catalog(FAKE_MODEL_LISTS.olderOpus, "strict");
    for (const n of ["claude-opus-4-8", "claude-opus-4-6", "claude-sonnet-4-6", "claude-opus-5-5"]) expect(s.find(n)).toBeUndefined();
    expect(up(s, "claude-opus-4-5")).toBe("claude-opus-4.5");
    expect(up(s, "glm-5")).toBe("glm-5");
  });
});

describe("after the lists arrive: other plans", () => {
  test("every model: the newest Opus is 4.6, reported ids all resolve to themselves", () => {
    const { c } = catalog(FAKE_MODEL_LISTS.all);
    expect(up(c, "claude-opus-4-8")).toBe("claude-opus-4.6");
    expect(up(c, "claude-opus-4-6")).toBe("claude-opus-4.6");
    expect(up(c, "claude-sonnet-4-6")).toBe("claude-sonnet-4.6");
    for (const id of FAKE_MODEL_LISTS.all) expect([id, up(c, id)]).toEqual([id, id]);
    expect(c.resolve("claude-opus-4-6")).toMatchObject({ contextWindow: 1_000_000, maxOutputTokens: 128_000, nativeThinking: true });
  });

  test("no Claude served: Claude names are 404, the other models are there", () => {
    const { c } = catalog(FAKE_MODEL_LISTS.nonClaude);
    for (const n of ["claude-sonnet-4-5", "claude-opus-4-8", "claude-haiku-4-5"]) expect(c.find(n)).toBeUndefined();
    expect(c.names().sort()).toEqual(["auto", "auto-kiro", "deepseek-3.2", "glm-5", "minimax-m2.1", "minimax-m2.5", "qwen3-coder-next"]);
  });

  test("a Claude model the table does not know gets the client-style name and the dotted id", () => {
    const { c } = catalog(["claude-opus-4.5"]);
    c.setServed([...served(["claude-opus-4.5"]), { id: "claude-opus-4.9", maxInputTokens: 900_000, maxOutputTokens: 100_000 }]);
    expect(c.resolve("claude-opus-4-9")).toMatchObject({ name: "claude-opus-4-9", upstreamId: "claude-opus-4.9", contextWindow: 900_000, maxOutputTokens: 100_000, nativeThinking: true });
    expect(c.resolve("claude-opus-4.9")).toMatchObject({ name: "claude-opus-4-9", upstreamId: "claude-opus-4.9" });
    // …and it is the newest Opus now.
    expect(up(c, "claude-opus-4-8")).toBe("claude-opus-4.9");
    expect(c.names()).toEqual(expect.arrayContaining(["claude-opus-4-9", "claude-opus-4.9"]));
  });

  test("a reported model gets its client-style name even where the table substitutes another model", () => {
    const { c } = catalog(["claude-opus-4.6"]);
    expect(up(c, "claude-opus-4-1")).toBe("claude-opus-4.6");
    c.setServed([...served(["claude-opus-4.6"]), { id: "claude-opus-4.1", maxInputTokens: 200_000, maxOutputTokens: 32_000 }]);
    expect(up(c, "claude-opus-4-1")).toBe("claude-opus-4.1");
    expect(up(c, "claude-opus-4.1")).toBe("claude-opus-4.1");
    expect(c.resolve("claude-opus-4-1")).toMatchObject({ name: "claude-opus-4-1", maxOutputTokens: 32_000, nativeThinking: false });
    // The other aliases of the substitute row still go to Opus 4.6, the newest Opus.
    expect(up(c, "claude-opus-4-20250514")).toBe("claude-opus-4.6");
    expect(up(c, "claude-opus-9")).toBe("claude-opus-4.6");
    const names = c.names();
    expect(new Set(names).size).toBe(names.length);
  });

  test("lists withdrawn (no account with a list left): back to the table", () => {
    const { c } = catalog(FAKE_MODEL_LISTS.nonClaude);
    c.setServed(undefined);
    expect(up(c, "claude-sonnet-4-5")).toBe("claude-sonnet-4.5");
    expect(c.listsKnown).toBe(false);
  });

  test("merging accounts: union of ids, the largest limits", () => {
    const m = mergeServed([[{ id: "a", maxInputTokens: 10 }], [{ id: "a", maxInputTokens: 20, maxOutputTokens: 5 }, { id: "b" }]]);
    expect(m).toEqual([{ id: "a", maxInputTokens: 20, maxOutputTokens: 5 }, { id: "b" }]);
  });
});
