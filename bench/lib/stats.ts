/** Small statistics for the bench scripts: percentiles, medians, and a per-round straight-line fit of cost against answer length. */

/** The value at fraction `p` (0–1) of `xs` sorted ascending (nearest rank, rounded down; `xs` is not modified). */
export const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

/** The median of `xs` (for an even count, the upper of the two middle values). */
export const median = (xs: number[]): number => pct(xs, 0.5);

/**
 * Per round r, the straight line through (short, S[r]) and (long, L[r]): its slope is the cost per
 * frame, its value at 0 frames the fixed cost per request.
 */
export function lineFit(short: number, long: number, S: number[], L: number[]): { fixed: number[]; perFrame: number[] } {
  const perFrame = L.map((l, r) => (l - S[r]!) / (long - short));
  const fixed = S.map((s, r) => s - short * perFrame[r]!);
  return { fixed, perFrame };
}
