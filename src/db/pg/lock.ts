import type { SQL } from "bun";

/**
 * Cluster-wide mutual exclusion on PostgreSQL advisory locks. A lock is named by a string (e.g.
 * "migrate", "refresh:<account id>") hashed to the 64-bit key PostgreSQL locks on. Session-level
 * locks live on one reserved connection: when the holder process dies (even `kill -9`) its
 * connection closes and PostgreSQL releases the lock at once, so no lease has to time out.
 */
export function lockKey(name: string): bigint {
  const digest = new Bun.CryptoHasher("sha256").update(`kiro-server:${name}`).digest();
  return BigInt.asIntN(64, digest.readBigUInt64BE(0));
}

export class LockTimeoutError extends Error {
  constructor(name: string, ms: number) {
    super(`waited ${ms} ms for the cluster lock "${name}"`);
    this.name = "LockTimeoutError";
  }
}

export type LockOptions = {
  /** How long to wait for the lock; 0 = try once (see tryWithAdvisoryLock). Default 30 s. */
  timeoutMs?: number;
};

/**
 * Runs `fn` while holding the named lock; waits for it up to `timeoutMs` (then LockTimeoutError).
 * `fn` gets the connection that holds the lock: queries inside the critical section should use it,
 * so a holder never waits for a second pooled connection while others wait on it.
 */
export async function withAdvisoryLock<T>(sql: SQL, name: string, fn: (conn: SQL) => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const r = await lockAndRun(sql, name, fn, timeoutMs);
  if (!r.acquired) throw new LockTimeoutError(name, timeoutMs);
  return r.value;
}

/** Runs `fn` only when the named lock is free right now; `{acquired: false}` otherwise. */
export function tryWithAdvisoryLock<T>(sql: SQL, name: string, fn: (conn: SQL) => Promise<T>): Promise<{ acquired: true; value: T } | { acquired: false }> {
  return lockAndRun(sql, name, fn, 0);
}

async function lockAndRun<T>(sql: SQL, name: string, fn: (conn: SQL) => Promise<T>, timeoutMs: number): Promise<{ acquired: true; value: T } | { acquired: false }> {
  const key = lockKey(name).toString();
  const conn = await sql.reserve();
  let healthy = true;
  try {
    let acquired: boolean;
    if (timeoutMs <= 0) {
      const [row] = await conn.unsafe("select pg_try_advisory_lock($1::bigint) as ok", [key]);
      acquired = row.ok === true;
    } else {
      // lock_timeout bounds the wait; it is set for this connection's session only.
      await conn.unsafe(`set lock_timeout = ${Math.ceil(timeoutMs)}`);
      try {
        await conn.unsafe("select pg_advisory_lock($1::bigint)", [key]);
        acquired = true;
      } catch (e) {
        if (!isLockTimeout(e)) throw e;
        acquired = false;
      } finally {
        await conn.unsafe("set lock_timeout = 0");
      }
    }
    if (!acquired) return { acquired: false };
    try {
      return { acquired: true, value: await fn(conn) };
    } finally {
      try {
        await conn.unsafe("select pg_advisory_unlock($1::bigint)", [key]);
      } catch {
        healthy = false; // the session is gone, and its lock with it
      }
    }
  } catch (e) {
    healthy = false;
    throw e;
  } finally {
    if (healthy) await conn.release();
    else await conn.close().catch(() => {});
  }
}

/** PostgreSQL's lock_not_available (SQLSTATE 55P03), raised when lock_timeout expires. */
function isLockTimeout(e: unknown): boolean {
  const err = e as { errno?: string; code?: string; message?: string };
  return err?.errno === "55P03" || err?.code === "55P03" || /lock timeout/i.test(err?.message ?? "");
}
