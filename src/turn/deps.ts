import type { InputCalibration } from "../core/usage";
import type { ClientKeys } from "../keys/client-keys";
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
  pool: { acquire(opts: AcquireOptions): PoolLease | PoolUnavailable };
  requestLog: Pick<RequestLogWriter, "record">;
  keys: Pick<ClientKeys, "denyReason" | "recordUsage">;
  /** Read on every turn: the panel may change them at any time. */
  settings: { readonly runtime: Pick<RuntimeSettings, "firstTokenTimeoutMs" | "logRequestBodies"> };
  log: Logger;
  upstream: KiroUpstreamConfig;
  calibration: InputCalibration;
  summaries: TurnSummaries;
};
