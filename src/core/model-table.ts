/**
 * The known model table: client model names and aliases → the upstream model that serves them,
 * with context windows and output caps. `ModelCatalog` (models.ts) merges it with what the
 * accounts report; nothing here knows a wire format.
 *
 * Where the rows come from: the upstream ids are the dotted ids the Kiro service lists
 * (ListAvailableModels) and Amazon's own IDE language server sends; the "legacy" enum-style ids
 * (CLAUDE_*_V1_0) are what older Kiro hosts accepted; the six dated names first in /v1/models are
 * those of the product kiro-server replaces. Context windows: 1M tokens for the 4.6 generation
 * and later, 200k otherwise. Output caps: Anthropic's published per-model limits (kiro-server
 * enforces max_tokens itself; the upstream ignores it). nativeThinking: the model accepts
 * `additionalModelRequestFields.thinking.type = "adaptive"` (adaptive thinking exists from the
 * 4.6 generation on); other models get thinking through a system-prompt tag instead.
 */

export type ModelInfo = {
  /** Client-facing name as listed by /v1/models. */
  name: string;
  /** Dotted upstream id, the one that is sent (e.g. "claude-sonnet-4.5"). */
  upstreamId: string;
  /** Legacy enum-style id (CLAUDE_*_V1_0), for hosts answering INVALID_MODEL_ID to the dotted one. */
  legacyId?: string;
  contextWindow: number;
  maxOutputTokens: number;
  nativeThinking: boolean;
  /** Set on aliases: the canonical client-facing name this one stands for. */
  aliasOf?: string;
  /** The service's display name (models the accounts reported that the table does not know). */
  displayName?: string;
};

type Row = Omit<ModelInfo, "aliasOf"> & { aliases?: string[] };

export const K200 = 200_000;
const M1 = 1_000_000;

const TABLE: readonly Row[] = [
  { name: "claude-sonnet-4-5", upstreamId: "claude-sonnet-4.5", legacyId: "CLAUDE_SONNET_4_5_20250929_V1_0",
    contextWindow: K200, maxOutputTokens: 64_000, nativeThinking: false,
    aliases: ["claude-sonnet-4-5-20250929", "claude-sonnet-4-5-latest"] },
  // The IDE language server maps the legacy id to "claude-sonnet-4".
  { name: "claude-sonnet-4", upstreamId: "claude-sonnet-4", legacyId: "CLAUDE_SONNET_4_20250514_V1_0",
    contextWindow: K200, maxOutputTokens: 64_000, nativeThinking: false,
    aliases: ["claude-sonnet-4-20250514", "claude-sonnet-4-0", "claude-sonnet-4-latest"] },
  // 3.7 is gone from the current model lists: served by sonnet 4.5.
  { name: "claude-3-7-sonnet-20250219", upstreamId: "claude-sonnet-4.5", legacyId: "CLAUDE_3_7_SONNET_20250219_V1_0",
    contextWindow: K200, maxOutputTokens: 64_000, nativeThinking: false,
    aliases: ["claude-3-7-sonnet", "claude-3-7-sonnet-latest"] },
  // Older clients' default; the same substitution as 3.7 (no legacy id known).
  { name: "claude-3-5-sonnet-20241022", upstreamId: "claude-sonnet-4.5",
    contextWindow: K200, maxOutputTokens: 64_000, nativeThinking: false,
    aliases: ["claude-3-5-sonnet", "claude-3-5-sonnet-latest", "claude-3-5-sonnet-20240620"] },
  // Served by haiku 4.5; older hosts took "auto" as its legacy id (no enum id existed).
  { name: "claude-3-5-haiku-20241022", upstreamId: "claude-haiku-4.5", legacyId: "auto",
    contextWindow: K200, maxOutputTokens: 64_000, nativeThinking: false,
    aliases: ["claude-3-5-haiku", "claude-3-5-haiku-latest"] },
  { name: "claude-haiku-4-5", upstreamId: "claude-haiku-4.5", legacyId: "auto",
    contextWindow: K200, maxOutputTokens: 64_000, nativeThinking: false,
    aliases: ["claude-haiku-4-5-20251001", "claude-haiku-4-5-latest"] },
  { name: "claude-sonnet-4-6", upstreamId: "claude-sonnet-4.6",
    contextWindow: M1, maxOutputTokens: 64_000, nativeThinking: true, aliases: ["claude-sonnet-4-6-latest"] },
  { name: "claude-opus-4-5", upstreamId: "claude-opus-4.5",
    contextWindow: K200, maxOutputTokens: 64_000, nativeThinking: false,
    aliases: ["claude-opus-4-5-20251101", "claude-opus-4-5-latest"] },
  // Every older opus (4, 4.1) is served here, hence the 4.0/4.1 aliases.
  { name: "claude-opus-4-6", upstreamId: "claude-opus-4.6",
    contextWindow: M1, maxOutputTokens: 128_000, nativeThinking: true,
    aliases: ["claude-opus-4-6-latest", "claude-opus-4-1", "claude-opus-4-1-20250805", "claude-opus-4",
      "claude-opus-4-0", "claude-opus-4-20250514", "claude-opus-4-latest"] },
  { name: "claude-opus-4-7", upstreamId: "claude-opus-4.7",
    contextWindow: M1, maxOutputTokens: 128_000, nativeThinking: true, aliases: ["claude-opus-4-7-latest"] },
  // Unconfirmed upstream; kept so the name resolves if the service lists it.
  { name: "claude-opus-4-8", upstreamId: "claude-opus-4.8",
    contextWindow: M1, maxOutputTokens: 128_000, nativeThinking: true },
  // The service chooses the model.
  { name: "auto", upstreamId: "auto", legacyId: "auto",
    contextWindow: K200, maxOutputTokens: 64_000, nativeThinking: false, aliases: ["auto-kiro"] },
];

function buildIndex(): { all: readonly ModelInfo[]; index: ReadonlyMap<string, ModelInfo> } {
  const all: ModelInfo[] = [];
  /** lower-case key → entry: client names and aliases. */
  const index = new Map<string, ModelInfo>();
  for (const { aliases, ...row } of TABLE) {
    const canonical: ModelInfo = { ...row };
    all.push(canonical);
    index.set(row.name, canonical);
    for (const a of aliases ?? []) {
      const alias: ModelInfo = { ...row, name: a, aliasOf: row.name };
      all.push(alias);
      index.set(a, alias);
    }
  }
  return { all, index };
}

// Built once from the constant table and never changed afterwards.
// Upstream ids (dotted, legacy enum) need no index of their own: candidates() rewrites them to the
// dashed client names, so "claude-haiku-4.5" lands on claude-haiku-4-5, not on a substitute row.
const { all: ALL, index: INDEX } = buildIndex();

/** Candidate spellings of one name, most specific first. */
export function candidates(raw: string): string[] {
  let s = raw.trim().toLowerCase();
  s = s.replace(/\[(1m|200k)\]$/, "").replace(/-thinking$/, "");
  // Provider prefixes some clients keep (Bedrock "anthropic.", "us.anthropic.", OpenRouter "anthropic/").
  s = s.replace(/^(?:[a-z]{2}\.)?anthropic[./]/, "");
  const out = [s];
  // Legacy enum style: CLAUDE_SONNET_4_5_20250929_V1_0 → claude-sonnet-4-5-20250929.
  // Bedrock style: claude-sonnet-4-5-20250929-v1:0 → same.
  let d = s.replace(/_/g, "-").replace(/-v\d+[-:]\d+$/, "");
  // Dotted versions → dashed (claude-sonnet-4.5 → claude-sonnet-4-5; claude-3.7-sonnet → claude-3-7-sonnet).
  d = d.replace(/(\d)\.(\d)/g, "$1-$2");
  out.push(d);
  const noLatest = d.replace(/-latest$/, "");
  out.push(noLatest);
  // Date suffix: only dropped when the undated base exists in the table (checked by the caller).
  const noDate = noLatest.replace(/-\d{8}$/, "");
  out.push(noDate);
  return out;
}

/** The table entry for a name without any fallback: case-insensitive, dotted/dashed/legacy forms, `-latest`, unknown date suffixes. */
export function exactEntry(name: string): ModelInfo | undefined {
  if (typeof name !== "string" || !name.trim()) return undefined;
  for (const c of candidates(name)) {
    const hit = INDEX.get(c);
    if (hit) return hit;
  }
  return undefined;
}

/** Every client-facing name (canonical names and aliases), table order. */
export function listModels(): ModelInfo[] {
  return ALL.map((m) => ({ ...m }));
}

/** The table's canonical names (aliases resolve too); before the accounts' lists are known. */
export function validModelNames(): string[] {
  return ALL.filter((m) => !m.aliasOf).map((m) => m.name);
}

/** The one "model not available" wording: `names` is what the catalogue lists (ModelCatalog.names()). */
export function unknownModelMessage(what: string, names: readonly string[] = validModelNames()): string {
  return `${what}; valid models: ${names.join(", ")}`;
}

/**
 * Which client-facing model names the pool can serve, given the upstream ids its accounts
 * reported (undefined = not known yet → every name). A name is servable when its upstream id
 * (or its legacy id) is in the set.
 */
export function servableNamePredicate(upstreamIds: Set<string> | undefined): ((name: string) => boolean) | undefined {
  if (!upstreamIds) return undefined;
  const ok = new Set<string>();
  for (const m of ALL) {
    if (upstreamIds.has(m.upstreamId) || (m.legacyId && upstreamIds.has(m.legacyId))) ok.add(m.name);
  }
  return (name) => ok.has(name);
}
