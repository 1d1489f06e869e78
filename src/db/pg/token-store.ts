import { and, eq, sql as dsql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/bun-sql";
import type { SQL } from "bun";
import type { SecretBox } from "../../crypto/secret-box";
import type { PgDb } from "./client";
import { withAdvisoryLock } from "./lock";
import { CHANGE_CHANNEL, type Change } from "./change-feed";
import * as schema from "../schema-pg";
import { accountFingerprints, accounts } from "../schema-pg";

/** The token columns of one account as stored (ciphertext). */
export type StoredTokens = { refreshTokenEnc: string; accessTokenEnc: string | null; accessExpiresAt: number | null; fingerprint: string; updatedAt: number };

/** What a refresh returned (the shape of the Kiro refresh result the pool already gets). */
export type RotatedTokens = { accessToken: string; refreshToken?: string; expiresAt: number };

export type RefreshOutcome = {
  /** "refreshed": this call refreshed; "adopted": another instance had already, its tokens are used. */
  outcome: "refreshed" | "adopted";
  accessToken: string;
  refreshToken: string;
  expiresAt: number;
  /** The row's token columns as stored after this call (what the instance's memory should hold). */
  stored: StoredTokens;
};

/** Channel on which committed token changes are announced (see change-feed.ts). */
export const CHANGES_CHANNEL = CHANGE_CHANNEL;

export type TokenStoreOptions = {
  /** This instance, named in the change announcements. */
  instanceId?: string;
  /** How the store derives an account's fingerprint from its refresh token (the pool's rule). */
  fingerprint: (refreshToken: string) => string;
  /** A stored access token this close to expiry counts as expired (default 60 s). */
  marginMs?: number;
  /** How long to wait for another instance's refresh of the same account (default 45 s). */
  lockTimeoutMs?: number;
  now?: () => number;
};

/**
 * Refresh tokens shared by several instances. Kiro rotates the refresh token on each refresh and
 * the old one dies, so two instances refreshing the same account would kill it. Two rules:
 *  - one refresh per account across the cluster: the refresh runs under the cluster lock
 *    "refresh:<account id>"; whoever waited then finds the new tokens and adopts them;
 *  - compare-and-swap before use: rotated tokens are stored only if the stored refresh token is
 *    still the one the refresh presented, and they are stored before the access token is used.
 */
export class PgTokenStore {
  private readonly now: () => number;
  /** Refreshes in progress in this instance: concurrent callers for one account share one. */
  private readonly inflight = new Map<string, Promise<RefreshOutcome>>();

  constructor(private readonly db: PgDb, private readonly box: SecretBox, private readonly opts: TokenStoreOptions) {
    this.now = opts.now ?? Date.now;
  }

  async read(accountId: string, db: PgDb = this.db): Promise<StoredTokens | null> {
    const [row] = await db
      .select({ refreshTokenEnc: accounts.refreshTokenEnc, accessTokenEnc: accounts.accessTokenEnc, accessExpiresAt: accounts.accessExpiresAt, fingerprint: accounts.fingerprint, updatedAt: accounts.updatedAt })
      .from(accounts)
      .where(eq(accounts.id, accountId));
    return row ?? null;
  }

  /**
   * Stores rotated tokens only when the stored refresh token is still `expectedRefreshEnc` (the
   * exact ciphertext read before refreshing; each encryption is unique, so equal ciphertext means
   * nobody wrote in between). The old fingerprint is kept in account_fingerprints, and a change
   * notification goes out when the transaction commits.
   */
  async swap(accountId: string, expectedRefreshEnc: string, next: { refreshToken: string; accessToken: string; expiresAt: number }, db: PgDb = this.db): Promise<{ ok: true; stored: StoredTokens } | { ok: false; current: StoredTokens | null }> {
    const [refreshEnc, accessEnc] = await Promise.all([this.box.encrypt(next.refreshToken), this.box.encrypt(next.accessToken)]);
    const fingerprint = this.opts.fingerprint(next.refreshToken);
    const now = this.now();
    const swapped = await db.transaction(async (tx) => {
      const [old] = await tx.select({ fingerprint: accounts.fingerprint }).from(accounts)
        .where(and(eq(accounts.id, accountId), eq(accounts.refreshTokenEnc, expectedRefreshEnc))).for("update");
      if (!old) return false;
      await tx.update(accounts)
        .set({ refreshTokenEnc: refreshEnc, accessTokenEnc: accessEnc, accessExpiresAt: next.expiresAt, fingerprint, updatedAt: now })
        .where(eq(accounts.id, accountId));
      if (old.fingerprint !== fingerprint) {
        await tx.insert(accountFingerprints).values({ fingerprint: old.fingerprint, accountId, createdAt: now }).onConflictDoNothing();
      }
      const change: Change = { table: "accounts", id: accountId, from: this.opts.instanceId ?? "" };
      await tx.execute(dsql`select pg_notify(${CHANGE_CHANNEL}, ${JSON.stringify(change)})`);
      return true;
    });
    return swapped
      ? { ok: true, stored: { refreshTokenEnc: refreshEnc, accessTokenEnc: accessEnc, accessExpiresAt: next.expiresAt, fingerprint, updatedAt: now } }
      : { ok: false, current: await this.read(accountId, db) };
  }

  /**
   * A valid access token for the account, refreshing at most once across the cluster.
   * `knownAccessToken` is the token the caller holds and found expired (or was told is expired
   * by upstream): a different, unexpired stored token is adopted instead of refreshing again.
   * `refresh` is called with the current refresh token, under the account's cluster lock.
   */
  refreshOnce(accountId: string, refresh: (refreshToken: string) => Promise<RotatedTokens>, knownAccessToken?: string): Promise<RefreshOutcome> {
    const running = this.inflight.get(accountId);
    if (running) return running;
    const p = this.refreshLocked(accountId, refresh, knownAccessToken).finally(() => this.inflight.delete(accountId));
    this.inflight.set(accountId, p);
    return p;
  }

  private refreshLocked(accountId: string, refresh: (refreshToken: string) => Promise<RotatedTokens>, knownAccessToken?: string): Promise<RefreshOutcome> {
    return withAdvisoryLock(this.db.$client, `refresh:${accountId}`, async (conn) => {
      // Everything under the lock runs on the connection holding it.
      const db = onConnection(conn);
      const cur = await this.read(accountId, db);
      if (!cur) throw new Error(`account ${accountId} is not in the store`);
      const refreshToken = await this.box.decrypt(cur.refreshTokenEnc);
      if (cur.accessTokenEnc && cur.accessExpiresAt != null && cur.accessExpiresAt > this.now() + (this.opts.marginMs ?? 60_000)) {
        const stored = await this.box.decrypt(cur.accessTokenEnc);
        if (stored !== knownAccessToken) return { outcome: "adopted", accessToken: stored, refreshToken, expiresAt: cur.accessExpiresAt, stored: cur };
      }
      const r = await refresh(refreshToken);
      const next = { refreshToken: r.refreshToken ?? refreshToken, accessToken: r.accessToken, expiresAt: r.expiresAt };
      const swap = await this.swap(accountId, cur.refreshTokenEnc, next, db);
      if (swap.ok) return { outcome: "refreshed", ...next, stored: swap.stored };
      // Only possible when a writer bypassed the lock (its session was cut): its tokens are newer.
      const winner = swap.current;
      if (!winner?.accessTokenEnc || winner.accessExpiresAt == null) throw new Error(`account ${accountId}: tokens changed during the refresh and the new ones are incomplete`);
      return { outcome: "adopted", accessToken: await this.box.decrypt(winner.accessTokenEnc), refreshToken: await this.box.decrypt(winner.refreshTokenEnc), expiresAt: winner.accessExpiresAt, stored: winner };
    }, { timeoutMs: this.opts.lockTimeoutMs ?? 45_000 });
  }
}

const onConnection = (conn: SQL): PgDb => drizzle({ client: conn, schema }) as PgDb;
