import type { UpstreamErrorClass } from "../../../core/error-table";
import type { ImportFormat } from "../../../pool/import";
import { REASON_TEXTS, type ReasonCode } from "../../../pool/reasons";

/**
 * English texts of the pool's reason codes (src/pool/reasons.ts): exactly what the pool stores, so
 * an English page reads as before. `errclass.*` names an upstream error class inside a reason.
 */
export type ReasonMessages = { [K in ReasonCode as `reason.${K}`]: string } & { [C in UpstreamErrorClass as `errclass.${C}`]: string };

export const enReasons = {
  ...(Object.fromEntries(Object.entries(REASON_TEXTS).map(([k, v]) => [`reason.${k}`, v])) as { [K in ReasonCode as `reason.${K}`]: string }),
  "import.format.kiro2api": "kiro2api KIRO_AUTH_TOKEN",
  "import.format.kam": "Kiro Account Manager export",
  "import.format.kiro-ide": "Kiro IDE kiro-auth-token.json",
  "import.format.kiro-cli": "kiro-cli SQLite store",
  "errclass.expired_token": "expired_token",
  "errclass.dead_refresh_token": "dead_refresh_token",
  "errclass.suspended": "suspended",
  "errclass.account_blocked": "account_blocked",
  "errclass.quota_exhausted": "quota_exhausted",
  "errclass.throttled": "throttled",
  "errclass.model_capacity": "model_capacity",
  "errclass.invalid_model": "invalid_model",
  "errclass.bad_request": "bad_request",
  "errclass.input_too_long": "input_too_long",
  "errclass.forbidden": "forbidden",
  "errclass.endpoint_unavailable": "endpoint_unavailable",
  "errclass.transient": "transient",
} satisfies ReasonMessages & Record<`import.format.${ImportFormat}`, string>;
