/** Thinking: `<thinking>` tags in text (split anywhere) and native reasoningContentEvent. */
import { describe, expect, test } from "bun:test";
import { encodeEvent } from "../../fake-kiro/frames";
import { reasoningScenario, scenarioStream, thinkingTagScenario, toolSteps, scenarioBytes } from "../../fake-kiro/scenarios";
import { ThinkingTagParser } from "../../../src/kiro/stream/thinking-tags";
import { collect, textOf } from "./helpers";

/** Runs the parser over deltas and merges adjacent outputs of the same kind. */
function run(deltas: string[], enabled = true): Array<[string, string]> {
  const p = new ThinkingTagParser(enabled);
  const outs = [...deltas.flatMap((d) => p.push(d)), ...p.flush()];
  const merged: Array<[string, string]> = [];
  for (const o of outs) {
    const last = merged.at(-1);
    if (last && last[0] === o.kind) last[1] += o.text;
    else merged.push([o.kind, o.text]);
  }
  return merged;
}

/** Every split of `s` into chunks of `size` chars, for every size 1..s.length. */
function allChunkings(s: string): string[][] {
  const out: string[][] = [];
  for (let size = 1; size <= s.length; size++) {
    const parts: string[] = [];
    for (let o = 0; o < s.length; o += size) parts.push(s.slice(o, o + size));
    out.push(parts);
  }
  return out;
}

describe("ThinkingTagParser", () => {
  test("leading tag, newline stripped, \\n\\n after the end tag consumed — for every chunk size", () => {
    const s = "<thinking>\nLet me think.</thinking>\n\nThe answer is 4.";
    for (const chunks of allChunkings(s)) {
      expect(run(chunks)).toEqual([
        ["thinking", "Let me think."],
        ["text", "The answer is 4."],
      ]);
    }
  });

  test("leading whitespace before the tag is allowed", () => {
    expect(run(["  \n<thin", "king>x</thinking>\n\ny"])).toEqual([["thinking", "x"], ["text", "y"]]);
  });

  test("a tag that is not at the start is plain text", () => {
    const s = "Use <thinking>tags</thinking>\n\nlike this";
    expect(run([s])).toEqual([["text", s]]);
    expect(run(['"<thinking>"'])).toEqual([["text", '"<thinking>"']]);
  });

  test("an end tag not followed by \\n\\n stays inside the thinking", () => {
    expect(run(["<thinking>a </thinking> b</thinking>\n\nanswer"])).toEqual([
      ["thinking", "a </thinking> b"],
      ["text", "answer"],
    ]);
  });

  test("end tag followed by whitespace only at end of stream closes the block", () => {
    expect(run(["<thinking>only thoughts</thinking>", "\n"])).toEqual([["thinking", "only thoughts"]]);
  });

  test("unterminated thinking is flushed as thinking at the end", () => {
    expect(run(["<thinking>\nhalf a tho", "ught </thin"])).toEqual([["thinking", "half a thought </thin"]]);
  });

  test("a text that merely starts like the tag is released", () => {
    expect(run(["<thi", "s is html>"])).toEqual([["text", "<this is html>"]]);
    expect(run(["<th"])).toEqual([["text", "<th"]]);
  });

  test("disabled parser passes text through verbatim", () => {
    expect(run(["<thinking>x</thinking>\n\ny"], false)).toEqual([["text", "<thinking>x</thinking>\n\ny"]]);
  });
});

describe("decoder thinking", () => {
  test("tags split across frames and bytes → thinking then text", async () => {
    for (const seed of [1, 2, 3]) {
      const evs = await collect(scenarioStream(thinkingTagScenario("step 1 ✓\nstep 2", "Done é.", 3), { seed, maxChunk: 9 }));
      expect(textOf(evs, "thinking")).toBe("step 1 ✓\nstep 2");
      expect(textOf(evs)).toBe("Done é.");
      const firstText = evs.findIndex((e) => e.type === "text");
      expect(evs.slice(0, firstText).every((e) => e.type === "thinking")).toBe(true);
    }
  });

  test("thinkingTags:false keeps the tags in the text", async () => {
    const evs = await collect(scenarioStream(thinkingTagScenario("t", "a")), { thinkingTags: false });
    expect(textOf(evs)).toBe("<thinking>\nt</thinking>\n\na");
    expect(evs.some((e) => e.type === "thinking")).toBe(false);
  });

  test("a tool call is a boundary that closes thinking ending in whitespace", async () => {
    const bytes = scenarioBytes({
      steps: [{ event: "assistantResponseEvent", payload: { content: "<thinking>plan</thinking>\n" } }, ...toolSteps({ name: "x", input: {} })],
    });
    const evs = (await collect([bytes])).filter((e) => e.type !== "usage");
    expect(evs.slice(0, 2)).toEqual([
      { type: "thinking", text: "plan" },
      { type: "tool_start", id: expect.any(String), name: "x" },
    ]);
  });

  test("reasoningContentEvent → thinking deltas, then the signature", async () => {
    const evs = await collect(scenarioStream(reasoningScenario("deep thoughts here", "Answer.", "sig-1")));
    const thinking = evs.filter((e) => e.type === "thinking");
    expect(thinking.map((e) => e.text).join("")).toBe("deep thoughts here");
    expect(thinking.at(-1)).toEqual({ type: "thinking", text: "", signature: "sig-1" });
    expect(textOf(evs)).toBe("Answer.");
  });

  test("reasoningContentEvent with text and signature together", async () => {
    const evs = await collect([encodeEvent("reasoningContentEvent", { text: "t", signature: "s" })]);
    expect(evs[0]).toEqual({ type: "thinking", text: "t", signature: "s" });
  });
});
