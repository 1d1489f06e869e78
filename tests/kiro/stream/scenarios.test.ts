/** The fake's scenario player: reproducible chunking, delays honoured, cancellation. */
import { describe, expect, test } from "bun:test";
import { scenarioBytes, scenarioStream, stallScenario, textScenario } from "../../fake-kiro/scenarios";
import { concatBytes } from "../../fake-kiro/frames";
import { collect, textOf } from "./helpers";

async function chunksOf(s: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const c of s) out.push(c);
  return out;
}

describe("scenarioStream", () => {
  test("same seed → same chunking; bytes always equal scenarioBytes", async () => {
    const s = textScenario("some text to split", { chunks: 5 });
    const a = await chunksOf(scenarioStream(s, { seed: 9, maxChunk: 10 }));
    const b = await chunksOf(scenarioStream(s, { seed: 9, maxChunk: 10 }));
    const c = await chunksOf(scenarioStream(s, { seed: 10, maxChunk: 10 }));
    expect(a.map((x) => x.length)).toEqual(b.map((x) => x.length));
    expect(a.map((x) => x.length)).not.toEqual(c.map((x) => x.length));
    expect(concatBytes(c)).toEqual(scenarioBytes(s));
    expect(Math.max(...a.map((x) => x.length))).toBeLessThanOrEqual(10);
  });

  test("delays are honoured before and between frames", async () => {
    const t0 = performance.now();
    const evs = await collect(scenarioStream(stallScenario("slow answer", { beforeMs: 60, betweenMs: 30 })));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(60 + 3 * 30 - 5);
    expect(textOf(evs)).toBe("slow answer");
  });

  test("frame chunking with an interval: one chunk per frame, each after the interval", async () => {
    const s = textScenario("paced like a model", { chunks: 4 });
    const t0 = performance.now();
    const chunks = await chunksOf(scenarioStream(s, { chunking: "frame", frameIntervalMs: 25 }));
    const elapsed = performance.now() - t0;
    expect(concatBytes(chunks)).toEqual(scenarioBytes(s));
    // One write per frame: the scenario's text frames plus its usage frames.
    expect(chunks.length).toBe(s.steps.length);
    expect(elapsed).toBeGreaterThanOrEqual((chunks.length - 1) * 25 - 5);
  });

  test("onFirstChunk runs once, just before the first chunk can be read", async () => {
    const s = textScenario("three frames here", { chunks: 3 });
    for (const chunking of ["frame", "burst", "random"] as const) {
      let calls = 0;
      const reader = scenarioStream(s, { chunking, onFirstChunk: () => calls++ }).getReader();
      expect(calls).toBe(0);
      const first = await reader.read();
      expect(first.done).toBe(false);
      expect(calls).toBe(1);
      while (!(await reader.read()).done);
      expect(calls).toBe(1);
    }
  });

  test("cancel during a delay stops the stream", async () => {
    const stream = scenarioStream(stallScenario("x", { beforeMs: 10_000 }));
    const reader = stream.getReader();
    const pending = reader.read();
    await reader.cancel();
    expect((await pending).done).toBe(true);
  });
});
