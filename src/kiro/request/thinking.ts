import type { ResolvedModel, ThinkingSetting } from "../../core/canonical";

/**
 * Thinking request forms (§4.3 rule 11).
 * - native (11a): top-level `additionalModelRequestFields` `{thinking:{type:"adaptive"}, output_config:{effort}}`
 *   — only expresses adaptive thinking, and only for models whose schema has it (ResolvedModel.nativeThinking,
 *   or the caller's override once ListAvailableModels says so).
 * - tags (11b): `<thinking_mode>…` tags at the start of the system history message; what every peer sends.
 */
export type ThinkingForm = "auto" | "native" | "tags";

export type ThinkingPlan =
  | { form: "none" }
  | { form: "tags"; prefix: string }
  | { form: "native"; fields: Record<string, unknown> };

/** KRS turns thinking on for "-thinking" model names with a 20,000-token budget. */
export const NAME_SUFFIX_BUDGET = 20_000;
export const MIN_BUDGET = 1024;

export function planThinking(
  setting: ThinkingSetting,
  model: Pick<ResolvedModel, "nativeThinking" | "maxOutputTokens">,
  opts: { nameRequestsThinking?: boolean; form?: ThinkingForm } = {},
): ThinkingPlan {
  let s = setting ?? { type: "disabled" };
  if (s.type === "disabled" && opts.nameRequestsThinking) s = { type: "enabled", budgetTokens: NAME_SUFFIX_BUDGET };
  if (s.type === "disabled") return { form: "none" };

  const form = opts.form ?? "auto";
  if (s.type === "adaptive") {
    if (form === "native" || (form === "auto" && model.nativeThinking)) {
      const fields: Record<string, unknown> = { thinking: { type: "adaptive" } };
      if (s.effort) fields.output_config = { effort: s.effort };
      return { form: "native", fields };
    }
    // The tag form knows low|medium|high only; "max" is the closest to "high".
    const effort = s.effort === "low" || s.effort === "medium" ? s.effort : "high";
    return { form: "tags", prefix: `<thinking_mode>adaptive</thinking_mode><thinking_effort>${effort}</thinking_effort>` };
  }
  // Budgeted thinking has no native key (only adaptive|disabled are reported), so always tags.
  const raw = Number.isFinite(s.budgetTokens) ? Math.floor(s.budgetTokens) : NAME_SUFFIX_BUDGET;
  const budget = Math.max(MIN_BUDGET, Math.min(raw, model.maxOutputTokens));
  return {
    form: "tags",
    prefix: `<thinking_mode>enabled</thinking_mode><max_thinking_length>${budget}</max_thinking_length>`,
  };
}
