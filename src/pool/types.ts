/**
 * Public shapes of the account pool (docs/CONTRACTS.md, section src/pool). The turn runner codes
 * against these; the admin panel shows AccountView (never a token).
 */
import type { Usage } from "../core/canonical";
import type { KiroCredentials } from "../kiro/client";
import type { KiroError } from "../kiro/errors";
import type { QuotaSnapshot } from "../kiro/usage";

export type AccountKind = "social" | "idc" | "api_key";
export type AccountState = "active" | "cooling" | "exhausted" | "disabled";

/** What the failover policy (src/pool/failover.ts) says to do after one failed upstream call. */
export type FailureAction = {
  action: "retry_same" | "next_account" | "return_to_client";
  delayMs?: number;
  forceRefresh?: boolean;
};

/** The policy's action plus what it did to the account. */
export type FailureDecision = FailureAction & {
  /** The hand-over left the account unusable for this request (state not active, or model refused). */
  lasting: boolean;
};

export type PoolLease = {
  accountId: string;
  label: string;
  credentials(opts?: { forceRefresh?: boolean }): Promise<KiroCredentials>;
  success(info: { usage?: Partial<Usage> }): void;
  failure(err: KiroError): FailureDecision;
  release(): void;
};

export type UnavailableReason = "none_configured" | "all_cooling" | "all_exhausted" | "all_disabled" | "all_busy";

export type PoolUnavailable = {
  unavailable: true;
  reason: UnavailableReason;
  /** Epoch ms when the earliest account becomes usable again (when known). */
  retryAt?: number;
  message: string;
};

export type AcquireOptions = { conversationId?: string; model?: string; exclude?: Set<string> };

export type AccountInput = {
  kind: AccountKind;
  refreshToken: string;
  clientId?: string;
  clientSecret?: string;
  label?: string;
  email?: string;
  region?: string;
  authRegion?: string;
  profileArn?: string;
  disabled?: boolean;
  source?: string;
  sourcePath?: string;
  /** Optional extras some sources carry. */
  userId?: string;
  machineId?: string;
  accessToken?: string;
  /** Epoch ms of accessToken's expiry. */
  expiresAt?: number;
  priority?: number;
  /** Per-account upstream proxy (http(s) URL); kept when an update does not carry one. */
  proxy?: string;
};

export type UpsertResult = { id: string; outcome: "added" | "updated" | "skipped"; why?: string };

/** What the panel and APIs may show: no token, no secret. */
export type AccountView = {
  id: string;
  kind: AccountKind;
  label: string;
  email?: string;
  userId?: string;
  region: string;
  authRegion?: string;
  profileArn?: string;
  fingerprint: string;
  state: AccountState;
  stateReason?: string;
  stateUntil?: number;
  /** Requests currently running on this account. */
  inflight: number;
  priority: number;
  requests: number;
  errors: number;
  consecutiveFailures: number;
  lastUsedAt?: number;
  lastError?: string;
  lastErrorAt?: number;
  accessExpiresAt?: number;
  hasClientSecret: boolean;
  quota?: QuotaSnapshot;
  source: string;
  sourcePath?: string;
  createdAt: number;
  updatedAt: number;
};

export type PoolSummary = {
  total: number;
  usable: number;
  active: number;
  cooling: number;
  exhausted: number;
  disabled: number;
  inflight: number;
  strategy: string;
  /** Sum of known remaining credits. */
  remainingCredits: number;
  /** Earliest time a cooling/exhausted account becomes usable (epoch ms). */
  nextRecoveryAt?: number;
};

export function isUnavailable(r: PoolLease | PoolUnavailable): r is PoolUnavailable {
  return (r as PoolUnavailable).unavailable === true;
}
