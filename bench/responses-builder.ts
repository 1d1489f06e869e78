/**
 * CPU of the Responses event builder alone (src/dialects/responses/builder.ts): a streamed answer
 * of N text deltas of ~40 characters, in batches of `--batch` events, from start() to end(),
 * optionally with the stored copy serialised as the store does. Quick to iterate on; the
 * end-to-end numbers are bench/stream.ts's.
 *
 *   bun bench/responses-builder.ts [--frames 400] [--batch 1] [--runs 3000] [--store]
 */
import type { CanonicalEvent } from "../src/core/canonical";
import { ResponseBuilder } from "../src/dialects/responses/builder";
import { decodeTools } from "../src/dialects/responses/tools";

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const FRAMES = Number(arg("frames") ?? 400);
const BATCH = Number(arg("batch") ?? 1);
const RUNS = Number(arg("runs") ?? 3000);
const STORE = process.argv.includes("--store");

const texts = Array.from({ length: FRAMES }, (_, i) => `${i} lorem ipsum dolor sit amet, consectetur `);
function once(): number {
  const b = new ResponseBuilder(
    {
      responseId: `resp_${crypto.randomUUID().replace(/-/g, "")}`,
      createdAt: 1_790_000_000,
      clientKeyId: "k",
      store: STORE,
      tools: decodeTools([]),
      includeEncrypted: false,
      echo: { instructions: null, tools: [], metadata: {} },
      input: [],
    },
    "claude-sonnet-4-5",
    true,
  );
  let n = b.start(), out = b.take().length;
  void n;
  for (let i = 0; i < FRAMES; i += BATCH) {
    for (let j = i; j < Math.min(FRAMES, i + BATCH); j++) b.push({ type: "text", text: texts[j]! } as CanonicalEvent);
    out += b.take().length;
  }
  b.push({ type: "usage", usage: { inputTokens: 10, outputTokens: 400 } });
  b.push({ type: "stop", reason: "end_turn" });
  const f = b.end();
  out += b.take().length;
  if (STORE) out += JSON.stringify(f.response).length + JSON.stringify(f.replayOutput).length;
  return out;
}
let sink = 0;
for (let i = 0; i < RUNS / 3; i++) sink += once();
// The fastest of five blocks: this shared machine's other work only ever adds time.
let best = Infinity;
for (let block = 0; block < 5; block++) {
  const t0 = performance.now();
  for (let i = 0; i < RUNS / 5; i++) sink += once();
  best = Math.min(best, ((performance.now() - t0) * 1000 * 5) / RUNS);
}
console.log(`${FRAMES} frames, batch ${BATCH}${STORE ? ", stored copy serialised" : ""}: ${best.toFixed(1)} µs per response, fastest of 5 blocks (${sink % 7})`);
