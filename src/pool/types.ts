/**
 * Public shapes of the account pool (docs/CONTRACTS.md, section src/pool). The turn runner codes
 * against these; the admin panel shows AccountView (never a token).
 */
import type { Usage } from "../core/canonical";
import type { KiroCredentials } from "../kiro/client";
import type { KiroError } from "../kiro/errors";
import type { QuotaSnapshot } from "../kiro/usage";
import type { PacingView } from "./pacing";

export type { PacingView } from "./pacing";
export type { QueueStats } from "./queue";

export type AccountKind = "social" | "idc" | "api_key";
export type AccountState = "active" | "cooling" | "exhausted" | "disabled";

/** What the failover policy (failover.ts) decides for one failed attempt. */
export type PolicyDecision = {
  action: "retry_same" | "next_account" | "return_to_client";
  delayMs?: number;
  forceRefresh?: boolean;
};

/** The policy's decision as a lease's failure() returns it, after the account's state changed. */
export type FailureDecision = PolicyDecision & {
  /**
   * True when this failure left the account unusable for the current request: its state is no
   * longer active (cooling, exhausted, disabled) or it refused the requested model. The turn
   * runner counts such a hand-over as free; a soft one (transient, forbidden) counts toward its
   * limit.
   */
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

/**
 * `all_busy`: the synchronous acquire() found every candidate at its concurrency or pacing limit
 * (or already tried, or without the model); `all_at_limit`: acquireWait() waited the queueWaitMs
 * setting in the queue and every account that could serve stayed at its limit — a rate limit for
 * the client (429 with Retry-After = retryAt); `model_not_served`: no usable account's plan includes
 * the requested model (a client matter, not a busy pool).
 */
export type UnavailableReason = "none_configured" | "all_cooling" | "all_exhausted" | "all_disabled" | "all_busy" | "all_at_limit" | "model_not_served";

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
  /** When the quota was last fetched (epoch ms). */
  quotaFetchedAt?: number;
  /** Pacing: requests started in the last pacing window, the limit, and the next free slot. */
  pacing: PacingView;
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
