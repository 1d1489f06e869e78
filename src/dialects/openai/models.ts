import type { ModelInfo } from "../../core/models";

/** The catalogue lookup (ModelCatalog.find): a name → its entry, family fallback applied. */
export type FindModel = (name: string) => ModelInfo | undefined;

/**
 * GET /v1/models for both APIs on one path: one superset object per
 * model — OpenAI `{id, object, created, owned_by}` plus Anthropic `{type, display_name,
 * created_at}` — inside `{object:"list", data, has_more, first_id, last_id}`. Both SDKs ignore
 * the keys they do not know, so clients that send neither header are served too.
 *
 * The six names of the original product doc come first when served (clients show the list in
 * order), then every other name of the catalogue (ModelCatalog.list(): canonical names, aliases
 * and the models the accounts report).
 */
export const PRODUCT_MODELS = [
  "claude-sonnet-4-5",
  "claude-sonnet-4-5-20250929",
  "claude-sonnet-4-20250514",
  "claude-3-7-sonnet-20250219",
  "claude-3-5-haiku-20241022",
  "claude-haiku-4-5-20251001",
];

/** Models without a date in the name get a fixed, stable timestamp (2025-01-01). */
const UNDATED = Date.UTC(2025, 0, 1);

export type ModelObject = {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
  type: "model";
  display_name: string;
  created_at: string;
  max_input_tokens?: number;
  max_tokens?: number;
};

function releaseDate(id: string): number {
  const m = /-(\d{4})(\d{2})(\d{2})$/.exec(id);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : UNDATED;
}

/** "claude-sonnet-4-5-20250929" → "Claude Sonnet 4.5 (2025-09-29)". */
function displayName(id: string): string {
  const dated = /^(.*)-(\d{4})(\d{2})(\d{2})$/.exec(id);
  const base = (dated ? dated[1]! : id)
    .split("-")
    .reduce<string[]>((acc, w) => {
      const prev = acc[acc.length - 1];
      if (/^\d+$/.test(w) && prev && /^\d+(\.\d+)*$/.test(prev)) acc[acc.length - 1] = `${prev}.${w}`;
      else acc.push(w.charAt(0).toUpperCase() + w.slice(1));
      return acc;
    }, [])
    .join(" ");
  return dated ? `${base} (${dated[2]}-${dated[3]}-${dated[4]})` : base;
}

function modelObject(id: string, find: FindModel): ModelObject {
  const info = find(id);
  const at = releaseDate(id);
  return {
    id,
    object: "model",
    created: Math.floor(at / 1000),
    owned_by: id.toLowerCase().startsWith("claude-") ? "anthropic" : "kiro",
    type: "model",
    display_name: info?.displayName ?? displayName(id),
    created_at: new Date(at).toISOString().replace(".000Z", "Z"),
    ...(info ? { max_input_tokens: info.contextWindow, max_tokens: info.maxOutputTokens } : {}),
  };
}

/** Exactly `names` (the catalogue's), the product's six names first. */
export function modelCatalogue(find: FindModel, names: readonly string[]): ModelObject[] {
  const listed = new Set(names);
  const ids = PRODUCT_MODELS.filter((n) => listed.has(n));
  for (const n of names) if (!ids.includes(n)) ids.push(n);
  return ids.map((id) => modelObject(id, find));
}

export function modelList(find: FindModel, names: readonly string[]) {
  const data = modelCatalogue(find, names);
  return { object: "list" as const, data, has_more: false, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null };
}

/** One model by any name the server accepts (exact id echoed back), or undefined. */
export function findModel(find: FindModel, id: string): ModelObject | undefined {
  return find(id) ? modelObject(id, find) : undefined;
}
