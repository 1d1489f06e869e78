import { z } from "zod";
import type { ClientKey, KeyRepo, KeyTotals, KeyUsage } from "../db/repos";
import type { SecretBox } from "../crypto/secret-box";
import { NearBudget } from "./near-budget";
import { stableUuid } from "../core/stable-id";

export type { ClientKey } from "../db/repos";

/** A key's rate limits as the panel or an API sets them: a positive whole number, or null for none. */
export const keyLimitsSchema = z.object({
  rpmLimit: z.number().int().min(1).max(1_000_000).nullable().optional(),
  tpmLimit: z.number().int().min(1).max(1_000_000_000).nullable().optional(),
  concurrencyLimit: z.number().int().min(1).max(10_000).nullable().optional(),
});
export type KeyLimitsInput = z.infer<typeof keyLimitsSchema>;

export const sha256Hex = (s: string) => new Bun.CryptoHasher("sha256").update(s).digest("hex");
const monthOf = (now: number) => new Date(now).toISOString().slice(0, 7);
const overBudget = (budget: number) => `this API key used its monthly budget of ${budget} tokens`;

export const newKeyString = () => "sk-kiro-" + Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64url");

/**
 * Client API keys for /v1. Requests are checked against an in-memory map of sha256 hashes so the
 * check costs no database read (the one exception: a key near its monthly budget on a store
 * several instances share, see near-budget.ts); the map is rebuilt whenever a key changes (here,
 * or on another instance: reload() from the change feed).
 */
export class ClientKeys {
  private byHash = new Map<string, ClientKey>();
  /** Usage counted in memory since the last write, per key id (see recordUsage). */
  private pending = new Map<string, { tokens: number; requests: number }>();
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  /** A usage write whose answer (cluster totals) is awaited. */
  private writing = false;
  /** Tokens per key of the batch being written now (sent, not yet answered). */
  private sending = new Map<string, number>();
  /** Which budgeted keys are near their budget (shared stores only: see near-budget.ts). */
  private readonly near = new NearBudget();

  constructor(private readonly repo: KeyRepo, private readonly box: SecretBox) {
    this.reload();
  }

  /**
   * Rebuilds the map from the store (copies: the store's rows are never changed here). A key keeps
   * the usage counted here that the store does not show yet (PostgreSQL: a write still on its way).
   */
  reload(): void {
    this.flushUsage();
    const live = this.byId();
    this.byHash = new Map(this.repo.all().filter((k) => k.revokedAt == null).map((k) => [k.keyHash, keepCounted({ ...k }, live.get(k.id))]));
  }

  /** The key configured in KIRO_CLIENT_TOKEN, or one generated on first start and kept. */
  async ensureBuiltin(configured: string | undefined): Promise<{ key: string; source: "env" | "generated" | "stored" }> {
    const existing = this.repo.all().find((k) => k.builtin);
    if (configured) {
      const hash = sha256Hex(configured);
      if (existing?.keyHash === hash && existing.revokedAt == null && existing.name === "KIRO_CLIENT_TOKEN") return { key: configured, source: "env" };
      const values = { keyHash: hash, keyPrefix: configured.slice(0, 8), keyEnc: await this.box.encrypt(configured), name: "KIRO_CLIENT_TOKEN", revokedAt: null };
      if (existing) this.repo.update(existing.id, values);
      // The id follows the token: instances started together with it write one row (see stableUuid).
      else this.repo.insert({ id: stableUuid(`kiro-server built-in key ${hash}`), builtin: true, createdAt: Date.now(), ...values });
      this.reload();
      return { key: configured, source: "env" };
    }
    if (existing?.keyEnc && !existing.revokedAt) return { key: await this.box.decrypt(existing.keyEnc), source: "stored" };
    const key = newKeyString();
    const values = { keyHash: sha256Hex(key), keyPrefix: key.slice(0, 12), keyEnc: await this.box.encrypt(key), name: "built-in key", revokedAt: null };
    if (existing) this.repo.update(existing.id, values);
    else this.repo.insert({ id: crypto.randomUUID(), builtin: true, createdAt: Date.now(), ...values });
    this.reload();
    return { key, source: "generated" };
  }

  /** The key record for a presented token, or null (unknown, revoked or expired). */
  verify(token: string | undefined | null, now = Date.now()): ClientKey | null {
    if (!token) return null;
    const k = this.byHash.get(sha256Hex(token));
    if (!k || k.revokedAt) return null;
    if (k.expiresAt && k.expiresAt <= now) return null;
    return k;
  }

  /** Every key (revoked ones too), with the usage counted in memory. */
  list(): ClientKey[] {
    this.flushUsage();
    const live = this.byId();
    return this.repo.all().map((k) => live.get(k.id) ?? k);
  }

  async create(input: { name: string; allowedModels?: string[] | null; expiresAt?: number | null; monthlyTokenBudget?: number | null } & KeyLimitsInput): Promise<{ key: string; record: ClientKey }> {
    const key = newKeyString();
    const limits = keyLimitsSchema.parse({ rpmLimit: input.rpmLimit, tpmLimit: input.tpmLimit, concurrencyLimit: input.concurrencyLimit });
    const record = {
      id: crypto.randomUUID(), name: input.name, keyHash: sha256Hex(key), keyPrefix: key.slice(0, 12), builtin: false,
      allowedModels: input.allowedModels?.length ? JSON.stringify(input.allowedModels) : null,
      expiresAt: input.expiresAt ?? null, monthlyTokenBudget: input.monthlyTokenBudget ?? null, createdAt: Date.now(),
      rpmLimit: limits.rpmLimit ?? null, tpmLimit: limits.tpmLimit ?? null, concurrencyLimit: limits.concurrencyLimit ?? null,
    };
    this.repo.insert(record);
    this.reload();
    return { key, record: this.repo.get(record.id)! };
  }

  /** Sets a key's rate limits (absent fields unchanged, null = no limit); the record as stored, or undefined for an unknown key. Throws ZodError on bad values. */
  setLimits(id: string, input: KeyLimitsInput): ClientKey | undefined {
    const limits = keyLimitsSchema.parse(input);
    const patch: Partial<ClientKey> = {};
    if (limits.rpmLimit !== undefined) patch.rpmLimit = limits.rpmLimit;
    if (limits.tpmLimit !== undefined) patch.tpmLimit = limits.tpmLimit;
    if (limits.concurrencyLimit !== undefined) patch.concurrencyLimit = limits.concurrencyLimit;
    if (!this.repo.get(id)) return undefined;
    if (Object.keys(patch).length) this.repo.update(id, patch);
    this.reload();
    return this.repo.get(id);
  }

  revoke(id: string): void {
    this.repo.update(id, { revokedAt: Date.now() });
    this.reload();
  }

  /**
   * Called after each request: counts requests and tokens against the monthly budget. The
   * in-memory record (what budget checks read) is updated at once; the write is batched on a
   * short timer (and before any read of the table), so no request waits on the database.
   * The exception, on a store several instances share: a key near its budget (near-budget.ts)
   * has its usage written at once, and the returned promise settles when it is stored (or the
   * store gave up waiting); the caller holds the end of the answer until then.
   */
  recordUsage(id: string, tokens: number, now = Date.now()): Promise<void> | void {
    let k: ClientKey | undefined;
    for (const x of this.byHash.values()) if (x.id === id) k = x;
    if (!k) return;
    const month = monthOf(now);
    const used = (k.budgetMonth === month ? k.tokensThisMonth : 0) + tokens;
    Object.assign(k, { tokensThisMonth: used, budgetMonth: month, requests: k.requests + 1, lastUsedAt: now });
    if (this.repo.addUsageNow && k.monthlyTokenBudget != null) {
      this.near.count(id, tokens, 1, now);
      if (this.near.isNear(id, k.monthlyTokenBudget, used, now)) {
        // Usage this instance counted while the key was still far and has not written yet goes
        // with it: near the budget, nothing of this instance's may be missing from the cluster total.
        const held = this.pending.get(id);
        this.pending.delete(id);
        return this.repo.addUsageNow({ key: k, tokens: tokens + (held?.tokens ?? 0), requests: 1 + (held?.requests ?? 0), month, lastUsedAt: now }).then((t) => {
          if (t) this.applyTotals([t]);
        });
      }
    }
    const p = this.pending.get(id) ?? { tokens: 0, requests: 0 };
    p.tokens += tokens;
    p.requests += 1;
    this.pending.set(id, p);
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = null;
      try {
        this.flushUsage();
      } catch {
        // Only possible once the database is closed (shutdown flushes first): the counters stay in memory.
      }
    }, this.repo.flushDelayMs ?? 200);
  }

  /**
   * Writes pending usage counters (timer, table reads, shutdown). Where the store answers with the
   * cluster's totals (PostgreSQL), they replace the in-memory counters, plus what was counted
   * here meanwhile.
   */
  flushUsage(): void {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    if (!this.pending.size || this.writing) return;
    const byId = this.byId();
    const rows: KeyUsage[] = [];
    for (const [id, p] of this.pending) {
      const key = byId.get(id);
      if (key) rows.push({ key, tokens: p.tokens, requests: p.requests, month: key.budgetMonth ?? new Date().toISOString().slice(0, 7), lastUsedAt: key.lastUsedAt ?? Date.now() });
    }
    this.pending.clear();
    const totals = this.repo.writeUsage(rows);
    if (totals) {
      // One write at a time: usage counted meanwhile goes out together once this one is answered.
      this.writing = true;
      for (const r of rows) this.sending.set(r.key.id, r.tokens);
      void totals.then((t) => this.applyTotals(t), () => { /* the store logs and retries its own failures */ }).finally(() => {
        this.writing = false;
        this.sending.clear();
        if (this.pending.size) this.flushUsage();
      });
    }
  }

  /**
   * Cluster totals of some keys (PostgreSQL), plus the usage counted here since they were sent.
   * Counters only grow within a month: an answer older than memory (writes answered out of
   * order) lowers nothing.
   */
  applyTotals(totals: KeyTotals[]): void {
    const byId = this.byId();
    for (const t of totals) {
      const k = byId.get(t.id);
      if (!k) continue;
      const p = this.pending.get(t.id);
      const tokens = t.tokensThisMonth + (p?.tokens ?? 0);
      const requests = t.requests + (p?.requests ?? 0);
      if (k.budgetMonth === t.budgetMonth) {
        // What other instances counted: their pace and request size tell how near a budget is.
        if (k.monthlyTokenBudget != null && tokens > k.tokensThisMonth) this.near.count(k.id, tokens - k.tokensThisMonth, Math.max(1, requests - k.requests), Date.now());
        k.tokensThisMonth = Math.max(k.tokensThisMonth, tokens);
        k.requests = Math.max(k.requests, requests);
      } else if (k.budgetMonth == null || (t.budgetMonth != null && t.budgetMonth > k.budgetMonth)) {
        Object.assign(k, { budgetMonth: t.budgetMonth, tokensThisMonth: tokens, requests });
      }
    }
  }

  private byId(): Map<string, ClientKey> {
    return new Map([...this.byHash.values()].map((k) => [k.id, k]));
  }

  /** Why this key may not use this model / is over budget, or null when it may. */
  denyReason(k: ClientKey, model: string, now = Date.now()): string | null {
    if (k.allowedModels) {
      const allowed: string[] = JSON.parse(k.allowedModels);
      if (!allowed.includes(model)) return `this API key may only use: ${allowed.join(", ")}`;
    }
    if (k.monthlyTokenBudget != null) {
      const month = monthOf(now);
      const used = k.budgetMonth === month ? k.tokensThisMonth : 0;
      if (used >= k.monthlyTokenBudget) return overBudget(k.monthlyTokenBudget);
    }
    return null;
  }

  /**
   * The second half of the budget check, after denyReason() let the key through: null when
   * memory's answer stands (no budget, a store of one instance, or far from the budget), else the
   * cluster's answer — why the key is over its budget, or null — read from the database
   * (near-budget.ts). When the database does not answer, the key is admitted on this instance's
   * count (the repository logs it): see docs/multi-instance.md.
   */
  clusterBudgetCheck(key: ClientKey, now = Date.now()): Promise<string | null> | null {
    if (key.monthlyTokenBudget == null || !this.repo.clusterUsage) return null;
    // The live record: the one the request was authorised with may have been replaced since.
    const k = this.byHash.get(key.keyHash) ?? key;
    if (k.monthlyTokenBudget == null) return null;
    const month = monthOf(now);
    if (!this.near.isNear(k.id, k.monthlyTokenBudget, k.budgetMonth === month ? k.tokensThisMonth : 0, now)) return null;
    return this.repo.clusterUsage(k.id).then((row) => {
      if (!row) return null;
      this.applyTotals([row]);
      // The cluster total plus what this instance counted and the total may not hold yet: still
      // batched, or in the batch being written (counted twice if that write landed just before
      // this read: then a request near the limit is refused a little early, never let through).
      const own = (this.pending.get(k.id)?.tokens ?? 0) + (this.sending.get(k.id) ?? 0);
      const used = (row.budgetMonth === month ? row.tokensThisMonth : 0) + own;
      return row.monthlyTokenBudget != null && used >= row.monthlyTokenBudget ? overBudget(row.monthlyTokenBudget) : null;
    });
  }
}

/** `k` (a fresh copy of the stored row) with the counters of `live` where they are ahead: within a month counters only grow. */
function keepCounted(k: ClientKey, live: ClientKey | undefined): ClientKey {
  if (!live?.budgetMonth) return k;
  if (k.budgetMonth === live.budgetMonth) k.tokensThisMonth = Math.max(k.tokensThisMonth, live.tokensThisMonth);
  else if (k.budgetMonth == null || k.budgetMonth < live.budgetMonth) Object.assign(k, { budgetMonth: live.budgetMonth, tokensThisMonth: live.tokensThisMonth });
  k.requests = Math.max(k.requests, live.requests);
  if ((live.lastUsedAt ?? 0) > (k.lastUsedAt ?? 0)) k.lastUsedAt = live.lastUsedAt;
  return k;
}

/** Reads the client key from `Authorization: Bearer`, `x-api-key` or `api-key` (Azure-style clients). */
export function presentedKey(headers: Headers): string | null {
  const auth = headers.get("authorization");
  if (auth) {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m) return m[1]!.trim();
  }
  return headers.get("x-api-key") ?? headers.get("api-key");
}
