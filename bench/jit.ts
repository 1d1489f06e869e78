/**
 * Whether kiro-server is still warming up: JavaScriptCore's DFG compiles and garbage collections
 * in a window of --requests streamed /v1/messages requests after --warmup of them, read from the
 * server's own reports on its stderr (BUN_JSC_reportDFGCompileTimes, BUN_JSC_logGC).
 *
 *   bun bench/jit.ts [--warmup 800] [--requests 400] [--server-env K=V ...]
 *
 * Three processes: the fake Kiro (one write per frame), kiro-server (`bun src/index.ts`, with the
 * runtime settings its executable runs with, src/runtime-env.ts) and this one, the client, sending
 * 400- and 40-frame answers in turn. bench/stream.ts measures after 800 warm-up requests per
 * route; compiles still happening then are billed to its rows. To see JavaScriptCore's own tier-up
 * thresholds instead of the server's, pass e.g. `--server-env BUN_JSC_thresholdForJITAfterWarmUp=500
 * --server-env BUN_JSC_thresholdForOptimizeAfterWarmUp=1000
 * --server-env BUN_JSC_thresholdForOptimizeAfterLongWarmUp=1000 --server-env BUN_JSC_thresholdForOptimizeSoon=1000`.
 */
import { soloServer, sendMixed } from "./lib/kiro-procs";
import { envArgs, num } from "./lib/args";

const WARMUP = num("warmup", 800);
const REQUESTS = num("requests", 400);
const SERVER_ENV = envArgs("--server-env");

/** What the server reported on stderr so far, line by line. */
type Reports = { lines: string[] };

/** Reads the server's stderr into `lines` until it closes. */
async function collect(stream: ReadableStream<Uint8Array>, out: Reports): Promise<void> {
  const dec = new TextDecoder();
  let tail = "";
  for await (const chunk of stream) {
    const text = tail + dec.decode(chunk, { stream: true });
    const parts = text.split("\n");
    tail = parts.pop()!;
    out.lines.push(...parts);
  }
}

/** DFG compiles and collections among `lines`. */
function summarize(lines: string[]): string {
  let compiles = 0;
  let compileMs = 0;
  const named = new Map<string, number>();
  let gcs = 0;
  let full = 0;
  let pauseMs = 0;
  for (const l of lines) {
    const c = /^Optimized (\S+?)#.* using DFG .* in ([0-9.]+) ms/.exec(l);
    if (c) {
      compiles++;
      compileMs += Number(c[2]);
      named.set(c[1]!, (named.get(c[1]!) ?? 0) + Number(c[2]));
      continue;
    }
    const g = /START M \d+kb => (\w+).* p=([0-9.]+)ms/.exec(l);
    if (g) {
      gcs++;
      if (g[1] === "FullCollection") full++;
      pauseMs += Number(g[2]);
    }
  }
  const top = [...named].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([n, ms]) => `${n} ${ms.toFixed(1)}`);
  return [
    `DFG compiles: ${compiles}, ${compileMs.toFixed(1)} ms (${((compileMs * 1000) / REQUESTS).toFixed(0)} µs per request)${top.length ? `; longest: ${top.join(", ")} ms` : ""}`,
    `collections: ${gcs} (${full} full), pauses ${pauseMs.toFixed(1)} ms (${((pauseMs * 1000) / REQUESTS).toFixed(0)} µs per request)`,
  ].join("\n");
}

const reports: Reports = { lines: [] };
let reading: Promise<void> = Promise.resolve();
const server = await soloServer({
  name: "jit",
  env: { ...SERVER_ENV, BUN_JSC_reportDFGCompileTimes: "true", BUN_JSC_logGC: "true" },
  stderr: "pipe",
  // Read from the start: a pipe nobody reads would fill up and stall the server.
  onSpawn: (proc) => (reading = collect(proc.stderr as ReadableStream<Uint8Array>, reports)),
});
try {
  await sendMixed(server.target, WARMUP);
  const from = reports.lines.length;
  await sendMixed(server.target, REQUESTS);
  const window = reports.lines.slice(from);
  console.log(`/v1/messages, ${REQUESTS} requests (400- and 40-frame answers in turn) after ${WARMUP} warm-up requests${Object.keys(SERVER_ENV).length ? `; server env ${JSON.stringify(SERVER_ENV)}` : ""}`);
  console.log(summarize(window));
} finally {
  await server.stop();
  await reading;
}
