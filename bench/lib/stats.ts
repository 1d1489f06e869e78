/** Small statistics for the bench scripts: percentiles, medians, an interval for a median, a ratio of totals, and a per-round straight-line fit of cost against answer length. */

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

/**
 * Σ a / Σ b over the rounds both have (each round's a and b are per-request costs of windows of
 * equal size, so this is the ratio of the two totals); NaN rounds are left out of both sums.
 */
export function ratioOfTotals(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (Number.isNaN(a[i]!) || Number.isNaN(b[i]!)) continue;
    sa += a[i]!;
    sb += b[i]!;
  }
  return sa / sb;
}

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
 * How far a median of few values can be trusted: the interval between the k-th smallest and the
 * k-th largest of `xs`, with k as large as keeps the chance that it holds the true median at least
 * `level` (each value falls below the median with probability ½, so that chance is binomial: the
 * distribution-free interval of the sign test). Returns the bounds and that chance; with too few
 * values for `level` (under 5 for 90 %) it is the whole range, with its lower chance.
 */
export function medianInterval(xs: number[], level = 0.9): { lo: number; hi: number; coverage: number } {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  const n = s.length;
  // below[j] = P(Binomial(n, ½) ≤ j)
  const below: number[] = [];
  let term = 0.5 ** n;
  let sum = 0;
  for (let j = 0; j <= n; j++) {
    sum += term;
    below.push(sum);
    term = (term * (n - j)) / (j + 1);
  }
  let k = 1;
  while (k + 1 <= n - k && 1 - 2 * below[k]! >= level) k++;
  return { lo: s[k - 1] ?? NaN, hi: s[n - k] ?? NaN, coverage: n ? 1 - 2 * below[k - 1]! : 0 };
}
