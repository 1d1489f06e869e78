/**
 * Account repository. Secrets are sealed with services.box BEFORE a write starts (WebCrypto is
 * async; an await inside a bun:sqlite transaction would commit half a write), then
 * each write is one short synchronous IMMEDIATE transaction — a kill -9 leaves either the old or
 * the new row, never a rotated refresh token without its account.
 */
import { createHash } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { stableUuid } from "../core/stable-id";
import { accountFingerprints, accounts } from "../db/schema";
import type { AccountCounters, AccountPatch, AccountRepo, AccountRow } from "../db/repos";

export type { AccountPatch, AccountRepo, AccountRow } from "../db/repos";

/** sha256 of a refresh token, first 16 hex: the de-duplication key and the only thing ever shown. */
export function fingerprintOf(refreshToken: string): string {
  return createHash("sha256").update(refreshToken).digest("hex").slice(0, 16);
}

/** A new account's id: the same on every instance for one token (see stableUuid). */
export function accountIdFor(fingerprint: string): string {
  return stableUuid(`kiro-server account ${fingerprint}`);
}

/** The SQLite account repository (see src/db/repos.ts for the contract). */
export class AccountStore implements AccountRepo {
  constructor(private readonly db: Db) {}

  loadAll(): AccountRow[] {
    return this.db.select().from(accounts).all();
  }

  /** fingerprint → account id, for every fingerprint an account ever had. */
  loadFingerprints(): Map<string, string> {
    const out = new Map<string, string>();
    for (const r of this.db.select().from(accountFingerprints).all()) out.set(r.fingerprint, r.accountId);
    for (const r of this.db.select({ id: accounts.id, fp: accounts.fingerprint }).from(accounts).all()) out.set(r.fp, r.id);
    return out;
  }

  insert(row: AccountRow): void {
    this.db.transaction(
      (tx) => {
        tx.insert(accounts).values(row).run();
        tx.insert(accountFingerprints).values({ fingerprint: row.fingerprint, accountId: row.id, createdAt: row.createdAt }).onConflictDoNothing().run();
      },
      { behavior: "immediate" },
    );
  }

  update(id: string, patch: AccountPatch): void {
    this.db.transaction((tx) => {
      tx.update(accounts).set(patch).where(eq(accounts.id, id)).run();
    }, { behavior: "immediate" });
  }

  /**
   * A new refresh token (rotation, re-import, IDE file) together with its access token: one
   * transaction, and the old fingerprint stays an alias of the account.
   */
  replaceToken(id: string, patch: AccountPatch & { fingerprint: string; refreshTokenEnc: string }, oldFingerprint: string, now: number): void {
    this.db.transaction(
      (tx) => {
        tx.update(accounts).set(patch).where(eq(accounts.id, id)).run();
        for (const fp of new Set([oldFingerprint, patch.fingerprint])) {
          tx.insert(accountFingerprints).values({ fingerprint: fp, accountId: id, createdAt: now }).onConflictDoNothing().run();
        }
      },
      { behavior: "immediate" },
    );
  }

  /** An old fingerprint that must keep pointing at the account (a copy we rotated away from). */
  addAlias(fingerprint: string, accountId: string, now: number): void {
    this.db.insert(accountFingerprints).values({ fingerprint, accountId, createdAt: now }).onConflictDoNothing().run();
  }

  remove(id: string): void {
    this.db.transaction(
      (tx) => {
        tx.delete(accounts).where(eq(accounts.id, id)).run();
        tx.delete(accountFingerprints).where(eq(accountFingerprints.accountId, id)).run();
      },
      { behavior: "immediate" },
    );
  }

  /** Batched counter write (one transaction for all dirty accounts). */
  writeCounters(rows: AccountCounters[]): void {
    if (!rows.length) return;
    this.db.transaction(
      (tx) => {
        for (const r of rows) {
          tx.update(accounts)
            .set({ requests: r.requests, errors: r.errors, consecutiveFailures: r.consecutiveFailures, lastUsedAt: r.lastUsedAt, quotaJson: r.quotaJson, quotaFetchedAt: r.quotaFetchedAt })
            .where(eq(accounts.id, r.id))
            .run();
        }
      },
      { behavior: "immediate" },
    );
  }

  count(): number {
    return this.db.select({ n: sql<number>`count(*)` }).from(accounts).get()?.n ?? 0;
  }
}
