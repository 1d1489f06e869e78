/**
 * The accounts table: every account's record in memory (mirrored to the store), the selection
 * structure kept in step with each record's weight, the recovery heap of cooling/exhausted
 * accounts, state changes and the batched counter writes. Records hold no decrypted secret: those
 * live only in credentials.ts.
 */
import type { AccountRepo } from "../db/repos";
import type { SecretBox } from "../crypto/secret-box";
import type { EventBus } from "../logs/bus";
import type { Logger } from "../logs/logger";
import type { SettingsStore } from "../db/settings-store";
import type { KiroUpstreamConfig } from "../kiro/config";
import type { QuotaSnapshot } from "../kiro/usage";
import type { ServedModel } from "../core/models";
import type { AccountRow } from "./store";
import { Selector, type Strategy } from "./selection";
import { TimeHeap } from "./heap";
import { PaceState } from "./pace-state";
import type { AccountState } from "./types";

/** What the pool needs from the services built at boot (a Services object satisfies it). */
export type PoolDeps = { store: { accounts: AccountRepo }; box: SecretBox; bus: EventBus; log: Logger; settings: SettingsStore; upstream: KiroUpstreamConfig };

/** Reason prefix of accounts the pool disabled itself after repeated failures (the probe may re-enable them). */
export const AUTO_DISABLED = "auto-disabled";
/**
 * Stored in profile_arn for an IdC account that has no profile (Builder ID: ListAvailableProfiles
 * answers 403), so the lookup is not repeated on every request. Never sent upstream.
 */
export const NO_PROFILE = "none";
/** Weight of an account whose remaining credits are unknown yet. */
const UNKNOWN_CREDITS_WEIGHT = 50;

export type Rec = {
  row: AccountRow;
  slot: number;
  inflight: number;
  quota?: QuotaSnapshot;
  /** The models this account may use (ListAvailableModels), once known; stored in models_json. */
  models?: ServedModel[];
  /** Their upstream ids, for the pick-time check. */
  modelSet?: Set<string>;
  /** Models the service refused for this account (INVALID_MODEL_ID); in memory, for this process. */
  unsupported?: Set<string>;
  /** Consecutive 429s (drives the exponential cooldown). */
  throttleStreak: number;
  /** Recent request starts and the time the account has head-room again (pacing.ts). */
  pace: PaceState;
};

/** The account's model list (from ListAvailableModels or the store). */
export function setModels(rec: Rec, models: ServedModel[]): void {
  rec.models = models.filter((m) => m && typeof m.id === "string");
  rec.modelSet = new Set(rec.models.map((m) => m.id));
}

export type EventKind = "account" | "refresh" | "selection" | "quota" | "import";

export class AccountTable {
  readonly store: AccountRepo;
  /** fingerprint → account id, for every fingerprint an account ever had (de-duplication). */
  readonly fingerprints: Map<string, string>;
  readonly selector: Selector;
  private readonly recs = new Map<string, Rec>();
  private readonly bySlot: Array<Rec | undefined> = [];
  private readonly freeSlots: number[] = [];
  private readonly recovery = new TimeHeap();
  private readonly dirty = new Set<string>();
  private priorityDirty = true;
  /** Per-account concurrency cap (runtime setting). */
  cap: number;
  /** Called when an account becomes pickable again (the wait queue serves its next request). */
  onPickable?: () => void;
  /** Called when counters become dirty after a flush (the pool schedules the next one). */
  onDirty?: () => void;

  constructor(readonly deps: PoolDeps, readonly now: () => number, random: () => number) {
    this.store = deps.store.accounts;
    this.selector = new Selector(random);
    this.cap = deps.settings.runtime.perAccountConcurrency;
    this.fingerprints = this.store.loadFingerprints();
    for (const row of this.store.loadAll()) this.add(row);
  }

  get size(): number {
    return this.recs.size;
  }

  get strategy(): Strategy {
    return this.deps.settings.runtime.strategy;
  }

  get(id: string): Rec | undefined {
    return this.recs.get(id);
  }

  has(id: string): boolean {
    return this.recs.has(id);
  }

  mustGet(id: string): Rec {
    const rec = this.recs.get(id);
    if (!rec) throw new Error(`no account ${id}`);
    return rec;
  }

  values(): IterableIterator<Rec> {
    return this.recs.values();
  }

  atSlot(slot: number): Rec | undefined {
    return slot >= 0 ? this.bySlot[slot] : undefined;
  }

  add(row: AccountRow): Rec {
    const slot = this.freeSlots.pop() ?? this.bySlot.length;
    let quota: QuotaSnapshot | undefined;
    if (row.quotaJson) {
      try { quota = JSON.parse(row.quotaJson) as QuotaSnapshot; } catch { /* re-polled later */ }
    }
    const rec: Rec = { row, slot, inflight: 0, quota, throttleStreak: 0, pace: new PaceState() };
    if (row.modelsJson) {
      // The last stored model list serves until the next poll (the catalogue does not flip at start).
      try { setModels(rec, JSON.parse(row.modelsJson) as ServedModel[]); } catch { /* re-polled later */ }
    }
    this.recs.set(row.id, rec);
    this.bySlot[slot] = rec;
    if ((row.state === "cooling" || row.state === "exhausted") && row.stateUntil) this.recovery.push(row.stateUntil, row.id);
    this.priorityDirty = true;
    this.reweigh(rec);
    return rec;
  }

  /** Drops the account from memory and the store, with every fingerprint it ever had. */
  remove(rec: Rec): void {
    this.store.remove(rec.row.id);
    this.drop(rec);
  }

  /**
   * Another instance stored this row (the change feed): the record takes its persisted fields —
   * state, tokens, quota, models, label, priority — while this instance's counters stay its own
   * (they are flushed as deltas). Returns whether the stored tokens differ from the ones in memory.
   */
  applyStored(row: AccountRow): { added: boolean; tokensChanged: boolean } {
    const rec = this.recs.get(row.id);
    if (!rec) {
      this.add(row);
      this.fingerprints.set(row.fingerprint, row.id);
      this.emit("account", { accountId: row.id, label: row.label, state: row.state, why: "added on another instance" });
      return { added: true, tokensChanged: false };
    }
    const old = rec.row;
    const tokensChanged = old.refreshTokenEnc !== row.refreshTokenEnc || old.accessTokenEnc !== row.accessTokenEnc;
    const from = old.state;
    const stateChanged = from !== row.state || old.stateUntil !== row.stateUntil;
    const quotaChanged = old.quotaJson !== row.quotaJson;
    const modelsChanged = old.modelsJson !== row.modelsJson;
    Object.assign(old, row, { requests: old.requests, errors: old.errors, lastUsedAt: Math.max(old.lastUsedAt ?? 0, row.lastUsedAt ?? 0) || null });
    if (quotaChanged && row.quotaJson) {
      try { rec.quota = JSON.parse(row.quotaJson) as QuotaSnapshot; } catch { /* re-polled later */ }
    }
    if (modelsChanged && row.modelsJson) {
      try { setModels(rec, JSON.parse(row.modelsJson) as ServedModel[]); } catch { /* re-polled later */ }
    }
    if ((row.state === "cooling" || row.state === "exhausted") && row.stateUntil) this.recovery.push(row.stateUntil, row.id);
    if (row.state === "active") rec.throttleStreak = 0;
    this.fingerprints.set(row.fingerprint, row.id);
    this.priorityDirty = true;
    this.reweigh(rec);
    if (stateChanged) this.emit("account", { accountId: row.id, label: row.label, from, state: row.state, reason: row.stateReason, until: row.stateUntil, why: "changed on another instance" });
    return { added: false, tokensChanged };
  }

  /** Drops the account from memory only (removed by another instance, or just now from the store). */
  drop(rec: Rec): void {
    const id = rec.row.id;
    this.recs.delete(id);
    this.selector.set(rec.slot, 0);
    this.bySlot[rec.slot] = undefined;
    this.freeSlots.push(rec.slot);
    for (const [fp, owner] of this.fingerprints) if (owner === id) this.fingerprints.delete(fp);
    this.dirty.delete(id);
    this.priorityDirty = true;
  }

  /** Whether the account may serve this upstream model id (unknown list → assume yes). */
  serves(rec: Rec, model: string | undefined): boolean {
    if (!model) return true;
    if (rec.unsupported?.has(model)) return false;
    return !rec.modelSet || rec.modelSet.has(model);
  }

  /** Balanced weight: remaining credits / (1 + load); 0 = not pickable right now (not active, at its concurrency cap, or paced). */
  private weightOf(rec: Rec): number {
    if (rec.row.state !== "active" || rec.inflight >= this.cap || rec.pace.until !== 0 || !this.recs.has(rec.row.id)) return 0;
    const credits = rec.quota ? Math.max(rec.quota.remaining, 0.5) : UNKNOWN_CREDITS_WEIGHT;
    return credits / (1 + rec.inflight);
  }

  reweigh(rec: Rec): void {
    const was = this.selector.weight(rec.slot);
    const w = this.weightOf(rec);
    this.selector.set(rec.slot, w);
    if (w > 0 && !(was > 0)) this.onPickable?.();
  }

  /** When the next cooling/exhausted account is due back (epoch ms), if any. */
  nextRecoveryAt(): number | undefined {
    return this.recovery.peekTime();
  }

  setCap(cap: number): void {
    if (cap === this.cap) return;
    this.cap = cap;
    for (const rec of this.recs.values()) this.reweigh(rec);
  }

  markPriorityDirty(): void {
    this.priorityDirty = true;
  }

  /** The priority strategy's order (priority, then age), rebuilt only after a change. */
  ensurePriorityOrder(): void {
    if (!this.priorityDirty) return;
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

  setState(rec: Rec, state: AccountState, reason: string | null, until: number | null, why?: string): void {
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
    this.deps.log[level](`account ${row.label || row.id} ${from} → ${state}${reason ? `: ${reason}` : ""}${until ? ` until ${new Date(until).toISOString()}` : ""}`, { accountId: row.id });
  }

  /** State + counters in one short transaction (state changes are never batched). */
  writeRowNow(rec: Rec): void {
    const r = rec.row;
    this.store.update(r.id, {
      state: r.state, stateReason: r.stateReason, stateUntil: r.stateUntil, requests: r.requests, errors: r.errors,
      consecutiveFailures: r.consecutiveFailures, lastUsedAt: r.lastUsedAt, lastError: r.lastError, lastErrorAt: r.lastErrorAt,
      quotaJson: r.quotaJson, quotaFetchedAt: r.quotaFetchedAt, updatedAt: r.updatedAt,
    });
    this.dirty.delete(r.id);
  }

  /** Counters changed; written by the next flush(). */
  markDirty(id: string): void {
    if (!this.dirty.size) this.onDirty?.();
    this.dirty.add(id);
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

  /** `at`: when it happened, if not now (a selection is stamped with the instant pacing counts it at). */
  emit(kind: EventKind, data: Record<string, unknown>, at = this.now()): void {
    this.deps.bus.emit({ kind, at, data });
  }
}

/** The ARN to send (never the NO_PROFILE marker). */
export function arnOf(row: Pick<AccountRow, "profileArn">): string | undefined {
  return row.profileArn && row.profileArn !== NO_PROFILE ? row.profileArn : undefined;
}

/** "2026-12-01 00:00 UTC": what a person reads in an error message. */
export function utcMinute(t: number): string {
  return `${new Date(t).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}
