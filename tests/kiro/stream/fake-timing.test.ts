/**
 * The fake's per-answer timing report (bench/stream.ts times a proxy on both sides of the fake with
 * it) and the bench's matching of requests to reports (bench/lib/stream-latency.ts).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { FakeTimings } from "../../../bench/lib/stream-latency";
import { wallMs } from "../../fake-kiro/clock";
import { openChat } from "../../../src/kiro/client";
import { startFakeKiro } from "../../fake-kiro/server";
import { fakeAccount, textRequest } from "../../support/kiro";

describe("fake Kiro onChatTiming", async () => {
  const reports: Array<{ arrivedAt: number; firstChunkAt: number }> = [];
  const fake = await startFakeKiro({ chunking: "frame", onChatTiming: (t) => reports.push(t) });
  afterAll(() => fake.stop());

  test("one report per streamed answer, between the request's send and its first events", async () => {
    const { creds } = await fakeAccount(fake);
    for (let i = 0; i < 3; i++) {
      const sentAt = wallMs();
      const chat = await openChat(textRequest("Write a long answer [[fake:long:20]]"), creds, { upstream: { ...fake.upstream, region: "us-east-1" }, signal: new AbortController().signal });
      let firstAt = 0;
      let text = "";
      for await (const e of chat.events) {
        if (e.type !== "text") continue;
        firstAt ||= wallMs();
        text += e.text;
      }
      expect(text).toContain("19 lorem");
      expect(reports.length).toBe(i + 1);
      const r = reports[i]!;
      expect(sentAt).toBeLessThan(r.arrivedAt);
      expect(r.arrivedAt).toBeLessThanOrEqual(r.firstChunkAt);
      expect(r.firstChunkAt).toBeLessThan(firstAt);
    }
  });
});

describe("FakeTimings", () => {
  const timings = (...pairs: Array<[number, number]>) => new FakeTimings(pairs.flat());

  test("splits a request at the one report that arrived between its send and its first text", () => {
    const t = timings([100.5, 101], [110.25, 111], [120, 120.5]);
    expect(t.split(110, 112)).toEqual([0.25, 1]);
    expect(t.split(100, 101.5)).toEqual([0.5, 0.5]);
  });

  test("no report, or two in the window (overlapping requests), is no match", () => {
    const t = timings([100, 101], [102, 103]);
    expect(t.split(90, 99)).toBeUndefined();
    expect(t.split(99, 104)).toBeUndefined();
    expect(t.split(103, 110)).toBeUndefined();
  });

  test("reports out of arrival order are kept sorted", () => {
    const t = timings([120, 121], [100, 102]);
    expect(t.split(99, 103)).toEqual([1, 1]);
    expect(t.split(119, 122)).toEqual([1, 1]);
  });
});
