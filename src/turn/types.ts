import type { CanonicalEvent } from "../core/canonical";
import type { InputTokenEstimator } from "../core/tokens/estimate";
import type { InputCalibration } from "../core/usage";
import type { ModelCatalog } from "../core/models";
import type { ClientKey, ClientKeys } from "../keys/client-keys";
import type { KeyLimiter } from "../keys/limiter";
import type { KiroUpstreamConfig } from "../kiro/config";
import type { Logger } from "../logs/logger";
import type { RequestLogWriter } from "../logs/request-log";
import type { TurnSummaries } from "../logs/turn-summary";
import type { RuntimeSettings } from "../db/settings-store";
import type { PoolLease, PoolUnavailable, AcquireOptions } from "../pool/types";

/**
 * What the turn runner needs, and nothing more (no admin token, no secret box, no database).
 * `Services` satisfies it, so routes pass their services object as it is.
 */
export type TurnDeps = {
  pool: { acquireWait(opts: AcquireOptions, signal?: AbortSignal): Promise<PoolLease | PoolUnavailable> };
  requestLog: Pick<RequestLogWriter, "record">;
  keys: Pick<ClientKeys, "denyReason" | "clusterBudgetCheck" | "recordUsage">;
  /** Per-key rate limits (requests and tokens per minute, requests at once). */
  keyLimiter: Pick<KeyLimiter, "admit">;
  /** Read on every turn: the panel may change them at any time. */
  settings: { readonly runtime: Pick<RuntimeSettings, "firstTokenTimeoutMs" | "logRequestBodies"> };
  log: Logger;
  upstream: KiroUpstreamConfig;
  calibration: InputCalibration;
  tokens: Pick<InputTokenEstimator, "estimateAsync" | "countText">;
  summaries: TurnSummaries;
  /** The model catalogue: what "valid models" messages name. */
  models: Pick<ModelCatalog, "names" | "notFound">;
};

export type TurnContext = {
  signal: AbortSignal;
  requestId: string;
  clientKey?: ClientKey;
  stream: boolean;
  /** The client's parsed body; stored in the request log only when body logging is switched on. */
  clientBody?: unknown;
};

export type Turn = {
  /** The model as the client named it. */
  model: string;
  accountId: string;
  estimatedInputTokens: number;
  /**
   * The relayed events grouped per upstream network chunk (never empty arrays): the streaming
   * routes write one SSE chunk per batch. `events` is the same stream one event at a time.
   * Consume exactly one of the two.
   */
  batches: AsyncIterable<CanonicalEvent[]>;
  events: AsyncIterable<CanonicalEvent>;
};
