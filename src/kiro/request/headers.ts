import { createHash, randomUUID } from "node:crypto";
import os from "node:os";

/**
 * Request headers shaped like the Kiro IDE's (docs/upstream.md, Request building rules). The upstream is not known to validate
 * the UA strings, but sending the IDE's shape keeps kiro-server indistinguishable from one IDE
 * install per account (the machine id is per account, never shared across accounts).
 */
export type KiroAuthKind = "social" | "idc" | "api_key";

export type KiroHeaderInput = {
  accessToken: string;
  machineId: string;
  authKind: KiroAuthKind;
  /** uuid4 per logical request (same across retries of that request). */
  invocationId?: string;
  /** 1-based attempt number. */
  attempt?: number;
  /** SDK default is 3. */
  maxAttempts?: number;
  /** Defaults to "vibe" (what kiro.rs, AIClient-2-API and kiro-gateway send). */
  agentMode?: string;
  kiroVersion?: string;
};

export const DEFAULT_KIRO_VERSION = "0.11.107";
export const SDK_VERSION = "1.0.45";

/** "os/{platform}#{release}" as the AWS SDK renders it: a constant of the machine, read once at load (os.release() is a syscall). */
const OS_TOKEN = `os/${process.platform}#${os.release()}`;

function nodeVersion(): string {
  return process.versions.node ?? "22.22.0";
}

export function kiroHeaders(input: KiroHeaderInput): Record<string, string> {
  const kiroVersion = input.kiroVersion ?? DEFAULT_KIRO_VERSION;
  const suffix = `KiroIDE-${kiroVersion}-${input.machineId}`;
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/vnd.amazon.eventstream",
    authorization: `Bearer ${input.accessToken}`,
    "x-amz-user-agent": `aws-sdk-js/${SDK_VERSION} ${suffix}`,
    "user-agent":
      `aws-sdk-js/${SDK_VERSION} ua/2.1 ${OS_TOKEN} lang/js md/nodejs#${nodeVersion()} ` +
      `api/codewhispererstreaming#${SDK_VERSION} m/E ${suffix}`,
    "x-amzn-kiro-agent-mode": input.agentMode ?? "vibe",
    "x-amzn-codewhisperer-optout": "true",
    "amz-sdk-invocation-id": input.invocationId ?? randomUUID(),
    "amz-sdk-request": `attempt=${Math.max(1, input.attempt ?? 1)}; max=${Math.max(1, input.maxAttempts ?? 3)}`,
  };
  // API-key accounts: the key is the bearer, flagged by `tokentype` (as kiro.rs sends it).
  if (input.authKind === "api_key") headers.tokentype = "API_KEY";
  return headers;
}

/**
 * Stable 64-hex machine id for one account (it goes into the user-agent strings). Callers pass the account's seed: an imported
 * machineId is kept as-is when it is already 64 hex; otherwise sha256 of the seed (kiro.rs derives it
 * from "KotlinNativeAPI/" + refresh token; we accept any stable per-account string such as the
 * refresh-token fingerprint or account id, so rotation of the token does not change it).
 */
export function machineIdFor(seed: string): string {
  if (/^[0-9a-f]{64}$/i.test(seed)) return seed.toLowerCase();
  const uuid = seed.replace(/-/g, "");
  // As kiro.rs does: a UUID-shaped credential machineId is de-dashed and doubled.
  if (/^[0-9a-f]{32}$/i.test(uuid) && /^[0-9a-f-]{36}$/i.test(seed)) return (uuid + uuid).toLowerCase();
  return createHash("sha256").update(`KotlinNativeAPI/${seed}`).digest("hex");
}
