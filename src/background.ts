import type { Services } from "./services";
import { startPoolBackground } from "./pool/startup";
import { ResponsesStore } from "./db/responses-store";

/**
 * Timers that run beside the request path (never on it): request-log pruning here; the pool adds
 * token refresh and quota polling. Each registers its own stop in services.onShutdown.
 */
export async function startBackground(s: Services): Promise<void> {
  const prune = () => {
    const n = s.requestLog.prune(s.settings.runtime.logRetentionDays);
    if (n) s.log.info(`pruned ${n} request-log rows older than ${s.settings.runtime.logRetentionDays} days`);
    const r = new ResponsesStore(s.db).prune(s.settings.runtime.responsesStoreMaxMb * 1024 * 1024);
    if (r) s.log.info(`pruned ${r} stored responses (expired or over the size cap)`);
  };
  prune();
  const t = setInterval(prune, 3_600_000);
  s.onShutdown.push(() => clearInterval(t));
  startPoolBackground(s);
}
