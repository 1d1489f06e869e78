/**
 * Client model name → Kiro upstream model id. The single table of models kiro-server serves.
 *
 * Evidence keys (see /work/shared/docs/kiro-upstream.md §0, §5): LSP = Amazon's own language
 * server, KRS/AIC/JW/CD = peer proxies, PRODUCT = the original product doc's six names.
 * Context windows: §5 defaults (1M for sonnet/opus 4.6, 200k otherwise). Output caps: Anthropic's
 * published per-model limits (kiro-server enforces max_tokens itself; upstream ignores it).
 * nativeThinking: the model accepts `additionalModelRequestFields.thinking.type = "adaptive"`
 * (§4.3 rule 11a; adaptive thinking exists from the 4.6 generation on — reported by one peer).
 */
export type ModelInfo = {
  /** Client-facing name as listed by /v1/models. */
  name: string;
  /** Dotted upstream id, the one that is sent (e.g. "claude-sonnet-4.5"). */
  kiroId: string;
  /** Legacy enum-style id (CLAUDE_*_V1_0), fallback for hosts answering INVALID_MODEL_ID. */
  legacyId?: string;
  contextWindow: number;
  maxOutputTokens: number;
  nativeThinking: boolean;
  /** Set on aliases: the canonical client-facing name this one stands for. */
  aliasOf?: string;
};

type Row = Omit<ModelInfo, "aliasOf"> & { aliases?: string[] };

const K200 = 200_000;
const M1 = 1_000_000;

const TABLE: Row[] = [
  // PRODUCT + all peers (§5 row 1–2). Dated alias is one of the six product names.
  { name: "claude-sonnet-4-5", kiroId: "claude-sonnet-4.5", legacyId: "CLAUDE_SONNET_4_5_20250929_V1_0",
    contextWindow: K200, maxOutputTokens: 64_000, nativeThinking: false,
    aliases: ["claude-sonnet-4-5-20250929", "claude-sonnet-4-5-latest"] },
  // PRODUCT (claude-sonnet-4-20250514); official LSP mapping of the legacy id to "claude-sonnet-4".
  { name: "claude-sonnet-4", kiroId: "claude-sonnet-4", legacyId: "CLAUDE_SONNET_4_20250514_V1_0",
    contextWindow: K200, maxOutputTokens: 64_000, nativeThinking: false,
    aliases: ["claude-sonnet-4-20250514", "claude-sonnet-4-0", "claude-sonnet-4-latest"] },
  // PRODUCT. 3.7 is gone from current model lists: substitute sonnet 4.5 (KRS); legacy id from CD.
  { name: "claude-3-7-sonnet-20250219", kiroId: "claude-sonnet-4.5", legacyId: "CLAUDE_3_7_SONNET_20250219_V1_0",
    contextWindow: K200, maxOutputTokens: 64_000, nativeThinking: false,
    aliases: ["claude-3-7-sonnet", "claude-3-7-sonnet-latest"] },
  // Older clients' default; same substitution as 3.7 (by analogy with KRS; no legacy id known).
  { name: "claude-3-5-sonnet-20241022", kiroId: "claude-sonnet-4.5",
    contextWindow: K200, maxOutputTokens: 64_000, nativeThinking: false,
    aliases: ["claude-3-5-sonnet", "claude-3-5-sonnet-latest", "claude-3-5-sonnet-20240620"] },
  // PRODUCT. Substitute haiku 4.5 (KRS); CD sent "auto" as the legacy id (no enum id existed).
  { name: "claude-3-5-haiku-20241022", kiroId: "claude-haiku-4.5", legacyId: "auto",
    contextWindow: K200, maxOutputTokens: 64_000, nativeThinking: false,
    aliases: ["claude-3-5-haiku", "claude-3-5-haiku-latest"] },
  // PRODUCT (dated form); KRS/AIC dotted id; CD "auto" legacy.
  { name: "claude-haiku-4-5", kiroId: "claude-haiku-4.5", legacyId: "auto",
    contextWindow: K200, maxOutputTokens: 64_000, nativeThinking: false,
    aliases: ["claude-haiku-4-5-20251001", "claude-haiku-4-5-latest"] },
  // KRS (2026-02), AIC (2026-03); 1M window default per §5.
  { name: "claude-sonnet-4-6", kiroId: "claude-sonnet-4.6",
    contextWindow: M1, maxOutputTokens: 64_000, nativeThinking: true, aliases: ["claude-sonnet-4-6-latest"] },
  // KRS, AIC.
  { name: "claude-opus-4-5", kiroId: "claude-opus-4.5",
    contextWindow: K200, maxOutputTokens: 64_000, nativeThinking: false,
    aliases: ["claude-opus-4-5-20251101", "claude-opus-4-5-latest"] },
  // KRS, AIC; KRS maps every other opus (4, 4.1) here, hence the 4.0/4.1 aliases.
  { name: "claude-opus-4-6", kiroId: "claude-opus-4.6",
    contextWindow: M1, maxOutputTokens: 128_000, nativeThinking: true,
    aliases: ["claude-opus-4-6-latest", "claude-opus-4-1", "claude-opus-4-1-20250805", "claude-opus-4",
      "claude-opus-4-0", "claude-opus-4-20250514", "claude-opus-4-latest"] },
  // AIC; in JW's fallback list. 1M per AIC.
  { name: "claude-opus-4-7", kiroId: "claude-opus-4.7",
    contextWindow: M1, maxOutputTokens: 128_000, nativeThinking: true, aliases: ["claude-opus-4-7-latest"] },
  // AIC only (unconfirmed upstream); kept so the name resolves if the service lists it.
  { name: "claude-opus-4-8", kiroId: "claude-opus-4.8",
    contextWindow: M1, maxOutputTokens: 128_000, nativeThinking: true },
  // Server chooses the model (JW alias "auto-kiro").
  { name: "auto", kiroId: "auto", legacyId: "auto",
    contextWindow: K200, maxOutputTokens: 64_000, nativeThinking: false, aliases: ["auto-kiro"] },
];

const ALL: ModelInfo[] = [];
/** lower-case key → entry: client names, aliases, dotted ids and legacy ids. */
const INDEX = new Map<string, ModelInfo>();

for (const { aliases, ...row } of TABLE) {
  const canonical: ModelInfo = { ...row };
  ALL.push(canonical);
  INDEX.set(row.name, canonical);
  for (const a of aliases ?? []) {
    const alias: ModelInfo = { ...row, name: a, aliasOf: row.name };
    ALL.push(alias);
    INDEX.set(a, alias);
  }
}
// Upstream ids (dotted, legacy enum) need no index of their own: candidates() rewrites them to the
// dashed client names, so "claude-haiku-4.5" lands on claude-haiku-4-5, not on a substitute row.

/** Candidate spellings of one name, most specific first (§5 resolution step 2). */
function candidates(raw: string): string[] {
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

/** Case-insensitive; accepts dotted/dashed/legacy forms, `-latest`, unknown date suffixes. */
export function resolveModel(name: string): ModelInfo | undefined {
  if (typeof name !== "string" || !name.trim()) return undefined;
  for (const c of candidates(name)) {
    const hit = INDEX.get(c);
    if (hit) return hit;
  }
  return fallbackMode === "family" ? familyFallback(name) : undefined;
}

/**
 * Family fallback. Clients name models Kiro does not serve (Claude Code's default is a newer
 * Opus than any Kiro lists); with "family" (the default), an unlisted claude-opus-* /
 * claude-sonnet-* / claude-haiku-* name is served by the newest confirmed model of that family
 * instead of failing every request. "strict" answers such names with not-found. Names outside
 * the three families (gpt-4o, "sonnet") are never guessed.
 */
export type ModelFallbackMode = "family" | "strict";
let fallbackMode: ModelFallbackMode = "family";
let onFallback: ((requested: string, servedBy: string) => void) | undefined;

export function setModelFallback(mode: ModelFallbackMode, notify?: (requested: string, servedBy: string) => void): void {
  fallbackMode = mode;
  onFallback = notify;
}

/** Newest models confirmed by two sources each (§5), per family. */
const FAMILY_DEFAULT: Record<string, string> = { opus: "claude-opus-4-6", sonnet: "claude-sonnet-4-6", haiku: "claude-haiku-4-5" };

function familyFallback(name: string): ModelInfo | undefined {
  const m = /^(?:(?:[a-z]{2}\.)?anthropic[./])?claude-(?:[\d.-]+-)?(opus|sonnet|haiku)(?:[-.][\w.:-]*)?$/i.exec(name.trim());
  if (!m) return undefined;
  const target = INDEX.get(FAMILY_DEFAULT[m[1]!.toLowerCase()]!);
  if (target) onFallback?.(name, target.name);
  return target;
}

/** Whether the client asked for thinking through the model name (KRS: "-thinking" suffix). */
export function modelNameRequestsThinking(name: string): boolean {
  return /-thinking(\[[^\]]*\])?$/i.test(name.trim());
}

/** Every client-facing name (canonical names and aliases), table order. */
export function listModels(): ModelInfo[] {
  return ALL.map((m) => ({ ...m }));
}
