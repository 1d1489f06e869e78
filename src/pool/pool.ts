/**
 * The account pool: one facade over its parts, each owning one concern —
 *   records.ts      the accounts table (records mirrored to the store, weights, recovery, state);
 *   views.ts        redacted AccountView, summary, the "why nothing can be picked" message;
 *   picker.ts       affinity + O(log n) pick (selection.ts) + model check + self-heal trial;
 *   pacing.ts       requests per window and spacing per account (paced accounts are not picked);
 *   queue.ts        the first-come-first-served wait when every account is at its limit;
 *   credentials.ts  decrypted tokens and refresh (the only part that ever holds them);
 *   outcomes.ts     success/failure → account state (cooldown, exhausted, disabled, model refused);
 *   identity.ts     upsert, de-duplication, tokens adopted from the Kiro IDE's file;
 *   quota.ts        quota snapshots, probes and the per-account model lists.
 * Callers (turn runner, scheduler, panel, routes) use only the methods below: none of them ever
 * sees a record or a decrypted token. Nothing here scans all accounts on the request path;
 * housekeeping (proactive refresh, quota polling, probes) lives in scheduler.ts.
 */
import type { KiroError } from "../kiro/errors";
import type { QuotaSnapshot } from "../kiro/usage";
import type { Usage } from "../core/canonical";
import type { ServedModel } from "../core/models";
import type { Strategy } from "./selection";
import { AccountTable, type PoolDeps, type Rec } from "./records";
import type { AccountRow } from "./store";
import { Picker } from "./picker";
import { Pacer } from "./pacing";
import { WaitQueue, type QueueStats } from "./queue";
import { Credentials, type RefreshFn } from "./credentials";
import { Outcomes } from "./outcomes";
import { Identity, type AdoptOutcome } from "./identity";
import { Quotas } from "./quota";
import { summarize, utcSecond, viewOf, type Unpicked } from "./views";
import type { AccountInput, AccountView, AcquireOptions, FailureDecision, PoolLease, PoolSummary, PoolUnavailable, UpsertResult } from "./types";

export { AUTO_DISABLED, NO_PROFILE, arnOf, utcMinute, type PoolDeps } from "./records";
export { MIN_REFRESH_TOKEN_LENGTH, isProxyUrl, type AdoptOutcome } from "./identity";

export type PoolOptions = {
  now?: () => number;
  random?: () => number;
  /** Injected into the TokenManager and the token verification (tests count calls). */
  refresh?: RefreshFn;
  /** How soon after a change batched counters are written (ms). */
  flushIntervalMs?: number;
};

export class AccountPool {
  private readonly table: AccountTable;
  private readonly picker: Picker;
  private readonly creds: Credentials;
  private readonly outcomes: Outcomes;
  private readonly quotas: Quotas;
  private readonly identity: Identity;
  private readonly pacer: Pacer;
  private readonly queue: WaitQueue;
  private readonly now: () => number;
  /** The pending write of batched counters (armed by the first change after a write, so an idle pool runs nothing). */
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly unsubscribe: () => void;

  constructor(deps: PoolDeps, opts: PoolOptions = {}) {
    this.now = opts.now ?? Date.now;
    const random = opts.random ?? Math.random;
    this.table = new AccountTable(deps, this.now, random);
    this.pacer = new Pacer(this.table);
    this.picker = new Picker(this.table, this.pacer);
    this.creds = new Credentials(this.table, opts.refresh);
    this.outcomes = new Outcomes(this.table, random);
    this.quotas = new Quotas(this.table, this.creds, this.outcomes);
    this.identity = new Identity(this.table, this.creds, this.quotas);
    this.queue = new WaitQueue({
      now: this.now,
      log: deps.log,
      prepare: (now) => this.prepare(now),
      take: (o, now, waitedMs) => this.take(o, now, waitedMs),
      anyPickable: () => this.table.selector.pickableCount > 0,
      nextWake: () => minDefined(this.pacer.nextWake(), this.table.nextRecoveryAt()),
      queueWaitMs: () => deps.settings.runtime.queueWaitMs,
      timedOut: (u, waitedMs) => this.atLimit(u, waitedMs),
    });
    this.table.onPickable = () => this.queue.wake();
    this.unsubscribe = deps.settings.onChange((r) => {
      this.table.setCap(r.perAccountConcurrency);
      this.pacer.relimit(this.now());
      this.queue.wake();
    });
    const flushMs = opts.flushIntervalMs ?? 1000;
    this.table.onDirty = () => {
      if (this.flushTimer) return;
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        this.table.flush();
      }, flushMs);
      (this.flushTimer as { unref?: () => void }).unref?.();
    };
  }

  get strategy(): Strategy {
    return this.table.strategy;
  }

  // ------------------------------------------------------------------ request path

  /**
   * An account for one request, now or never (synchronous; O(log n) except on the unavailable
   * path). Accounts at their pacing or concurrency limit are not picked: "all_busy" when only such
   * accounts are left. The turn runner uses acquireWait().
   */
  acquire(opts: AcquireOptions = {}): PoolLease | PoolUnavailable {
    const now = this.now();
    this.prepare(now);
    const got = this.take(opts, now, 0);
    return "u" in got ? got.u : got;
  }

  /**
   * An account for one request, waiting when needed: prefers accounts with head-room; when every
   * account that could serve is at its pacing or concurrency limit, waits in a first-come-first-
   * served queue for at most the queueWaitMs setting, then answers "all_at_limit" (retryAt = the
   * next free slot). Answers at once when waiting cannot help (no account configured, all cooling,
   * exhausted or disabled, all tried). Rejects (AbortError) when `signal` aborts while waiting.
   */
  acquireWait(opts: AcquireOptions = {}, signal?: AbortSignal): Promise<PoolLease | PoolUnavailable> {
    return this.queue.acquire(opts, signal);
  }

  /** Requests waiting for an account and what the queue has seen since start. */
  queueStats(): QueueStats {
    return this.queue.snapshot();
  }

  private prepare(now: number): void {
    this.table.recoverDue(now);
    this.pacer.releaseDue(now);
  }

  private take(opts: AcquireOptions, now: number, waitedMs: number): PoolLease | Unpicked {
    const got = this.picker.pick(opts, now);
    if ("u" in got) return got;
    const { rec, sticky, trial } = got;
    this.table.emit("selection", { accountId: rec.row.id, label: rec.row.label, strategy: this.table.strategy, affinity: sticky, conversationId: opts.conversationId, model: opts.model, trial: trial || undefined, inflight: rec.inflight + 1, waitedMs: waitedMs || undefined }, now);
    if (trial) this.table.deps.log.info(`every account is auto-disabled: trying ${rec.row.label || rec.row.id} once`, { accountId: rec.row.id });
    return this.lease(rec, now, opts.model);
  }

  /** The answer after waiting in vain (or at once when the wait is off or the queue is full). */
  private atLimit(u: PoolUnavailable, waitedMs: number): PoolUnavailable {
    const now = this.now();
    const wait = this.table.deps.settings.runtime.queueWaitMs;
    const waited = waitedMs > 0 ? `; waited ${(waitedMs / 1000).toFixed(1)} s in the queue` : "";
    // Only concurrency-bound: no slot time is known; suggest another wait of the same length.
    const retryAt = u.retryAt ?? now + Math.max(1000, wait);
    return { unavailable: true, reason: "all_at_limit", retryAt, message: `${u.message}${waited}; retry after ${utcSecond(retryAt)}` };
  }

  private lease(rec: Rec, now: number, model?: string): PoolLease {
    rec.inflight++;
    rec.row.lastUsedAt = now;
    this.pacer.record(rec, now);
    this.table.reweigh(rec);
    let released = false;
    let refreshedOnce = false;
    let capacityRetries = 0;
    let attempts = 0;
    let lastToken: string | undefined;
    const { table, creds, outcomes, pacer } = this;
    return {
      accountId: rec.row.id,
      label: rec.row.label,
      async credentials(o = {}) {
        if (o.forceRefresh) refreshedOnce = true;
        // Each attempt sends one request: a retry on the same lease counts toward the account's pacing too.
        if (++attempts > 1) pacer.record(rec, table.now());
        try {
          const c = await creds.forAccount(rec, o.forceRefresh === true, lastToken);
          lastToken = c.accessToken;
          return c;
        } catch (err) {
          // The request path's refresh failed: visible on the bus like a background one.
          creds.emitRefreshFailure(rec, err, true);
          throw err;
        }
      },
      success(info: { usage?: Partial<Usage> }) {
        outcomes.success(rec, info.usage);
      },
      failure(err: KiroError): FailureDecision {
        const out = outcomes.failure(rec, err, { refreshedOnce, capacityRetries, model });
        if (out.forceRefresh) refreshedOnce = true;
        if (out.action === "retry_same" && err.cls === "model_capacity") capacityRetries++;
        return out;
      },
      release() {
        if (released) return;
        released = true;
        rec.inflight--;
        table.reweigh(rec);
      },
    };
  }

  // ------------------------------------------------------------------ views

  // Views recover due accounts first: a cooldown that ended must not still show as "cooling
  // until <a time already past>" just because no request has arrived since.
  list(): AccountView[] {
    const now = this.now();
    this.prepare(now);
    return [...this.table.values()].map((rec) => this.view(rec, now));
  }

  get(id: string): AccountView | undefined {
    const now = this.now();
    this.prepare(now);
    const rec = this.table.get(id);
    return rec ? this.view(rec, now) : undefined;
  }

  summary(): PoolSummary {
    this.prepare(this.now());
    return summarize(this.table);
  }

  private view(rec: Rec, now = this.now()): AccountView {
    return viewOf(rec, this.pacer.view(rec, now));
  }

  /**
   * Upstream model ids that at least one account which is not disabled can use, or undefined
   * while no account has reported its list (then every known model is offered).
   */
  servableModelIds(): Set<string> | undefined {
    return this.quotas.servableModelIds();
  }

  /**
   * The model catalogue's feed: `fn` gets the merged model lists of the usable accounts (each
   * model's upstream id, display name and token limits; undefined while no account has a list)
   * now and after every change. Returns the unsubscribe function.
   */
  onModelLists(fn: (served: ServedModel[] | undefined) => void): () => void {
    return this.quotas.onModelLists(fn);
  }

  /** Accounts imported from `source` (e.g. "kiro-ide"), without building full views (the IDE sync polls this). */
  importedFrom(source: string): Array<Pick<AccountView, "id" | "kind" | "sourcePath" | "updatedAt">> {
    const out: Array<Pick<AccountView, "id" | "kind" | "sourcePath" | "updatedAt">> = [];
    for (const { row } of this.table.values()) {
      if (row.source === source) out.push({ id: row.id, kind: row.kind, sourcePath: row.sourcePath ?? undefined, updatedAt: row.updatedAt });
    }
    return out;
  }

  /** Cooling/exhausted accounts whose until-time has passed become active (the scheduler's tick). */
  recoverDue(now = this.now()): void {
    this.table.recoverDue(now);
  }

  // ------------------------------------------------------------------ admin

  async upsert(input: AccountInput): Promise<UpsertResult> {
    return this.identity.upsert(input);
  }

  /**
   * A token the Kiro IDE wrote into the file account `id` was imported from: adopted when it is
   * the same person, added as another account when not (see identity.ts for the outcomes).
   */
  async adoptRotatedToken(id: string, input: AccountInput): Promise<AdoptOutcome> {
    return this.identity.adoptRotatedToken(id, input);
  }

  setEnabled(id: string, on: boolean): AccountView | undefined {
    const rec = this.table.get(id);
    if (!rec) return undefined;
    if (on && rec.row.state !== "active") this.table.setState(rec, "active", null, null, "enabled by operator");
    if (!on && rec.row.state !== "disabled") this.table.setState(rec, "disabled", "disabled by operator", null);
    return this.view(rec);
  }

  setLabel(id: string, label: string): AccountView | undefined {
    const rec = this.table.get(id);
    if (!rec) return undefined;
    rec.row.label = label.trim().slice(0, 200);
    rec.row.updatedAt = this.now();
    this.table.store.update(id, { label: rec.row.label, updatedAt: rec.row.updatedAt });
    this.table.emit("account", { accountId: id, label: rec.row.label, state: rec.row.state, why: "renamed" });
    return this.view(rec);
  }

  setPriority(id: string, priority: number): AccountView | undefined {
    const rec = this.table.get(id);
    if (!rec) return undefined;
    rec.row.priority = Math.trunc(priority);
    this.table.store.update(id, { priority: rec.row.priority, updatedAt: this.now() });
    this.table.markPriorityDirty();
    return this.view(rec);
  }

  /** Another instance stored this account (the change feed): memory follows, tokens are re-read when they changed. */
  applyStored(row: AccountRow): void {
    const r = this.table.applyStored(row);
    if (r.tokensChanged) this.creds.forget(row.id);
    this.quotas.notify();
    this.queue.wake();
  }

  /** Another instance removed this account. */
  removeStored(id: string): void {
    const rec = this.table.get(id);
    if (!rec) return;
    this.table.drop(rec);
    this.creds.forget(id);
    this.table.emit("account", { accountId: id, label: rec.row.label, state: "removed", why: "removed on another instance" });
    this.quotas.notify();
  }

  remove(id: string): boolean {
    const rec = this.table.get(id);
    if (!rec) return false;
    this.table.remove(rec);
    this.creds.forget(id);
    this.table.emit("account", { accountId: id, label: rec.row.label, state: "removed" });
    this.table.deps.log.info(`account removed: ${rec.row.label}`, { accountId: id });
    return true;
  }

  /** Forced refresh now (panel button). A dead refresh token disables the account; errors are thrown. */
  async refreshNow(id: string): Promise<AccountView> {
    const rec = this.table.mustGet(id);
    try {
      await this.creds.refreshNow(rec);
    } catch (err) {
      this.outcomes.refreshFailed(rec, err);
      throw err;
    }
    return this.view(rec);
  }

  /**
   * Refresh ahead of expiry (scheduler): when less than `aheadMs` of the token is left (a token
   * living shorter than four refresh margins: only in its last quarter). A failure is recorded on
   * the account (dead → disabled) and thrown.
   */
  async refreshAhead(id: string, aheadMs: number): Promise<void> {
    const rec = this.table.get(id);
    if (!rec || rec.row.state === "disabled") return;
    try {
      await this.creds.refreshAhead(rec, aheadMs);
    } catch (err) {
      this.outcomes.refreshFailed(rec, err);
      throw err;
    }
  }

  /** Quota (and model list) of one account, fetched now. */
  async checkQuota(id: string): Promise<QuotaSnapshot> {
    return this.quotas.check(this.table.mustGet(id));
  }

  /** A quota snapshot obtained elsewhere (weights, exhausted state and identity follow from it). */
  applyQuota(id: string, q: QuotaSnapshot): void {
    this.quotas.apply(this.table.mustGet(id), q);
  }

  /** Probe of an auto-disabled account: re-enabled when a refresh and a quota call work; else throws. */
  async probe(id: string): Promise<void> {
    await this.quotas.probe(this.table.mustGet(id));
  }

  /** The scheduler's hook: called with an account id when its quota should be polled soon (after a 402). */
  onQuotaWanted(fn: ((id: string) => void) | undefined): void {
    this.outcomes.onQuotaWanted(fn);
  }

  /** Writes batched counters now. */
  flush(): void {
    this.table.flush();
  }

  close(): void {
    this.queue.close();
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.table.onDirty = undefined;
    this.unsubscribe();
    this.quotas.close();
    this.table.flush();
  }
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}
