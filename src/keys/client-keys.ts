import type { Statement } from "bun:sqlite";
import { eq, isNull } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client";
import { clientKeys } from "../db/schema";
import type { SecretBox } from "../crypto/secret-box";

export type ClientKey = typeof clientKeys.$inferSelect;

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
 * check costs no DB read; the map is rebuilt whenever a key changes.
 */
export class ClientKeys {
  private byHash = new Map<string, ClientKey>();
  /** Keys whose usage counters changed in memory and still have to be written (see recordUsage). */
  private dirty = new Set<string>();
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private updateUsage?: Statement;

  constructor(private readonly db: Db, private readonly box: SecretBox) {
    this.reload();
  }

  reload(): void {
    this.flushUsage();
    this.byHash = new Map(this.db.select().from(clientKeys).where(isNull(clientKeys.revokedAt)).all().map((k) => [k.keyHash, k]));
  }

  /** The key configured in KIRO_CLIENT_TOKEN, or one generated on first start and kept. */
  async ensureBuiltin(configured: string | undefined): Promise<{ key: string; source: "env" | "generated" | "stored" }> {
    const existing = this.db.select().from(clientKeys).where(eq(clientKeys.builtin, true)).get();
    if (configured) {
      const hash = sha256Hex(configured);
      const values = { keyHash: hash, keyPrefix: configured.slice(0, 8), keyEnc: await this.box.encrypt(configured), name: "KIRO_CLIENT_TOKEN", revokedAt: null };
      if (existing) this.db.update(clientKeys).set(values).where(eq(clientKeys.id, existing.id)).run();
      else this.db.insert(clientKeys).values({ id: crypto.randomUUID(), builtin: true, createdAt: Date.now(), ...values }).run();
      this.reload();
      return { key: configured, source: "env" };
    }
    if (existing?.keyEnc && !existing.revokedAt) return { key: await this.box.decrypt(existing.keyEnc), source: "stored" };
    const key = newKeyString();
    const values = { keyHash: sha256Hex(key), keyPrefix: key.slice(0, 12), keyEnc: await this.box.encrypt(key), name: "built-in key", revokedAt: null };
    if (existing) this.db.update(clientKeys).set(values).where(eq(clientKeys.id, existing.id)).run();
    else this.db.insert(clientKeys).values({ id: crypto.randomUUID(), builtin: true, createdAt: Date.now(), ...values }).run();
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

  list(): ClientKey[] {
    this.flushUsage();
    return this.db.select().from(clientKeys).all();
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
    this.db.insert(clientKeys).values(record).run();
    this.reload();
    return { key, record: this.db.select().from(clientKeys).where(eq(clientKeys.id, record.id)).get()! };
  }

  /** Sets a key's rate limits (absent fields unchanged, null = no limit); the record as stored, or undefined for an unknown key. Throws ZodError on bad values. */
  setLimits(id: string, input: KeyLimitsInput): ClientKey | undefined {
    const limits = keyLimitsSchema.parse(input);
    const patch: Partial<ClientKey> = {};
    if (limits.rpmLimit !== undefined) patch.rpmLimit = limits.rpmLimit;
    if (limits.tpmLimit !== undefined) patch.tpmLimit = limits.tpmLimit;
    if (limits.concurrencyLimit !== undefined) patch.concurrencyLimit = limits.concurrencyLimit;
    if (!this.db.select({ id: clientKeys.id }).from(clientKeys).where(eq(clientKeys.id, id)).get()) return undefined;
    if (Object.keys(patch).length) this.db.update(clientKeys).set(patch).where(eq(clientKeys.id, id)).run();
    this.reload();
    return this.db.select().from(clientKeys).where(eq(clientKeys.id, id)).get();
  }

  revoke(id: string): void {
    this.db.update(clientKeys).set({ revokedAt: Date.now() }).where(eq(clientKeys.id, id)).run();
    this.reload();
  }

  /** Called after each request: counts requests and tokens against the monthly budget. */
  /**
   * The in-memory record (what budget checks read) is updated at once; the DB write is batched on
   * a short timer (and before any read of the table), so no request pays a synchronous SQLite
   * update on its path.
   */
  recordUsage(id: string, tokens: number, now = Date.now()): void {
    let k: ClientKey | undefined;
    for (const x of this.byHash.values()) if (x.id === id) k = x;
    if (!k) return;
    const month = new Date(now).toISOString().slice(0, 7);
    const used = (k.budgetMonth === month ? k.tokensThisMonth : 0) + tokens;
    Object.assign(k, { tokensThisMonth: used, budgetMonth: month, requests: k.requests + 1, lastUsedAt: now });
    this.dirty.add(id);
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = null;
      try {
        this.flushUsage();
      } catch {
        // Only possible once the DB is closed (shutdown flushes first): the counters stay in memory.
      }
    }, 200);
  }

  /** Writes pending usage counters (timer, table reads, shutdown). */
  flushUsage(): void {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    if (!this.dirty.size) return;
    const ids = [...this.dirty];
    this.dirty.clear();
    const c = clientKeys;
    const stmt = (this.updateUsage ??= this.db.$client.prepare(
      `UPDATE client_keys SET "${c.tokensThisMonth.name}" = ?, "${c.budgetMonth.name}" = ?, "${c.requests.name}" = ?, "${c.lastUsedAt.name}" = ? WHERE "${c.id.name}" = ?`,
    ));
    const byId = new Map([...this.byHash.values()].map((k) => [k.id, k]));
    this.db.$client.transaction(() => {
      for (const id of ids) {
        const k = byId.get(id);
        if (k) stmt.run(k.tokensThisMonth, k.budgetMonth, k.requests, k.lastUsedAt, id);
      }
    })();
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
