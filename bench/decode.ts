/**
 * Decoder throughput: `bun bench/decode.ts`
 *
 * A recorded 20,000-frame answer (built with the fake's encoder, re-chunked into 16 KiB network
 * reads) is decoded (1) end-to-end through decodeKiroStream and (2) at the frame layer only,
 * comparing the @smithy EventStreamCodec path we ship with a minimal hand-written parser
 * (same CRC checks, string headers only). The point is to show that the maintained codec is not
 * the bottleneck compared with the network (a fast model streams < 0.1 MB/s), so we keep it.
 */
import { decodeKiroStream } from "../src/kiro/stream/decode";
import { crc32 } from "../src/kiro/stream/crc32";
import { FrameReader } from "../src/kiro/stream/frames";
import { longScenario, scenarioBytes } from "../tests/fake-kiro/scenarios";

const FRAMES = 20_000;
const CHUNK = 16 * 1024;
const bytes = scenarioBytes(longScenario(FRAMES, 60));
const totalFrames = FRAMES + 2; // + metering + context usage events
const chunks: Uint8Array[] = [];
for (let o = 0; o < bytes.length; o += CHUNK) chunks.push(bytes.subarray(o, o + CHUNK));

/** Minimal parser: prelude/message CRC + type-7 headers, no buffering tricks. */
function handParse(all: Uint8Array): number {
  const view = new DataView(all.buffer, all.byteOffset, all.byteLength);
  const dec = new TextDecoder();
  let n = 0;
  for (let o = 0; o < all.length; ) {
    const total = view.getUint32(o);
    const hlen = view.getUint32(o + 4);
    if (view.getUint32(o + 8) !== crc32(all, o, o + 8)) throw new Error("prelude crc");
    if (view.getUint32(o + total - 4) !== crc32(all, o, o + total - 4)) throw new Error("message crc");
    const headers: Record<string, string> = {};
    for (let h = o + 12; h < o + 12 + hlen; ) {
      const nl = all[h]!;
      const name = dec.decode(all.subarray(h + 1, h + 1 + nl));
      h += 1 + nl + 1; // type byte (always 7 from this upstream)
      const vl = view.getUint16(h);
      headers[name] = dec.decode(all.subarray(h + 2, h + 2 + vl));
      h += 2 + vl;
    }
    JSON.parse(dec.decode(all.subarray(o + 12 + hlen, o + total - 4)));
    n++;
    o += total;
  }
  return n;
}

function smithyFrames(): number {
  const r = new FrameReader();
  const dec = new TextDecoder();
  let n = 0;
  for (const c of chunks) {
    r.push(c);
    for (let f = r.next(); f; f = r.next()) {
      JSON.parse(dec.decode(f.payload));
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
  for await (const _ of decodeKiroStream(src(), { restoreToolName: (x) => x })) n++;
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
await measure("frames: @smithy codec (FrameReader)", smithyFrames, totalFrames);
await measure("frames: hand-written parser", () => handParse(bytes), totalFrames);
await measure("decodeKiroStream end-to-end", endToEnd, FRAMES);
