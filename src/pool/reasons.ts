/**
 * Reason codes: the English texts the pool writes about an account or an imported entry (state
 * reasons, last errors, import and upsert report rows), each with a stable code and parameters.
 * The English text stays what is stored, logged and returned by the API and CLI; the code is
 * recovered from it exactly (`reasonOf`), so the panel can show the message in the viewer's
 * language (catalogue keys `reason.<code>`) and rows stored before codes existed read the same.
 *
 * Parameters: `n` is a count, `cls` an upstream error class (translated by the panel), every other
 * one is quoted as is (an upstream's own message, a file name, a date, an auth method).
 */
import { UPSTREAM_ERROR_CLASSES, type UpstreamErrorClass } from "../core/error-table";

export const REASON_TEXTS = {
  // Account state reasons (failover.ts, outcomes.ts, quota.ts, pool.ts).
  "state.throttled": "throttled ({detail})",
  "state.abuse": "abuse detection: Kiro reported suspicious activity (429)",
  "state.quotaExhausted": "quota exhausted ({detail})",
  "state.noCredits": "no credits left",
  "state.refreshRejected": "refresh token rejected",
  "state.reauth": "re-login required: {upstream}",
  "state.suspended": "suspended: {upstream}",
  "state.blocked": "blocked: {upstream}",
  "state.autoDisabled": "auto-disabled: {n} consecutive failures (last: {cls})",
  "state.byOperator": "disabled by operator",
  // Errors shown on an account: a failed background refresh, a failed request, a failed action.
  "error.refresh": "refresh: {cls}: {upstream}",
  "error.upstream": "{cls}: {upstream}",
  // Import entries the parsers could not read (src/pool/import).
  "import.noRefreshToken": "no refreshToken",
  "import.externalIdp": "external IdP logins are not supported",
  "import.unknownMethod": "unknown auth method \"{method}\"",
  "import.notObject": "not an object",
  "import.expectedObject": "expected a JSON object",
  "import.expectedArray": "expected a JSON array of accounts",
  "import.notJson": "not valid JSON",
  "import.fileNotJson": "file is not valid JSON",
  "import.noAccounts": "the JSON holds no accounts",
  "import.fileNotFound": "file not found",
  "import.pathNotFound": "{path}: file not found",
  "import.pathUnreadable": "{path}: neither JSON nor a SQLite database",
  "import.notJsonNorPath": "neither JSON nor an existing file path",
  "import.statusError": "status is \"error\" in the export",
  "import.notKam": "not a Kiro Account Manager export",
  "import.sqliteOpen": "cannot open SQLite file: {upstream}",
  "import.noAuthTable": "no auth_kv table (not a kiro-cli database)",
  "import.noCliToken": "no token in auth_kv (log in with kiro-cli first)",
  "import.regMissing": "client registration {file} not found next to the token file",
  "import.regNotObject": "client registration {file} is not an object",
  "import.regExpired": "client registration {file} expired at {at} (log in again in the IDE)",
  "import.regNotJson": "client registration {file} is not valid JSON",
  "import.noClientIdHash": "IdC token without clientIdHash: cannot find the client registration",
  "import.pastedIdc": "IdC token without its client registration (clientId/clientSecret): use Add account → IdC",
  "import.unreadable": "unreadable entry",
  "import.storeError": "store error: {upstream}",
  // What the pool answered to an upsert (identity.ts).
  "upsert.noToken": "no refresh token",
  "upsert.truncated": "refresh token looks truncated (too short or contains '...')",
  "upsert.idcNoClient": "IdC account without clientId/clientSecret cannot refresh (import the client registration too)",
  "upsert.badProxy": "proxy is not an http(s) URL (e.g. http://user:pass@host:port)",
  "upsert.replacementFailed": "a different token for {who} did not refresh ({cls}: {upstream}); the stored token is kept",
  "upsert.rotated": "older copy of a token this account has since rotated",
  "upsert.unchanged": "already present, unchanged",
  "upsert.removed": "account was removed meanwhile",
  "upsert.newTokenVerified": "new refresh token for a known account (verified)",
  "upsert.newToken": "new refresh token for a known account",
  "upsert.details": "details updated",
  "upsert.notTaken": "the pool did not take the account",
  // Device sign-in and bulk actions (src/panel).
  "device.noRefreshToken": "the token answer has no refreshToken",
  "job.gone": "gone",
  "account.missing": "no account {id}",
} as const;

export type ReasonCode = keyof typeof REASON_TEXTS;
export type ReasonParams = Record<string, string | number>;
export type Reason = { code: ReasonCode; params: ReasonParams; text: string };

/** The English text of a reason (what is stored and logged). */
export function reasonText(code: ReasonCode, params: ReasonParams = {}): string {
  return REASON_TEXTS[code].replace(/\{(\w+)\}/g, (m, k: string) => (k in params ? String(params[k]) : m));
}

const CLASSES: ReadonlySet<string> = new Set(UPSTREAM_ERROR_CLASSES);
export const isErrorClass = (v: string): v is UpstreamErrorClass => CLASSES.has(v);

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const PARAM_PATTERN: Record<string, string> = { n: "(\\d+)", cls: `(${UPSTREAM_ERROR_CLASSES.join("|")})` };

/** Each template as an anchored pattern; more specific templates come first (table order). */
const MATCHERS = (Object.entries(REASON_TEXTS) as Array<[ReasonCode, string]>).map(([code, template]) => {
  const names: string[] = [];
  const source = template.split(/(\{\w+\})/).map((part) => {
    const m = /^\{(\w+)\}$/.exec(part);
    if (!m) return escape(part);
    names.push(m[1]!);
    return PARAM_PATTERN[m[1]!] ?? "([\\s\\S]*?)";
  }).join("");
  return { code, names, re: new RegExp(`^${source}$`) };
});

/** The code and parameters of a text the pool wrote, or undefined for any other text (shown as is). */
export function reasonOf(text: string | null | undefined): Reason | undefined {
  if (!text) return undefined;
  for (const { code, names, re } of MATCHERS) {
    const m = re.exec(text);
    if (!m) continue;
    const params: ReasonParams = {};
    names.forEach((name, i) => { params[name] = name === "n" ? Number(m[i + 1]) : m[i + 1]!; });
    return { code, params, text };
  }
  return undefined;
}
