import { z } from "zod";
import type { ClientKey, KeyRepo, KeyTotals, KeyUsage } from "../db/repos";
import type { SecretBox } from "../crypto/secret-box";

export type { ClientKey } from "../db/repos";

/** A key's rate limits as the panel or an API sets them: a positive whole number, or null for none. */
export const keyLimitsSchema = z.object({
  rpmLimit: z.number().int().min(1).max(1_000_000).nullable().optional(),
  tpmLimit: z.number().int().min(1).max(1_000_000_000).nullable().optional(),
  concurrencyLimit: z.number().int().min(1).max(10_000).nullable().optional(),
});
export type KeyLimitsInput = z.infer<typeof keyLimitsSchema>;

export const sha256Hex = (s: string) => new Bun.CryptoHasher("sha256").update(s).digest("hex");
export const newKeyString = () => "sk-kiro-" + Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64url");

/**
 * Client API keys for /v1. Requests are checked against an in-memory map of sha256 hashes so the
 * check costs no database read; the map is rebuilt whenever a key changes (here, or on another
 * instance: reload() from the change feed).
 */
export class ClientKeys {
  private byHash = new Map<string, ClientKey>();
  /** Usage counted in memory since the last write, per key id (see recordUsage). */
  private pending = new Map<string, { tokens: number; requests: number }>();
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  /** A usage write whose answer (cluster totals) is awaited. */
  private writing = false;

  constructor(private readonly repo: KeyRepo, private readonly box: SecretBox) {
    this.reload();
  }

  /** Rebuilds the map from the store (copies: the store's rows are never changed here). */
  reload(): void {
    this.flushUsage();
    this.byHash = new Map(this.repo.all().filter((k) => k.revokedAt == null).map((k) => [k.keyHash, { ...k }]));
  }

  /** The key configured in KIRO_CLIENT_TOKEN, or one generated on first start and kept. */
  async ensureBuiltin(configured: string | undefined): Promise<{ key: string; source: "env" | "generated" | "stored" }> {
    const existing = this.repo.all().find((k) => k.builtin);
    if (configured) {
      const hash = sha256Hex(configured);
      if (existing?.keyHash === hash && existing.revokedAt == null && existing.name === "KIRO_CLIENT_TOKEN") return { key: configured, source: "env" };
      const values = { keyHash: hash, keyPrefix: configured.slice(0, 8), keyEnc: await this.box.encrypt(configured), name: "KIRO_CLIENT_TOKEN", revokedAt: null };
      if (existing) this.repo.update(existing.id, values);
      else this.repo.insert({ id: crypto.randomUUID(), builtin: true, createdAt: Date.now(), ...values });
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
   */
  recordUsage(id: string, tokens: number, now = Date.now()): void {
    let k: ClientKey | undefined;
    for (const x of this.byHash.values()) if (x.id === id) k = x;
    if (!k) return;
    const month = new Date(now).toISOString().slice(0, 7);
    const used = (k.budgetMonth === month ? k.tokensThisMonth : 0) + tokens;
    Object.assign(k, { tokensThisMonth: used, budgetMonth: month, requests: k.requests + 1, lastUsedAt: now });
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
      void totals.then((t) => this.applyTotals(t), () => { /* the store logs and retries its own failures */ }).finally(() => {
        this.writing = false;
        if (this.pending.size) this.flushUsage();
      });
    }
  }

  /** Cluster totals of some keys (PostgreSQL), plus the usage counted here since they were sent. */
  applyTotals(totals: KeyTotals[]): void {
    const byId = this.byId();
    for (const t of totals) {
      const k = byId.get(t.id);
      if (!k) continue;
      const p = this.pending.get(t.id);
      k.budgetMonth = t.budgetMonth;
      k.tokensThisMonth = t.tokensThisMonth + (p?.tokens ?? 0);
      k.requests = t.requests + (p?.requests ?? 0);
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
      const month = new Date(now).toISOString().slice(0, 7);
      const used = k.budgetMonth === month ? k.tokensThisMonth : 0;
      if (used >= k.monthlyTokenBudget) return `this API key used its monthly budget of ${k.monthlyTokenBudget} tokens`;
    }
    return null;
  }
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
