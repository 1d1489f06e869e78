/**
 * Final usage of a turn, in order of preference:
 *   1. the upstream's own token counts (metadataEvent.tokenUsage);
 *   2. contextUsagePercentage × model window = input + output, minus the local output estimate;
 *   3. the local tokenizer estimate of the prompt (settleInputTokens then scales it by the
 *      model's calibration: the same number count_tokens reports).
 * Output tokens: the upstream count, else the local estimate of the emitted text, thinking and
 * tool-argument JSON.
 */
import type { Usage } from "./canonical";
import { textTokenCount } from "./tokens/estimate";

/**
 * Characters tokenized exactly; longer output is extrapolated from this sample (bounded CPU).
 * 500, not 2,000: tokenizing the 2,000-char sample was ~9 % of the process CPU in
 * bench/stream.ts (a 16 KB answer), and the extrapolation stays within 5 % on prose
 * (tests/anthropic/stop-guard.test.ts). Answers up to 500 chars are still counted exactly.
 */
const SAMPLE_CHARS = 500;

/**
 * Collects emitted output cheaply: the first SAMPLE_CHARS characters and the total length.
 * Tokenizing a whole long answer costs about 1 ms per KB, more than relaying it, so long
 * outputs are extrapolated from the sample (the same trick estimate.ts uses for huge prompts).
 */
export class OutputMeter {
  private sample = "";
  private chars = 0;

  /** `count`: tokens in a text (the server's InputTokenEstimator.countText, which remembers pieces). */
  constructor(private readonly count: (text: string) => number = textTokenCount()) {}

  add(text: string): void {
    if (!text) return;
    this.chars += text.length;
    if (this.sample.length < SAMPLE_CHARS) this.sample += text.slice(0, SAMPLE_CHARS - this.sample.length);
  }

  get totalChars(): number {
    return this.chars;
  }

  estimateTokens(): number {
    if (this.chars === 0) return 0;
    const exact = this.count(this.sample);
    if (this.chars <= this.sample.length) return exact;
    return Math.ceil((exact * this.chars) / this.sample.length);
  }
}

export type UsageInputs = {
  /** What the upstream sent (merged over all usage events), possibly empty. */
  upstream: Partial<Usage>;
  contextUsagePercentage?: number;
  /** Model context window (req.model.contextWindow). */
  contextWindow: number;
  /** Local prompt estimate (InputTokenEstimator.estimate). */
  estimatedInputTokens: number;
  /** Local output estimate, computed only when needed. */
  outputEstimate: () => number;
  /**
   * The upstream model id and the server's calibration: when given, an upstream-derived input
   * count teaches that model's ratio and a local estimate is replaced by the calibrated one
   * (InputCalibration.settle).
   */
  calibration?: { key: string; table: InputCalibration };
};

export function finalUsage(u: UsageInputs): Usage {
  const up = u.upstream;
  const outputTokens = up.outputTokens ?? u.outputEstimate();
  let inputTokens: number;
  if (up.inputTokens !== undefined) inputTokens = up.inputTokens;
  else if (u.contextUsagePercentage !== undefined && u.contextUsagePercentage > 0) {
    const total = Math.round((u.contextUsagePercentage / 100) * u.contextWindow);
    // Cache reads/writes are part of the total but not of Anthropic's input_tokens.
    const cached = (up.cacheReadInputTokens ?? 0) + (up.cacheWriteInputTokens ?? 0);
    inputTokens = Math.max(1, total - outputTokens - cached);
  } else inputTokens = u.estimatedInputTokens;
  const out: Usage = { inputTokens, outputTokens };
  if (up.cacheReadInputTokens !== undefined) out.cacheReadInputTokens = up.cacheReadInputTokens;
  if (up.cacheWriteInputTokens !== undefined) out.cacheWriteInputTokens = up.cacheWriteInputTokens;
  if (up.credits !== undefined) out.credits = up.credits;
  if (up.webSearchRequests !== undefined) out.webSearchRequests = up.webSearchRequests;
  if (u.calibration) u.calibration.table.settle(u.calibration.key, out, up, u.contextUsagePercentage, u.estimatedInputTokens);
  return out;
}

/** Merges one upstream usage event into the running totals (later values win). */
export function mergeUsage(into: Partial<Usage>, add: Partial<Usage>): void {
  for (const k of Object.keys(add) as Array<keyof Usage>) {
    const v = add[k];
    if (typeof v === "number") into[k] = v;
  }
}

// ------------------------------------------------------------------------------- calibration

/**
 * Input-token calibration per upstream model. The local tokenizer is not the one Kiro counts with
 * (and Kiro wraps the prompt in its own framing), so `contextUsagePercentage`-derived usage and a
 * plain local count_tokens can disagree by tens of percent. Every finished turn whose input count
 * came from the upstream teaches the ratio upstream ÷ local estimate (an exponential moving
 * average, bounded to [0.5, 2]); count_tokens, the message_start estimate and the fallback usage
 * multiply the local estimate by it, so all of them agree with what the upstream reports.
 * In memory only: it re-learns within a few requests after a restart.
 */
const CALIBRATION_MIN = 0.5;
const CALIBRATION_MAX = 2;
/** Weight of the newest observation. */
const CALIBRATION_ALPHA = 0.3;
/**
 * Prompts smaller than this do not teach the ratio: the upstream's fixed framing and the
 * percentage's rounding would dominate it, and a ratio learnt on "hi" would inflate real prompts.
 */
export const CALIBRATION_MIN_TOKENS = 1000;

/**
 * The ratios, one per upstream model id. Created once at boot (src/boot.ts) and passed to the turn
 * runner and count_tokens; tests make their own.
 */
export class InputCalibration {
  private readonly ratios = new Map<string, number>();

  /** The current ratio for a model (1 until the upstream has reported on a large enough prompt). */
  ratio(modelKey: string): number {
    return this.ratios.get(modelKey) ?? 1;
  }

  /** A local input estimate scaled to what the upstream would report for the same prompt. */
  calibrated(modelKey: string, estimate: number): number {
    const r = this.ratios.get(modelKey);
    return r === undefined || estimate <= 0 ? estimate : Math.max(1, Math.round(estimate * r));
  }

  /** One upstream input count (cached tokens included) for a prompt the local tokenizer estimated. */
  observe(modelKey: string, upstreamInput: number, estimate: number): void {
    if (!(estimate >= CALIBRATION_MIN_TOKENS) || !(upstreamInput > 0)) return;
    const sample = clamp(upstreamInput / estimate);
    const prev = this.ratios.get(modelKey);
    this.ratios.set(modelKey, prev === undefined ? sample : clamp(prev + CALIBRATION_ALPHA * (sample - prev)));
  }

  /**
   * Applied by finalUsage when the turn runner passes a calibration: an upstream-derived input
   * count teaches the ratio; a local estimate (no upstream count) is replaced by the calibrated
   * estimate, the number count_tokens reports for the same body.
   */
  settle(modelKey: string, usage: Usage, upstream: Partial<Usage>, contextUsagePercentage: number | undefined, estimatedInputTokens: number): void {
    if (hasUpstreamInput(upstream, contextUsagePercentage)) {
      const total = usage.inputTokens + (usage.cacheReadInputTokens ?? 0) + (usage.cacheWriteInputTokens ?? 0);
      this.observe(modelKey, total, estimatedInputTokens);
    } else {
      usage.inputTokens = this.calibrated(modelKey, estimatedInputTokens);
    }
  }
}

function clamp(r: number): number {
  return Math.min(CALIBRATION_MAX, Math.max(CALIBRATION_MIN, r));
}

/** Whether finalUsage took the input count from the upstream (token counts or context percentage). */
export function hasUpstreamInput(upstream: Partial<Usage>, contextUsagePercentage: number | undefined): boolean {
  return upstream.inputTokens !== undefined || (contextUsagePercentage !== undefined && contextUsagePercentage > 0);
}
