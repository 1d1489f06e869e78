/**
 * The measured run of bench/stream.ts: interleaved rounds of windows, each window a batch of
 * requests to one target at one answer length, billed with the serving process's CPU (all
 * threads, bench/lib/proc.ts) over that window.
 */
import { CpuTracker, minorFaults, statCpuMs, windowCpu, type Mark } from "./proc";
import { longPrompt, timedRequest, type Target } from "./stream-clients";

/** One measured window: `requests` requests of `frames` frames to target number `target`, and the serving process's CPU over it. */
export type Window = {
  target: number;
  frames: number;
  requests: number;
  /** Per request: ms to its first text, and when it was sent (wall-clock ms). */
  firstText: number[];
  sentAt: number[];
  reads: number;
  cpuNs: number;
  threads: Map<string, number>;
};

/** Every window of a run, and per process the whole run's CPU by /proc/<pid>/stat (ms) and its minor page faults. */
export type Measurement = { windows: Window[]; statMs: Map<number, number>; faults: Map<number, number> };

/** Answer lengths in frames, requests of each length per target, and rounds they are spread over. */
export type RunConfig = { long: number; short: number; requests: number; rounds: number; concurrency?: number };

/** Runs `one(0)` … `one(count - 1)`, at most `concurrency` at a time (each starts as another ends). */
export async function inParallel(count: number, concurrency: number, one: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await one(next++);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, worker));
}

/**
 * Interleaved rounds: in each, every target gets `requests / rounds` (rounded, at least 1)
 * requests of `short` frames and as many of `long` frames (a window each); returns every window.
 * CPU of a window runs from its start to the start of the next window of the same process (or the
 * end of the run, after a short settle).
 */
export async function measure(targets: Target[], { long: LONG, short: SHORT, requests: REQUESTS, rounds: ROUNDS, concurrency = 1 }: RunConfig): Promise<Measurement> {
  const perWindow = Math.max(1, Math.round(REQUESTS / ROUNDS));
  const windows: Window[] = [];
  const open = new Map<number, { w: Window; snap: Mark }>();
  const pids = [...new Set(targets.map((t) => t.pid))];
  const trackers = new Map(pids.map((p) => [p, new CpuTracker(p)]));
  const stat0 = new Map(pids.map((p) => [p, statCpuMs(p)]));
  const faults0 = new Map(pids.map((p) => [p, minorFaults(p)]));
  const close = (pid: number, snap: Mark) => {
    const prev = open.get(pid);
    if (!prev) return;
    prev.w.threads = windowCpu(prev.snap, snap);
    for (const ns of prev.w.threads.values()) prev.w.cpuNs += ns;
  };
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which length goes first, so neither always inherits the other's leftovers, and
    // rotate the routes after the passthrough, so each is a round's last as often as the others:
    // a process's last window of a round also holds its idle time until the next.
    const lengths = round % 2 ? [LONG, SHORT] : [SHORT, LONG];
    const rest = targets.slice(1).map((t, k) => [k + 1, t] as const);
    const shift = round % Math.max(1, rest.length);
    const order = [[0, targets[0]!] as const, ...rest.slice(shift), ...rest.slice(0, shift)];
    for (const [i, t] of order) {
      for (const frames of lengths) {
        const snap = trackers.get(t.pid)!.mark();
        close(t.pid, snap);
        const w: Window = { target: i, frames, requests: perWindow, firstText: [], sentAt: [], reads: 0, cpuNs: 0, threads: new Map() };
        open.set(t.pid, { w, snap });
        windows.push(w);
        await inParallel(perWindow, concurrency, async () => {
          const r = await timedRequest(t, longPrompt(frames), false);
          w.firstText.push(r.firstTextMs);
          w.sentAt.push(r.sentAt);
          w.reads += r.reads;
        });
      }
    }
  }
  await Bun.sleep(300);
  for (const pid of pids) close(pid, trackers.get(pid)!.mark());
  for (const tr of trackers.values()) tr.stop();
  return {
    windows,
    statMs: new Map(pids.map((p) => [p, statCpuMs(p) - stat0.get(p)!])),
    faults: new Map(pids.map((p) => [p, minorFaults(p) - faults0.get(p)!])),
  };
}
