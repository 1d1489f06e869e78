/**
 * kiro-cli SQLite (~/.local/share/kiro-cli/data.sqlite3): table auth_kv, snake_case JSON values. Opened
 * read-only and copied: kiro-cli may rotate its token concurrently, so we never share the row.
 */
import { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fromCredentialObject, isObject, str, type ImportEntry } from "./normalize";
import { reasonText } from "../reasons";

export const KIRO_CLI_TOKEN_KEYS = ["kirocli:external-idp:token", "kirocli:social:token", "kirocli:odic:token", "codewhisperer:odic:token"];
export const KIRO_CLI_REGISTRATION_KEYS = ["kirocli:odic:device-registration", "codewhisperer:odic:device-registration"];

export function defaultKiroCliPath(env: Record<string, string | undefined> = process.env): string {
  return env.KIRO_CLI_DB_PATH || join(homedir(), ".local", "share", "kiro-cli", "data.sqlite3");
}

function readJson(db: Database, table: string, key: string): Record<string, unknown> | undefined {
  try {
    const row = db.query(`SELECT value FROM ${table} WHERE key = ?`).get(key) as { value: string | Uint8Array } | null;
    if (!row) return undefined;
    const text = typeof row.value === "string" ? row.value : new TextDecoder().decode(row.value);
    const v = JSON.parse(text);
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

export function parseKiroCliDb(path: string): ImportEntry[] {
  if (!existsSync(path)) return [{ where: path, skip: reasonText("import.fileNotFound") }];
  let db: Database;
  try {
    db = new Database(path, { readonly: true });
    // kiro-cli may be writing its database right now: wait out its lock instead of failing.
    db.exec("PRAGMA busy_timeout = 5000;");
  } catch (e) {
    return [{ where: path, skip: reasonText("import.sqliteOpen", { upstream: e instanceof Error ? e.message : String(e) }) }];
  }
  try {
    const hasTable = db.query("SELECT name FROM sqlite_master WHERE type='table' AND name='auth_kv'").get();
    if (!hasTable) return [{ where: path, skip: reasonText("import.noAuthTable") }];
    const profileArn = str(readJson(db, "state", "api.codewhisperer.profile")?.arn);
    const registration = KIRO_CLI_REGISTRATION_KEYS.map((k) => readJson(db, "auth_kv", k)).find(Boolean);
    const out: ImportEntry[] = [];
    for (const key of KIRO_CLI_TOKEN_KEYS) {
      const tok = readJson(db, "auth_kv", key);
      if (!tok) continue;
      const where = `${path}#${key}`;
      if (key.includes("external-idp")) {
        out.push({ where, skip: reasonText("import.externalIdp") });
        continue;
      }
      const social = key.includes(":social:");
      const obj: Record<string, unknown> = { ...tok, authMethod: social ? "social" : "idc" };
      if (!social) {
        obj.client_id ??= registration?.client_id ?? registration?.clientId;
        obj.client_secret ??= registration?.client_secret ?? registration?.clientSecret;
      }
      obj.profile_arn ??= profileArn;
      out.push(fromCredentialObject(obj, where, { source: "kiro-cli", sourcePath: path, label: social ? "kiro-cli (social)" : "kiro-cli (IdC)" }));
    }
    if (!out.length) out.push({ where: path, skip: reasonText("import.noCliToken") });
    return out;
  } finally {
    db.close();
  }
}
