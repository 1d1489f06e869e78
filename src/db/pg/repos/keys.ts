import { eq } from "drizzle-orm";
import type { PgDb } from "../client";
import { clientKeys } from "../../schema-pg";
import { addKeyUsage, readKeyUsage, type KeyUsageRow } from "../counters";
import type { ClientKey, KeyRepo, KeyTotals, KeyUsage } from "../../repos";
import { notify } from "./accounts";
import { WriteQueue } from "./queue";

/**
 * How long a budget check or a written-through usage of a key near its budget waits for the
 * database. Past it, the admission goes by this instance's count (and logs), and the write goes
 * on in the background: a database that hangs must not hang the requests.
 */
const NEAR_BUDGET_WAIT_MS = 3000;
/** At most one line per kind of near-budget database failure per this many ms (an outage would log every request). */
const WARN_EVERY_MS = 10_000;

const DEFAULTS = { builtin: false, allowedModels: null, expiresAt: null, monthlyTokenBudget: null, rpmLimit: null, tpmLimit: null, concurrencyLimit: null, tokensThisMonth: 0, budgetMonth: null, requests: 0, lastUsedAt: null, revokedAt: null, keyEnc: null };

/**
 * Client keys on PostgreSQL: every row in memory (a few dozen), writes queued and announced, usage
 * added as deltas with the cluster totals returned (src/db/pg/counters.ts) and announced, so the
 * other instances' budget checks see it.
 */
export class PgKeyRepo implements KeyRepo {
  /**
   * Usage of keys far from their budget is gathered for 100 ms before one write: with one write
   * per request, a server streaming back-to-back short answers sent ~3.5 statements per request
   * (bench/cluster.ts). A key near its budget is written through at once (addUsageNow) whatever
   * this delay, and the near-budget margin (2 s of the key's pace at least) covers the lag.
   */
  readonly flushDelayMs = 100;
  /** Usage has its own queue: a budget check elsewhere waits on it, not on account writes. */
  private readonly usageQueue: WriteQueue;
  /** Usage writes of keys near their budget under way (the reconcile waits for them as for the queue). */
  private writingNow = 0;
  /** Writes made here so far (rows and usage): a reconcile whose read overlapped one leaves memory alone. */
  private writes = 0;
  private readonly warnedAt = new Map<string, number>();

  private constructor(private readonly db: PgDb, private readonly queue: WriteQueue, private readonly instanceId: string, private readonly rows: Map<string, ClientKey>) {
    this.usageQueue = new WriteQueue(queue.log, queue.maxAttempts, queue.pauseMs);
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
      this.writes++;
      this.usageQueue.push("key usage", async () => {
        await this.afterKeyWrites(rows);
        // The totals travel with the announcement (sent on commit): the others apply them without a read.
        const totals = await addKeyUsage(this.db, rows.map((r) => ({ id: r.key.id, tokens: r.tokens, requests: r.requests, lastUsedAt: r.lastUsedAt })), rows[0]!.month,
          (tx, out) => Promise.all(out.map((t) => notify(tx, "client_keys", t.id, this.instanceId, { totals: t }))));
        for (const t of totals) this.applyTotals(t);
        resolve(totals);
      });
    });
  }

  async clusterUsage(id: string): Promise<KeyUsageRow | null> {
    try {
      const row = await within(readKeyUsage(this.db, id), NEAR_BUDGET_WAIT_MS);
      if (row) this.applyTotals({ id: row.id, tokensThisMonth: row.tokensThisMonth, budgetMonth: row.budgetMonth, requests: row.requests });
      return row;
    } catch (e) {
      this.warn("budget check: the database did not answer; a key near its budget is admitted on this instance's count", id, e);
      return null;
    }
  }

  addUsageNow(u: KeyUsage): Promise<KeyTotals | null> {
    this.writingNow++;
    this.writes++;
    const write = this.afterKeyWrites([u]).then(() => addKeyUsage(this.db, [{ id: u.key.id, tokens: u.tokens, requests: u.requests, lastUsedAt: u.lastUsedAt }], u.month,
      (tx, out) => Promise.all(out.map((t) => notify(tx, "client_keys", t.id, this.instanceId, { totals: t })))))
      .then((totals) => {
        for (const t of totals) this.applyTotals(t);
        return totals[0] ?? null;
      }, (e) => {
        this.warn("usage of a key near its budget not written at once; queued with the batched usage", u.key.id, e);
        void this.writeUsage([u]);
        return null;
      })
      .finally(() => this.writingNow--);
    return within(write, NEAR_BUDGET_WAIT_MS).catch(() => null);
  }

  private warn(msg: string, key: string, e: unknown): void {
    const now = Date.now();
    if (now - (this.warnedAt.get(msg) ?? -Infinity) < WARN_EVERY_MS) return;
    this.warnedAt.set(msg, now);
    this.queue.log?.warn(msg, { key, error: e instanceof Error ? e.message : String(e) });
  }

  /**
   * Cluster totals (announced by another instance, or answering a write here): counters only grow
   * within a month, so totals older than memory (answers arriving out of order) are ignored.
   * True when memory changed.
   */
  applyTotals(t: KeyTotals): boolean {
    const cur = this.rows.get(t.id);
    if (!cur) return false;
    if (cur.budgetMonth === t.budgetMonth) {
      if (cur.tokensThisMonth >= t.tokensThisMonth && cur.requests >= t.requests) return false;
      this.rows.set(t.id, { ...cur, tokensThisMonth: Math.max(cur.tokensThisMonth, t.tokensThisMonth), requests: Math.max(cur.requests, t.requests) });
      return true;
    }
    if (cur.budgetMonth != null && (t.budgetMonth == null || t.budgetMonth < cur.budgetMonth)) return false;
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

  /**
   * Reads every key; true when anything differs from memory. Not while this instance has a key
   * write queued or under way, nor when one was made while the read was under way: the read may
   * predate it, and would drop a key created a moment ago (refused until the next reconcile).
   */
  async reconcile(): Promise<boolean> {
    if (this.queue.has("key ") || this.usageQueue.size || this.writingNow) return false;
    const before = this.writes;
    const rows = (await this.db.select().from(clientKeys)) as ClientKey[];
    // Every write counts itself when it is made, so one made during the read shows here.
    if (this.writes !== before) return false;
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

  /**
   * Usage goes on its own queue; a key this instance has just created may still be waiting on the
   * state queue, and usage added before its row exists would update nothing.
   */
  private async afterKeyWrites(rows: Array<Pick<KeyUsage, "key">>): Promise<void> {
    await Promise.all(rows.map((r) => this.queue.settled(`key ${r.key.id} `)));
  }

  private write(id: string, what: string, fn: (tx: Parameters<Parameters<PgDb["transaction"]>[0]>[0]) => Promise<unknown>): void {
    this.writes++;
    this.queue.push(`key ${id} ${what}`, () =>
      this.db.transaction(async (tx) => {
        await fn(tx);
        await notify(tx, "client_keys", id, this.instanceId);
      }),
    );
  }
}

/** `p`, or a rejection once `ms` have passed (the timer never outlives the answer). */
function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
