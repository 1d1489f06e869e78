/**
 * Pool wiring used by src/boot.ts and src/background.ts (kept here so those shared files only
 * gain a line each).
 */
import type { Logger } from "../logs/logger";
import type { KiroUpstreamConfig } from "../kiro/config";
import type { AccountPool } from "./pool";
import { PoolScheduler, type SchedulerOptions } from "./scheduler";
import { IdeSync, type IdeSyncOptions } from "./ide-sync";
import { formatLine, importEntries, summarize } from "./import";
import { parseKiroAuthTokenEnv } from "./import/kiro2api";

/** KIRO_AUTH_TOKEN at every start, as an upsert (old rotated copies are recognised and skipped). */
export async function importAuthTokenEnv(pool: AccountPool, value: string, log: Logger): Promise<void> {
  const lines = await importEntries(pool, parseKiroAuthTokenEnv(value));
  for (const l of lines) log.info(`KIRO_AUTH_TOKEN ${formatLine(l)}`);
  log.info(`KIRO_AUTH_TOKEN import: ${summarize(lines)}`);
}

/** Starts proactive refresh, quota polling, probes and the IDE file follower. */
export function startPoolBackground(s: { pool: AccountPool; upstream: KiroUpstreamConfig; log: Logger; onShutdown: Array<() => void | Promise<void>> }, opts: { scheduler?: SchedulerOptions; ideSync?: IdeSyncOptions } = {}): { scheduler: PoolScheduler; ideSync: IdeSync } {
  const scheduler = new PoolScheduler(s.pool, s.upstream, s.log, opts.scheduler);
  const ideSync = new IdeSync(s.pool, s.log, opts.ideSync);
  scheduler.start();
  ideSync.start();
  // Before the pool's own close (first in the list) so no background write follows the last flush.
  s.onShutdown.unshift(() => {
    scheduler.stop();
    ideSync.stop();
  });
  return { scheduler, ideSync };
}
