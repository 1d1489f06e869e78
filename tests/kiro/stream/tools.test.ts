/** toolUseEvent assembly: fragments byte-exact, names restored, no interleaving, edge cases. */
import { describe, expect, test } from "bun:test";
import type { CanonicalEvent } from "../../../src/core/canonical";
import { encodeEvent } from "../../fake-kiro/frames";
import { parallelToolScenario, scenarioBytes, scenarioStream, textEvent, toolScenario, toolSteps } from "../../fake-kiro/scenarios";
import { collect, textOf } from "./helpers";

const A = "tooluse_AbCdEfGhIjKlMnOpQrStUv";
const B = "tooluse_ZyXwVuTsRqPoNmLkJiHgFe";

/** Checks the canonical invariant: start, args*, end per call, never interleaved. */
function assertWellFormed(evs: CanonicalEvent[]) {
  let open: string | undefined;
  for (const e of evs) {
    if (e.type === "tool_start") {
      expect(open).toBeUndefined();
      open = e.id;
    } else if (e.type === "tool_args") expect(e.id).toBe(open!);
    else if (e.type === "tool_end") {
      expect(e.id).toBe(open!);
      open = undefined;
    } else expect(open).toBeUndefined();
  }
  expect(open).toBeUndefined();
}

function argsOf(evs: CanonicalEvent[], id: string): string {
  return evs.map((e) => (e.type === "tool_args" && e.id === id ? e.json : "")).join("");
}

describe("tool calls", () => {
  test("the doc's 4-frame example: start, raw fragments, end, stop tool_use", async () => {
    const frames = [
      { name: "Bash", toolUseId: A },
      { input: '{"comm', name: "Bash", toolUseId: A },
      { input: 'and":"ls"}', name: "Bash", toolUseId: A },
      { name: "Bash", stop: true, toolUseId: A },
    ].map((p) => encodeEvent("toolUseEvent", p));
    expect(await collect(frames)).toEqual([
      { type: "tool_start", id: A, name: "Bash" },
      { type: "tool_args", id: A, json: '{"comm' },
      { type: "tool_args", id: A, json: 'and":"ls"}' },
      { type: "tool_end", id: A },
      { type: "stop", reason: "tool_use" },
    ]);
  });

  test("text then a call; the name goes through restoreToolName; args byte-exact", async () => {
    const input = { path: "/tmp/ünï ✓", n: 1, nested: { a: [1, 2, "🎉"] } };
    const evs = await collect(scenarioStream(toolScenario([{ name: "t_read_file", input, id: A, fragmentSize: 5 }], { text: "Reading." }), { seed: 4 }));
    assertWellFormed(evs);
    expect(textOf(evs)).toBe("Reading.");
    expect(evs.find((e) => e.type === "tool_start")).toEqual({ type: "tool_start", id: A, name: "restored_read_file" });
    expect(argsOf(evs, A)).toBe(JSON.stringify(input));
    expect(evs.at(-1)).toEqual({ type: "stop", reason: "tool_use" });
  });

  test("a tool with no input emits tool_args {}", async () => {
    const evs = await collect([scenarioBytes(toolScenario([{ name: "now", id: A }]))]);
    expect(evs.filter((e) => e.type.startsWith("tool_"))).toEqual([
      { type: "tool_start", id: A, name: "now" },
      { type: "tool_args", id: A, json: "{}" },
      { type: "tool_end", id: A },
    ]);
  });

  test("two sequential calls", async () => {
    const evs = await collect([scenarioBytes(toolScenario([{ name: "a", input: { x: 1 }, id: A }, { name: "b", input: { y: 2 }, id: B }]))]);
    assertWellFormed(evs);
    expect(evs.filter((e) => e.type === "tool_start").map((e) => e.type === "tool_start" && e.name)).toEqual(["a", "b"]);
    expect(argsOf(evs, B)).toBe('{"y":2}');
  });

  test("interleaved (parallel) calls are serialized: second buffered until the first ends", async () => {
    const evs = await collect(scenarioStream(parallelToolScenario([
      { name: "a", input: { first: "aaaaaaaaaaaaaaaaaaaa" }, id: A, fragmentSize: 4 },
      { name: "b", input: { second: "bbbbbbbbbbbbbbbbbb" }, id: B, fragmentSize: 4 },
    ])));
    assertWellFormed(evs);
    expect(argsOf(evs, A)).toBe('{"first":"aaaaaaaaaaaaaaaaaaaa"}');
    expect(argsOf(evs, B)).toBe('{"second":"bbbbbbbbbbbbbbbbbb"}');
    expect(evs.filter((e) => e.type === "tool_end").map((e) => e.type === "tool_end" && e.id)).toEqual([A, B]);
    expect(evs.at(-1)).toEqual({ type: "stop", reason: "tool_use" });
  });

  test("text arriving while a call is open is emitted after the call", async () => {
    const steps = toolSteps({ name: "a", input: { x: 1 }, id: A });
    const evs = await collect([scenarioBytes({ steps: [steps[0]!, textEvent("between"), ...steps.slice(1), textEvent(" after")] })]);
    assertWellFormed(evs);
    expect(textOf(evs)).toBe("between after");
    expect(evs.findIndex((e) => e.type === "text")).toBeGreaterThan(evs.findIndex((e) => e.type === "tool_end"));
  });

  test("frames for an already finished call and frames without toolUseId are ignored", async () => {
    const evs = await collect([
      scenarioBytes({ steps: toolSteps({ name: "a", input: { x: 1 }, id: A }) }),
      encodeEvent("toolUseEvent", { name: "a", input: "{}", stop: true, toolUseId: A }),
      encodeEvent("toolUseEvent", { name: "a", input: "{}", stop: true }),
    ]);
    expect(evs.filter((e) => e.type === "tool_start").length).toBe(1);
    expect(argsOf(evs, A)).toBe('{"x":1}');
  });

  test("a call cut off by end of stream is closed and the turn ends max_tokens", async () => {
    const evs = await collect([
      encodeEvent("toolUseEvent", { name: "a", toolUseId: A }),
      encodeEvent("toolUseEvent", { input: '{"x":', name: "a", toolUseId: A }),
    ]);
    assertWellFormed(evs);
    expect(evs.at(-1)).toEqual({ type: "stop", reason: "max_tokens" });
  });

  test("invalid JSON at stop ends the turn max_tokens", async () => {
    const evs = await collect([scenarioBytes({ steps: toolSteps({ name: "a", input: '{"x":1', id: A }) })]);
    assertWellFormed(evs);
    expect(argsOf(evs, A)).toBe('{"x":1');
    expect(evs.at(-1)).toEqual({ type: "stop", reason: "max_tokens" });
  });

  test("an object input (peer variant) is re-encoded", async () => {
    const evs = await collect([encodeEvent("toolUseEvent", { input: { x: 1 }, name: "a", stop: true, toolUseId: A })]);
    expect(argsOf(evs, A)).toBe('{"x":1}');
  });
});
