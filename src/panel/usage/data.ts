import { DAY, HOUR, MINUTE, type Dim, type Point, type Share, type Step } from "../../logs/request-rollup";
import type { RollupReader } from "../../logs/request-reads";

/**
 * What the Usage page shows for a range: time series from the rollups (totals per bucket, and
 * requests per model for the top models) and breakdowns by model, account and key. Each range
 * reads one rollup step fine enough for its buckets and coarse enough to stay small.
 */
export const RANGES = ["hour", "day", "week", "month"] as const;
export type Range = (typeof RANGES)[number];

type RangeSpec = { span: number; align: number; step: Step; group: number; breakdownStep: Step };
const SPECS: Record<Range, RangeSpec> = {
  hour: { span: HOUR, align: MINUTE, step: MINUTE, group: MINUTE, breakdownStep: MINUTE },
  day: { span: DAY, align: HOUR, step: MINUTE, group: 15 * MINUTE, breakdownStep: HOUR },
  week: { span: 7 * DAY, align: DAY, step: HOUR, group: HOUR, breakdownStep: DAY },
  month: { span: 30 * DAY, align: DAY, step: HOUR, group: 6 * HOUR, breakdownStep: DAY },
};
/** Series drawn per model; the rest are summed as "other". */
export const TOP_MODELS = 6;

export type UsageData = {
  range: Range; from: number; to: number; group: number;
  /** Bucket starts (ms), every bucket of the range, empty ones included. */
  x: number[];
  totals: Point[];
  byModel: Array<{ value: string; requests: number[] }>;
  otherModels: number[] | null;
  breakdown: Record<Exclude<Dim, "total">, Share[]>;
  sum: Omit<Point, "bucket">;
};

export function rangeWindow(range: Range, now: number): { from: number; to: number } {
  const s = SPECS[range];
  const to = Math.ceil((now + 1) / s.align) * s.align;
  return { from: to - s.span, to };
}

export async function usageData(rollups: RollupReader, range: Range, now: number): Promise<UsageData> {
  const s = SPECS[range];
  const { from, to } = rangeWindow(range, now);
  const x: number[] = [];
  for (let b = from; b < to; b += s.group) x.push(b);
  const index = new Map(x.map((b, i) => [b, i]));
  const empty = (bucket: number): Point => ({ bucket, requests: 0, errors: 0, inputTokens: 0, outputTokens: 0, cachedTokens: 0, latencyMsSum: 0, latencyCount: 0, credits: 0 });
  const totals = x.map(empty);
  const [series, model, account, key, seriesByModel] = await Promise.all([
    rollups.series(s.step, s.group, from, to),
    rollups.breakdown(s.breakdownStep, "model", from, to),
    rollups.breakdown(s.breakdownStep, "account", from, to),
    rollups.breakdown(s.breakdownStep, "key", from, to),
    rollups.seriesBy(s.step, s.group, "model", from, to),
  ]);
  for (const p of series) {
    const i = index.get(p.bucket);
    if (i !== undefined) totals[i] = p;
  }
  const breakdown = { model, account, key };
  const top = breakdown.model.slice(0, TOP_MODELS).map((m) => m.value);
  const byModel = top.map((value) => ({ value, requests: x.map(() => 0) }));
  const other = x.map(() => 0);
  let anyOther = false;
  for (const p of seriesByModel) {
    const i = index.get(p.bucket);
    if (i === undefined) continue;
    const m = byModel.find((b) => b.value === p.value);
    if (m) m.requests[i]! += p.requests;
    else { other[i]! += p.requests; anyOther = true; }
  }
  const sum = totals.reduce((a, p) => ({
    requests: a.requests + p.requests, errors: a.errors + p.errors, inputTokens: a.inputTokens + p.inputTokens, outputTokens: a.outputTokens + p.outputTokens, cachedTokens: a.cachedTokens + p.cachedTokens,
    latencyMsSum: a.latencyMsSum + p.latencyMsSum, latencyCount: a.latencyCount + p.latencyCount, credits: a.credits + p.credits,
  }), { requests: 0, errors: 0, inputTokens: 0, outputTokens: 0, cachedTokens: 0, latencyMsSum: 0, latencyCount: 0, credits: 0 });
  return { range, from, to, group: s.group, x, totals, byModel, otherModels: anyOther ? other : null, breakdown, sum };
}
