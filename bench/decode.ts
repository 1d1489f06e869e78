/**
 * Decoder throughput: `bun bench/decode.ts`
 *
 * A recorded 20,000-frame answer (built with the fake's encoder, re-chunked into 16 KiB network
 * reads) is decoded (1) at the frame layer — the @smithy EventStreamCodec (the SDK's decoder, which
 * FrameReader used until the streaming-overhead work) against our FrameReader, both verifying both
 * CRCs and followed by JSON.parse of the payload — and (2) end to end through decodeKiroBatches.
 * This is the evidence for replacing the maintained codec on the hot path (numbers also at the top
 * of src/kiro/stream/frames.ts).
 */
import { EventStreamCodec } from "@smithy/eventstream-codec";
import { fromUtf8, toUtf8 } from "@smithy/util-utf8";
import { decodeKiroBatches } from "../src/kiro/stream/decode";
import { FrameReader } from "../src/kiro/stream/frames";
import { longScenario, scenarioBytes } from "../tests/fake-kiro/scenarios";

const FRAMES = 20_000;
const CHUNK = 16 * 1024;
const bytes = scenarioBytes(longScenario(FRAMES, 60));
const totalFrames = FRAMES + 2; // + metering + context usage events
const chunks: Uint8Array[] = [];
for (let o = 0; o < bytes.length; o += CHUNK) chunks.push(bytes.subarray(o, o + CHUNK));

/** The previous FrameReader's per-frame work: codec.decode + headers stringified + payload JSON. */
function smithyFrames(): number {
  const codec = new EventStreamCodec(toUtf8, fromUtf8);
  const dec = new TextDecoder();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let n = 0;
  for (let o = 0; o < bytes.length; ) {
    const total = view.getUint32(o);
    const msg = codec.decode(bytes.subarray(o, o + total));
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(msg.headers)) headers[k] = typeof v.value === "string" ? v.value : String(v.value);
    JSON.parse(dec.decode(msg.body));
    n++;
    o += total;
  }
  return n;
}

function ourFrames(): number {
  const r = new FrameReader();
  let n = 0;
  for (const c of chunks) {
    r.push(c);
    for (let f = r.next(); f; f = r.next()) {
      JSON.parse(f.payloadText);
      n++;
    }
  }
  return n;
}

async function endToEnd(): Promise<number> {
  async function* src() {
    for (const c of chunks) yield c;
  }
  let n = 0;
  for await (const batch of decodeKiroBatches(src(), { restoreToolName: (x) => x })) n += batch.length;
  return n;
}

async function measure(label: string, run: () => number | Promise<number>, expectFrames: number) {
  await run(); // warm-up (JIT)
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const n = await run();
    times.push(performance.now() - t0);
    if (n < expectFrames) throw new Error(`${label}: got ${n} < ${expectFrames}`);
  }
  const ms = times.sort((a, b) => a - b)[2]!; // median
  const mbps = bytes.length / 1e6 / (ms / 1000);
  const fps = totalFrames / (ms / 1000);
  console.log(`${label.padEnd(38)} ${ms.toFixed(1).padStart(8)} ms  ${mbps.toFixed(1).padStart(7)} MB/s  ${Math.round(fps).toLocaleString("en-US").padStart(10)} frames/s`);
}

console.log(`recorded stream: ${totalFrames.toLocaleString("en-US")} frames, ${(bytes.length / 1e6).toFixed(2)} MB, ${chunks.length} chunks of ${CHUNK} B`);
await measure("frames: @smithy codec + JSON.parse", smithyFrames, totalFrames);
await measure("frames: FrameReader + JSON.parse", ourFrames, totalFrames);
await measure("decodeKiroBatches end-to-end", endToEnd, FRAMES);
