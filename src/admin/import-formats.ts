import { parseKam } from "../pool/import/kam";
import { parseKiro2ApiEntries } from "../pool/import/kiro2api";
import { parseKiroIdeObject } from "../pool/import/kiro-ide";
import { isObject, str, type ImportEntry } from "../pool/import/normalize";

/**
 * Pasted or uploaded JSON → import entries, using the pool's own parsers (src/pool/import) so the
 * panel and `kiro-server import` accept exactly the same files: a kiro2api `KIRO_AUTH_TOKEN` array,
 * a Kiro Account Manager export, or the Kiro IDE's kiro-auth-token.json.
 */
export type ImportParse = { format: string; entries: ImportEntry[] } | { error: string };

const FORMAT_NAMES = { kiro2api: "kiro2api KIRO_AUTH_TOKEN", kam: "Kiro Account Manager export", ide: "Kiro IDE kiro-auth-token.json" };

export function parseImportText(text: string, name = "pasted JSON"): ImportParse {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { error: "not valid JSON" };
  }
  const items = Array.isArray(doc) ? doc : isObject(doc) && Array.isArray(doc.accounts) ? doc.accounts : [doc];
  if (!items.length) return { error: "the JSON holds no accounts" };
  if (items.some((x) => isObject(x) && "auth" in x)) return { format: FORMAT_NAMES.kiro2api, entries: parseKiro2ApiEntries(doc, name) };
  if (isObject(doc) && !Array.isArray(doc.accounts) && (str(doc.clientIdHash) || (str(doc.refreshToken) && (str(doc.provider) || str(doc.authMethod)) && !isObject(doc.credentials)))) {
    // The IDE keeps an IdC client registration in a second file; a pasted token cannot point at it.
    if (str(doc.clientIdHash) && !str(doc.clientId)) {
      return { format: FORMAT_NAMES.ide, entries: [{ where: name, skip: "IdC token without its client registration (clientId/clientSecret): use Add account → IdC" }] };
    }
    return { format: FORMAT_NAMES.ide, entries: [parseKiroIdeObject(doc, name)] };
  }
  return { format: FORMAT_NAMES.kam, entries: parseKam(doc, name) };
}

/** The name a report row shows for an entry: its label or email when known, else where it came from. */
export function entryName(e: ImportEntry): string {
  return e.input?.label || e.input?.email || e.where;
}
