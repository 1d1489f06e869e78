/**
 * What the pool shows: the redacted AccountView of one account (never a token or secret), the
 * pool summary, and the client-facing explanation of why no account can be picked.
 */
import type { AccountView, PoolSummary, PoolUnavailable } from "./types";
import { arnOf, utcMinute, type AccountTable, type Rec } from "./records";
import type { Pacer, PacingView } from "./pacing";

export function viewOf(rec: Rec, pacing: PacingView): AccountView {
  const r = rec.row;
  return {
    id: r.id, kind: r.kind, label: r.label, email: r.email ?? undefined, userId: r.userId ?? undefined, region: r.region,
    authRegion: r.authRegion ?? undefined, profileArn: arnOf(r), fingerprint: r.fingerprint, state: r.state,
    stateReason: r.stateReason ?? undefined, stateUntil: r.stateUntil ?? undefined, inflight: rec.inflight, priority: r.priority,
    requests: r.requests, errors: r.errors, consecutiveFailures: r.consecutiveFailures, lastUsedAt: r.lastUsedAt ?? undefined,
    lastError: r.lastError ?? undefined, lastErrorAt: r.lastErrorAt ?? undefined, accessExpiresAt: r.accessExpiresAt ?? undefined,
    hasClientSecret: !!r.clientSecretEnc, quota: rec.quota, quotaFetchedAt: r.quotaFetchedAt ?? undefined, source: r.source,
    sourcePath: r.sourcePath ?? undefined, createdAt: r.createdAt, updatedAt: r.updatedAt, pacing,
  };
}

export function summarize(table: AccountTable): PoolSummary {
  const out: PoolSummary = { total: table.size, usable: table.selector.pickableCount, active: 0, cooling: 0, exhausted: 0, disabled: 0, inflight: 0, strategy: table.strategy, remainingCredits: 0 };
  for (const rec of table.values()) {
    out[rec.row.state]++;
    out.inflight += rec.inflight;
    out.remainingCredits += rec.quota?.remaining ?? 0;
    if ((rec.row.state === "cooling" || rec.row.state === "exhausted") && rec.row.stateUntil) out.nextRecoveryAt = Math.min(out.nextRecoveryAt ?? Infinity, rec.row.stateUntil);
  }
  return out;
}

/** Why nothing could be picked; `atLimit` counts the accounts that could serve it but are at their pacing or concurrency limit (worth waiting for). */
export type Unpicked = { u: PoolUnavailable; atLimit: number };

/**
 * Why nothing can be picked, and when the earliest account is back. The message is written for
 * the client ("all 2 accounts are out of credits until 2026-12-01 00:00 UTC"); the turn runner
 * adds the last upstream answer. O(n): only on the unavailable path.
 */
export function unavailable(table: AccountTable, pacer: Pacer, now: number, exclude?: Set<string>, model?: string): Unpicked {
  let busy = 0, tried = 0, cooling = 0, exhausted = 0, disabled = 0, noModel = 0, paced = 0;
  let coolAt: number | undefined;
  let exhaustAt: number | undefined;
  let slotAt: number | undefined;
  for (const rec of table.values()) {
    const st = rec.row.state;
    if (st === "active") {
      if (exclude?.has(rec.row.id)) tried++;
      else if (!table.serves(rec, model)) noModel++;
      else {
        busy++;
        if (rec.pace.until !== 0) {
          paced++;
          slotAt = Math.min(slotAt ?? Infinity, rec.pace.until);
        }
      }
    } else if (st === "cooling") {
      cooling++;
      coolAt = Math.min(coolAt ?? Infinity, rec.row.stateUntil ?? now);
    } else if (st === "exhausted") {
      exhausted++;
      exhaustAt = Math.min(exhaustAt ?? Infinity, rec.row.stateUntil ?? now);
    } else disabled++;
  }
  const total = table.size;
  const earliest = coolAt !== undefined || exhaustAt !== undefined ? Math.min(coolAt ?? Infinity, exhaustAt ?? Infinity) : undefined;
  // The rest of the pool, for the tail of each message.
  const others = (skip: "" | "cooling" | "exhausted" | "tried") => {
    const parts: string[] = [];
    if (skip !== "cooling" && cooling) parts.push(`${cooling} rate-limited until ${utcMinute(coolAt!)}`);
    if (skip !== "exhausted" && exhausted) parts.push(`${exhausted} out of credits until ${utcMinute(exhaustAt!)}`);
    if (noModel) parts.push(`${noModel} without model ${model} in their plan`);
    if (skip !== "tried" && tried) parts.push(`${tried} already failed for this request`);
    if (disabled) parts.push(`${disabled} disabled`);
    return parts.length ? ` (${parts.join(", ")})` : "";
  };
  const all = (n: number) => (n === total ? `all ${n} account${n === 1 ? " is" : "s are"}` : `${n} of ${total} accounts are`);
  const none = (u: PoolUnavailable): Unpicked => ({ u, atLimit: 0 });
  if (busy > 0) {
    const limits: string[] = [];
    if (paced) limits.push(`${paced === busy ? "" : `${paced} `}paced at ${pacer.describe()}, next free slot at ${utcSecond(slotAt!)}`);
    if (busy > paced) limits.push(`${paced ? `${busy - paced} ` : ""}at their concurrency limit of ${table.cap}`);
    return {
      u: { unavailable: true, reason: "all_busy", retryAt: slotAt ?? earliest, message: `${all(busy)} at their limit (${limits.join("; ")})${others("")}` },
      atLimit: busy,
    };
  }
  if (cooling > 0) {
    return none({ unavailable: true, reason: "all_cooling", retryAt: earliest, message: `${all(cooling)} rate-limited; the first is back at ${utcMinute(earliest!)}${others("cooling")}` });
  }
  if (exhausted > 0) {
    return none({ unavailable: true, reason: "all_exhausted", retryAt: exhaustAt, message: `${all(exhausted)} out of credits until ${utcMinute(exhaustAt!)}${others("exhausted")}` });
  }
  if (noModel > 0 && !tried) {
    return none({ unavailable: true, reason: "model_not_served", message: `no account's plan includes model ${model}${others("")}` });
  }
  if (tried > 0) {
    return none({ unavailable: true, reason: "all_busy", message: `${all(tried)} usable but already failed for this request${others("tried")}` });
  }
  return none({ unavailable: true, reason: "all_disabled", message: `${all(disabled)} disabled; see the admin panel for the reasons` });
}

/** "12:03:07 UTC": a pacing slot is seconds away, so the minute alone says too little. */
export function utcSecond(t: number): string {
  return `${new Date(t).toISOString().slice(11, 19)} UTC`;
}
