/**
 * CPU time and memory of another process, read from Linux /proc (bench helpers).
 *
 * Two CPU clocks are read, both covering every thread of the process:
 *   - per thread, /proc/<pid>/task/<tid>/schedstat: run time in nanoseconds, precise enough for
 *     windows of a few milliseconds, but a thread that exits takes its time with it;
 *   - /proc/<pid>/stat: utime + stime of all threads including exited ones, in clock ticks (10 ms),
 *     too coarse for one window.
 * JavaScriptCore starts some threads on demand and lets them exit when idle (its "Heap Collector
 * Thread" and "…t Helper Thread" do, for concurrent garbage collection), so a `CpuTracker` polls
 * the threads every few milliseconds and keeps each one's last reading after it is gone: a
 * window's CPU is then every thread's growth, exited ones included (only a thread born and gone
 * between two polls is missed). The bench prints /proc/<pid>/stat over the whole run beside the
 * sum of its windows as a cross-check.
 */
import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on every Linux build Bun runs on). */
const USER_HZ = 100;

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined; // the thread or process exited between listing and reading
  }
}

function statTicks(text: string): number {
  // Fields after the command name (which may hold spaces, hence the last ")"): state is field 3.
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]); // fields 14 and 15: utime, stime
}

/** utime + stime of all threads (including exited ones) in ms, 10 ms resolution. */
export function statCpuMs(pid: number): number {
  const s = read(`/proc/${pid}/stat`);
  if (!s) throw new Error(`process ${pid} is gone`);
  return (statTicks(s) * 1000) / USER_HZ;
}

/** Minor page faults of all threads so far (memory the kernel had to map in: allocator churn). */
export function minorFaults(pid: number): number {
  const s = read(`/proc/${pid}/stat`);
  if (!s) throw new Error(`process ${pid} is gone`);
  return Number(s.slice(s.lastIndexOf(")") + 2).split(" ")[7]); // field 10: minflt
}

/** Each thread's run time so far (ns), by thread id, exited threads included. */
export type Mark = Map<number, { name: string; ns: number }>;

export class CpuTracker {
  private readonly threads: Mark = new Map();
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(readonly pid: number, pollMs = 5) {
    this.poll();
    this.timer = setInterval(() => this.poll(), pollMs);
  }

  private poll(): void {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${this.pid}/task`);
    } catch {
      return; // the process is gone; the last readings stay
    }
    for (const tid of tids) {
      const sched = read(`/proc/${this.pid}/task/${tid}/schedstat`);
      if (!sched) continue;
      const known = this.threads.get(Number(tid));
      const ns = Number(sched.split(" ")[0]);
      if (known) known.ns = ns;
      else this.threads.set(Number(tid), { name: (read(`/proc/${this.pid}/task/${tid}/comm`) ?? "?").trim(), ns });
    }
  }

  /** Reads every thread now and returns a copy of the readings. */
  mark(): Mark {
    this.poll();
    return new Map([...this.threads].map(([tid, t]) => [tid, { ...t }]));
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/**
 * CPU between two marks, in ns, by thread name (threads of one name summed, a thread born in
 * between counted from zero). Names are Bun's and JavaScriptCore's: "bun" / "bun.exe" (the
 * JavaScript thread), "JITWorker", "HeapHelper", "HTTP Client", "Bun Pool", ...
 */
export function windowCpu(before: Mark, after: Mark): Map<string, number> {
  const byName = new Map<string, number>();
  for (const [tid, t] of after) {
    const d = t.ns - (before.get(tid)?.ns ?? 0);
    if (d <= 0) continue;
    // Numbered pool threads are one group.
    const name = t.name.replace(/\s*\d+$/, "");
    byName.set(name, (byName.get(name) ?? 0) + d);
  }
  return byName;
}

/** Resident set size in MiB (VmRSS). */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(read(`/proc/${pid}/status`) ?? "");
  if (!m) throw new Error(`no VmRSS for process ${pid}`);
  return Number(m[1]) / 1024;
}
