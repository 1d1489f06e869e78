/**
 * Kiro Account Manager (KAM) export: {version, accounts:[…]}, a bare array or a
 * single account; accounts nested ({credentials:{…}}) or flat (KAM ≥ 1.8.3). status "error" is
 * skipped; kind is IdC iff clientId and clientSecret are both present.
 */
import { fromCredentialObject, isObject, proxyOf, str, type ImportEntry } from "./normalize";
import { reasonText } from "../reasons";

export function kamAccounts(doc: unknown): unknown[] | undefined {
  if (Array.isArray(doc)) return doc;
  if (isObject(doc) && Array.isArray(doc.accounts)) return doc.accounts;
  if (isObject(doc)) return [doc];
  return undefined;
}

export function parseKamAccount(a: unknown, where: string, sourcePath?: string): ImportEntry {
  if (!isObject(a)) return { where, skip: reasonText("import.notObject") };
  if (str(a.status)?.toLowerCase() === "error") return { where, skip: reasonText("import.statusError") };
  const nested = isObject(a.credentials) ? a.credentials : undefined;
  const cred: Record<string, unknown> = nested ? { ...nested } : { ...a };
  // Kind rule for KAM: both client fields → IdC, else social, whatever authMethod says.
  const hasClient = !!(str(cred.clientId) && str(cred.clientSecret));
  const method = str(cred.authMethod)?.toLowerCase();
  cred.authMethod = method === "api_key" || method === "apikey" ? method : hasClient ? "idc" : "social";
  const entry = fromCredentialObject(cred, where, {
    source: "kam",
    sourcePath,
    email: str(a.email),
    userId: str(a.userId),
    label: str(a.label) ?? str(a.nickname) ?? str(cred.label) ?? str(a.email),
    machineId: str(a.machineId) ?? str(cred.machineId),
    proxy: proxyOf(a) ?? proxyOf(cred),
  });
  return entry;
}

export function parseKam(doc: unknown, sourcePath?: string): ImportEntry[] {
  const list = kamAccounts(doc);
  if (!list) return [{ where: sourcePath ?? "input", skip: reasonText("import.notKam") }];
  return list.map((a, i) => parseKamAccount(a, `accounts[${i}]`, sourcePath));
}
