import { join } from "node:path";
import type { SQL } from "bun";
import { readMigrationFiles } from "drizzle-orm/migrator";
import { migrationsFolder } from "../migrate";
import { lockKey } from "./lock";

/** drizzle-kit's PostgreSQL output (drizzle.pg.config.ts), embedded in the binary with the SQLite ones. */
export const pgMigrationsFolder = join(migrationsFolder, "pg");

/** The lock every starting instance takes before looking at the schema (see lock.ts for keys). */
export const MIGRATE_LOCK = "migrate";

/**
 * Applies the pending PostgreSQL migrations in one transaction that first takes a
 * transaction-scoped advisory lock: when several instances start at once, one migrates and the
 * others wait, then find nothing left to do. Bookkeeping is drizzle's own table
 * (drizzle.__drizzle_migrations: hash, created_at = the migration's folder timestamp), so drizzle's
 * migrator and this one agree on what has been applied.
 */
export async function runPgMigrations(sql: SQL, folder = pgMigrationsFolder): Promise<{ applied: number; total: number }> {
  const migrations = readMigrationFiles({ migrationsFolder: folder });
  const key = lockKey(MIGRATE_LOCK).toString();
  const applied = await sql.begin(async (tx) => {
    await tx.unsafe("select pg_advisory_xact_lock($1::bigint)", [key]);
    await tx.unsafe("create schema if not exists drizzle");
    await tx.unsafe("create table if not exists drizzle.__drizzle_migrations (id serial primary key, hash text not null, created_at bigint)");
    const [last] = await tx.unsafe("select created_at from drizzle.__drizzle_migrations order by created_at desc limit 1");
    const lastAt = last ? Number(last.created_at) : -1;
    let n = 0;
    for (const m of migrations) {
      if (m.folderMillis <= lastAt) continue;
      for (const statement of m.sql) if (statement.trim()) await tx.unsafe(statement);
      await tx.unsafe("insert into drizzle.__drizzle_migrations (hash, created_at) values ($1, $2)", [m.hash, m.folderMillis]);
      n++;
    }
    return n;
  });
  return { applied, total: migrations.length };
}
