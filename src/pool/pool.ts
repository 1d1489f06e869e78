/**
 * The account pool: accounts in memory mirrored to the store, O(log n) selection (selection.ts),
 * the failover policy (failover.ts) applied as state changes, and per-account single-flight token
 * refresh through the shared TokenManager. Nothing here scans all accounts on the request path;
 * housekeeping (proactive refresh, quota polling, probes) lives in scheduler.ts.
 */
import type { Services } from "../services";
import type { KiroCredentials } from "../kiro/client";
import { KiroError } from "../kiro/errors";
import { refreshAccessToken, type RefreshResult } from "../kiro/auth";
import { TokenManager, type TokenAccount, type TokenManagerOptions } from "../kiro/token-manager";
import { firstActiveProfileArn, getUsageLimits, listAvailableModels, listAvailableProfiles, type QuotaSnapshot } from "../kiro/usage";
import { machineIdFor } from "../kiro/request/headers";
import type { Usage } from "../core/canonical";
import { AccountStore, fingerprintOf, type AccountPatch, type AccountRow } from "./store";
import { Selector, type Strategy } from "./selection";
import { TimeHeap } from "./heap";
import { decide } from "./failover";
import type {
  AccountInput,
  AccountState,
  AccountView,
  AcquireOptions,
  FailureAction,
  FailureDecision,
  PoolLease,
  PoolSummary,
  PoolUnavailable,
  UpsertResult,
} from "./types";

export type PoolDeps = Pick<Services, "db" | "box" | "bus" | "log" | "settings" | "upstream">;
export type PoolOptions = {
  now?: () => number;
  random?: () => number;
  /** Injected into the TokenManager (tests count calls). */
  refresh?: TokenManagerOptions["refresh"];
  /** How often batched counters are written (ms). */
  flushIntervalMs?: number;
};

/** Refresh tokens shorter than this, or containing "...", are truncated copies (§2.6, KRS). */
export const MIN_REFRESH_TOKEN_LENGTH = 100;
/** Reason prefix of accounts the pool disabled itself after repeated failures (the probe may re-enable them). */
export const AUTO_DISABLED = "auto-disabled";
const AFFINITY_MAX = 50_000;
/** Weight of an account whose remaining credits are unknown yet. */
const UNKNOWN_CREDITS_WEIGHT = 50;
/**
 * Stored in profile_arn for an IdC account that has no profile (Builder ID: ListAvailableProfiles
 * answers 403), so the lookup is not repeated on every request. Never sent upstream.
 */
export const NO_PROFILE = "none";
/** Picks that may land on an account lacking the requested model before one linear scan decides. */
const MODEL_PICK_TRIES = 6;
/** A failed (non-403) profile lookup is retried at most this often. */
const PROFILE_RETRY_MS = 10 * 60_000;
/** Reasons meaning the stored refresh token can never work again (a new token may replace it unverified). */
const DEAD_TOKEN_REASONS = ["refresh token rejected", "re-login required"];

type Match = { rec: Rec; byAlias: boolean; byIdentity: boolean };

export function isProxyUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return (u.protocol === "http:" || u.protocol === "https:") && !!u.hostname;
  } catch {
    return false;
  }
}

export type Rec = {
  row: AccountRow;
  slot: number;
  inflight: number;
  quota?: QuotaSnapshot;
  /** Upstream model ids this account may use (ListAvailableModels), once known. */
  models?: string[];
  /** The same as a set, for the pick-time check. */
  modelSet?: Set<string>;
  /** Models the service refused for this account (INVALID_MODEL_ID); in memory, for this process. */
  unsupported?: Set<string>;
  /** IdC profile lookup in flight / last failed attempt (§1.3 rule 6). */
  profileLookup?: Promise<void>;
  profileTriedAt?: number;
  plain: { refresh?: string; access?: string; secret?: string };
  throttleStreak: number;
};

export class AccountPool {
  readonly store: AccountStore;
  readonly tokens: TokenManager;
  private readonly recs = new Map<string, Rec>();
  private readonly bySlot: Array<Rec | undefined> = [];
  private readonly freeSlots: number[] = [];
  private readonly fingerprints: Map<string, string>;
  private readonly selector: Selector;
  private readonly recovery = new TimeHeap();
  private readonly affinity = new Map<string, string>();
  private readonly dirty = new Set<string>();
  private priorityDirty = true;
  private readonly now: () => number;
  private readonly random: () => number;
  /** Verifies a token before it replaces a stored one (same function the TokenManager uses). */
  private readonly refreshFn: NonNullable<TokenManagerOptions["refresh"]>;
  private readonly flushTimer: ReturnType<typeof setInterval>;
  private readonly unsubscribe: () => void;
  private cap: number;
  /** Set by the scheduler: asked to poll an account's quota soon (after a 402). */
  quotaWanted?: (id: string) => void;

  constructor(private readonly s: PoolDeps, opts: PoolOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.refreshFn = opts.refresh ?? refreshAccessToken;
    this.store = new AccountStore(s.db);
    this.tokens = new TokenManager({ upstream: s.upstream, refresh: opts.refresh, now: this.now });
    this.selector = new Selector(this.random);
    this.cap = s.settings.runtime.perAccountConcurrency;
    this.fingerprints = this.store.loadFingerprints();
    for (const row of this.store.loadAll()) this.addRec(row);
    this.unsubscribe = s.settings.onChange((r) => {
      if (r.perAccountConcurrency !== this.cap) {
        this.cap = r.perAccountConcurrency;
        for (const rec of this.recs.values()) this.reweigh(rec);
      }
    });
    this.flushTimer = setInterval(() => this.flush(), opts.flushIntervalMs ?? 1000);
    (this.flushTimer as { unref?: () => void }).unref?.();
  }

  get strategy(): Strategy {
    return this.s.settings.runtime.strategy;
  }

  // ------------------------------------------------------------------ selection

  acquire(opts: AcquireOptions = {}): PoolLease | PoolUnavailable {
    const now = this.now();
    this.recoverDue(now);
    if (this.recs.size === 0) return { unavailable: true, reason: "none_configured", message: "no Kiro accounts are configured; import one (kiro-server import --help)" };
    const strategy = this.strategy;
    if (strategy === "priority" && this.priorityDirty) this.rebuildPriority();
    const model = opts.model;

    let rec: Rec | undefined;
    let sticky = false;
    let trial = false;
    if (opts.conversationId) {
      const id = this.affinity.get(opts.conversationId);
      const hit = id ? this.recs.get(id) : undefined;
      if (hit && this.selector.weight(hit.slot) > 0 && !opts.exclude?.has(hit.row.id) && this.serves(hit, model)) {
        rec = hit;
        sticky = true;
      }
    }
    if (!rec) {
      let skip: number[] | undefined;
      if (opts.exclude?.size) {
        skip = [];
        for (const id of opts.exclude) {
          const r = this.recs.get(id);
          if (r) skip.push(r.slot);
        }
      }
      // Model-aware: an account whose plan lacks the model is skipped like an excluded one. A few
      // re-picks keep this O(log n); only a pool dominated by such accounts pays one scan.
      for (let tries = 0; ; tries++) {
        const slot = this.selector.pick(strategy, skip);
        const r = slot >= 0 ? this.bySlot[slot] : undefined;
        if (!r || this.serves(r, model)) {
          rec = r;
          break;
        }
        (skip ??= []).push(slot);
        if (tries + 1 >= MODEL_PICK_TRIES) {
          rec = this.scanForModel(model!, new Set(skip));
          break;
        }
      }
      if (!rec) {
        rec = this.trialCandidate(opts.exclude, model);
        trial = !!rec;
      }
      if (!rec) return this.unavailable(now, opts.exclude, model);
    }
    if (opts.conversationId && !trial) {
      this.affinity.delete(opts.conversationId);
      this.affinity.set(opts.conversationId, rec.row.id);
      if (this.affinity.size > AFFINITY_MAX) this.affinity.delete(this.affinity.keys().next().value!);
    }
    this.emit("selection", { accountId: rec.row.id, label: rec.row.label, strategy, affinity: sticky, conversationId: opts.conversationId, model, trial: trial || undefined, inflight: rec.inflight + 1 });
    if (trial) this.s.log.info(`every account is auto-disabled: trying ${rec.row.label || rec.row.id} once`, { accountId: rec.row.id });
    return this.lease(rec, now, model);
  }

  /** Whether the account may serve this upstream model id (unknown list → assume yes). */
  private serves(rec: Rec, model: string | undefined): boolean {
    if (!model) return true;
    if (rec.unsupported?.has(model)) return false;
    return !rec.modelSet || rec.modelSet.has(model);
  }

  /** Fallback after MODEL_PICK_TRIES misses: the heaviest pickable account serving the model. O(n). */
  private scanForModel(model: string, skipSlots: Set<number>): Rec | undefined {
    let best: Rec | undefined;
    let bestW = 0;
    for (const r of this.recs.values()) {
      const w = this.selector.weight(r.slot);
      if (w > bestW && !skipSlots.has(r.slot) && this.serves(r, model)) {
        best = r;
        bestW = w;
      }
    }
    return best;
  }

  /**
   * Self-heal (kiro.rs style): when nothing is pickable and every account left is auto-disabled
   * (none cooling, exhausted or merely busy), one request may try the auto-disabled account that
   * failed least recently — an outage that disabled the whole pool then ends with the first
   * request that works, instead of waiting for the next probe. One trial at a time per account.
   * Only reached when the pool is otherwise unavailable, so the O(n) scan is off the hot path.
   */
  private trialCandidate(exclude: Set<string> | undefined, model: string | undefined): Rec | undefined {
    let best: Rec | undefined;
    for (const r of this.recs.values()) {
      if (exclude?.has(r.row.id)) continue;
      const st = r.row.state;
      if (st === "active" || st === "cooling" || st === "exhausted") return undefined;
      if (!r.row.stateReason?.startsWith(AUTO_DISABLED) || r.inflight > 0 || !this.serves(r, model)) continue;
      if (!best || (r.row.lastErrorAt ?? 0) < (best.row.lastErrorAt ?? 0)) best = r;
    }
    return best;
  }

  private lease(rec: Rec, now: number, model?: string): PoolLease {
    rec.inflight++;
    rec.row.lastUsedAt = now;
    this.reweigh(rec);
    let released = false;
    let refreshedOnce = false;
    let capacityRetries = 0;
    let lastToken: string | undefined;
    const pool = this;
    return {
      accountId: rec.row.id,
      label: rec.row.label,
      async credentials(o = {}) {
        if (o.forceRefresh) refreshedOnce = true;
        let creds: KiroCredentials;
        try {
          creds = await pool.credentialsFor(rec, o.forceRefresh === true, lastToken);
        } catch (err) {
          // The request path's refresh failed: visible on the bus like a background one.
          pool.emitRefreshFailure(rec, err, true);
          throw err;
        }
        lastToken = creds.accessToken;
        return creds;
      },
      success(info: { usage?: Partial<Usage> }) {
        pool.onSuccess(rec, info.usage);
      },
      failure(err: KiroError): FailureDecision {
        const out = pool.onFailure(rec, err, { refreshedOnce, capacityRetries, model });
        if (out.forceRefresh) refreshedOnce = true;
        if (out.action === "retry_same" && err.cls === "model_capacity") capacityRetries++;
        return { ...out, lasting: rec.row.state !== "active" || err.cls === "invalid_model" };
      },
      release() {
        if (released) return;
        released = true;
        rec.inflight--;
        pool.reweigh(rec);
      },
    };
  }

  /** Balanced weight: remaining credits / (1 + load); 0 = not pickable right now. */
  private weightOf(rec: Rec): number {
    if (rec.row.state !== "active" || rec.inflight >= this.cap || !this.recs.has(rec.row.id)) return 0;
    const credits = rec.quota ? Math.max(rec.quota.remaining, 0.5) : UNKNOWN_CREDITS_WEIGHT;
    return credits / (1 + rec.inflight);
  }

  private reweigh(rec: Rec): void {
    this.selector.set(rec.slot, this.weightOf(rec));
  }

  private rebuildPriority(): void {
    const order = [...this.recs.values()].sort((a, b) => a.row.priority - b.row.priority || a.row.createdAt - b.row.createdAt);
    this.selector.setPriorityOrder(order.map((r) => r.slot));
    this.priorityDirty = false;
  }

  /** Cooling/exhausted accounts whose time has come become active again (heap: O(log n) each). */
  recoverDue(now: number): void {
    for (;;) {
      const t = this.recovery.peekTime();
      if (t === undefined || t > now) return;
      const { id } = this.recovery.pop()!;
      const rec = this.recs.get(id);
      if (!rec || (rec.row.state !== "cooling" && rec.row.state !== "exhausted")) continue;
      if ((rec.row.stateUntil ?? 0) > now) continue; // a later entry for the same account exists
      this.setState(rec, "active", null, null, `${rec.row.state} period over`);
    }
  }

  /**
   * Why nothing can be picked, and when the earliest account is back. The message is written for
   * the client ("all 2 accounts are out of credits until 2026-12-01 00:00 UTC"); the turn runner
   * adds the last upstream answer. O(n): only on the unavailable path.
   */
  private unavailable(now: number, exclude?: Set<string>, model?: string): PoolUnavailable {
    let busy = 0, tried = 0, cooling = 0, exhausted = 0, disabled = 0, noModel = 0;
    let coolAt: number | undefined;
    let exhaustAt: number | undefined;
    for (const rec of this.recs.values()) {
      const st = rec.row.state;
      if (st === "active") {
        if (exclude?.has(rec.row.id)) tried++;
        else if (!this.serves(rec, model)) noModel++;
        else busy++;
      } else if (st === "cooling") {
        cooling++;
        coolAt = Math.min(coolAt ?? Infinity, rec.row.stateUntil ?? now);
      } else if (st === "exhausted") {
        exhausted++;
        exhaustAt = Math.min(exhaustAt ?? Infinity, rec.row.stateUntil ?? now);
      } else disabled++;
    }
    const total = this.recs.size;
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
    if (busy > 0) {
      return { unavailable: true, reason: "all_busy", retryAt: earliest, message: `${all(busy)} at their concurrency limit (${this.cap} requests each)${others("")}` };
    }
    if (cooling > 0) {
      return { unavailable: true, reason: "all_cooling", retryAt: earliest, message: `${all(cooling)} rate-limited; the first is back at ${utcMinute(earliest!)}${others("cooling")}` };
    }
    if (exhausted > 0) {
      return { unavailable: true, reason: "all_exhausted", retryAt: exhaustAt, message: `${all(exhausted)} out of credits until ${utcMinute(exhaustAt!)}${others("exhausted")}` };
    }
    if (noModel > 0 && !tried) {
      return { unavailable: true, reason: "all_busy", message: `no account's plan includes model ${model}${others("")}` };
    }
    if (tried > 0) {
      return { unavailable: true, reason: "all_busy", message: `${all(tried)} usable but already failed for this request${others("tried")}` };
    }
    return { unavailable: true, reason: "all_disabled", message: `${all(disabled)} disabled; see the admin panel for the reasons` };
  }

  // ------------------------------------------------------------------ credentials

  private async plainOf(rec: Rec): Promise<{ refresh: string; access?: string; secret?: string }> {
    const p = rec.plain;
    if (p.refresh === undefined) p.refresh = await this.s.box.decrypt(rec.row.refreshTokenEnc);
    if (p.access === undefined && rec.row.accessTokenEnc) p.access = await this.s.box.decrypt(rec.row.accessTokenEnc);
    if (p.secret === undefined && rec.row.clientSecretEnc) p.secret = await this.s.box.decrypt(rec.row.clientSecretEnc);
    return p as { refresh: string; access?: string; secret?: string };
  }

  private async tokenAccount(rec: Rec): Promise<TokenAccount> {
    const p = await this.plainOf(rec);
    const row = rec.row;
    return {
      id: row.id,
      kind: row.kind,
      refreshToken: p.refresh,
      clientId: row.clientId ?? undefined,
      clientSecret: p.secret,
      authRegion: row.authRegion ?? row.region,
      machineId: row.machineId,
      accessToken: p.access,
      expiresAt: row.accessExpiresAt ?? undefined,
      proxy: row.proxy ?? undefined,
      persist: (result) => this.persistRefresh(rec, p.refresh, result),
    };
  }

  /** Only this account, only when needed (or forced after a bearer-invalid answer). */
  async credentialsFor(rec: Rec, force: boolean, rejectedToken?: string): Promise<KiroCredentials> {
    const acct = await this.tokenAccount(rec);
    const accessToken = rec.row.kind === "api_key" ? acct.refreshToken : await this.tokens.getAccessToken(acct, { force, rejectedToken });
    const creds: KiroCredentials = {
      accessToken,
      authKind: rec.row.kind,
      region: rec.row.region,
      profileArn: arnOf(rec.row),
      machineId: rec.row.machineId,
      proxy: rec.row.proxy ?? undefined,
    };
    if (rec.row.kind === "idc" && !rec.row.profileArn) {
      await this.lookUpProfile(rec, creds);
      creds.profileArn = arnOf(rec.row);
    }
    return creds;
  }

  /**
   * An IdC account imported without a profile ARN (§1.3 rule 6, §8.3): the first ACTIVE profile
   * from ListAvailableProfiles, stored once. 403 = Builder ID (no profile): NO_PROFILE is stored so
   * the lookup is not repeated. Any other failure is retried at most every PROFILE_RETRY_MS; the
   * request goes on without an ARN meanwhile (families B/C accept that).
   */
  private lookUpProfile(rec: Rec, creds: KiroCredentials): Promise<void> {
    if (rec.profileLookup) return rec.profileLookup;
    if (rec.profileTriedAt !== undefined && this.now() - rec.profileTriedAt < PROFILE_RETRY_MS) return Promise.resolve();
    rec.profileTriedAt = this.now();
    rec.profileLookup = (async () => {
      let arn: string | undefined;
      try {
        arn = firstActiveProfileArn(await listAvailableProfiles(creds, this.s.upstream)) ?? NO_PROFILE;
      } catch (err) {
        if (!(err instanceof KiroError && err.status === 403)) {
          this.s.log.warn(`profile lookup failed for account ${rec.row.label}; retrying later`, { accountId: rec.row.id, error: err instanceof KiroError ? err.cls : String(err) });
          return;
        }
        arn = NO_PROFILE;
      }
      if (!this.recs.has(rec.row.id) || rec.row.profileArn) return;
      rec.row.profileArn = arn;
      this.store.update(rec.row.id, { profileArn: arn });
      this.emit("account", { accountId: rec.row.id, label: rec.row.label, state: rec.row.state, why: arn === NO_PROFILE ? "no profile (Builder ID)" : "profile ARN found", profileArn: arn === NO_PROFILE ? undefined : arn });
    })().finally(() => {
      rec.profileLookup = undefined;
    });
    return rec.profileLookup;
  }

  /** A refresh that failed on the request path (the lease's failure() applies the state change). */
  emitRefreshFailure(rec: Rec, err: unknown, requestPath: boolean): void {
    const k = err instanceof KiroError ? err : new KiroError("transient", String(err));
    this.emit("refresh", { accountId: rec.row.id, label: rec.row.label, ok: false, cls: k.cls, reason: k.reason, requestPath });
  }

  /** Rotated refresh token + access token stored in one transaction BEFORE the token is used (§2.5). */
  private async persistRefresh(rec: Rec, usedRefresh: string, result: RefreshResult): Promise<void> {
    const rotated = result.refreshToken && result.refreshToken !== usedRefresh ? result.refreshToken : undefined;
    const accessEnc = await this.s.box.encrypt(result.accessToken);
    const refreshEnc = rotated ? await this.s.box.encrypt(rotated) : undefined;
    const now = this.now();
    const patch: AccountPatch = { accessTokenEnc: accessEnc, accessExpiresAt: result.expiresAt, updatedAt: now };
    if (result.profileArn && (!rec.row.profileArn || rec.row.profileArn === NO_PROFILE)) patch.profileArn = result.profileArn;
    if (!this.recs.has(rec.row.id)) return; // removed meanwhile
    if (rotated && refreshEnc) {
      const fp = fingerprintOf(rotated);
      const oldFp = rec.row.fingerprint;
      this.store.replaceToken(rec.row.id, { ...patch, refreshTokenEnc: refreshEnc, fingerprint: fp }, oldFp, now);
      Object.assign(rec.row, patch, { refreshTokenEnc: refreshEnc, fingerprint: fp });
      this.fingerprints.set(fp, rec.row.id);
      this.fingerprints.set(oldFp, rec.row.id);
      rec.plain.refresh = rotated;
    } else {
      this.store.update(rec.row.id, patch);
      Object.assign(rec.row, patch);
    }
    rec.plain.access = result.accessToken;
    this.emit("refresh", { accountId: rec.row.id, label: rec.row.label, rotated: !!rotated, fingerprint: rec.row.fingerprint, expiresAt: result.expiresAt });
    this.s.log.info(`refreshed access token of account ${rec.row.label || rec.row.id}${rotated ? " (refresh token rotated)" : ""}`, { accountId: rec.row.id, expiresAt: new Date(result.expiresAt).toISOString() });
  }

  // ------------------------------------------------------------------ outcomes

  private onSuccess(rec: Rec, usage?: Partial<Usage>): void {
    const row = rec.row;
    row.requests++;
    row.consecutiveFailures = 0;
    rec.throttleStreak = 0;
    if (usage?.credits && rec.quota) {
      // Local estimate between polls (§8.1).
      rec.quota = { ...rec.quota, used: rec.quota.used + usage.credits, remaining: Math.max(0, rec.quota.remaining - usage.credits) };
      row.quotaJson = JSON.stringify(rec.quota);
    }
    this.dirty.add(row.id);
    // A self-heal trial (or a request already running when the account got auto-disabled) worked.
    if (row.state === "disabled" && row.stateReason?.startsWith(AUTO_DISABLED)) this.setState(rec, "active", null, null, "a request succeeded");
    else this.reweigh(rec);
  }

  private onFailure(rec: Rec, err: KiroError, lease: { refreshedOnce: boolean; capacityRetries: number; model?: string }): FailureAction {
    const now = this.now();
    const rt = this.s.settings.runtime;
    const { decision, change } = decide(err, {
      now,
      refreshedOnce: lease.refreshedOnce,
      capacityRetries: lease.capacityRetries,
      throttleStreak: rec.throttleStreak,
      quotaResetAt: rec.quota?.resetAt,
      cooldownBaseMs: rt.cooldownBaseMs,
      cooldownMaxMs: rt.cooldownMaxMs,
      random: this.random,
    });
    const row = rec.row;
    if (change.kind === "model_unsupported") return this.modelRefused(rec, err, lease.model);
    if (decision.action !== "return_to_client") {
      row.errors++;
      row.lastError = `${err.cls}: ${err.upstreamMessage}`.slice(0, 500);
      row.lastErrorAt = now;
      this.dirty.add(row.id);
    }
    switch (change.kind) {
      case "count_failure":
        row.consecutiveFailures++;
        if (row.consecutiveFailures >= rt.maxConsecutiveFailures) {
          this.setState(rec, "disabled", `${AUTO_DISABLED}: ${row.consecutiveFailures} consecutive failures (last: ${err.cls})`, null);
        } else this.writeRowNow(rec);
        break;
      case "disable":
        this.setState(rec, "disabled", change.reason, null);
        break;
      case "exhaust":
        this.setState(rec, "exhausted", change.reason, change.until);
        this.quotaWanted?.(row.id);
        break;
      case "cool":
        rec.throttleStreak++;
        this.setState(rec, "cooling", change.reason, change.until);
        break;
      case "none":
        break;
    }
    this.s.log.info(`account ${row.label || row.id}: ${err.cls} → ${decision.action}`, { accountId: row.id, status: err.status, reason: err.reason, delayMs: decision.delayMs });
    return decision;
  }

  /**
   * INVALID_MODEL_ID (§7 row 18): this account's plan lacks the model (opus on FREE). Remember it
   * for this account and hand the request to another account — unless none could serve it, then
   * the client hears it. O(n), error path only.
   */
  private modelRefused(rec: Rec, err: KiroError, model: string | undefined): FailureAction {
    if (!model) return { action: "return_to_client" };
    (rec.unsupported ??= new Set()).add(model);
    this.emit("account", { accountId: rec.row.id, label: rec.row.label, state: rec.row.state, why: `model ${model} not in this account's plan`, model });
    this.s.log.info(`account ${rec.row.label || rec.row.id} cannot use model ${model}: ${err.upstreamMessage}`, { accountId: rec.row.id });
    for (const r of this.recs.values()) {
      if (r !== rec && r.row.state !== "disabled" && this.serves(r, model)) return { action: "next_account" };
    }
    return { action: "return_to_client" };
  }

  private setState(rec: Rec, state: AccountState, reason: string | null, until: number | null, why?: string): void {
    const row = rec.row;
    const from = row.state;
    row.state = state;
    row.stateReason = reason;
    row.stateUntil = until;
    row.updatedAt = this.now();
    if (state === "active") row.consecutiveFailures = 0;
    if (until !== null) this.recovery.push(until, row.id);
    this.writeRowNow(rec);
    this.reweigh(rec);
    this.emit("account", { accountId: row.id, label: row.label, from, state, reason, until, why });
    const level = state === "disabled" ? "warn" : "info";
    this.s.log[level](`account ${row.label || row.id} ${from} → ${state}${reason ? `: ${reason}` : ""}${until ? ` until ${new Date(until).toISOString()}` : ""}`, { accountId: row.id });
  }

  /** State + counters in one short transaction (state changes are never batched). */
  private writeRowNow(rec: Rec): void {
    const r = rec.row;
    this.store.update(r.id, {
      state: r.state, stateReason: r.stateReason, stateUntil: r.stateUntil, requests: r.requests, errors: r.errors,
      consecutiveFailures: r.consecutiveFailures, lastUsedAt: r.lastUsedAt, lastError: r.lastError, lastErrorAt: r.lastErrorAt,
      quotaJson: r.quotaJson, quotaFetchedAt: r.quotaFetchedAt, updatedAt: r.updatedAt,
    });
    this.dirty.delete(r.id);
  }

  /** Writes batched counters (requests, last use, local quota estimate). */
  flush(): void {
    if (!this.dirty.size) return;
    const rows = [];
    for (const id of this.dirty) {
      const r = this.recs.get(id)?.row;
      if (r) rows.push(r);
    }
    this.dirty.clear();
    this.store.writeCounters(rows);
  }

  close(): void {
    clearInterval(this.flushTimer);
    this.unsubscribe();
    this.flush();
  }

  // ------------------------------------------------------------------ import / admin

  async upsert(input: AccountInput): Promise<UpsertResult> {
    const token = typeof input.refreshToken === "string" ? input.refreshToken.trim() : "";
    if (!token) return { id: "", outcome: "skipped", why: "no refresh token" };
    if (input.kind !== "api_key" && (token.length < MIN_REFRESH_TOKEN_LENGTH || token.includes("...") || token.includes("…"))) {
      return { id: "", outcome: "skipped", why: "refresh token looks truncated (too short or contains '...')" };
    }
    if (input.kind === "idc" && (!input.clientId || !input.clientSecret)) {
      return { id: "", outcome: "skipped", why: "IdC account without clientId/clientSecret cannot refresh (import the client registration too)" };
    }
    if (input.proxy !== undefined && !isProxyUrl(input.proxy)) {
      // Sending direct instead would expose the address the operator meant to hide.
      return { id: "", outcome: "skipped", why: "proxy is not an http(s) URL (e.g. http://user:pass@host:port)" };
    }
    const fp = fingerprintOf(token);
    const known = this.findExisting(fp, input);
    if (known) return this.updateExisting(known.rec, input, token, fp, known);

    const now = this.now();
    const [refreshEnc, secretEnc, accessEnc] = await Promise.all([
      this.s.box.encrypt(token),
      input.clientSecret ? this.s.box.encrypt(input.clientSecret) : undefined,
      input.accessToken && input.expiresAt && input.expiresAt > now ? this.s.box.encrypt(input.accessToken) : undefined,
    ]);
    // Another upsert of the same token may have finished while we encrypted.
    const raced = this.findExisting(fp, input);
    if (raced) return this.updateExisting(raced.rec, input, token, fp, raced);
    const id = crypto.randomUUID();
    const row: AccountRow = {
      id,
      kind: input.kind,
      label: input.label?.trim() || input.email || `${input.kind}-${fp.slice(0, 6)}`,
      email: input.email ?? null,
      userId: input.userId ?? null,
      region: input.region ?? this.s.upstream.region,
      authRegion: input.authRegion ?? input.region ?? null,
      profileArn: input.profileArn ?? null,
      machineId: machineIdFor(input.machineId ?? fp),
      fingerprint: fp,
      refreshTokenEnc: refreshEnc,
      accessTokenEnc: accessEnc ?? null,
      accessExpiresAt: accessEnc ? input.expiresAt! : null,
      clientId: input.clientId ?? null,
      clientSecretEnc: secretEnc ?? null,
      proxy: input.proxy ?? null,
      state: input.disabled ? "disabled" : "active",
      stateReason: input.disabled ? "disabled in the imported source" : null,
      stateUntil: null,
      priority: input.priority ?? 0,
      requests: 0,
      errors: 0,
      consecutiveFailures: 0,
      lastUsedAt: null,
      lastError: null,
      lastErrorAt: null,
      quotaJson: null,
      quotaFetchedAt: null,
      source: input.source ?? "panel",
      sourcePath: input.sourcePath ?? null,
      createdAt: now,
      updatedAt: now,
    };
    this.store.insert(row);
    this.fingerprints.set(fp, id);
    const rec = this.addRec(row);
    rec.plain = { refresh: token, secret: input.clientSecret, access: accessEnc ? input.accessToken : undefined };
    this.emit("import", { accountId: id, label: row.label, outcome: "added", source: row.source, fingerprint: fp });
    this.s.log.info(`account added: ${row.label} (${row.kind}, from ${row.source})`, { accountId: id, fingerprint: fp });
    return { id, outcome: "added" };
  }

  /**
   * The stored account this input belongs to: by token fingerprint (current or an alias from an
   * earlier rotation), else by identity — same userId, or same email within the same kind unless
   * both userIds are known and differ (two people can share a mailbox alias; merging them would
   * throw one person's token away). O(n) on the import path only.
   */
  private findExisting(fp: string, input: AccountInput): Match | undefined {
    const id = this.fingerprints.get(fp);
    const rec = id ? this.recs.get(id) : undefined;
    if (rec) return { rec, byAlias: rec.row.fingerprint !== fp, byIdentity: false };
    if (input.userId) {
      for (const r of this.recs.values()) if (r.row.userId === input.userId) return { rec: r, byAlias: false, byIdentity: true };
    }
    if (input.email) {
      for (const r of this.recs.values()) {
        if (r.row.email !== input.email || r.row.kind !== input.kind) continue;
        if (input.userId && r.row.userId && r.row.userId !== input.userId) continue;
        return { rec: r, byAlias: false, byIdentity: true };
      }
    }
    return undefined;
  }

  /**
   * Whether an unseen token matched by identity may replace the stored one: yes when the stored
   * token is dead; else only when the new one refreshes (then its rotated successor and access
   * token are what we store). Returns the token to store, or why not.
   */
  private async verifyReplacement(rec: Rec, input: AccountInput, token: string): Promise<{ token: string; access?: RefreshResult } | { why: string }> {
    const row = rec.row;
    if (row.state === "disabled" && DEAD_TOKEN_REASONS.some((r) => row.stateReason?.startsWith(r))) return { token };
    try {
      const result = await this.refreshFn(
        {
          kind: input.kind,
          refreshToken: token,
          clientId: input.clientId ?? row.clientId ?? undefined,
          clientSecret: input.clientSecret ?? (await this.plainOf(rec)).secret,
          authRegion: input.authRegion ?? row.authRegion ?? row.region,
          machineId: row.machineId,
          proxy: input.proxy ?? row.proxy ?? undefined,
        },
        this.s.upstream,
      );
      return { token: result.refreshToken ?? token, access: result };
    } catch (err) {
      const k = err instanceof KiroError ? err : new KiroError("transient", String(err));
      return { why: `a different token for ${row.email ?? row.userId ?? row.label} did not refresh (${k.cls}: ${k.upstreamMessage}); the stored token is kept` };
    }
  }

  private async updateExisting(rec: Rec, input: AccountInput, presented: string, presentedFp: string, match: Match): Promise<UpsertResult> {
    const row = rec.row;
    const { byAlias } = match;
    let token = presented;
    let fp = presentedFp;
    // A token this account has rotated away from is an old copy: never go back to it.
    const newToken = fp !== row.fingerprint && !byAlias && this.fingerprints.get(fp) !== row.id;
    let verified: RefreshResult | undefined;
    if (newToken && match.byIdentity) {
      const v = await this.verifyReplacement(rec, input, presented);
      if ("why" in v) return { id: row.id, outcome: "skipped", why: v.why };
      token = v.token;
      fp = fingerprintOf(token);
      verified = v.access;
    }
    const patch: AccountPatch = {};
    const set = <K extends keyof AccountRow>(k: K, v: AccountRow[K] | undefined) => {
      if (v !== undefined && v !== null && v !== "" && row[k] !== v) (patch as Record<string, unknown>)[k] = v;
    };
    if (input.label?.trim()) set("label", input.label.trim());
    set("email", input.email);
    set("userId", input.userId);
    set("profileArn", input.profileArn ?? verified?.profileArn);
    set("authRegion", input.authRegion);
    set("clientId", input.clientId);
    set("sourcePath", input.sourcePath);
    set("proxy", input.proxy);
    let secretChanged = false;
    if (input.clientSecret && input.clientSecret !== (await this.plainOf(rec)).secret) {
      patch.clientSecretEnc = await this.s.box.encrypt(input.clientSecret);
      secretChanged = true;
    }
    if (!Object.keys(patch).length && !newToken) {
      return { id: row.id, outcome: "skipped", why: byAlias ? "older copy of a token this account has since rotated" : "already present, unchanged" };
    }
    const now = this.now();
    patch.updatedAt = now;
    if (newToken) {
      const refreshEnc = await this.s.box.encrypt(token);
      const accessEnc = verified ? await this.s.box.encrypt(verified.accessToken) : undefined;
      if (!this.recs.has(row.id)) return { id: row.id, outcome: "skipped", why: "account was removed meanwhile" };
      const oldFp = row.fingerprint;
      Object.assign(patch, { refreshTokenEnc: refreshEnc, fingerprint: fp, accessTokenEnc: accessEnc ?? null, accessExpiresAt: verified && accessEnc ? verified.expiresAt : null });
      this.store.replaceToken(row.id, patch as AccountPatch & { fingerprint: string; refreshTokenEnc: string }, oldFp, now);
      // The presented token was rotated by the verification: remember it as an old copy too.
      if (presentedFp !== fp) this.store.addAlias(presentedFp, row.id, now);
      Object.assign(row, patch);
      this.fingerprints.set(fp, row.id);
      this.fingerprints.set(presentedFp, row.id);
      rec.plain = { refresh: token, access: verified?.accessToken, secret: secretChanged ? input.clientSecret : rec.plain.secret };
      rec.unsupported = undefined;
      this.tokens.forget(row.id);
    } else {
      this.store.update(row.id, patch);
      Object.assign(row, patch);
      if (secretChanged) rec.plain.secret = input.clientSecret;
    }
    // A fresh login revives an account disabled for a dead token or registration.
    if (row.state === "disabled" && (newToken || secretChanged) && !input.disabled) this.setState(rec, "active", null, null, "re-imported");
    this.emit("import", { accountId: row.id, label: row.label, outcome: "updated", source: input.source, fingerprint: row.fingerprint, newToken, verified: !!verified });
    return { id: row.id, outcome: "updated", why: newToken ? (verified ? "new refresh token for a known account (verified)" : "new refresh token for a known account") : "details updated" };
  }

  /**
   * A token the Kiro IDE wrote into the file account `id` was imported from. The IDE may have
   * rotated our token (same person: adopt it) — or someone else logged in to the IDE (different
   * person: add them as a new account and leave the old one alone). Identity comes from
   * getUsageLimits with the new token (userId, else email) against the account's known identity.
   *   adopted    the account now uses the token
   *   added      a different person: upserted as another account (outcome of upsert)
   *   unchanged  the token is ours already, or an old copy
   *   retry      could not tell yet (network); ask again on the next poll
   *   skipped    the token does not work
   */
  async adoptRotatedToken(id: string, input: AccountInput): Promise<"adopted" | "added" | "unchanged" | "retry" | "skipped"> {
    const rec = this.recs.get(id);
    if (!rec) return "skipped";
    let token = input.refreshToken;
    const presentedFp = fingerprintOf(token);
    if (this.fingerprints.has(presentedFp)) return "unchanged"; // ours already, or an old copy
    const row = rec.row;
    const now = this.now();
    // An access token for the new login: the file's own while valid, else one refresh (which may
    // rotate the token: from then on only our copy works, so it must end up stored either way).
    let access = input.accessToken && input.expiresAt && input.expiresAt > now + 60_000 ? { accessToken: input.accessToken, expiresAt: input.expiresAt } : undefined;
    let refreshed = false;
    let profileArn = input.profileArn;
    if (!access) {
      try {
        const r = await this.refreshFn(
          {
            kind: input.kind, refreshToken: token, clientId: input.clientId ?? row.clientId ?? undefined,
            clientSecret: input.clientSecret ?? (await this.plainOf(rec)).secret, authRegion: input.authRegion ?? row.authRegion ?? row.region,
            machineId: row.machineId, proxy: row.proxy ?? undefined,
          },
          this.s.upstream,
        );
        token = r.refreshToken ?? token;
        access = { accessToken: r.accessToken, expiresAt: r.expiresAt };
        profileArn ??= r.profileArn;
        refreshed = true;
      } catch (err) {
        const k = err instanceof KiroError ? err : new KiroError("transient", String(err));
        this.s.log.warn(`Kiro IDE file of account ${row.label}: the new token does not refresh (${k.cls})`, { accountId: id });
        return k.cls === "dead_refresh_token" ? "skipped" : "retry";
      }
    }
    const credsOf = (accessToken: string): KiroCredentials => ({
      accessToken, authKind: input.kind, region: input.region ?? row.region, profileArn: profileArn ?? (input.kind === row.kind ? arnOf(row) : undefined),
      machineId: row.machineId, proxy: row.proxy ?? undefined,
    });
    let theirs: QuotaSnapshot | undefined;
    try {
      theirs = await getUsageLimits(credsOf(access.accessToken), this.s.upstream);
    } catch (err) {
      this.s.log.warn(`Kiro IDE file of account ${row.label}: cannot tell who the new login is (${err instanceof KiroError ? err.cls : String(err)})`, { accountId: id });
      if (!refreshed) return "retry";
    }
    const newInput: AccountInput = {
      ...input, refreshToken: token, accessToken: access.accessToken, expiresAt: access.expiresAt, profileArn,
      userId: theirs?.userId ?? input.userId, email: theirs?.email ?? input.email, label: theirs?.email ?? input.label,
    };
    // We rotated it but cannot identify it: a separate account keeps the only working copy safe.
    if (!theirs) return this.addFromIde(rec, newInput);
    if (!row.userId && !row.email) await this.learnIdentity(rec);
    if (this.samePerson(row, theirs) === false) return this.addFromIde(rec, newInput);

    const refreshEnc = await this.s.box.encrypt(token);
    const accessEnc = await this.s.box.encrypt(access.accessToken);
    const fp = fingerprintOf(token);
    if (!this.recs.has(id) || this.fingerprints.has(fp)) return "unchanged";
    const oldFp = row.fingerprint;
    const patch: AccountPatch = { refreshTokenEnc: refreshEnc, fingerprint: fp, accessTokenEnc: accessEnc, accessExpiresAt: access.expiresAt, updatedAt: this.now() };
    if (profileArn && !arnOf(row)) patch.profileArn = profileArn;
    this.store.replaceToken(id, patch as AccountPatch & { fingerprint: string; refreshTokenEnc: string }, oldFp, now);
    if (presentedFp !== fp) this.store.addAlias(presentedFp, id, now);
    Object.assign(row, patch);
    this.fingerprints.set(fp, id);
    this.fingerprints.set(presentedFp, id);
    rec.plain = { refresh: token, access: access.accessToken, secret: rec.plain.secret };
    this.tokens.forget(id);
    this.applyQuota(rec, theirs);
    this.emit("refresh", { accountId: id, label: row.label, rotated: true, adopted: true, fingerprint: fp });
    this.s.log.info(`account ${row.label}: adopted a refresh token rotated by the Kiro IDE`, { accountId: id });
    if (row.state === "disabled" && DEAD_TOKEN_REASONS.some((r) => row.stateReason?.startsWith(r))) this.setState(rec, "active", null, null, "token adopted");
    return "adopted";
  }

  /** true / false when the identities can be compared (userId first, else email), undefined when not. */
  private samePerson(row: AccountRow, q: Pick<QuotaSnapshot, "userId" | "email">): boolean | undefined {
    if (row.userId && q.userId) return row.userId === q.userId;
    if (row.email && q.email) return row.email.toLowerCase() === q.email.toLowerCase();
    return undefined;
  }

  /** The account's own identity, when it was never recorded (its token may be dead: then unknown). */
  private async learnIdentity(rec: Rec): Promise<void> {
    try {
      this.applyQuota(rec, await getUsageLimits(await this.credentialsFor(rec, false), this.s.upstream));
    } catch {
      /* unknown: the IDE's token is adopted as before */
    }
  }

  private async addFromIde(old: Rec, input: AccountInput): Promise<"added" | "skipped"> {
    const r = await this.upsert(input);
    this.s.log.info(`Kiro IDE login changed to another person (${input.email ?? input.userId ?? "unknown"}): ${r.outcome} as a separate account; ${old.row.label} keeps its token`, { accountId: r.id, previous: old.row.id });
    return r.outcome === "skipped" ? "skipped" : "added";
  }

  // Views recover due accounts first: a cooldown that ended must not still show as "cooling
  // until <a time already past>" just because no request has arrived since.
  list(): AccountView[] {
    this.recoverDue(this.now());
    return [...this.recs.values()].map((r) => this.view(r));
  }

  get(id: string): AccountView | undefined {
    this.recoverDue(this.now());
    const rec = this.recs.get(id);
    return rec ? this.view(rec) : undefined;
  }

  /** Internal record (scheduler, ide-sync). */
  rec(id: string): Rec | undefined {
    return this.recs.get(id);
  }

  records(): IterableIterator<Rec> {
    return this.recs.values();
  }

  setEnabled(id: string, on: boolean): AccountView | undefined {
    const rec = this.recs.get(id);
    if (!rec) return undefined;
    if (on && rec.row.state !== "active") this.setState(rec, "active", null, null, "enabled by operator");
    if (!on && rec.row.state !== "disabled") this.setState(rec, "disabled", "disabled by operator", null);
    return this.view(rec);
  }

  /** Re-enables an auto-disabled account after a successful probe. */
  probeSucceeded(id: string): void {
    const rec = this.recs.get(id);
    if (rec && rec.row.state === "disabled" && rec.row.stateReason?.startsWith(AUTO_DISABLED)) this.setState(rec, "active", null, null, "probe succeeded");
  }

  setLabel(id: string, label: string): AccountView | undefined {
    const rec = this.recs.get(id);
    if (!rec) return undefined;
    rec.row.label = label.trim().slice(0, 200);
    rec.row.updatedAt = this.now();
    this.store.update(id, { label: rec.row.label, updatedAt: rec.row.updatedAt });
    this.emit("account", { accountId: id, label: rec.row.label, state: rec.row.state, why: "renamed" });
    return this.view(rec);
  }

  setPriority(id: string, priority: number): AccountView | undefined {
    const rec = this.recs.get(id);
    if (!rec) return undefined;
    rec.row.priority = Math.trunc(priority);
    this.store.update(id, { priority: rec.row.priority, updatedAt: this.now() });
    this.priorityDirty = true;
    return this.view(rec);
  }

  remove(id: string): boolean {
    const rec = this.recs.get(id);
    if (!rec) return false;
    this.store.remove(id);
    this.recs.delete(id);
    this.selector.set(rec.slot, 0);
    this.bySlot[rec.slot] = undefined;
    this.freeSlots.push(rec.slot);
    for (const [fp, owner] of this.fingerprints) if (owner === id) this.fingerprints.delete(fp);
    this.tokens.forget(id);
    this.dirty.delete(id);
    this.priorityDirty = true;
    this.emit("account", { accountId: id, label: rec.row.label, state: "removed" });
    this.s.log.info(`account removed: ${rec.row.label}`, { accountId: id });
    return true;
  }

  /** Forced refresh now (panel button, probe). Dead refresh token → disabled. */
  async refreshNow(id: string): Promise<AccountView> {
    const rec = this.mustGet(id);
    try {
      if (rec.row.kind !== "api_key") await this.tokens.getAccessToken(await this.tokenAccount(rec), { force: true });
    } catch (err) {
      this.refreshFailed(rec, err);
      throw err;
    }
    return this.view(rec);
  }

  /** Refresh failure outside a request: dead → disable; transient → just recorded. */
  refreshFailed(rec: Rec, err: unknown): void {
    const k = err instanceof KiroError ? err : new KiroError("transient", String(err));
    rec.row.lastError = `refresh: ${k.cls}: ${k.upstreamMessage}`.slice(0, 500);
    rec.row.lastErrorAt = this.now();
    this.emit("refresh", { accountId: rec.row.id, label: rec.row.label, ok: false, cls: k.cls });
    if (k.cls === "dead_refresh_token" && rec.row.state !== "disabled") this.setState(rec, "disabled", "refresh token rejected", null);
    else this.writeRowNow(rec);
  }

  async checkQuota(id: string): Promise<QuotaSnapshot> {
    const rec = this.mustGet(id);
    let q: QuotaSnapshot;
    let creds: KiroCredentials;
    try {
      creds = await this.credentialsFor(rec, false);
      q = await getUsageLimits(creds, this.s.upstream);
    } catch (err) {
      if (err instanceof KiroError && err.cls === "dead_refresh_token") this.refreshFailed(rec, err);
      throw err;
    }
    this.applyQuota(rec, q);
    // The model list rides along with the quota poll (cached ~30 min per account by usage.ts);
    // it only narrows /v1/models, so a failure here is logged and otherwise ignored.
    try {
      rec.models = (await listAvailableModels(creds, this.s.upstream)).map((m) => m.modelId);
      rec.modelSet = new Set(rec.models);
    } catch (err) {
      this.s.log.debug(`model list unavailable for account ${rec.row.label}`, { accountId: rec.row.id, error: err instanceof KiroError ? err.cls : String(err) });
    }
    return q;
  }

  /**
   * Upstream model ids that at least one account which is not disabled can use, or undefined
   * while no account has reported its list (then every known model is offered).
   */
  servableModelIds(): Set<string> | undefined {
    let out: Set<string> | undefined;
    for (const rec of this.recs.values()) {
      if (!rec.models || rec.row.state === "disabled") continue;
      out ??= new Set();
      for (const m of rec.models) out.add(m);
    }
    return out;
  }

  applyQuota(rec: Rec, q: QuotaSnapshot): void {
    const row = rec.row;
    rec.quota = q;
    row.quotaJson = JSON.stringify(q);
    row.quotaFetchedAt = q.fetchedAt;
    if (q.email && !row.email) row.email = q.email;
    if (q.userId && !row.userId) row.userId = q.userId;
    this.store.update(row.id, { quotaJson: row.quotaJson, quotaFetchedAt: row.quotaFetchedAt, email: row.email, userId: row.userId });
    this.emit("quota", { accountId: row.id, label: row.label, remaining: q.remaining, limit: q.limit, resetAt: q.resetAt, subscription: q.subscription });
    const now = this.now();
    if (q.limit > 0 && q.remaining <= 0 && row.state === "active") {
      this.setState(rec, "exhausted", "no credits left", q.resetAt && q.resetAt > now ? q.resetAt : null);
    } else if (row.state === "exhausted" && q.remaining > 0) {
      this.setState(rec, "active", null, null, "credits available again");
    } else if (row.state === "exhausted" && q.resetAt && q.resetAt > now && row.stateUntil !== q.resetAt) {
      this.setState(rec, "exhausted", row.stateReason, q.resetAt, "reset date from quota");
    } else this.reweigh(rec);
  }

  summary(): PoolSummary {
    this.recoverDue(this.now());
    const out: PoolSummary = { total: this.recs.size, usable: this.selector.pickableCount, active: 0, cooling: 0, exhausted: 0, disabled: 0, inflight: 0, strategy: this.strategy, remainingCredits: 0 };
    for (const rec of this.recs.values()) {
      out[rec.row.state]++;
      out.inflight += rec.inflight;
      out.remainingCredits += rec.quota?.remaining ?? 0;
      if ((rec.row.state === "cooling" || rec.row.state === "exhausted") && rec.row.stateUntil) out.nextRecoveryAt = Math.min(out.nextRecoveryAt ?? Infinity, rec.row.stateUntil);
    }
    return out;
  }

  // ------------------------------------------------------------------ internals

  private mustGet(id: string): Rec {
    const rec = this.recs.get(id);
    if (!rec) throw new Error(`no account ${id}`);
    return rec;
  }

  private addRec(row: AccountRow): Rec {
    const slot = this.freeSlots.pop() ?? this.bySlot.length;
    let quota: QuotaSnapshot | undefined;
    if (row.quotaJson) {
      try { quota = JSON.parse(row.quotaJson) as QuotaSnapshot; } catch { /* re-polled later */ }
    }
    const rec: Rec = { row, slot, inflight: 0, quota, plain: {}, throttleStreak: 0 };
    this.recs.set(row.id, rec);
    this.bySlot[slot] = rec;
    if ((row.state === "cooling" || row.state === "exhausted") && row.stateUntil) this.recovery.push(row.stateUntil, row.id);
    this.priorityDirty = true;
    this.reweigh(rec);
    return rec;
  }

  private view(rec: Rec): AccountView {
    const r = rec.row;
    return {
      id: r.id, kind: r.kind, label: r.label, email: r.email ?? undefined, userId: r.userId ?? undefined, region: r.region,
      authRegion: r.authRegion ?? undefined, profileArn: arnOf(r), fingerprint: r.fingerprint, state: r.state,
      stateReason: r.stateReason ?? undefined, stateUntil: r.stateUntil ?? undefined, inflight: rec.inflight, priority: r.priority,
      requests: r.requests, errors: r.errors, consecutiveFailures: r.consecutiveFailures, lastUsedAt: r.lastUsedAt ?? undefined,
      lastError: r.lastError ?? undefined, lastErrorAt: r.lastErrorAt ?? undefined, accessExpiresAt: r.accessExpiresAt ?? undefined,
      hasClientSecret: !!r.clientSecretEnc, quota: rec.quota, source: r.source, sourcePath: r.sourcePath ?? undefined,
      createdAt: r.createdAt, updatedAt: r.updatedAt,
    };
  }

  private emit(kind: "account" | "refresh" | "selection" | "quota" | "import", data: Record<string, unknown>): void {
    this.s.bus.emit({ kind, at: this.now(), data });
  }
}

/** "2026-12-01 00:00 UTC": what a person reads in an error message. */
export function utcMinute(t: number): string {
  return `${new Date(t).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** The ARN to send (never the NO_PROFILE marker). */
export function arnOf(row: Pick<AccountRow, "profileArn">): string | undefined {
  return row.profileArn && row.profileArn !== NO_PROFILE ? row.profileArn : undefined;
}
