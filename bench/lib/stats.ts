/** Small statistics for the bench scripts: percentiles, medians, a bootstrap interval, and a per-round straight-line fit of cost against answer length. */
import { prng } from "../../tests/fake-kiro/scenarios";

/**
 * The value at fraction `p` (0–1) of `xs` sorted ascending (nearest rank, rounded down; `xs` is not
 * modified). NaN values (a failed request's missing time) are left out; NaN when nothing is left.
 */
export const pct = (xs: ArrayLike<number>, p: number): number => {
  const s = Array.from(xs).filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(s.length * p))]! : NaN;
};

/** The arithmetic mean of `xs` (NaN when empty). */
export const mean = (xs: ArrayLike<number>): number => {
  let sum = 0;
  for (let i = 0; i < xs.length; i++) sum += xs[i]!;
  return sum / xs.length;
};

/** The median of `xs` (for an even count, the upper of the two middle values). */
export const median = (xs: ArrayLike<number>): number => pct(xs, 0.5);

/**
 * Per round r, the straight line through (short, S[r]) and (long, L[r]): its slope is the cost per
 * frame, its value at 0 frames the fixed cost per request.
 */
export function lineFit(short: number, long: number, S: number[], L: number[]): { fixed: number[]; perFrame: number[] } {
  const perFrame = L.map((l, r) => (l - S[r]!) / (long - short));
  const fixed = S.map((s, r) => s - short * perFrame[r]!);
  return { fixed, perFrame };
}

/**
 * How far a median of few values can be trusted: the `lo`–`hi` percentiles (default 5 and 95) of the
 * medians of `resamples` resamples of `xs` with replacement (a percentile bootstrap; seeded, so the
 * same values give the same interval).
 */
export function medianInterval(xs: number[], lo = 0.05, hi = 0.95, resamples = 2000): [number, number] {
  const rand = prng(1);
  const meds = new Float64Array(resamples);
  const pick = new Array<number>(xs.length);
  for (let r = 0; r < resamples; r++) {
    for (let k = 0; k < xs.length; k++) pick[k] = xs[Math.floor(rand() * xs.length)]!;
    meds[r] = median(pick);
  }
  return [pct(meds, lo), pct(meds, hi)];
}
