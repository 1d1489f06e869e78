/**
 * Remembers which requests the turn runner already summarised in the log, so the app-level
 * access log only speaks up for /v1 requests that never reached a turn (bad key, bad body).
 */
const summarised = new Set<string>();

export function markSummarised(requestId: string): void {
  summarised.add(requestId);
  // Bounded: ids are consumed by takeSummarised right after the response; this only guards leaks.
  if (summarised.size > 10_000) summarised.clear();
}

export function takeSummarised(requestId: string): boolean {
  return summarised.delete(requestId);
}
