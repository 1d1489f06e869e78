/**
 * Final usage of a turn (kiro-upstream.md §9), in order of preference:
 *   1. the upstream's own token counts (metadataEvent.tokenUsage);
 *   2. contextUsagePercentage × model window = input + output, minus the local output estimate;
 *   3. the local tokenizer estimate of the prompt (the same number count_tokens reports).
 * Output tokens: the upstream count, else the local estimate of the emitted text, thinking and
 * tool-argument JSON.
 */
import type { Usage } from "./canonical";
import { countTextTokens } from "../kiro/request/estimate";

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
    const exact = countTextTokens(this.sample);
    if (this.chars <= this.sample.length) return exact;
    return Math.ceil((exact * this.chars) / this.sample.length);
  }
}

export type UsageInputs = {
  /** What the upstream sent (merged over all usage events), possibly empty. */
  upstream: Partial<Usage>;
  contextUsagePercentage?: number;
  /** Model context window (resolveModel().contextWindow). */
  contextWindow: number;
  /** Local prompt estimate (estimateInputTokens). */
  estimatedInputTokens: number;
  /** Local output estimate, computed only when needed. */
  outputEstimate: () => number;
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
  return out;
}

/** Merges one upstream usage event into the running totals (later values win). */
export function mergeUsage(into: Partial<Usage>, add: Partial<Usage>): void {
  for (const k of Object.keys(add) as Array<keyof Usage>) {
    const v = add[k];
    if (typeof v === "number") into[k] = v;
  }
}
