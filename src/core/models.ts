/**
 * The model catalogue: client model name → the upstream model that serves it. One per server
 * (`Services.models`), created at boot; requests resolve their model through it exactly once,
 * when they are decoded.
 *
 * It merges the known table (model-table.ts: names, aliases, windows, output caps) with what the
 * accounts report they serve (ListAvailableModels, pushed in through `setServed` by the pool's
 * subscription at boot; the pool persists the lists, so after a restart the last known lists
 * apply from the first request):
 *  - before any list is known: the table as it is (and family fallback to the table's newest
 *    confirmed model of each family);
 *  - once lists are known: only table names whose upstream id some account serves, plus every
 *    reported model — listed under its upstream id and, for Claude's dotted ids, the client-style
 *    name too (`claude-opus-4.5` and `claude-opus-4-5`). Windows and output caps come from the
 *    upstream's token limits where it gives them. A Claude family name no account serves is served
 *    by the newest served model of that family (`family` mode, the default); `strict` refuses it.
 * `list()` is what /v1/models shows and what every "valid models" message names.
 */
import type { ResolvedModel } from "./canonical";
import { TurnError } from "./errors";
import { K200, candidates, exactEntry, listModels, unknownModelMessage, type ModelInfo } from "./model-table";

export { listModels, validModelNames, unknownModelMessage, servableNamePredicate, type ModelInfo } from "./model-table";

/** One model as the accounts report it (merged over accounts: the largest limits win). */
export type ServedModel = {
  /** Upstream model id, e.g. "claude-sonnet-4.5", "deepseek-3.2", "auto". */
  id: string;
  /** The service's display name, when given. */
  displayName?: string;
  maxInputTokens?: number;
  maxOutputTokens?: number;
};

/**
 * Family fallback. Clients name models Kiro does not serve (Claude Code's default is a newer
 * Opus than any Kiro lists); with "family" (the default), a claude-opus-* / claude-sonnet-* /
 * claude-haiku-* name that no account serves is served by the newest served model of that family
 * instead of failing every request. "strict" answers such names with not-found. Names outside
 * the three families (gpt-4o, "sonnet") are never guessed.
 */
export type ModelFallbackMode = "family" | "strict";

type Family = "opus" | "sonnet" | "haiku";

/** Newest models the upstream is known to serve, per family (used while no list is known). */
const FAMILY_DEFAULT: Readonly<Record<Family, string>> = { opus: "claude-opus-4-6", sonnet: "claude-sonnet-4-6", haiku: "claude-haiku-4-5" };

/** Output cap of a reported model whose limits the service does not give. */
const DEFAULT_OUTPUT = 32_000;

const FAMILY_NAME_RE = /^(?:(?:[a-z]{2}\.)?anthropic[./])?claude-(?:[\d.-]+-)?(opus|sonnet|haiku)(?:[-.][\w.:-]*)?$/i;
/** A Claude upstream id with its family and version: claude-opus-4.5, claude-sonnet-4, claude-haiku-4.5. */
const CLAUDE_ID_RE = /^claude-(opus|sonnet|haiku)-(\d+)(?:\.(\d+))?$/;

export type ModelCatalogOptions = {
  fallback: ModelFallbackMode;
  /** Told when a name is served by another model of its family (boot logs it once per name). */
  onFallback?: (requested: string, servedBy: string) => void;
};

/** What the catalogue offers for one state of the accounts' lists. */
type View = {
  list: ModelInfo[];
  /** lower-case name → entry. */
  index: Map<string, ModelInfo>;
  /** Newest served entry per family (table defaults while no list is known). */
  newest: Partial<Record<Family, ModelInfo>>;
  /** Whether the index holds every table name (no list known). */
  tableOnly: boolean;
};

/** The client-style name of a dotted upstream id: claude-opus-4.5 → claude-opus-4-5. */
export function clientStyleName(upstreamId: string): string {
  return upstreamId.toLowerCase().replace(/(\d)\.(\d)/g, "$1-$2");
}

function claudeVersion(upstreamId: string): { family: Family; major: number; minor: number } | undefined {
  const m = CLAUDE_ID_RE.exec(upstreamId.toLowerCase());
  return m ? { family: m[1] as Family, major: Number(m[2]), minor: Number(m[3] ?? 0) } : undefined;
}

function positive(n: number | undefined): number | undefined {
  return typeof n === "number" && Number.isFinite(n) && n > 0 ? Math.floor(n) : undefined;
}

function tableView(): View {
  const list = listModels();
  const index = new Map<string, ModelInfo>();
  for (const m of list) index.set(m.name.toLowerCase(), m);
  const newest: View["newest"] = {};
  for (const f of Object.keys(FAMILY_DEFAULT) as Family[]) newest[f] = index.get(FAMILY_DEFAULT[f]);
  return { list, index, newest, tableOnly: true };
}

/** The view for known lists: served table names, then every reported model not in the table. */
function servedView(served: ReadonlyMap<string, ServedModel>): View {
  const list: ModelInfo[] = [];
  const index = new Map<string, ModelInfo>();
  const add = (m: ModelInfo) => {
    const key = m.name.toLowerCase();
    if (index.has(key)) return;
    index.set(key, m);
    list.push(m);
  };
  const limits = (m: ModelInfo, s: ServedModel): ModelInfo => ({
    ...m,
    contextWindow: positive(s.maxInputTokens) ?? m.contextWindow,
    maxOutputTokens: positive(s.maxOutputTokens) ?? m.maxOutputTokens,
  });
  // Table names whose model some account serves, in table order, with the upstream's limits.
  for (const m of listModels()) {
    const s = served.get(m.upstreamId);
    if (s) add(limits(m, s));
  }
  // Every reported model: under its upstream id, and (Claude) under the client-style name. A
  // client-style name the table gives to a substitute (claude-opus-4-1 → Opus 4.6) goes to the
  // reported model itself.
  const replace = (old: ModelInfo, m: ModelInfo) => {
    index.set(m.name.toLowerCase(), m);
    list[list.indexOf(old)] = m;
  };
  /** Reported id → the canonical entry serving it (the family fallback's candidates). */
  const servedBy = new Map<string, ModelInfo>();
  for (const s of served.values()) {
    const v = claudeVersion(s.id);
    const styled = clientStyleName(s.id);
    const own = [index.get(styled), index.get(s.id.toLowerCase())].find((m) => m?.upstreamId === s.id);
    if (own) {
      const canonical = own.aliasOf ?? own.name;
      servedBy.set(s.id, index.get(canonical.toLowerCase()) ?? own);
      if (s.id.toLowerCase() !== canonical.toLowerCase()) add({ ...own, name: s.id, aliasOf: canonical });
      continue;
    }
    const base: ModelInfo = {
      name: v ? styled : s.id,
      upstreamId: s.id,
      ...(s.displayName ? { displayName: s.displayName } : {}),
      contextWindow: positive(s.maxInputTokens) ?? K200,
      maxOutputTokens: positive(s.maxOutputTokens) ?? DEFAULT_OUTPUT,
      // Adaptive thinking exists from the Claude 4.6 generation on.
      nativeThinking: !!v && (v.major > 4 || (v.major === 4 && v.minor >= 6)),
    };
    const taken = index.get(base.name.toLowerCase());
    if (taken) replace(taken, base);
    else add(base);
    servedBy.set(s.id, base);
    if (base.name !== s.id) add({ ...base, name: s.id, aliasOf: base.name });
  }
  const newest: View["newest"] = {};
  const best: Partial<Record<Family, number>> = {};
  for (const [id, entry] of servedBy) {
    const v = claudeVersion(id);
    if (!v) continue;
    const rank = v.major * 1000 + v.minor;
    if ((best[v.family] ?? -1) >= rank) continue;
    best[v.family] = rank;
    newest[v.family] = entry;
  }
  return { list, index, newest, tableOnly: false };
}

/** Merges per-account reports: one entry per upstream id, the largest limits any account gives. */
export function mergeServed(lists: Iterable<readonly ServedModel[]>): ServedModel[] {
  const out = new Map<string, ServedModel>();
  for (const l of lists) {
    for (const m of l) {
      const prev = out.get(m.id);
      if (!prev) {
        out.set(m.id, { ...m });
        continue;
      }
      prev.displayName ??= m.displayName;
      prev.maxInputTokens = Math.max(prev.maxInputTokens ?? 0, m.maxInputTokens ?? 0) || undefined;
      prev.maxOutputTokens = Math.max(prev.maxOutputTokens ?? 0, m.maxOutputTokens ?? 0) || undefined;
    }
  }
  return [...out.values()];
}

export class ModelCatalog {
  readonly fallback: ModelFallbackMode;
  private readonly onFallback?: (requested: string, servedBy: string) => void;
  private view: View = tableView();
  private served?: ReadonlyMap<string, ServedModel>;

  constructor(opts: ModelCatalogOptions = { fallback: "family" }) {
    this.fallback = opts.fallback;
    this.onFallback = opts.onFallback;
  }

  /**
   * What the accounts serve now (undefined: no account has reported a list, the table applies).
   * Called by the pool's subscription at boot and whenever a list or an account's usability changes.
   */
  setServed(models: readonly ServedModel[] | undefined): void {
    if (!models) {
      this.served = undefined;
      this.view = tableView();
      return;
    }
    this.served = new Map(models.map((m) => [m.id, m]));
    this.view = servedView(this.served);
  }

  /** Whether the accounts' lists are known (else the table is used as it is). */
  get listsKnown(): boolean {
    return this.served !== undefined;
  }

  /** The entry serving `name` (family fallback applied), or undefined. */
  find(name: string): ModelInfo | undefined {
    if (typeof name !== "string" || !name.trim()) return undefined;
    return this.exact(name) ?? (this.fallback === "family" ? this.familyFallback(name) : undefined);
  }

  /** `name` → the model that serves it, or TurnError("not_found", …, {param: "model"}) naming what is available. */
  resolve(name: string): ResolvedModel {
    const m = this.find(name);
    if (!m) throw this.notFound(`model '${name}' is not available`);
    const out: ResolvedModel = {
      requested: name,
      name: m.aliasOf ?? m.name,
      upstreamId: m.upstreamId,
      contextWindow: m.contextWindow,
      maxOutputTokens: m.maxOutputTokens,
      nativeThinking: m.nativeThinking,
    };
    if (m.legacyId) out.legacyId = m.legacyId;
    return out;
  }

  /** Every client-facing name (canonical names and aliases): what /v1/models lists. */
  list(): ModelInfo[] {
    return this.view.list.map((m) => ({ ...m }));
  }

  /** The names of `list()`, for "valid models" messages. */
  names(): string[] {
    return this.view.list.map((m) => m.name);
  }

  /** The not-found error naming what is available (`what` says what is missing). */
  notFound(what: string): TurnError {
    return new TurnError("not_found", unknownModelMessage(what, this.names()), { param: "model" });
  }

  private exact(name: string): ModelInfo | undefined {
    if (this.view.tableOnly) return exactEntry(name);
    for (const c of candidates(name)) {
      const hit = this.view.index.get(c);
      if (hit) return hit;
    }
    return undefined;
  }

  private familyFallback(name: string): ModelInfo | undefined {
    const m = FAMILY_NAME_RE.exec(name.trim().replace(/\[(1m|200k)\]$/i, ""));
    if (!m) return undefined;
    const target = this.view.newest[m[1]!.toLowerCase() as Family];
    if (target) this.onFallback?.(name, target.name);
    return target;
  }
}
