/** toolUseEvent assembly: fragments byte-exact, names restored, no interleaving, edge cases. */
import { describe, expect, test } from "bun:test";
import type { CanonicalEvent } from "../../../src/core/canonical";
import { encodeEvent } from "../../fake-kiro/frames";
import { cutToolSteps, truncatedToolScenario } from "../../fake-kiro/directives";
import { parallelToolScenario, scenarioBytes, scenarioStream, textEvent, toolScenario, toolSteps } from "../../fake-kiro/scenarios";
import { decodeKiroBatches } from "../../../src/kiro/stream/decode";
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
      // The call is held back until complete; its first frame only says the upstream is alive.
      { type: "usage", usage: {} },
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

  test("a call cut off by end of stream is never emitted; a note ends the text; stop max_tokens", async () => {
    const evs = await collect([
      encodeEvent("assistantResponseEvent", { content: "Writing." }),
      encodeEvent("toolUseEvent", { name: "t_write", toolUseId: A }),
      encodeEvent("toolUseEvent", { input: '{"x":', name: "t_write", toolUseId: A }),
    ]);
    assertWellFormed(evs);
    expect(evs.some((e) => e.type.startsWith("tool_"))).toBe(false);
    expect(textOf(evs)).toStartWith("Writing.\n\n[kiro-server: the upstream's output limit cut off the tool call `restored_write` (after 5 characters of arguments)");
    expect(textOf(evs)).toContain("smaller");
    expect(evs.at(-1)).toEqual({ type: "stop", reason: "max_tokens" });
  });

  test("invalid JSON at stop: the call is dropped, the turn ends max_tokens", async () => {
    const evs = await collect([scenarioBytes({ steps: toolSteps({ name: "a", input: '{"x":1', id: A }) })]);
    assertWellFormed(evs);
    expect(evs.some((e) => e.type === "tool_start")).toBe(false);
    expect(textOf(evs)).toContain("cut off the tool call `a`");
    expect(evs.at(-1)).toEqual({ type: "stop", reason: "max_tokens" });
  });

  test("ContentLengthExceeded inside a call (the fake's tool_cut_exception): no tool events, usage kept", async () => {
    const evs = await collect(scenarioStream(truncatedToolScenario("Write", "exception", 500), { seed: 9 }));
    assertWellFormed(evs);
    expect(evs.some((e) => e.type.startsWith("tool_"))).toBe(false);
    expect(textOf(evs)).toStartWith("Writing the file now.");
    expect(textOf(evs)).toContain("`Write` (after 500 characters of arguments)");
    expect(evs.some((e) => e.type === "usage" && e.usage.credits !== undefined)).toBe(true);
    expect(evs.at(-1)).toEqual({ type: "stop", reason: "max_tokens" });
  });

  test("a complete call after a cut one is still delivered whole", async () => {
    const cut = cutToolSteps("Write", 80, { id: A, stop: true });
    const evs = await collect([scenarioBytes({ steps: [...cut, ...toolSteps({ name: "Read", input: { p: 1 }, id: B })] })]);
    assertWellFormed(evs);
    expect(evs.filter((e) => e.type === "tool_start").map((e) => e.type === "tool_start" && e.id)).toEqual([B]);
    expect(argsOf(evs, B)).toBe('{"p":1}');
    expect(evs.at(-1)).toEqual({ type: "stop", reason: "max_tokens" });
  });

  test("text before a call streams at once; the call's first frame yields a liveness event before it completes", async () => {
    const steps = toolSteps({ name: "a", input: { big: "x".repeat(200) }, id: A });
    const chunks = [
      encodeEvent("assistantResponseEvent", { content: "Hi." }),
      scenarioBytes({ steps: [steps[0]!] }),
      scenarioBytes({ steps: steps.slice(1) }),
    ];
    async function* src() {
      for (const c of chunks) yield c;
    }
    const batches: CanonicalEvent[][] = [];
    for await (const b of decodeKiroBatches(src(), { restoreToolName: (n) => n })) batches.push(b);
    expect(batches[0]).toEqual([{ type: "text", text: "Hi." }]);
    expect(batches[1]).toEqual([{ type: "usage", usage: {} }]);
    expect(batches[2]![0]).toEqual({ type: "tool_start", id: A, name: "a" });
    expect(argsOf(batches.flat(), A)).toBe(JSON.stringify({ big: "x".repeat(200) }));
  });

  test("an object input (peer variant) is re-encoded", async () => {
    const evs = await collect([encodeEvent("toolUseEvent", { input: { x: 1 }, name: "a", stop: true, toolUseId: A })]);
    expect(argsOf(evs, A)).toBe('{"x":1}');
  });
});
