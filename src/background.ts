import type { Services } from "./services";
import { startPoolBackground } from "./pool/startup";

/**
 * Timers that run beside the request path (never on it): request-log and stored-Responses pruning
 * here (the first run is awaited); the pool adds token refresh and quota polling. Each registers
 * its own stop in services.onShutdown.
 */
export async function startBackground(s: Services): Promise<void> {
  const pruneResponses = async () => {
    try {
      const r = await s.responses.prune(s.settings.runtime.responsesStoreMaxMb * 1024 * 1024);
      if (r) s.log.info(`pruned ${r} stored responses (expired or over the size cap)`);
    } catch (e) {
      s.log.warn("stored-responses pruning failed", { error: e instanceof Error ? e.message : String(e) });
    }
  };
  const prune = () => {
    const n = s.requestLog.prune(s.settings.runtime.logRetentionDays);
    if (n) s.log.info(`pruned ${n} request-log rows older than ${s.settings.runtime.logRetentionDays} days`);
    return pruneResponses();
  };
  await prune();
  const t = setInterval(() => void prune(), 3_600_000);
  s.onShutdown.push(() => clearInterval(t));
  startPoolBackground(s);
}
