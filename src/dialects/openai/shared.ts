import type { StopReason, Usage } from "../../core/canonical";

export type FinishReason = "stop" | "length" | "tool_calls" | "function_call" | "content_filter";

/**
 * Canonical stop reason → OpenAI finish_reason. `legacyFunctions`: the
 * request used the pre-tools `functions` API, whose calls end with "function_call".
 */
export function finishReason(reason: StopReason | undefined, legacyFunctions = false): FinishReason {
  switch (reason) {
    case "tool_use": return legacyFunctions ? "function_call" : "tool_calls";
    case "max_tokens": case "model_context_window_exceeded": return "length";
    case "refusal": return "content_filter";
    default: return "stop";
  }
}

export type OpenAIUsage = {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number; cache_write_tokens?: number };
  completion_tokens_details: { reasoning_tokens: number };
};

/** OpenAI prompt_tokens include cached tokens; Anthropic-style input_tokens exclude them. */
export function openaiUsage(u: Partial<Usage>): OpenAIUsage {
  const cached = u.cacheReadInputTokens ?? 0;
  const written = u.cacheWriteInputTokens ?? 0;
  const prompt = (u.inputTokens ?? 0) + cached + written;
  const completion = u.outputTokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: written ? { cached_tokens: cached, cache_write_tokens: written } : { cached_tokens: cached },
    completion_tokens_details: { reasoning_tokens: 0 },
  };
}

/** Later usage events refine earlier ones (the turn runner's final one is complete). */
export function mergeUsage(into: Partial<Usage>, u: Partial<Usage>): Partial<Usage> {
  for (const [k, v] of Object.entries(u)) if (typeof v === "number") (into as Record<string, number>)[k] = v;
  return into;
}

export const newCompletionId = () => "chatcmpl-" + crypto.randomUUID().replace(/-/g, "").slice(0, 24);
