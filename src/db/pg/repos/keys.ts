import { eq } from "drizzle-orm";
import type { PgDb } from "../client";
import { clientKeys } from "../../schema-pg";
import { addKeyUsage } from "../counters";
import type { ClientKey, KeyRepo, KeyTotals, KeyUsage } from "../../repos";
import { notify } from "./accounts";
import { WriteQueue } from "./queue";

const DEFAULTS = { builtin: false, allowedModels: null, expiresAt: null, monthlyTokenBudget: null, rpmLimit: null, tpmLimit: null, concurrencyLimit: null, tokensThisMonth: 0, budgetMonth: null, requests: 0, lastUsedAt: null, revokedAt: null, keyEnc: null };

/**
 * Client keys on PostgreSQL: every row in memory (a few dozen), writes queued and announced, usage
 * added as deltas with the cluster totals returned (src/db/pg/counters.ts) and announced, so the
 * other instances' budget checks see it.
 */
export class PgKeyRepo implements KeyRepo {
  readonly flushDelayMs = 0;
  /** Usage has its own queue: a budget check elsewhere waits on it, not on account writes. */
  private readonly usageQueue: WriteQueue;

  private constructor(private readonly db: PgDb, private readonly queue: WriteQueue, private readonly instanceId: string, private readonly rows: Map<string, ClientKey>) {
    this.usageQueue = new WriteQueue(queue.log);
  }

  static async open(db: PgDb, queue: WriteQueue, instanceId: string): Promise<PgKeyRepo> {
    const rows = (await db.select().from(clientKeys)) as ClientKey[];
    return new PgKeyRepo(db, queue, instanceId, new Map(rows.map((r) => [r.id, r])));
  }

  all(): ClientKey[] {
    return [...this.rows.values()];
  }

  get(id: string): ClientKey | undefined {
    return this.rows.get(id);
  }

  insert(row: typeof clientKeys.$inferInsert): void {
    this.rows.set(row.id, { ...DEFAULTS, ...row } as ClientKey);
    this.write(row.id, "insert", (tx) => tx.insert(clientKeys).values(row).onConflictDoNothing());
  }

  update(id: string, patch: Partial<ClientKey>): void {
    const cur = this.rows.get(id);
    if (cur) this.rows.set(id, { ...cur, ...patch });
    this.write(id, "update", (tx) => tx.update(clientKeys).set(patch).where(eq(clientKeys.id, id)));
  }

  writeUsage(rows: KeyUsage[]): Promise<KeyTotals[]> {
    return new Promise((resolve) => {
      if (!rows.length) return resolve([]);
      this.usageQueue.push("key usage", async () => {
        // The totals travel with the announcement (sent on commit): the others apply them without a read.
        const totals = await addKeyUsage(this.db, rows.map((r) => ({ id: r.key.id, tokens: r.tokens, requests: r.requests, lastUsedAt: r.lastUsedAt })), rows[0]!.month,
          (tx, out) => Promise.all(out.map((t) => notify(tx, "client_keys", t.id, this.instanceId, { totals: t }))));
        for (const t of totals) {
          const cur = this.rows.get(t.id);
          if (cur) this.rows.set(t.id, { ...cur, ...t });
        }
        resolve(totals);
      });
    });
  }

  /** Cluster totals another instance announced (newer than what memory has, or ignored). */
  applyTotals(t: KeyTotals): boolean {
    const cur = this.rows.get(t.id);
    if (!cur || (cur.budgetMonth === t.budgetMonth && cur.tokensThisMonth >= t.tokensThisMonth && cur.requests >= t.requests)) return false;
    this.rows.set(t.id, { ...cur, ...t });
    return true;
  }

  /** Reads one key again (null: deleted). */
  async reread(id: string): Promise<ClientKey | null> {
    const [row] = (await this.db.select().from(clientKeys).where(eq(clientKeys.id, id))) as ClientKey[];
    if (row) this.rows.set(id, row);
    else this.rows.delete(id);
    return row ?? null;
  }

  /** Reads every key; true when anything differs from memory. */
  async reconcile(): Promise<boolean> {
    if (this.queue.has("key ") || this.usageQueue.size) return false;
    const rows = (await this.db.select().from(clientKeys)) as ClientKey[];
    let changed = rows.length !== this.rows.size;
    for (const r of rows) {
      const cur = this.rows.get(r.id);
      if (!cur || JSON.stringify({ ...cur, lastUsedAt: 0 }) !== JSON.stringify({ ...r, lastUsedAt: 0 })) changed = true;
    }
    if (changed) {
      this.rows.clear();
      for (const r of rows) this.rows.set(r.id, r);
    }
    return changed;
  }

  flush(): Promise<void> {
    return this.usageQueue.flush();
  }

  private write(id: string, what: string, fn: (tx: Parameters<Parameters<PgDb["transaction"]>[0]>[0]) => Promise<unknown>): void {
    this.queue.push(`key ${id} ${what}`, () =>
      this.db.transaction(async (tx) => {
        await fn(tx);
        await notify(tx, "client_keys", id, this.instanceId);
      }),
    );
  }
}
