/**
 * Quota and model lists: the account's GetUsageLimits snapshot (remaining credits weigh the
 * balanced pick; none left → exhausted until the reset date), the identity that snapshot reveals
 * (email, userId), the probe of auto-disabled accounts, and the models each account may use
 * (ListAvailableModels: stored with the account, so the last lists apply right after a restart).
 * The merged lists of the usable accounts feed the model catalogue through `onModelLists`.
 */
import { mergeServed, type ServedModel } from "../core/models";
import { KiroError } from "../kiro/errors";
import { getUsageLimits, listAvailableModels, ModelListCache, type AvailableModel, type QuotaSnapshot } from "../kiro/usage";
import type { Credentials } from "./credentials";
import type { Outcomes } from "./outcomes";
import { setModels, type AccountTable, type Rec } from "./records";

export type ModelListListener = (served: ServedModel[] | undefined) => void;

/** A ListAvailableModels entry as the pool keeps it. */
export function servedModelOf(m: AvailableModel): ServedModel {
  const out: ServedModel = { id: m.modelId };
  if (m.modelName) out.displayName = m.modelName;
  const maxIn = m.tokenLimits?.maxInputTokens;
  const maxOut = m.tokenLimits?.maxOutputTokens;
  if (typeof maxIn === "number" && maxIn > 0) out.maxInputTokens = maxIn;
  if (typeof maxOut === "number" && maxOut > 0) out.maxOutputTokens = maxOut;
  return out;
}

export class Quotas {
  private readonly listeners = new Set<ModelListListener>();
  /** The merged lists last told to the listeners (JSON), to tell only changes. */
  private told: string | undefined;
  private readonly unsubscribe: () => void;
  private readonly modelLists = new ModelListCache();

  constructor(private readonly table: AccountTable, private readonly creds: Credentials, private readonly outcomes: Outcomes) {
    // An account that is disabled, enabled again or removed changes what the pool serves.
    this.unsubscribe = table.deps.bus.on((e) => {
      if (e.kind === "account") this.notify();
    });
  }

  /**
   * `fn` gets the merged model lists of the accounts that are not disabled (undefined while none
   * has a list) now and after every change. Returns the unsubscribe function.
   */
  onModelLists(fn: ModelListListener): () => void {
    this.listeners.add(fn);
    const served = this.servedModels();
    this.told = served ? JSON.stringify(served) : undefined;
    fn(served);
    return () => this.listeners.delete(fn);
  }

  /** The merged model lists of the accounts that are not disabled; undefined while none reported one. */
  servedModels(): ServedModel[] | undefined {
    const lists: ServedModel[][] = [];
    for (const rec of this.table.values()) if (rec.models && rec.row.state !== "disabled") lists.push(rec.models);
    return lists.length ? mergeServed(lists) : undefined;
  }

  /** Tells the listeners when the merged lists changed (also after another instance's change). */
  notify(): void {
    if (this.listeners.size === 0) return;
    const served = this.servedModels();
    const key = served ? JSON.stringify(served) : undefined;
    if (key === this.told) return;
    this.told = key;
    for (const fn of this.listeners) fn(served);
  }

  close(): void {
    this.unsubscribe();
    this.listeners.clear();
  }

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
    // The model list rides along with the quota poll (cached ~30 min per account in this.modelLists);
    // a failure keeps the last known list and is logged.
    try {
      const models = (await listAvailableModels(creds, upstream, { cache: this.modelLists })).map(servedModelOf);
      setModels(rec, models);
      const modelsJson = JSON.stringify(models);
      if (modelsJson !== rec.row.modelsJson) {
        rec.row.modelsJson = modelsJson;
        rec.row.modelsFetchedAt = this.table.now();
        this.table.store.update(rec.row.id, { modelsJson, modelsFetchedAt: rec.row.modelsFetchedAt });
      }
      this.notify();
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
      for (const m of rec.models) out.add(m.id);
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
