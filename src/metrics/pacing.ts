/**
 * /metrics lines for pacing: per account the requests started in the last pacing window, its
 * limit and the seconds until its next free slot; the wait queue (waiting now, and what it saw
 * since start); per client key its requests in the last minute, running requests and the
 * requests its rate limits refused. Everything is read from in-memory state at scrape time.
 */
import type { KeyLimitKind, KeyLimitUsage } from "../keys/limiter";
import type { AccountView, QueueStats } from "../pool/types";
import { label } from "./registry";

type Emit = (name: string, type: string, help: string, samples: string[]) => void;

export function accountPacingMetrics(metric: Emit, accounts: AccountView[], now: number): void {
  const per = (name: string, help: string, value: (a: AccountView) => number) =>
    metric(name, "gauge", help, accounts.map((a) => `${name}{account="${label(a.label)}",state="${a.state}"} ${value(a)}`));
  per("kiro_account_requests_in_window", "Requests started on the account within the last pacing window.", (a) => a.pacing.recentRequests);
  per("kiro_account_pacing_limit", "Requests the account may start per pacing window (0 = no limit).", (a) => a.pacing.limit);
  per("kiro_account_next_slot_seconds", "Seconds until the account may start its next request (0 = now).", (a) =>
    a.pacing.nextSlotAt ? Math.max(0, (a.pacing.nextSlotAt - now) / 1000) : 0);
  const windowMs = accounts[0]?.pacing.windowMs;
  if (windowMs !== undefined) metric("kiro_account_pacing_window_seconds", "gauge", "Length of the pacing window.", [`kiro_account_pacing_window_seconds ${windowMs / 1000}`]);
}

export function queueMetrics(metric: Emit, q: QueueStats): void {
  metric("kiro_queue_waiting", "gauge", "Requests waiting for an account with head-room.", [`kiro_queue_waiting ${q.waiting}`]);
  metric("kiro_queue_oldest_wait_seconds", "gauge", "How long the oldest waiting request has waited.", [`kiro_queue_oldest_wait_seconds ${q.oldestWaitMs / 1000}`]);
  metric("kiro_queue_requests_total", "counter", "Requests that had to wait, by how the wait ended.", [
    `kiro_queue_requests_total{outcome="served"} ${q.servedTotal}`,
    `kiro_queue_requests_total{outcome="timed_out"} ${q.timedOutTotal}`,
    `kiro_queue_requests_total{outcome="abandoned"} ${q.abandonedTotal}`,
  ]);
  metric("kiro_queue_wait_seconds_total", "counter", "Time spent waiting by requests that left the queue.", [`kiro_queue_wait_seconds_total ${q.waitedMsTotal / 1000}`]);
}

const KINDS: KeyLimitKind[] = ["rpm", "tpm", "concurrency"];

export function keyLimitMetrics(metric: Emit, keys: Array<{ keyId: string; name: string } & KeyLimitUsage>): void {
  const lbl = (k: { keyId: string; name: string }) => `key="${label(k.name)}",key_id="${label(k.keyId)}"`;
  metric("kiro_key_limit_hits_total", "counter", "Requests a client key's rate limits refused (429), by limit.",
    keys.flatMap((k) => KINDS.map((kind) => `kiro_key_limit_hits_total{${lbl(k)},limit="${kind}"} ${k.hits[kind]}`)));
  metric("kiro_key_requests_last_minute", "gauge", "Requests a client key started in the last minute.",
    keys.map((k) => `kiro_key_requests_last_minute{${lbl(k)}} ${k.requestsLastMinute}`));
  metric("kiro_key_tokens_last_minute", "gauge", "Tokens a client key used in the last minute.",
    keys.map((k) => `kiro_key_tokens_last_minute{${lbl(k)}} ${k.tokensLastMinute}`));
  metric("kiro_key_inflight", "gauge", "Requests of a client key running now.", keys.map((k) => `kiro_key_inflight{${lbl(k)}} ${k.inflight}`));
}
