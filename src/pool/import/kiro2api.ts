/**
 * kiro2api's KIRO_AUTH_TOKEN: a JSON array (or one object) of
 * {auth: "Social" | "IdC", refreshToken, clientId?, clientSecret?, disabled?, description?}, or a
 * path to a file holding that JSON. Unlike kiro2api-deno we keep IdC client credentials.
 */
import { existsSync, readFileSync } from "node:fs";
import { isObject, kindOf, proxyOf, str, type ImportEntry } from "./normalize";
import { reasonText } from "../reasons";

export function parseKiro2ApiEntries(doc: unknown, sourcePath?: string): ImportEntry[] {
  const list = Array.isArray(doc) ? doc : isObject(doc) ? [doc] : undefined;
  if (!list) return [{ where: sourcePath ?? "KIRO_AUTH_TOKEN", skip: reasonText("import.expectedArray") }];
  return list.map((e, i): ImportEntry => {
    const where = `[${i}]`;
    if (!isObject(e)) return { where, skip: reasonText("import.notObject") };
    const refreshToken = str(e.refreshToken);
    if (!refreshToken) return { where, skip: reasonText("import.noRefreshToken") };
    const auth = str(e.auth) ?? "Social";
    const kind = kindOf(auth);
    if (typeof kind === "object") return { where, skip: kind.skip };
    return {
      where,
      input: {
        kind,
        refreshToken,
        clientId: str(e.clientId),
        clientSecret: str(e.clientSecret),
        label: str(e.description),
        disabled: e.disabled === true,
        region: str(e.region),
        proxy: proxyOf(e),
        source: "kiro2api",
        sourcePath,
      },
    };
  });
}

/** KIRO_AUTH_TOKEN value: inline JSON, or a path to a JSON file. */
export function parseKiroAuthTokenEnv(value: string): ImportEntry[] {
  const v = value.trim();
  if (v.startsWith("[") || v.startsWith("{")) {
    try {
      return parseKiro2ApiEntries(JSON.parse(v), "KIRO_AUTH_TOKEN");
    } catch {
      return [{ where: "KIRO_AUTH_TOKEN", skip: reasonText("import.notJson") }];
    }
  }
  if (!existsSync(v)) return [{ where: "KIRO_AUTH_TOKEN", skip: reasonText("import.notJsonNorPath") }];
  try {
    return parseKiro2ApiEntries(JSON.parse(readFileSync(v, "utf8")), v);
  } catch {
    return [{ where: v, skip: reasonText("import.fileNotJson") }];
  }
}
