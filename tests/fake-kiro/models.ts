/**
 * The fake's model catalogue: what ListAvailableModels reports and what chat accepts.
 *
 * Real lists (2026) carry Claude models under dotted ids, `auto`, and models that are not
 * Claude (`deepseek-3.2`, `glm-5`, `minimax-m2.1`, `minimax-m2.5`, `qwen3-coder-next`). Each
 * entry has the fields the service sends: modelId, modelName, description, rateMultiplier,
 * rateUnit, tokenLimits {maxInputTokens, maxOutputTokens}, supportedInputTypes, promptCaching,
 * and (Claude models) additionalModelRequestFieldsSchema. The numbers are the fake's own,
 * chosen so that every model has distinct limits a test can tell apart.
 *
 * Lists differ per account (plan): `FAKE_MODEL_LISTS` has ready-made ones, e.g. `olderOpus`
 * (a plan whose newest Opus is 4.5) and `free` (no Opus at all). An account created with a
 * list answers chat for any other id with the real 400 INVALID_MODEL_ID ("not in this
 * account's plan" and "unknown" look the same upstream).
 */

export type FakeModel = {
  modelId: string;
  modelName: string;
  description: string;
  rateMultiplier: number;
  rateUnit: "Credit";
  supportedInputTypes: string[];
  tokenLimits?: { maxInputTokens: number; maxOutputTokens: number };
  promptCaching: { supportsPromptCaching: boolean; maximumCacheCheckpointsPerRequest?: number; minimumTokensPerCacheCheckpoint?: number };
  additionalModelRequestFieldsSchema?: Record<string, unknown>;
};

const CACHING = { supportsPromptCaching: true, maximumCacheCheckpointsPerRequest: 4, minimumTokensPerCacheCheckpoint: 1024 };

function claude(id: string, name: string, rate: number, maxIn: number, maxOut: number, adaptiveThinking = false): FakeModel {
  const properties: Record<string, unknown> = { output_config: { type: "object" } };
  if (adaptiveThinking) properties.thinking = { type: "object", properties: { type: { enum: ["adaptive"] } } };
  return {
    modelId: id,
    modelName: name,
    description: `${name} by Anthropic`,
    rateMultiplier: rate,
    rateUnit: "Credit",
    supportedInputTypes: ["TEXT", "IMAGE"],
    tokenLimits: { maxInputTokens: maxIn, maxOutputTokens: maxOut },
    promptCaching: CACHING,
    additionalModelRequestFieldsSchema: { type: "object", properties },
  };
}

function other(id: string, name: string, rate: number, maxIn: number, maxOut: number, images = false): FakeModel {
  return {
    modelId: id,
    modelName: name,
    description: `${name} (open-weight model served by Kiro)`,
    rateMultiplier: rate,
    rateUnit: "Credit",
    supportedInputTypes: images ? ["TEXT", "IMAGE"] : ["TEXT"],
    tokenLimits: { maxInputTokens: maxIn, maxOutputTokens: maxOut },
    promptCaching: { supportsPromptCaching: false },
  };
}

/** Every model the fake knows, newest Claude first. `auto` has no token limits (the service decides). */
export const FAKE_MODELS: readonly FakeModel[] = [
  {
    modelId: "auto",
    modelName: "Auto",
    description: "Kiro picks the model",
    rateMultiplier: 1.0,
    rateUnit: "Credit",
    supportedInputTypes: ["TEXT", "IMAGE"],
    promptCaching: { supportsPromptCaching: false },
  },
  claude("claude-opus-4.6", "Claude Opus 4.6", 2.2, 1_000_000, 128_000, true),
  claude("claude-sonnet-4.6", "Claude Sonnet 4.6", 1.3, 1_000_000, 64_000, true),
  claude("claude-opus-4.5", "Claude Opus 4.5", 2.2, 200_000, 64_000),
  claude("claude-sonnet-4.5", "Claude Sonnet 4.5", 1.3, 200_000, 64_000),
  claude("claude-sonnet-4", "Claude Sonnet 4", 1.3, 200_000, 64_000),
  claude("claude-haiku-4.5", "Claude Haiku 4.5", 0.4, 200_000, 64_000),
  other("deepseek-3.2", "DeepSeek 3.2", 0.5, 128_000, 32_000),
  other("glm-5", "GLM 5", 0.6, 200_000, 32_000),
  other("minimax-m2.1", "MiniMax M2.1", 0.4, 196_000, 40_000),
  other("minimax-m2.5", "MiniMax M2.5", 0.5, 196_000, 48_000),
  other("qwen3-coder-next", "Qwen3 Coder Next", 0.5, 256_000, 64_000, true),
];

const ids = (...xs: string[]) => xs;

/** Ready-made per-account lists (plans). */
export const FAKE_MODEL_LISTS = {
  /** Everything above: a current paid plan. */
  all: FAKE_MODELS.map((m) => m.modelId),
  /** A paid plan whose newest Opus is 4.5 (no 4.6 models yet). */
  olderOpus: ids("auto", "claude-opus-4.5", "claude-sonnet-4.5", "claude-sonnet-4", "claude-haiku-4.5", "deepseek-3.2", "glm-5", "minimax-m2.5", "qwen3-coder-next"),
  /** A free plan: no Opus. */
  free: ids("auto", "claude-sonnet-4.5", "claude-sonnet-4", "claude-haiku-4.5", "deepseek-3.2", "minimax-m2.5"),
  /** Only models that are not Claude. */
  nonClaude: ids("auto", "deepseek-3.2", "glm-5", "minimax-m2.1", "minimax-m2.5", "qwen3-coder-next"),
} as const;

/**
 * The ListAvailableModels body for an account (`only` = its list; default: every model).
 * Ids that are not in FAKE_MODELS are still listed (with no token limits) so a test can invent one.
 */
export function fakeModelsBody(only?: readonly string[]): Record<string, unknown> {
  const models = only
    ? only.map((id) => FAKE_MODELS.find((m) => m.modelId === id) ?? { ...other(id, id, 1, 0, 0), tokenLimits: undefined })
    : FAKE_MODELS;
  return { defaultModel: { modelId: "auto" }, models, nextToken: null };
}

/** The chat model id of a generateAssistantResponse body (undefined = the service's default). */
export function chatModelId(body: unknown): string | undefined {
  const id = (body as any)?.conversationState?.currentMessage?.userInputMessage?.modelId;
  return typeof id === "string" ? id : undefined;
}

/**
 * Chat against an account's plan: a model the account's list lacks is refused exactly like an
 * unknown one (400 ValidationException INVALID_MODEL_ID). Accounts without a list accept all.
 * Returns undefined when the model is allowed.
 */
export function planRefusal(accountModels: readonly string[] | undefined, body: unknown): { reason: "INVALID_MODEL_ID"; message: string } | undefined {
  const id = chatModelId(body);
  if (!accountModels || id === undefined || accountModels.includes(id)) return undefined;
  return { reason: "INVALID_MODEL_ID", message: "Invalid model. Please select a different model." };
}

/**
 * The request budget the chat validator enforces for the body's model: its maxInputTokens × 3.5
 * characters (the official client's estimate). undefined → the validator's own table decides
 * (models the fake does not list, `auto`).
 */
export function maxInputCharsFor(body: unknown): number | undefined {
  const id = chatModelId(body);
  const max = FAKE_MODELS.find((m) => m.modelId === id)?.tokenLimits?.maxInputTokens;
  return max === undefined ? undefined : Math.floor(max * 3.5);
}
