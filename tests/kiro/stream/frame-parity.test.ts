/**
 * The hand-written frame parser (src/kiro/stream/frames.ts) against the maintained codec it
 * replaced on the hot path: same headers (every type of the format, stringified as before), same
 * payload, and a corrupt frame fails in both.
 */
import { describe, expect, test } from "bun:test";
import { EventStreamCodec } from "@smithy/eventstream-codec";
import { fromUtf8, toUtf8 } from "@smithy/util-utf8";
import { Int64 } from "@smithy/core/event-streams";
import { FrameReader } from "../../../src/kiro/stream/frames";

const codec = new EventStreamCodec(toUtf8, fromUtf8);

function viaCodec(bytes: Uint8Array): { headers: Record<string, string>; payload: string } {
  const msg = codec.decode(bytes);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(msg.headers)) headers[k] = typeof v.value === "string" ? v.value : String(v.value);
  return { headers, payload: new TextDecoder().decode(msg.body) };
}

function viaReader(bytes: Uint8Array): { headers: Record<string, string>; payload: string } {
  const r = new FrameReader();
  r.push(bytes);
  const f = r.next()!;
  return { headers: f.headers, payload: f.payloadText };
}

describe("frame parser parity with @smithy/eventstream-codec", () => {
  test("every header type decodes to the same strings", () => {
    const bytes = codec.encode({
      headers: {
        ":event-type": { type: "string", value: "assistantResponseEvent" },
        ":message-type": { type: "string", value: "event" },
        "utf8-ü✓": { type: "string", value: "é ✓ 😀 ".repeat(20) },
        t: { type: "boolean", value: true },
        f: { type: "boolean", value: false },
        b: { type: "byte", value: -7 },
        s: { type: "short", value: -1234 },
        i: { type: "integer", value: -123456789 },
        l: { type: "long", value: Int64.fromNumber(-9_007_199_254_740) },
        l2: { type: "long", value: Int64.fromNumber(1_700_000_000_123) },
        bin: { type: "binary", value: new Uint8Array([0, 1, 2, 254, 255]) },
        ts: { type: "timestamp", value: new Date(1_700_000_000_123) },
        id: { type: "uuid", value: "0b4445e1-f5be-49e1-87ce-62bbc28ad705" },
      },
      body: new TextEncoder().encode('{"content":"héllo ✓"}'),
    });
    expect(viaReader(bytes)).toEqual(viaCodec(bytes));
  });

  test("no headers and an empty payload", () => {
    const bytes = codec.encode({ headers: {}, body: new Uint8Array(0) });
    expect(viaReader(bytes)).toEqual(viaCodec(bytes));
  });

  test("a flipped payload bit fails in both", () => {
    const bytes = codec.encode({ headers: { ":event-type": { type: "string", value: "x" } }, body: new TextEncoder().encode("{}") });
    bytes[bytes.length - 6]! ^= 1;
    expect(() => viaCodec(bytes)).toThrow();
    expect(() => viaReader(bytes)).toThrow(/checksum/);
  });
});
