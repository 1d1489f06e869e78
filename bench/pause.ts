/**
 * What a pause between requests costs kiro-server: an agent's tool loop (Claude Code, Codex) waits
 * seconds between model calls while a tool runs, and the server's idle trim (src/http/idle-trim.ts)
 * may run in that gap. Measured on the server process alone.
 *
 *   bun bench/pause.ts [--pauses 20,500,3000] [--rounds 6] [--frames 100] [--warmup 1200] [--server-env K=V ...]
 *
 * Three processes: the fake Kiro (bench/lib/fake-upstream.ts, one write per frame), kiro-server
 * (`bun src/index.ts`, with the runtime settings its executable runs with) and this one, the
 * client. After --warmup streamed /v1/messages requests (400- and 40-frame answers in turn), each
 * round sleeps each pause in turn, then sends one request for a --frames-frame answer. Per pause
 * length it prints the medians over the rounds of: the server's CPU for that request (all threads,
 * from /proc, from the end of the pause to 100 ms after the answer), the client's time to first
 * text, and the server's CPU during the pause itself (the trim's own work shows up there).
 */
import { soloServer, sendMixed } from "./lib/kiro-procs";
import { CpuTracker, windowCpu, type Mark } from "./lib/proc";
import { longPrompt, timedRequest } from "./lib/stream-clients";
import { arg, envArgs } from "./lib/args";
import { median } from "./lib/stats";

const PAUSES = (arg("pauses") ?? "20,500,3000").split(",").map(Number);
const ROUNDS = Number(arg("rounds") ?? 6);
const FRAMES = Number(arg("frames") ?? 100);
const WARMUP = Number(arg("warmup") ?? 1200);
const SERVER_ENV = envArgs("--server-env");

const server = await soloServer({ name: "pause", env: SERVER_ENV });
try {
  const target = server.target;
  await sendMixed(target, WARMUP);

  const cpuUs = (a: Mark, b: Mark) => [...windowCpu(a, b).values()].reduce((x, y) => x + y, 0) / 1e3;
  const tracker = new CpuTracker(server.proc.pid);
  const rows = new Map(PAUSES.map((p) => [p, { request: [] as number[], firstText: [] as number[], idle: [] as number[] }]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const pause of PAUSES) {
      const row = rows.get(pause)!;
      const before = tracker.mark();
      await Bun.sleep(pause);
      const start = tracker.mark();
      const r = await timedRequest(target, longPrompt(FRAMES), false);
      await Bun.sleep(100);
      row.idle.push(cpuUs(before, start));
      row.request.push(cpuUs(start, tracker.mark()));
      row.firstText.push(r.firstTextMs);
    }
  }
  tracker.stop();
  console.log(`\n/v1/messages, ${FRAMES}-frame answers after a pause; medians of ${ROUNDS} rounds after ${WARMUP} warm-up requests${Object.keys(SERVER_ENV).length ? `; server env ${JSON.stringify(SERVER_ENV)}` : ""}`);
  console.log("pause ms    request CPU µs    first text ms (max)    CPU during the pause µs");
  for (const [pause, row] of rows) {
    console.log(
      `${String(pause).padStart(8)}    ${median(row.request).toFixed(0).padStart(14)}    ${median(row.firstText).toFixed(2).padStart(8)} (${Math.max(...row.firstText).toFixed(2)})    ${median(row.idle).toFixed(0).padStart(10)}`,
    );
  }
} finally {
  await server.stop();
}
