/**
 * The account pool: accounts in memory mirrored to the store, O(log n) selection (selection.ts),
 * the failover policy (failover.ts) applied as state changes, and per-account single-flight token
 * refresh through the shared TokenManager. Nothing here scans all accounts on the request path;
 * housekeeping (proactive refresh, quota polling, probes) lives in scheduler.ts.
 */
import type { Services } from "../services";
import type { KiroCredentials } from "../kiro/client";
import { KiroError } from "../kiro/errors";
import type { RefreshResult } from "../kiro/auth";
import { TokenManager, type TokenAccount, type TokenManagerOptions } from "../kiro/token-manager";
import { getUsageLimits, listAvailableModels, type QuotaSnapshot } from "../kiro/usage";
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

export type Rec = {
  row: AccountRow;
  slot: number;
  inflight: number;
  quota?: QuotaSnapshot;
  /** Upstream model ids this account may use (ListAvailableModels), once known. */
  models?: string[];
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
  private readonly flushTimer: ReturnType<typeof setInterval>;
  private readonly unsubscribe: () => void;
  private cap: number;
  /** Set by the scheduler: asked to poll an account's quota soon (after a 402). */
  quotaWanted?: (id: string) => void;

  constructor(private readonly s: PoolDeps, opts: PoolOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
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

    let rec: Rec | undefined;
    let sticky = false;
    if (opts.conversationId) {
      const id = this.affinity.get(opts.conversationId);
      const hit = id ? this.recs.get(id) : undefined;
      if (hit && this.selector.weight(hit.slot) > 0 && !opts.exclude?.has(hit.row.id)) {
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
      const slot = this.selector.pick(strategy, skip);
      rec = slot >= 0 ? this.bySlot[slot] : undefined;
      if (!rec) return this.unavailable(now, opts.exclude);
    }
    if (opts.conversationId) {
      this.affinity.delete(opts.conversationId);
      this.affinity.set(opts.conversationId, rec.row.id);
      if (this.affinity.size > AFFINITY_MAX) this.affinity.delete(this.affinity.keys().next().value!);
    }
    this.emit("selection", { accountId: rec.row.id, label: rec.row.label, strategy, affinity: sticky, conversationId: opts.conversationId, inflight: rec.inflight + 1 });
    return this.lease(rec, now);
  }

  private lease(rec: Rec, now: number): PoolLease {
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
        const creds = await pool.credentialsFor(rec, o.forceRefresh === true, lastToken);
        lastToken = creds.accessToken;
        return creds;
      },
      success(info: { usage?: Partial<Usage> }) {
        pool.onSuccess(rec, info.usage);
      },
      failure(err: KiroError): FailureDecision {
        const out = pool.onFailure(rec, err, { refreshedOnce, capacityRetries });
        if (out.forceRefresh) refreshedOnce = true;
        if (out.action === "retry_same" && err.cls === "model_capacity") capacityRetries++;
        return out;
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
  private recoverDue(now: number): void {
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

  private unavailable(now: number, exclude?: Set<string>): PoolUnavailable {
    let busy = 0, tried = 0, cooling = 0, exhausted = 0, disabled = 0;
    let coolAt: number | undefined;
    let exhaustAt: number | undefined;
    for (const rec of this.recs.values()) {
      const st = rec.row.state;
      if (st === "active") {
        if (exclude?.has(rec.row.id)) tried++;
        else busy++;
      } else if (st === "cooling") {
        cooling++;
        coolAt = Math.min(coolAt ?? Infinity, rec.row.stateUntil ?? now);
      } else if (st === "exhausted") {
        exhausted++;
        exhaustAt = Math.min(exhaustAt ?? Infinity, rec.row.stateUntil ?? now);
      } else disabled++;
    }
    const earliest = coolAt !== undefined || exhaustAt !== undefined ? Math.min(coolAt ?? Infinity, exhaustAt ?? Infinity) : undefined;
    const when = earliest !== undefined ? ` (earliest back at ${new Date(earliest).toISOString()})` : "";
    if (busy > 0) {
      return { unavailable: true, reason: "all_busy", retryAt: earliest, message: `all ${busy} usable accounts are at their concurrency limit (${this.cap})` };
    }
    if (cooling > 0) {
      return { unavailable: true, reason: "all_cooling", retryAt: earliest, message: `every account is rate-limited or unavailable${tried ? `; ${tried} already tried for this request` : ""}: ${cooling} cooling down, ${exhausted} out of quota, ${disabled} disabled${when}` };
    }
    if (exhausted > 0) {
      return { unavailable: true, reason: "all_exhausted", retryAt: earliest, message: `every account is out of quota${tried ? ` or already tried for this request (${tried})` : ""}: ${exhausted} exhausted, ${disabled} disabled${when}` };
    }
    if (tried > 0) {
      return { unavailable: true, reason: "all_busy", message: `all ${tried} usable accounts were already tried for this request; ${disabled} disabled` };
    }
    return { unavailable: true, reason: "all_disabled", message: `all ${disabled} accounts are disabled; see the admin panel for reasons` };
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
      persist: (result) => this.persistRefresh(rec, p.refresh, result),
    };
  }

  /** Only this account, only when needed (or forced after a bearer-invalid answer). */
  async credentialsFor(rec: Rec, force: boolean, rejectedToken?: string): Promise<KiroCredentials> {
    const acct = await this.tokenAccount(rec);
    const accessToken = rec.row.kind === "api_key" ? acct.refreshToken : await this.tokens.getAccessToken(acct, { force, rejectedToken });
    return {
      accessToken,
      authKind: rec.row.kind,
      region: rec.row.region,
      profileArn: rec.row.profileArn ?? undefined,
      machineId: rec.row.machineId,
      proxy: rec.row.proxy ?? undefined,
    };
  }

  /** Rotated refresh token + access token stored in one transaction BEFORE the token is used (§2.5). */
  private async persistRefresh(rec: Rec, usedRefresh: string, result: RefreshResult): Promise<void> {
    const rotated = result.refreshToken && result.refreshToken !== usedRefresh ? result.refreshToken : undefined;
    const accessEnc = await this.s.box.encrypt(result.accessToken);
    const refreshEnc = rotated ? await this.s.box.encrypt(rotated) : undefined;
    const now = this.now();
    const patch: AccountPatch = { accessTokenEnc: accessEnc, accessExpiresAt: result.expiresAt, updatedAt: now };
    if (result.profileArn && !rec.row.profileArn) patch.profileArn = result.profileArn;
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
    this.reweigh(rec);
  }

  private onFailure(rec: Rec, err: KiroError, lease: { refreshedOnce: boolean; capacityRetries: number }): FailureDecision {
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
    const fp = fingerprintOf(token);
    const known = this.findExisting(fp, input);
    if (known) return this.updateExisting(known.rec, input, token, fp, known.byAlias);

    const now = this.now();
    const [refreshEnc, secretEnc, accessEnc] = await Promise.all([
      this.s.box.encrypt(token),
      input.clientSecret ? this.s.box.encrypt(input.clientSecret) : undefined,
      input.accessToken && input.expiresAt && input.expiresAt > now ? this.s.box.encrypt(input.accessToken) : undefined,
    ]);
    // Another upsert of the same token may have finished while we encrypted.
    const raced = this.findExisting(fp, input);
    if (raced) return this.updateExisting(raced.rec, input, token, fp, raced.byAlias);
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
      proxy: null,
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

  private findExisting(fp: string, input: AccountInput): { rec: Rec; byAlias: boolean } | undefined {
    const id = this.fingerprints.get(fp);
    const rec = id ? this.recs.get(id) : undefined;
    if (rec) return { rec, byAlias: rec.row.fingerprint !== fp };
    // Same person, new login: match on userId, or email within the same kind.
    if (!input.userId && !input.email) return undefined;
    for (const r of this.recs.values()) {
      if (input.userId && r.row.userId === input.userId) return { rec: r, byAlias: false };
      if (input.email && r.row.email === input.email && r.row.kind === input.kind) return { rec: r, byAlias: false };
    }
    return undefined;
  }

  private async updateExisting(rec: Rec, input: AccountInput, token: string, fp: string, byAlias: boolean): Promise<UpsertResult> {
    const row = rec.row;
    const patch: AccountPatch = {};
    const set = <K extends keyof AccountRow>(k: K, v: AccountRow[K] | undefined) => {
      if (v !== undefined && v !== null && v !== "" && row[k] !== v) (patch as Record<string, unknown>)[k] = v;
    };
    if (input.label?.trim()) set("label", input.label.trim());
    set("email", input.email);
    set("userId", input.userId);
    set("profileArn", input.profileArn);
    set("authRegion", input.authRegion);
    set("clientId", input.clientId);
    set("sourcePath", input.sourcePath);
    let secretChanged = false;
    if (input.clientSecret && input.clientSecret !== (await this.plainOf(rec)).secret) {
      patch.clientSecretEnc = await this.s.box.encrypt(input.clientSecret);
      secretChanged = true;
    }
    // A token this account has rotated away from is an old copy: never go back to it.
    const newToken = fp !== row.fingerprint && !byAlias && this.fingerprints.get(fp) !== row.id;
    if (!Object.keys(patch).length && !newToken) {
      return { id: row.id, outcome: "skipped", why: byAlias ? "older copy of a token this account has since rotated" : "already present, unchanged" };
    }
    const now = this.now();
    patch.updatedAt = now;
    if (newToken) {
      const refreshEnc = await this.s.box.encrypt(token);
      if (!this.recs.has(row.id)) return { id: row.id, outcome: "skipped", why: "account was removed meanwhile" };
      const oldFp = row.fingerprint;
      Object.assign(patch, { refreshTokenEnc: refreshEnc, fingerprint: fp, accessTokenEnc: null, accessExpiresAt: null });
      this.store.replaceToken(row.id, patch as AccountPatch & { fingerprint: string; refreshTokenEnc: string }, oldFp, now);
      Object.assign(row, patch);
      this.fingerprints.set(fp, row.id);
      rec.plain = { refresh: token, secret: secretChanged ? input.clientSecret : rec.plain.secret };
      this.tokens.forget(row.id);
    } else {
      this.store.update(row.id, patch);
      Object.assign(row, patch);
      if (secretChanged) rec.plain.secret = input.clientSecret;
    }
    // A fresh login revives an account disabled for a dead token or registration.
    if (row.state === "disabled" && (newToken || secretChanged) && !input.disabled) this.setState(rec, "active", null, null, "re-imported");
    this.emit("import", { accountId: row.id, label: row.label, outcome: "updated", source: input.source, fingerprint: row.fingerprint, newToken });
    return { id: row.id, outcome: "updated", why: newToken ? "new refresh token for a known account" : "details updated" };
  }

  /**
   * Adopts a refresh token another program rotated (the Kiro IDE cache file). Returns true when
   * the account now uses it.
   */
  async adoptRotatedToken(id: string, refreshToken: string, access?: { accessToken: string; expiresAt: number }): Promise<boolean> {
    const rec = this.recs.get(id);
    if (!rec) return false;
    const fp = fingerprintOf(refreshToken);
    if (this.fingerprints.has(fp)) return false; // ours already, or an old copy
    const now = this.now();
    const refreshEnc = await this.s.box.encrypt(refreshToken);
    const accessEnc = access && access.expiresAt > now ? await this.s.box.encrypt(access.accessToken) : undefined;
    if (!this.recs.has(id) || this.fingerprints.has(fp)) return false;
    const oldFp = rec.row.fingerprint;
    const patch = { refreshTokenEnc: refreshEnc, fingerprint: fp, accessTokenEnc: accessEnc ?? null, accessExpiresAt: accessEnc ? access!.expiresAt : null, updatedAt: now };
    this.store.replaceToken(id, patch, oldFp, now);
    Object.assign(rec.row, patch);
    this.fingerprints.set(fp, id);
    rec.plain = { refresh: refreshToken, access: accessEnc ? access!.accessToken : undefined, secret: rec.plain.secret };
    this.tokens.forget(id);
    this.emit("refresh", { accountId: id, label: rec.row.label, rotated: true, adopted: true, fingerprint: fp });
    this.s.log.info(`account ${rec.row.label}: adopted a refresh token rotated by another program`, { accountId: id });
    if (rec.row.state === "disabled" && rec.row.stateReason === "refresh token rejected") this.setState(rec, "active", null, null, "token adopted");
    return true;
  }

  list(): AccountView[] {
    return [...this.recs.values()].map((r) => this.view(r));
  }

  get(id: string): AccountView | undefined {
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
      authRegion: r.authRegion ?? undefined, profileArn: r.profileArn ?? undefined, fingerprint: r.fingerprint, state: r.state,
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
