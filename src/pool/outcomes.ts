/**
 * Outcomes → account state: what a success, a failed request or a failed background refresh does
 * to the account (counters, cooldown, exhausted-until, disabled, model refused). The failover
 * policy (failover.ts) decides; this part applies the decision and says whether the account is
 * lastingly unusable for the current request (FailureDecision.lasting).
 */
import type { Usage } from "../core/canonical";
import { KiroError } from "../kiro/errors";
import { decide } from "./failover";
import { reasonText } from "./reasons";
import { AUTO_DISABLED, type AccountTable, type Rec } from "./records";
import type { FailureDecision } from "./types";

/** What a lease knows about its own earlier attempts. */
export type LeaseHistory = { refreshedOnce: boolean; capacityRetries: number; model?: string };

export class Outcomes {
  /** Set by the scheduler: asked to poll an account's quota soon (after a 402). */
  private quotaWanted?: (id: string) => void;

  constructor(private readonly table: AccountTable, private readonly random: () => number) {}

  onQuotaWanted(fn: ((id: string) => void) | undefined): void {
    this.quotaWanted = fn;
  }

  success(rec: Rec, usage?: Partial<Usage>): void {
    const row = rec.row;
    row.requests++;
    row.consecutiveFailures = 0;
    rec.throttleStreak = 0;
    if (usage?.credits && rec.quota) {
      // Local estimate of the remaining credits between two quota polls.
      rec.quota = { ...rec.quota, used: rec.quota.used + usage.credits, remaining: Math.max(0, rec.quota.remaining - usage.credits) };
      row.quotaJson = JSON.stringify(rec.quota);
    }
    this.table.markDirty(row.id);
    // A self-heal trial (or a request already running when the account got auto-disabled) worked.
    if (row.state === "disabled" && row.stateReason?.startsWith(AUTO_DISABLED)) this.table.setState(rec, "active", null, null, "a request succeeded");
    else this.table.reweigh(rec);
  }

  failure(rec: Rec, err: KiroError, lease: LeaseHistory): FailureDecision {
    const t = this.table;
    const now = t.now();
    const rt = t.deps.settings.runtime;
    const { decision, change } = decide(err, {
      now,
      refreshedOnce: lease.refreshedOnce,
      capacityRetries: lease.capacityRetries,
      throttleStreak: rec.throttleStreak,
      quotaResetAt: rec.quota?.resetAt,
      cooldownBaseMs: rt.cooldownBaseMs,
      cooldownMaxMs: rt.cooldownMaxMs,
      abuseCooldownMs: rt.abuseCooldownMs,
      random: this.random,
    });
    const row = rec.row;
    if (change.kind === "model_unsupported") return this.modelRefused(rec, err, lease.model);
    if (decision.action !== "return_to_client") {
      row.errors++;
      row.lastError = reasonText("error.upstream", { cls: err.cls, upstream: err.upstreamMessage }).slice(0, 500);
      row.lastErrorAt = now;
      t.markDirty(row.id);
    }
    switch (change.kind) {
      case "count_failure":
        row.consecutiveFailures++;
        if (row.consecutiveFailures >= rt.maxConsecutiveFailures) {
          t.setState(rec, "disabled", reasonText("state.autoDisabled", { n: row.consecutiveFailures, cls: err.cls }), null);
        } else t.writeRowNow(rec);
        break;
      case "disable":
        t.setState(rec, "disabled", change.reason, null);
        break;
      case "exhaust":
        t.setState(rec, "exhausted", change.reason, change.until);
        this.quotaWanted?.(row.id);
        break;
      case "cool":
        rec.throttleStreak++;
        t.setState(rec, "cooling", change.reason, change.until);
        break;
      case "none":
        break;
    }
    t.deps.log.info(`account ${row.label || row.id}: ${err.cls} → ${decision.action}`, { accountId: row.id, status: err.status, reason: err.reason, delayMs: decision.delayMs });
    return { ...decision, lasting: row.state !== "active" };
  }

  /**
   * INVALID_MODEL_ID: this account's plan lacks the model (typically opus on a FREE plan).
   * Remember it for this account and hand the request to another account — unless none could
   * serve it, then the client hears it. Either way this account is out for this request.
   * O(n), error path only.
   */
  private modelRefused(rec: Rec, err: KiroError, model: string | undefined): FailureDecision {
    if (!model) return { action: "return_to_client", lasting: true };
    (rec.unsupported ??= new Set()).add(model);
    this.table.emit("account", { accountId: rec.row.id, label: rec.row.label, state: rec.row.state, why: `model ${model} not in this account's plan`, model });
    this.table.deps.log.info(`account ${rec.row.label || rec.row.id} cannot use model ${model}: ${err.upstreamMessage}`, { accountId: rec.row.id });
    for (const r of this.table.values()) {
      if (r !== rec && r.row.state !== "disabled" && this.table.serves(r, model)) return { action: "next_account", lasting: true };
    }
    return { action: "return_to_client", lasting: true };
  }

  /** Refresh failure outside a request: dead → disable; transient → just recorded. */
  refreshFailed(rec: Rec, err: unknown): void {
    const k = err instanceof KiroError ? err : new KiroError("transient", String(err));
    rec.row.lastError = reasonText("error.refresh", { cls: k.cls, upstream: k.upstreamMessage }).slice(0, 500);
    rec.row.lastErrorAt = this.table.now();
    this.table.emit("refresh", { accountId: rec.row.id, label: rec.row.label, ok: false, cls: k.cls });
    if (k.cls === "dead_refresh_token" && rec.row.state !== "disabled") this.table.setState(rec, "disabled", reasonText("state.refreshRejected"), null);
    else this.table.writeRowNow(rec);
  }

  /** Re-enables an auto-disabled account after a successful probe. */
  probeSucceeded(rec: Rec): void {
    if (rec.row.state === "disabled" && rec.row.stateReason?.startsWith(AUTO_DISABLED)) this.table.setState(rec, "active", null, null, "probe succeeded");
  }
}
