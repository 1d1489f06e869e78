/**
 * Import entry points: detect a file's format, parse it into entries, upsert each into the pool
 * and report per entry (added / updated / skipped + why).
 */
import { existsSync, readFileSync } from "node:fs";
import type { AccountPool } from "../pool";
import type { UpsertResult } from "../types";
import { parseKam } from "./kam";
import { parseKiro2ApiEntries } from "./kiro2api";
import { parseKiroCliDb } from "./kiro-cli";
import { parseKiroIdeObject } from "./kiro-ide";
import { isObject, str, type ImportEntry } from "./normalize";
import { reasonText } from "../reasons";

export type ImportFormat = "kiro-cli" | "kiro-ide" | "kam" | "kiro2api";
export type ImportReportLine = { where: string; outcome: UpsertResult["outcome"]; id?: string; label?: string; why?: string };

function looksLikeIdeCache(o: Record<string, unknown>): boolean {
  return !!(str(o.clientIdHash) || (str(o.accessToken) && o.expiresAt !== undefined && (str(o.provider) || str(o.authMethod))));
}

/** The JSON formats, told apart the same way for files (CLI) and pasted text (panel). */
export function detectJsonFormat(doc: unknown): Exclude<ImportFormat, "kiro-cli"> {
  const items = Array.isArray(doc) ? doc : isObject(doc) && Array.isArray(doc.accounts) ? doc.accounts : [doc];
  if (items.some((x) => isObject(x) && "auth" in x)) return "kiro2api";
  if (isObject(doc) && !Array.isArray(doc.accounts) && !isObject(doc.credentials) && looksLikeIdeCache(doc)) return "kiro-ide";
  return "kam";
}

export function detectFormat(path: string): { format: ImportFormat; doc?: unknown } | { error: string } {
  if (!existsSync(path)) return { error: reasonText("import.pathNotFound", { path }) };
  const bytes = readFileSync(path);
  if (bytes.subarray(0, 16).toString("latin1") === "SQLite format 3\0") return { format: "kiro-cli" };
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString("utf8"));
  } catch {
    return { error: reasonText("import.pathUnreadable", { path }) };
  }
  return { format: detectJsonFormat(doc), doc };
}

export const FORMAT_NAMES: Record<ImportFormat, string> = {
  "kiro2api": "kiro2api KIRO_AUTH_TOKEN",
  "kam": "Kiro Account Manager export",
  "kiro-ide": "Kiro IDE kiro-auth-token.json",
  "kiro-cli": "kiro-cli SQLite store",
};

/**
 * Pasted or uploaded JSON (the panel): the same detection and parsers as `kiro-server import FILE`.
 * `name` is only where entries came from in the report: it is never a path, so a pasted IDE token
 * gets no sourcePath (the IDE file follower only follows files it was imported from).
 */
export function parseImportText(text: string, name = "pasted JSON"): { format: string; formatId: ImportFormat; entries: ImportEntry[] } | { error: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { error: reasonText("import.notJson") };
  }
  const items = Array.isArray(doc) ? doc : isObject(doc) && Array.isArray(doc.accounts) ? doc.accounts : [doc];
  if (!items.length) return { error: reasonText("import.noAccounts") };
  const format = detectJsonFormat(doc);
  switch (format) {
    case "kiro2api":
      return { format: FORMAT_NAMES[format], formatId: format, entries: parseKiro2ApiEntries(doc, name).map((e) => withoutPath(e)) };
    case "kiro-ide": {
      const o = doc as Record<string, unknown>;
      // The IDE keeps an IdC client registration in a second file that pasted text cannot point at.
      if (str(o.clientIdHash) && !str(o.clientId)) {
        return { format: FORMAT_NAMES[format], formatId: format, entries: [{ where: name, skip: reasonText("import.pastedIdc") }] };
      }
      return { format: FORMAT_NAMES[format], formatId: format, entries: [withoutPath(parseKiroIdeObject(o, name))] };
    }
    default:
      return { format: FORMAT_NAMES[format], formatId: format, entries: parseKam(doc, name).map((e) => withoutPath(e)) };
  }
}

function withoutPath(e: ImportEntry): ImportEntry {
  if (e.input) e.input = { ...e.input, sourcePath: undefined };
  return e;
}

/** The name a report row shows for an entry: its label or email when known, else where it came from. */
export function entryName(e: ImportEntry): string {
  return e.input?.label || e.input?.email || e.where;
}

export function parseImportFile(path: string): { format?: ImportFormat; entries: ImportEntry[] } {
  const d = detectFormat(path);
  if ("error" in d) return { entries: [{ where: path, skip: d.error }] };
  switch (d.format) {
    case "kiro-cli":
      return { format: d.format, entries: parseKiroCliDb(path) };
    case "kiro-ide":
      return { format: d.format, entries: [parseKiroIdeObject(d.doc as Record<string, unknown>, path)] };
    case "kiro2api":
      return { format: d.format, entries: parseKiro2ApiEntries(d.doc, path) };
    default:
      return { format: d.format, entries: parseKam(d.doc, path) };
  }
}

/** Upserts entries one by one (each its own short transaction) and reports each. */
export async function importEntries(pool: AccountPool, entries: ImportEntry[]): Promise<ImportReportLine[]> {
  const out: ImportReportLine[] = [];
  for (const e of entries) {
    if (!e.input) {
      out.push({ where: e.where, outcome: "skipped", why: e.skip ?? reasonText("import.unreadable") });
      continue;
    }
    try {
      const r = await pool.upsert(e.input);
      out.push({ where: e.where, outcome: r.outcome, id: r.id || undefined, label: r.id ? pool.get(r.id)?.label : undefined, why: r.why });
    } catch (err) {
      out.push({ where: e.where, outcome: "skipped", why: reasonText("import.storeError", { upstream: err instanceof Error ? err.message : String(err) }) });
    }
  }
  return out;
}

export function summarize(lines: ImportReportLine[]): string {
  const n = (o: string) => lines.filter((l) => l.outcome === o).length;
  return `${n("added")} added, ${n("updated")} updated, ${n("skipped")} skipped`;
}

export function formatLine(l: ImportReportLine): string {
  return `${l.outcome.padEnd(7)} ${l.where}${l.label ? ` → ${l.label}` : ""}${l.why ? ` (${l.why})` : ""}`;
}
