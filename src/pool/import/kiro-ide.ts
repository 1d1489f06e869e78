/**
 * Kiro IDE cache: ~/.aws/sso/cache/kiro-auth-token.json, plus for IdC the
 * client registration ~/.aws/sso/cache/{clientIdHash}.json (looked up by hash, not by merging
 * every file in the directory, as the AIClient-2-API proxy does — that can pick the wrong registration).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { homedir } from "node:os";
import { fromCredentialObject, isObject, parseTime, str, type ImportEntry } from "./normalize";
import { reasonText } from "../reasons";

export function defaultKiroIdePath(env: Record<string, string | undefined> = process.env): string {
  return env.KIRO_IDE_TOKEN_PATH || join(homedir(), ".aws", "sso", "cache", "kiro-auth-token.json");
}

export function parseKiroIdeCache(path: string): ImportEntry[] {
  if (!existsSync(path)) return [{ where: path, skip: reasonText("import.fileNotFound") }];
  let o: unknown;
  try {
    o = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return [{ where: path, skip: reasonText("import.notJson") }];
  }
  if (!isObject(o)) return [{ where: path, skip: reasonText("import.expectedObject") }];
  return [parseKiroIdeObject(o, path)];
}

export function parseKiroIdeObject(o: Record<string, unknown>, path: string): ImportEntry {
  const merged: Record<string, unknown> = { ...o };
  const hash = str(o.clientIdHash);
  const method = str(o.authMethod)?.toLowerCase();
  if (hash && !str(o.clientId)) {
    const regPath = join(dirname(path), `${hash}.json`);
    if (!existsSync(regPath)) return { where: path, skip: reasonText("import.regMissing", { file: `${hash}.json` }) };
    try {
      const reg = JSON.parse(readFileSync(regPath, "utf8"));
      if (!isObject(reg)) return { where: path, skip: reasonText("import.regNotObject", { file: `${hash}.json` }) };
      const regExpires = parseTime(reg.expiresAt);
      if (regExpires !== undefined && regExpires <= Date.now()) {
        return { where: path, skip: reasonText("import.regExpired", { file: `${hash}.json`, at: new Date(regExpires).toISOString() }) };
      }
      merged.clientId = reg.clientId;
      merged.clientSecret = reg.clientSecret;
    } catch {
      return { where: path, skip: reasonText("import.regNotJson", { file: `${hash}.json` }) };
    }
  } else if (method === "idc" && !str(o.clientId)) {
    return { where: path, skip: reasonText("import.noClientIdHash") };
  }
  const provider = str(o.provider);
  const entry = fromCredentialObject(merged, path, { source: "kiro-ide", sourcePath: path });
  if (entry.input && !entry.input.label && provider) entry.input.label = `Kiro IDE (${provider})`;
  return entry;
}
