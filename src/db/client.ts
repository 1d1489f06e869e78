import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { drizzle, type BunSQLiteDatabase } from "drizzle-orm/bun-sqlite";
import * as schema from "./schema";

export type Db = BunSQLiteDatabase<typeof schema> & { $client: Database };

/**
 * One connection per process (bun:sqlite is synchronous: a busy wait blocks the whole event loop). WAL keeps readers
 * unblocked, busy_timeout lets a second writer wait instead of failing, foreign keys on.
 */
export function openDb(path: string): Db {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const sqlite = new Database(path, { create: true, strict: true });
  // First, so that switching to WAL (an exclusive lock for a moment) waits for another process's
  // lock on the file too, instead of failing with "database is locked".
  sqlite.exec("PRAGMA busy_timeout = 5000;");
  sqlite.exec("PRAGMA journal_mode = WAL;");
  sqlite.exec("PRAGMA synchronous = NORMAL;");
  sqlite.exec("PRAGMA foreign_keys = ON;");
  return drizzle({ client: sqlite, schema }) as Db;
}
