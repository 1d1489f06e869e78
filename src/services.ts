import type { AppConfig } from "./config/schema";
import type { Db } from "./db/client";
import type { Store } from "./db/repos";
import type { ResponsesRepo } from "./db/responses-store";
import type { SecretBox } from "./crypto/secret-box";
import type { EventBus } from "./logs/bus";
import type { Logger } from "./logs/logger";
import type { LogRing } from "./logs/ring";
import type { ClientKeys } from "./keys/client-keys";
import type { KeyLimiter } from "./keys/limiter";
import type { SettingsStore } from "./db/settings-store";
import type { RequestLogWriter } from "./logs/request-log";
import type { KiroUpstreamConfig } from "./kiro/config";
import type { AccountPool } from "./pool/pool";
import type { ModelCatalog } from "./core/models";
import type { InputCalibration } from "./core/usage";
import type { InputTokenEstimator } from "./core/tokens/estimate";
import type { TurnSummaries } from "./logs/turn-summary";

/**
 * Everything a route needs, built once at start (src/boot.ts) or by tests (tests/support).
 * Routes receive this object; nothing reaches for globals.
 */
export type Services = {
  config: AppConfig;
  version: string;
  startedAt: number;
  /**
   * The local SQLite database. On SQLite it is the store itself; in PostgreSQL mode it is this
   * instance's own in-memory database for what is still per instance (the panel's copy of the
   * request log and its rollups).
   */
  db: Db;
  /** Stored OpenAI Responses: the engine's (PostgreSQL: shared by every instance). */
  responses: ResponsesRepo;
  /** The shared state through the engine-neutral repositories (src/db/repos.ts). */
  store: Store;
  box: SecretBox;
  bus: EventBus;
  log: Logger;
  ring: LogRing;
  keys: ClientKeys;
  /** Rate limits per client key (requests / tokens per minute, requests at once). */
  keyLimiter: KeyLimiter;
  settings: SettingsStore;
  requestLog: RequestLogWriter;
  upstream: KiroUpstreamConfig;
  /** Kiro accounts: selection, failover state, refresh (src/pool). */
  pool: AccountPool;
  /** The model catalogue with the configured fallback mode (KIRO_MODEL_FALLBACK). */
  models: ModelCatalog;
  /** Per-model input-token calibration, learnt from upstream usage (in memory). */
  calibration: InputCalibration;
  /** Which requests the turn runner already summarised in the live log. */
  summaries: TurnSummaries;
  /** Prompt-token estimates (cached per text segment). */
  tokens: InputTokenEstimator;
  adminToken: string;
  /** Timers and background work to stop on shutdown. */
  onShutdown: Array<() => void | Promise<void>>;
  /**
   * Deferred work to do once the server goes quiet (no request for ~2 s), run just before the
   * idle trim gives memory back (src/http/idle-trim.ts): e.g. folding the request log into the
   * panel's usage buckets.
   */
  onQuiet: Array<() => void>;
};
