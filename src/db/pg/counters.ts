import { eq, sql as dsql } from "drizzle-orm";
import type { PgDb } from "./client";
import { accounts, clientKeys } from "../schema-pg";

/**
 * Counters that several instances add to. Each instance counts in memory and flushes *deltas*
 * (never its absolute in-memory value, which would overwrite the others' counts); the database
 * adds them atomically and returns the cluster-wide totals, which replace the in-memory values —
 * so a key's budget check sees every instance's usage as of the last flush.
 */
export type KeyUsageDelta = { id: string; tokens: number; requests: number; lastUsedAt: number };
export type KeyTotals = { id: string; tokensThisMonth: number; budgetMonth: string | null; requests: number };

/** `month` is "YYYY-MM" of the usage; a key still counting an older month starts again from zero. */
export async function addKeyUsage(
  db: PgDb,
  deltas: KeyUsageDelta[],
  month: string,
  /** Runs in the same transaction with the totals (e.g. announces them: sent on commit). */
  inTx?: (tx: Pick<PgDb, "execute">, totals: KeyTotals[]) => Promise<unknown>,
): Promise<KeyTotals[]> {
  if (!deltas.length) return [];
  const k = clientKeys;
  return db.transaction(async (tx) => {
    const out: KeyTotals[] = [];
    // Fixed order: two instances flushing the same keys lock the rows in the same order (no deadlock).
    for (const d of [...deltas].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
      const rows = await tx.update(k)
        .set({
          tokensThisMonth: dsql`(case when ${k.budgetMonth} = ${month} then ${k.tokensThisMonth} else 0 end) + ${d.tokens}`,
          budgetMonth: month,
          requests: dsql`${k.requests} + ${d.requests}`,
          lastUsedAt: dsql`greatest(coalesce(${k.lastUsedAt}, 0), ${d.lastUsedAt})`,
        })
        .where(eq(k.id, d.id))
        .returning({ id: k.id, tokensThisMonth: k.tokensThisMonth, budgetMonth: k.budgetMonth, requests: k.requests });
      out.push(...rows);
    }
    await inTx?.(tx, out);
    return out;
  });
}

/** A key's counters and budget exactly as the database has them now (one statement). */
export type KeyUsageRow = KeyTotals & { monthlyTokenBudget: number | null };

/**
 * Reads a key's cluster-wide usage in one statement, for a budget check that must see every
 * instance's usage written so far (a key near its budget). Null for an unknown key.
 */
export async function readKeyUsage(db: PgDb, id: string): Promise<KeyUsageRow | null> {
  const k = clientKeys;
  const [row] = await db
    .select({ id: k.id, tokensThisMonth: k.tokensThisMonth, budgetMonth: k.budgetMonth, requests: k.requests, monthlyTokenBudget: k.monthlyTokenBudget })
    .from(k)
    .where(eq(k.id, id));
  return row ?? null;
}

export type AccountCounterDelta = { id: string; requests: number; errors: number; lastUsedAt: number | null };

/** A delta, and optionally the account's last-writer fields, written in the same statement. */
export type AccountCounterWrite = AccountCounterDelta & { consecutiveFailures?: number; quotaJson?: string | null; quotaFetchedAt?: number | null };

/**
 * Request and error counts per account, added (not overwritten); last use only moves forward;
 * the failure streak, when given, is overwritten, and the quota estimate when its poll is not
 * older than the stored one's. One transaction that locks
 * the rows in id order, so two instances flushing the same accounts never deadlock (PostgreSQL
 * would detect it only after `deadlock_timeout`, a second, and abort one of them).
 */
export async function addAccountCounters(db: PgDb, writes: AccountCounterWrite[]): Promise<void> {
  if (!writes.length) return;
  const a = accounts;
  await db.transaction(async (tx) => {
    for (const d of [...writes].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))) {
      await tx.update(a)
        .set({
          requests: dsql`${a.requests} + ${d.requests}`,
          errors: dsql`${a.errors} + ${d.errors}`,
          ...(d.lastUsedAt != null ? { lastUsedAt: dsql`greatest(coalesce(${a.lastUsedAt}, 0), ${d.lastUsedAt})` } : {}),
          ...(d.consecutiveFailures !== undefined ? { consecutiveFailures: d.consecutiveFailures } : {}),
          // The quota estimate only from a snapshot at least as new as the stored one: another
          // instance's fresh poll is not overwritten by this one's estimate from an older poll.
          ...(d.quotaFetchedAt != null && d.quotaJson !== undefined
            ? {
              quotaJson: dsql`case when coalesce(${a.quotaFetchedAt}, 0) <= ${d.quotaFetchedAt} then ${d.quotaJson} else ${a.quotaJson} end`,
              quotaFetchedAt: dsql`greatest(coalesce(${a.quotaFetchedAt}, 0), ${d.quotaFetchedAt})`,
            }
            : {}),
        })
        .where(eq(a.id, d.id));
    }
  });
}
