/**
 * The first events of an answer come as a batch of their own, and the rest of that network read
 * follows at the next poll, whatever its size: nothing waits for a later turn of the event loop
 * (the SSE writer lets the first batch's write leave before it polls again; see
 * tests/http/sse-writer.test.ts). Observed with a 0 ms timer the consumer sets when the first batch
 * arrives: the rest arriving before it fired means nothing waited.
 */
import { describe, expect, test } from "bun:test";
import { decodeKiroBatches } from "../../../src/kiro/stream/decode";
import { longScenario, scenarioBytes } from "../../fake-kiro/scenarios";
import { restore } from "./helpers";

async function firstReadOrder(frames: number): Promise<{ batches: number; firstSize: number; restBeforeTimer: boolean; text: string }> {
  const bytes = scenarioBytes(longScenario(frames, 40));
  async function* oneRead() {
    yield bytes;
  }
  let timerFired = false;
  let restBeforeTimer: boolean | undefined;
  let batches = 0;
  let firstSize = 0;
  let text = "";
  for await (const batch of decodeKiroBatches(oneRead(), { restoreToolName: restore, thinkingTags: false })) {
    batches++;
    if (batches === 1) {
      firstSize = batch.length;
      setTimeout(() => (timerFired = true), 0);
    } else if (restBeforeTimer === undefined) restBeforeTimer = !timerFired;
    for (const ev of batch) if (ev.type === "text") text += ev.text;
  }
  return { batches, firstSize, restBeforeTimer: restBeforeTimer ?? true, text };
}

describe("the first network read of an answer", () => {
  test("a small one: the first event alone, the rest without waiting for the event loop", async () => {
    const r = await firstReadOrder(20);
    expect(r.firstSize).toBe(1);
    expect(r.batches).toBeGreaterThan(1);
    expect(r.restBeforeTimer).toBe(true);
    expect(r.text).toContain("19 lorem");
  });

  test("a large one (16 KiB and more left): the first event alone, the rest without waiting for the event loop either", async () => {
    const r = await firstReadOrder(400);
    expect(r.firstSize).toBe(1);
    expect(r.restBeforeTimer).toBe(true);
    expect(r.text).toContain("399 lorem");
  });
});
