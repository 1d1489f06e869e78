import { eq, sql as dsql } from "drizzle-orm";
import type { PgDb } from "../client";
import { accountFingerprints, accounts } from "../../schema-pg";
import { CHANGE_CHANNEL } from "../change-feed";
import { addAccountCounters } from "../counters";
import { PgTokenStore } from "../token-store";
import type { SecretBox } from "../../../crypto/secret-box";
import { fingerprintOf } from "../../../pool/store";
import type { AccountCounters, AccountPatch, AccountRepo, AccountRow, RefreshCoordinator } from "../../repos";
import type { WriteQueue } from "./queue";

/**
 * A stored access token another instance obtained is adopted while it has this long left; the
 * pool's token manager decides when a token needs refreshing, the store only avoids a second
 * refresh of the same expiry.
 */
const ADOPT_MARGIN_MS = 5_000;

type Tx = Parameters<Parameters<PgDb["transaction"]>[0]>[0];

/** `select pg_notify(…)` for one changed row (inside a transaction: sent on commit). */
export const notify = (tx: Pick<PgDb, "execute">, table: string, id: string, from: string, data?: Record<string, unknown>) =>
  tx.execute(dsql`select pg_notify(${CHANGE_CHANNEL}, ${JSON.stringify({ table, id, from, ...(data ? { data } : {}) })})`);

/**
 * Accounts on PostgreSQL. The pool holds every row in memory; this repository loads them once,
 * queues the pool's writes (each one transaction that also announces the change), sends counters
 * as deltas, and refreshes tokens through PgTokenStore (one refresh per account across the cluster).
 * `versions` is the updated_at this instance last wrote or read per account: the reconcile
 * re-reads rows whose stored version differs.
 */
export class PgAccountRepo implements AccountRepo {
  readonly refreshes: RefreshCoordinator;
  readonly versions = new Map<string, number>();
  /** Counters as last sent (or loaded): the next flush sends the difference. */
  private readonly sent = new Map<string, { requests: number; errors: number }>();

  private constructor(
    private readonly db: PgDb,
    private readonly queue: WriteQueue,
    private readonly instanceId: string,
    private readonly rows: AccountRow[],
    private readonly fingerprints: Map<string, string>,
    tokens: PgTokenStore,
  ) {
    for (const r of rows) this.seen(r);
    this.refreshes = {
      refreshOnce: async (id, refresh, known) => {
        // The store must hold this instance's latest write of the account (an insert still queued) first.
        if (this.pending(id)) await this.queue.flush();
        const out = await tokens.refreshOnce(id, refresh, known);
        this.versions.set(id, out.stored.updatedAt);
        return out;
      },
    };
  }

  static async open(db: PgDb, box: SecretBox, queue: WriteQueue, instanceId: string): Promise<PgAccountRepo> {
    const rows = (await db.select().from(accounts)) as AccountRow[];
    const fps = new Map<string, string>();
    for (const r of await db.select().from(accountFingerprints)) fps.set(r.fingerprint, r.accountId);
    for (const r of rows) fps.set(r.fingerprint, r.id);
    return new PgAccountRepo(db, queue, instanceId, rows, fps, new PgTokenStore(db, box, { instanceId, fingerprint: fingerprintOf, marginMs: ADOPT_MARGIN_MS }));
  }

  private seen(r: AccountRow): void {
    this.versions.set(r.id, r.updatedAt);
    if (!this.sent.has(r.id)) this.sent.set(r.id, { requests: r.requests, errors: r.errors });
  }

  loadAll(): AccountRow[] {
    return this.rows;
  }

  loadFingerprints(): Map<string, string> {
    return new Map(this.fingerprints);
  }

  /** The stored row now (null when it was deleted); its version becomes the one this instance knows. */
  async reread(id: string): Promise<AccountRow | null> {
    const [row] = (await this.db.select().from(accounts).where(eq(accounts.id, id))) as AccountRow[];
    if (!row) {
      this.versions.delete(id);
      this.sent.delete(id);
      return null;
    }
    this.seen(row);
    return row;
  }

  /** Whether this instance still has writes of the account queued (a reconcile leaves it alone meanwhile). */
  pending(id: string): boolean {
    return this.queue.has(`account ${id}`);
  }

  private write(id: string, what: string, fn: (tx: Tx) => Promise<unknown>): void {
    this.queue.push(`account ${id} ${what}`, () =>
      this.db.transaction(async (tx) => {
        await fn(tx);
        await notify(tx, "accounts", id, this.instanceId);
      }),
    );
  }

  insert(row: AccountRow): void {
    this.seen(row);
    this.sent.set(row.id, { requests: row.requests, errors: row.errors });
    this.write(row.id, "insert", async (tx) => {
      await tx.insert(accounts).values(row).onConflictDoNothing();
      await tx.insert(accountFingerprints).values({ fingerprint: row.fingerprint, accountId: row.id, createdAt: row.createdAt }).onConflictDoNothing();
    });
  }

  update(id: string, patch: AccountPatch): void {
    const version = patch.updatedAt ?? Date.now();
    this.versions.set(id, version);
    // Counters are the flush's business (deltas); an absolute value here would overwrite the others'.
    const { requests: _r, errors: _e, ...rest } = patch;
    this.write(id, "update", (tx) => tx.update(accounts).set({ ...rest, updatedAt: version }).where(eq(accounts.id, id)));
  }

  replaceToken(id: string, patch: AccountPatch & { fingerprint: string; refreshTokenEnc: string }, oldFingerprint: string, now: number): void {
    const version = patch.updatedAt ?? now;
    this.versions.set(id, version);
    const { requests: _r, errors: _e, ...rest } = patch;
    this.write(id, "token", async (tx) => {
      await tx.update(accounts).set({ ...rest, updatedAt: version }).where(eq(accounts.id, id));
      for (const fp of new Set([oldFingerprint, patch.fingerprint])) {
        await tx.insert(accountFingerprints).values({ fingerprint: fp, accountId: id, createdAt: now }).onConflictDoNothing();
      }
    });
  }

  addAlias(fingerprint: string, accountId: string, now: number): void {
    this.queue.push(`account ${accountId} alias`, async () => {
      await this.db.insert(accountFingerprints).values({ fingerprint, accountId, createdAt: now }).onConflictDoNothing();
    });
  }

  remove(id: string): void {
    this.versions.delete(id);
    this.sent.delete(id);
    this.write(id, "delete", async (tx) => {
      await tx.delete(accounts).where(eq(accounts.id, id));
      await tx.delete(accountFingerprints).where(eq(accountFingerprints.accountId, id));
    });
  }

  /**
   * Counters as deltas since the last flush (added atomically, so every instance's requests
   * count); failure streak and quota estimate are last-writer fields, in the same statement. No
   * announcement: counters are not state the others act on.
   */
  writeCounters(rows: AccountCounters[]): void {
    if (!rows.length) return;
    const writes = rows.map((r) => {
      const prev = this.sent.get(r.id) ?? { requests: r.requests, errors: r.errors };
      this.sent.set(r.id, { requests: r.requests, errors: r.errors });
      return {
        id: r.id, requests: r.requests - prev.requests, errors: r.errors - prev.errors, lastUsedAt: r.lastUsedAt,
        consecutiveFailures: r.consecutiveFailures, quotaJson: r.quotaJson, quotaFetchedAt: r.quotaFetchedAt,
      };
    });
    this.queue.push("account counters", () => addAccountCounters(this.db, writes));
  }
}
