/**
 * Quota and model lists: the account's GetUsageLimits snapshot (remaining credits weigh the
 * balanced pick; none left → exhausted until the reset date), the identity that snapshot reveals
 * (email, userId), the probe of auto-disabled accounts, and the upstream model ids each account
 * may use (ListAvailableModels, which narrows /v1/models).
 */
import { KiroError } from "../kiro/errors";
import { getUsageLimits, listAvailableModels, type QuotaSnapshot } from "../kiro/usage";
import type { Credentials } from "./credentials";
import type { Outcomes } from "./outcomes";
import type { AccountTable, Rec } from "./records";

export class Quotas {
  constructor(private readonly table: AccountTable, private readonly creds: Credentials, private readonly outcomes: Outcomes) {}

  async check(rec: Rec): Promise<QuotaSnapshot> {
    const { upstream, log } = this.table.deps;
    let q: QuotaSnapshot;
    let creds;
    try {
      creds = await this.creds.forAccount(rec, false);
      q = await getUsageLimits(creds, upstream);
    } catch (err) {
      if (err instanceof KiroError && err.cls === "dead_refresh_token") this.outcomes.refreshFailed(rec, err);
      throw err;
    }
    this.apply(rec, q);
    // The model list rides along with the quota poll (cached ~30 min per account by usage.ts);
    // it only narrows /v1/models, so a failure here is logged and otherwise ignored.
    try {
      rec.models = (await listAvailableModels(creds, upstream)).map((m) => m.modelId);
      rec.modelSet = new Set(rec.models);
    } catch (err) {
      log.debug(`model list unavailable for account ${rec.row.label}`, { accountId: rec.row.id, error: err instanceof KiroError ? err.cls : String(err) });
    }
    return q;
  }

  /**
   * Probe of an auto-disabled account: a refresh (unless an API key) and a quota call; success
   * re-enables it. Failures are recorded (a dead refresh token keeps it disabled) and thrown.
   */
  async probe(rec: Rec): Promise<void> {
    try {
      const creds = await this.creds.refreshCurrent(rec);
      this.apply(rec, await getUsageLimits(creds, this.table.deps.upstream));
      this.outcomes.probeSucceeded(rec);
    } catch (err) {
      if (err instanceof KiroError && err.cls === "dead_refresh_token") this.outcomes.refreshFailed(rec, err);
      throw err;
    }
  }

  /** The account's own identity, when it was never recorded (its token may be dead: then unknown). */
  async learnIdentity(rec: Rec): Promise<void> {
    try {
      this.apply(rec, await getUsageLimits(await this.creds.forAccount(rec, false), this.table.deps.upstream));
    } catch {
      /* unknown: the caller goes on without it */
    }
  }

  /**
   * Upstream model ids that at least one account which is not disabled can use, or undefined
   * while no account has reported its list (then every known model is offered).
   */
  servableModelIds(): Set<string> | undefined {
    let out: Set<string> | undefined;
    for (const rec of this.table.values()) {
      if (!rec.models || rec.row.state === "disabled") continue;
      out ??= new Set();
      for (const m of rec.models) out.add(m);
    }
    return out;
  }

  apply(rec: Rec, q: QuotaSnapshot): void {
    const t = this.table;
    const row = rec.row;
    rec.quota = q;
    row.quotaJson = JSON.stringify(q);
    row.quotaFetchedAt = q.fetchedAt;
    if (q.email && !row.email) row.email = q.email;
    if (q.userId && !row.userId) row.userId = q.userId;
    t.store.update(row.id, { quotaJson: row.quotaJson, quotaFetchedAt: row.quotaFetchedAt, email: row.email, userId: row.userId });
    t.emit("quota", { accountId: row.id, label: row.label, remaining: q.remaining, limit: q.limit, resetAt: q.resetAt, subscription: q.subscription });
    const now = t.now();
    if (q.limit > 0 && q.remaining <= 0 && row.state === "active") {
      t.setState(rec, "exhausted", "no credits left", q.resetAt && q.resetAt > now ? q.resetAt : null);
    } else if (row.state === "exhausted" && q.remaining > 0) {
      t.setState(rec, "active", null, null, "credits available again");
    } else if (row.state === "exhausted" && q.resetAt && q.resetAt > now && row.stateUntil !== q.resetAt) {
      t.setState(rec, "exhausted", row.stateReason, q.resetAt, "reset date from quota");
    } else t.reweigh(rec);
  }
}
