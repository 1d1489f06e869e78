/**
 * Shared helpers for the import parsers: one credential object (camelCase or snake_case, as the
 * various tools write it) → AccountInput, or a reason to skip it.
 */
import type { AccountInput, AccountKind } from "../types";
import { reasonText } from "../reasons";

export type ImportEntry = {
  /** Where the entry came from, for the per-entry report ("accounts[3]", "kirocli:social:token"). */
  where: string;
  input?: AccountInput;
  skip?: string;
};

type Json = Record<string, unknown>;

export function str(v: unknown): string | undefined {
  return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
}

export function isObject(v: unknown): v is Json {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

/** ISO string (nanosecond fractions trimmed, kiro-cli) or epoch s/ms → epoch ms. */
export function parseTime(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return v < 1e11 ? v * 1000 : v;
  const s = str(v);
  if (!s) return undefined;
  if (/^\d+(\.\d+)?$/.test(s)) return parseTime(Number(s));
  const trimmed = s.replace(/(\.\d{3})\d+/, "$1");
  const t = Date.parse(trimmed);
  return Number.isNaN(t) ? undefined : t;
}

/** Per-account upstream proxy: `proxy` or `proxyUrl` (kiro2api, Kiro Account Manager). The pool validates it. */
export function proxyOf(o: Json): string | undefined {
  return str(o.proxy) ?? str(o.proxyUrl) ?? str(o.proxy_url);
}

/** Kind from an explicit method name, else IdC iff both client fields are present (the rule kiro.rs, the Rust Kiro proxy, applies). */
export function kindOf(method: string | undefined, clientId?: string, clientSecret?: string): AccountKind | { skip: string } {
  const m = method?.toLowerCase().replace(/[\s_-]/g, "");
  if (m === "social" || m === "google" || m === "github") return "social";
  if (m === "idc" || m === "builderid" || m === "iam" || m === "enterprise" || m === "awsidc") return "idc";
  if (m === "apikey") return "api_key";
  if (m === "externalidp") return { skip: reasonText("import.externalIdp") };
  if (m) return { skip: reasonText("import.unknownMethod", { method: method! }) };
  return clientId && clientSecret ? "idc" : "social";
}

/** A generic credential object (kiro.rs credentials.json, flat Kiro Account Manager export, AIClient-2-API output, IDE cache). */
export function fromCredentialObject(o: Json, where: string, extra: Partial<AccountInput> = {}): ImportEntry {
  const refreshToken = str(o.refreshToken) ?? str(o.refresh_token) ?? (str(o.kiroApiKey) ?? str(o.apiKey));
  if (!refreshToken) return { where, skip: reasonText("import.noRefreshToken") };
  const clientId = str(o.clientId) ?? str(o.client_id);
  const clientSecret = str(o.clientSecret) ?? str(o.client_secret);
  const apiKey = !str(o.refreshToken) && !str(o.refresh_token);
  const kind = apiKey ? "api_key" : kindOf(str(o.authMethod) ?? str(o.auth_method) ?? str(o.auth), clientId, clientSecret);
  if (typeof kind === "object") return { where, skip: kind.skip };
  const region = str(o.region) ?? str(o.idcRegion) ?? str(o.authRegion);
  return {
    where,
    input: {
      kind,
      refreshToken,
      clientId,
      clientSecret,
      label: str(o.label) ?? str(o.nickname) ?? str(o.description) ?? str(o.name),
      email: str(o.email),
      userId: str(o.userId),
      region: str(o.apiRegion) ?? region,
      authRegion: str(o.authRegion) ?? region,
      profileArn: str(o.profileArn) ?? str(o.profile_arn),
      machineId: str(o.machineId),
      accessToken: str(o.accessToken) ?? str(o.access_token),
      expiresAt: parseTime(o.expiresAt ?? o.expires_at),
      disabled: o.disabled === true,
      priority: typeof o.priority === "number" ? o.priority : undefined,
      proxy: proxyOf(o),
      ...extra,
    },
  };
}
