/**
 * What a proxy adds to the time to first text, timed on both sides of the fake instead of end to end.
 *
 * End to end, the first text of a long answer waits mostly on the fake: in burst mode it encodes
 * the whole answer before the first byte, 0.5–7 ms from one request to the next. The table's
 * "added ms" (p50 of one target minus p50 of the passthrough, each over a few hundred requests)
 * carries that spread as noise of a few tenths of a millisecond. Here each request is split at the
 * fake, with clocks that agree between processes (wall-clock milliseconds,
 * `performance.timeOrigin + performance.now()`; two processes on this machine agreed within
 * ~0.01 ms over a pipe both ways):
 *
 *   path = (fake got the request − client sent it) + (client holds the first text − fake handed out the first chunk)
 *
 * i.e. everything but the fake's own work: the client's request, the proxy's handling both ways
 * and the network in between. The fake keeps its two times per streamed answer and hands them over
 * when asked, after the measurement (bench/lib/fake-upstream.ts --timings; a report sent during it
 * would wake the client just as the answer's first bytes arrive). A request is matched to the one
 * report whose arrival lies between its send and its first text, so only requests sent one at a
 * time can be matched (concurrency 1).
 */
import { pct } from "./stats";

/** The fake's reports, sorted by arrival. */
export class FakeTimings {
  private readonly arrived: number[] = [];
  private readonly firstChunk: number[] = [];

  /** `flat`: arrivedAt, firstChunkAt of each answer in turn (what the fake serves at its `timingsUrl`). */
  constructor(flat: number[]) {
    const order = Array.from({ length: flat.length >> 1 }, (_, i) => i).sort((x, y) => flat[2 * x]! - flat[2 * y]!);
    for (const i of order) {
      this.arrived.push(flat[2 * i]!);
      this.firstChunk.push(flat[2 * i + 1]!);
    }
  }

  /** The fake's reports so far (read after a measurement: the fetch wakes the fake). */
  static async load(url: string): Promise<FakeTimings> {
    return new FakeTimings((await (await fetch(url)).json()) as number[]);
  }

  /**
   * The request's two halves in ms, [client → fake, fake's first chunk → client's first text], or
   * undefined when not exactly one report arrived between `sentAt` and `firstAt`.
   */
  split(sentAt: number, firstAt: number): [number, number] | undefined {
    let lo = 0;
    let hi = this.arrived.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.arrived[mid]! <= sentAt) lo = mid + 1;
      else hi = mid;
    }
    if (lo >= this.arrived.length || this.arrived[lo]! >= firstAt) return undefined;
    if (lo + 1 < this.arrived.length && this.arrived[lo + 1]! < firstAt) return undefined;
    return [this.arrived[lo]! - sentAt, firstAt - this.firstChunk[lo]!];
  }
}

/** One target's requests: when each was sent and when its first text was held (wall ms). */
export type SentAndFirst = { sentAt: number[]; firstAt: number[] };

/**
 * Prints, per target (`names[i]`, its requests in `rows[i]`), the path time's p50 and p90, its two
 * halves' p50, and what it adds over the passthrough (`rows[0]`); when most requests of a target
 * cannot be matched (they overlapped), one line says so instead.
 */
export function printPathLatency(names: string[], rows: SentAndFirst[], timings: FakeTimings): void {
  const splits = rows.map((r) => r.sentAt.map((s, k) => timings.split(s, r.firstAt[k]!)));
  const part = (i: number, f: (s: [number, number]) => number) => splits[i]!.map((s) => (s ? f(s) : NaN));
  const paths = splits.map((_, i) => part(i, ([up, down]) => up + down));
  const matched = paths.map((p) => p.filter((x) => !Number.isNaN(x)).length);
  if (matched.some((n, i) => n < rows[i]!.sentAt.length / 2)) {
    console.log("\nFirst text without the fake's own time: not measured (requests overlapped, so they cannot be matched to the fake's reports).");
    return;
  }
  console.log("\nFirst text without the fake's own time (client → fake, plus the fake's first chunk → the client's first text), long answers:");
  const base = pct(paths[0]!, 0.5);
  const baseP90 = pct(paths[0]!, 0.9);
  for (const [i, name] of names.entries()) {
    const p50 = pct(paths[i]!, 0.5);
    const p90 = pct(paths[i]!, 0.9);
    const added = i === 0 ? "" : `   added p50 ${(p50 - base).toFixed(2)} ms, p90 ${(p90 - baseP90).toFixed(2)} ms`;
    const halves = `to the fake ${pct(part(i, (s) => s[0]), 0.5).toFixed(2)}, back ${pct(part(i, (s) => s[1]), 0.5).toFixed(2)}`;
    console.log(`  ${name.padEnd(27)}p50 ${p50.toFixed(2)} ms (${halves}), p90 ${p90.toFixed(2)} ms; ${matched[i]} of ${rows[i]!.sentAt.length} matched${added}`);
  }
}
