/**
 * The printed report of bench/stream.ts for one mode: the per-target table (CPU per request at
 * both answer lengths, ratios to the passthrough, fixed and per-frame cost, first-text latency,
 * client reads), the spread of the long answers' ratio over the rounds, CPU by thread, minor page
 * faults, and the window-sum vs /proc/<pid>/stat cross-check.
 */
import { lineFit, median, medianInterval, pct, ratioOfTotals } from "./stats";
import { printPathLatency, type FakeTimings } from "./stream-latency";
import type { Target } from "./stream-clients";
import type { Measurement, RunConfig, Window } from "./stream-measure";

/** The run's settings the report's headings state. */
export type ReportConfig = RunConfig & {
  warmup: number;
  /** How the fake spaced the frames, when that needs saying. */
  pacing?: string;
  /** The fake's per-answer reports, for the first text without the fake's own time. */
  timings?: FakeTimings;
};

/** Prints the report of `mode`; `targets[0]` is the passthrough every ratio and "added ms" is relative to. */
export function report(mode: string, targets: Target[], m: Measurement, { long: LONG, short: SHORT, requests: REQUESTS, rounds: ROUNDS, warmup: WARMUP, concurrency = 1, pacing, timings }: ReportConfig): void {
  const perReqUs = (w: Window) => w.cpuNs / 1000 / w.requests;
  const by = (i: number, frames: number) => m.windows.filter((w) => w.target === i && w.frames === frames);
  const rounds = (i: number, frames: number) => by(i, frames).map(perReqUs);
  console.log(
    `\n${mode}: answers of ${LONG} and ${SHORT} frames, ${REQUESTS} requests of each per target in ${ROUNDS} interleaved rounds${concurrency > 1 ? `, ${concurrency} at a time` : ""}, after ${WARMUP} warm-up requests per target.${pacing ? ` ${pacing}.` : ""}`,
  );
  console.log("CPU is the serving process's own (all threads); first text = the client holds the first complete text event.\n");
  console.log(
    "target                       CPU µs/req  × pass-   fixed µs   µs per   CPU µs/req  × pass-   first text ms   added ms      client reads",
  );
  console.log(
    `                             ${String(LONG).padStart(4)} frames  through   /request   frame    ${String(SHORT).padStart(4)} frames  through   p50     p90     p50    p90    per request`,
  );
  const base = { long: rounds(0, LONG), short: rounds(0, SHORT), ft: by(0, LONG).flatMap((w) => w.firstText) };
  for (const [i, t] of targets.entries()) {
    const L = rounds(i, LONG);
    const S = rounds(i, SHORT);
    const { fixed, perFrame } = lineFit(SHORT, LONG, S, L);
    const ft = by(i, LONG).flatMap((w) => w.firstText);
    const cells = [
      median(L).toFixed(0).padStart(10),
      median(L.map((l, r) => l / base.long[r]!)).toFixed(2).padStart(9),
      median(fixed).toFixed(0).padStart(10),
      median(perFrame).toFixed(2).padStart(8),
      median(S).toFixed(0).padStart(12),
      median(S.map((s, r) => s / base.short[r]!)).toFixed(2).padStart(9),
      pct(ft, 0.5).toFixed(2).padStart(9),
      pct(ft, 0.9).toFixed(2).padStart(8),
      (pct(ft, 0.5) - pct(base.ft, 0.5)).toFixed(2).padStart(7),
      (pct(ft, 0.9) - pct(base.ft, 0.9)).toFixed(2).padStart(7),
      (by(i, LONG).reduce((a, w) => a + w.reads, 0) / by(i, LONG).reduce((a, w) => a + w.requests, 0)).toFixed(0).padStart(10),
    ];
    console.log(t.name.padEnd(27) + cells.join(""));
  }
  if (timings)
    printPathLatency(
      targets.map((t) => t.name),
      targets.map((_, i) => {
        const ws = by(i, LONG);
        return { sentAt: ws.flatMap((w) => w.sentAt), firstAt: ws.flatMap((w) => w.sentAt.map((s, k) => s + w.firstText[k]!)) };
      }),
      timings,
    );
  printSpread(targets, base.long, (i) => rounds(i, LONG), LONG);
  printThreads(targets, m);
  printProcessTotals(targets, m);
}

/**
 * How far the table's median ratio can be trusted: the per-round ratios of the long answers, as
 * quartiles and extremes, and an interval that holds their true median (the table's value) with at least 90 % chance. Two
 * identical servers side by side differ by up to ~0.1 here.
 * Then the ratio of totals: the target's CPU over all its long-answer windows divided by the
 * passthrough's over all of its own (CPU per request of each, as one number per run). The
 * passthrough's windows spread far more from round to round than kiro-server's (up to 2×: its two
 * threads hand each read over, and what that costs depends on where the scheduler puts them), so
 * a per-round ratio carries that noise whole; the totals average it out over the run.
 */
function printSpread(targets: Target[], base: number[], rounds: (i: number) => number[], long: number): void {
  console.log(`\nPer-round × passthrough at ${long} frames, quartiles (lowest–highest), an interval for the median (its chance), and the ratio of total CPU:`);
  for (const [i, t] of targets.entries()) {
    if (i === 0) continue;
    const L = rounds(i);
    const r = L.map((l, k) => l / base[k]!);
    const q = [0.25, 0.5, 0.75].map((p) => pct(r, p).toFixed(2)).join(" / ");
    const ci = medianInterval(r);
    const totals = ratioOfTotals(L, base);
    console.log(
      `  ${t.name.padEnd(27)}${q}  (${Math.min(...r).toFixed(2)}–${Math.max(...r).toFixed(2)})  median ${ci.lo.toFixed(2)}–${ci.hi.toFixed(2)} (${Math.round(ci.coverage * 100)} %)  totals ${totals.toFixed(2)}`,
    );
  }
}

/** Where each process's CPU went, by thread, per request (both lengths together; threads under 1 µs left out). */
function printThreads(targets: Target[], m: Measurement): void {
  console.log("\nCPU by thread, µs per request (both lengths):");
  for (const [i, t] of targets.entries()) {
    const ws = m.windows.filter((w) => w.target === i);
    const n = ws.reduce((a, w) => a + w.requests, 0);
    const sum = new Map<string, number>();
    for (const w of ws) for (const [name, ns] of w.threads) sum.set(name, (sum.get(name) ?? 0) + ns);
    const parts = [...sum].filter(([, ns]) => ns / 1000 / n >= 1).sort((a, b) => b[1] - a[1]).map(([name, ns]) => `${name} ${(ns / 1000 / n).toFixed(0)}`);
    console.log(`  ${t.name.padEnd(27)}${parts.join(", ")}`);
  }
}

/** Per process: minor page faults per request, and its windows' CPU summed beside /proc/<pid>/stat over the run. */
function printProcessTotals(targets: Target[], m: Measurement): void {
  const cross: string[] = [];
  const faults: string[] = [];
  for (const [pid, ms] of m.statMs) {
    const mine = m.windows.filter((w) => targets[w.target]!.pid === pid);
    const who = pid === targets[0]!.pid ? "passthrough" : mine[0] && targets[mine[0].target]!.name.startsWith("base ") ? "baseline" : "kiro-server";
    cross.push(`${who} ${mine.reduce((a, w) => a + w.cpuNs / 1e6, 0).toFixed(0)} ms in its windows, ${ms.toFixed(0)} ms by /proc/<pid>/stat`);
    faults.push(`${who} ${(m.faults.get(pid)! / mine.reduce((a, w) => a + w.requests, 0)).toFixed(1)}`);
  }
  console.log(`Minor page faults per request (allocator churn), both lengths: ${faults.join(", ")}`);
  console.log(`Cross-check over the measured run (agree within ~20 ms): ${cross.join("; ")}`);
}
