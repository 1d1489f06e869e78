/** Frame layer: byte-exact test vectors, CRC checks, arbitrary splits, truncation. */
import { describe, expect, test } from "bun:test";
import { concatBytes, corruptCrc, encodeEvent, encodeException } from "../../fake-kiro/frames";
import { badCrcScenario, prng, scenarioBytes, splitRandomly, textScenario, toolScenario, thinkingTagScenario, usageSteps, textSteps } from "../../fake-kiro/scenarios";
import { crc32 } from "../../../src/kiro/stream/crc32";
import { decodeKiroStream } from "../../../src/kiro/stream/decode";
import { FrameReader } from "../../../src/kiro/stream/frames";
import { collect, collectUntilError, hex, textOf } from "./helpers";

// Two valid AWS event-stream messages, byte for byte: an assistantResponseEvent {"content":"Hi"}
// (124 bytes) and a ThrottlingException {"message":"Too many requests"} (144 bytes).
const VECTOR_1 = hex(`
00 00 00 7c 00 00 00 5c 3b dd cf 78 0b 3a 65 76 65 6e 74 2d 74 79 70 65 07 00 16 61 73 73 69 73
74 61 6e 74 52 65 73 70 6f 6e 73 65 45 76 65 6e 74 0d 3a 63 6f 6e 74 65 6e 74 2d 74 79 70 65 07
00 10 61 70 70 6c 69 63 61 74 69 6f 6e 2f 6a 73 6f 6e 0d 3a 6d 65 73 73 61 67 65 2d 74 79 70 65
07 00 05 65 76 65 6e 74 7b 22 63 6f 6e 74 65 6e 74 22 3a 22 48 69 22 7d b0 2b ab dc`);
const VECTOR_2 = hex(`
00 00 00 90 00 00 00 61 8e 91 a9 b7 0f 3a 65 78 63 65 70 74 69 6f 6e 2d 74 79 70 65 07 00 13 54
68 72 6f 74 74 6c 69 6e 67 45 78 63 65 70 74 69 6f 6e 0d 3a 63 6f 6e 74 65 6e 74 2d 74 79 70 65
07 00 10 61 70 70 6c 69 63 61 74 69 6f 6e 2f 6a 73 6f 6e 0d 3a 6d 65 73 73 61 67 65 2d 74 79 70
65 07 00 09 65 78 63 65 70 74 69 6f 6e 7b 22 6d 65 73 73 61 67 65 22 3a 22 54 6f 6f 20 6d 61 6e
79 20 72 65 71 75 65 73 74 73 22 7d fe b6 d8 12`);

describe("byte-exact test vectors", () => {
  test("crc32 check value", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
  });

  test("crc32 of any range, continued from a seed, equals Bun's native zlib CRC over the same bytes (both code paths)", () => {
    const zlibCrc32 = (b: Uint8Array) => Bun.hash.crc32(b) >>> 0;
    const rnd = prng(7);
    const bytes = new Uint8Array(3000).map(() => Math.floor(rnd() * 256));
    for (const len of [0, 1, 7, 8, 9, 15, 16, 17, 148, 1023, 1024, 1025, 2900]) {
      for (const start of [0, 1, 3, 8]) {
        const end = start + len;
        const want = zlibCrc32(bytes.subarray(start, end));
        expect(crc32(bytes, start, end)).toBe(want);
        const mid = start + (len >> 1);
        expect(crc32(bytes, mid, end, crc32(bytes, start, mid))).toBe(want);
      }
    }
  });

  test("vector 1 decodes to text Hi", async () => {
    expect(VECTOR_1.length).toBe(124);
    expect(await collect([VECTOR_1])).toEqual([{ type: "text", text: "Hi" }, { type: "stop", reason: "end_turn" }]);
  });

  test("vector 2 decodes to a throttled KiroError", async () => {
    expect(VECTOR_2.length).toBe(144);
    const { events, error } = await collectUntilError([VECTOR_2]);
    expect(events).toEqual([]);
    expect(error.cls).toBe("throttled");
    expect(error.upstreamMessage).toBe("Too many requests");
    expect(error.status).toBe(429);
  });

  test("the fake encoder reproduces both vectors byte for byte", () => {
    expect(encodeEvent("assistantResponseEvent", { content: "Hi" })).toEqual(VECTOR_1);
    expect(encodeException("ThrottlingException", "Too many requests", { typeInPayload: false })).toEqual(VECTOR_2);
  });

  test("frame reader exposes headers and payload", () => {
    const r = new FrameReader();
    r.push(VECTOR_1);
    const f = r.next()!;
    expect(f.headers).toEqual({ ":event-type": "assistantResponseEvent", ":content-type": "application/json", ":message-type": "event" });
    expect(f.payloadText).toBe('{"content":"Hi"}');
    expect(r.next()).toBeNull();
    expect(r.pending).toBe(0);
  });

  test("header blocks of many kinds, interleaved, each decode to their own headers (past the reader's 8 kept blocks too)", () => {
    const kinds = Array.from({ length: 11 }, (_, k) => `kind${k}Event`);
    const order = Array.from({ length: 200 }, (_, i) => kinds[(i * 7 + (i >> 3)) % kinds.length]!);
    const r = new FrameReader();
    r.push(concatBytes(order.map((kind, i) => encodeEvent(kind, { n: i }))));
    order.forEach((kind, i) => {
      const f = r.next()!;
      expect(f.headers).toEqual({ ":event-type": kind, ":content-type": "application/json", ":message-type": "event" });
      expect(f.payloadText).toBe(`{"n":${i}}`);
    });
    expect(r.next()).toBeNull();
  });
});

describe("CRC verification", () => {
  for (const where of ["prelude", "message", "payload"] as const) {
    test(`a flipped bit in the ${where} is a transient KiroError`, async () => {
      const { events, error } = await collectUntilError([scenarioBytes(badCrcScenario(where))]);
      expect(error.cls).toBe("transient");
      expect(error.upstreamMessage).toMatch(where === "prelude" ? /prelude CRC/ : /checksum/);
      expect(textOf(events)).toBe("before"); // frames before the corrupt one were delivered
    });
  }

  test("a corrupt prelude fails fast, without waiting for total_length bytes", async () => {
    const frame = encodeEvent("assistantResponseEvent", { content: "x" });
    const bad = corruptCrc(frame, "prelude").subarray(0, 12); // only the prelude has arrived
    const { error } = await collectUntilError([bad]);
    expect(error.upstreamMessage).toMatch(/prelude CRC/);
  });

  test("an absurd frame length with a valid prelude CRC is rejected", () => {
    const prelude = new Uint8Array(12);
    const v = new DataView(prelude.buffer);
    v.setUint32(0, 0x7fffffff);
    v.setUint32(8, crc32(prelude, 0, 8));
    const r = new FrameReader();
    r.push(prelude);
    expect(() => r.next()).toThrow(/invalid frame length/);
  });
});

describe("splitting", () => {
  // Multi-byte UTF-8 (é, ✓, emoji) so that splits land inside code points too.
  const recorded = scenarioBytes({
    steps: [
      ...thinkingTagScenario("plan ✓", "Answer é 🎉").steps,
      ...toolScenario([{ name: "t_read", input: { path: "/tmp/é✓" } }]).steps,
      ...textSteps("tail 🎉", 2),
      ...usageSteps({ uncachedInputTokens: 10, outputTokens: 5 }),
    ],
  });

  test("every two-chunk split gives identical events", async () => {
    const reference = await collect([recorded]);
    expect(reference.at(-1)).toEqual({ type: "stop", reason: "tool_use" });
    for (let i = 1; i < recorded.length; i++) {
      const evs = await collect([recorded.subarray(0, i), recorded.subarray(i)]);
      if (JSON.stringify(evs) !== JSON.stringify(reference)) {
        expect({ splitAt: i, evs }).toEqual({ splitAt: i, evs: reference }); // names the offset
      }
    }
  });

  test("random multi-splits (incl. 1-byte chunks) give identical events", async () => {
    const reference = await collect([recorded]);
    for (let seed = 1; seed <= 40; seed++) {
      const chunks = splitRandomly(recorded, prng(seed), 1, seed % 2 ? 7 : 300);
      expect({ seed, evs: await collect(chunks) }).toEqual({ seed, evs: reference });
    }
    expect(await collect(splitRandomly(recorded, prng(99), 1, 1))).toEqual(reference);
  });

  test("reads handed over as bytes and an end (the socket client's form) decode the same, whatever follows the end", async () => {
    const reference = await collect([recorded], { restoreToolName: (n) => n });
    for (let seed = 1; seed <= 20; seed++) {
      const rnd = prng(seed);
      // Each read's bytes carry junk after its end, as a socket buffer does after the chunk framing was moved out.
      const reads = splitRandomly(recorded, rnd, 1, seed % 2 ? 9 : 400).map((c) => {
        const bytes = Buffer.alloc(c.length + 1 + Math.floor(rnd() * 12), 0xee);
        bytes.set(c);
        return { bytes, end: c.length };
      });
      async function* body() {
        yield* reads;
      }
      const evs: unknown[] = [];
      for await (const ev of decodeKiroStream(body(), { restoreToolName: (n) => n })) evs.push(ev);
      expect({ seed, evs }).toEqual({ seed, evs: reference });
    }
  });

  test("many frames packed into one chunk", async () => {
    const many = concatBytes(Array.from({ length: 500 }, (_, i) => encodeEvent("assistantResponseEvent", { content: `${i},` })));
    const evs = await collect([many]);
    expect(evs.length).toBe(501);
    expect(textOf(evs)).toBe(Array.from({ length: 500 }, (_, i) => `${i},`).join(""));
  });

  test("a stream that ends mid-frame is a transient KiroError", async () => {
    const bytes = scenarioBytes(textScenario("hello", { usage: false }));
    const frame = encodeEvent("assistantResponseEvent", { content: "more" });
    for (const cut of [1, 11, 12, frame.length - 1]) {
      const { events, error } = await collectUntilError([bytes, frame.subarray(0, cut)]);
      expect(error.cls).toBe("transient");
      expect(error.upstreamMessage).toBe("upstream stream ended mid-frame");
      expect(textOf(events)).toBe("hello");
    }
  });
});
