import type { AppConfig } from "../../config/schema";
import { openPg, type PgDb } from "./client";
import { runPgMigrations } from "./migrate";
import { isPostgresUrl, redactUrl } from "./url";

/** Which store this process uses: DATABASE_URL = postgres://… selects PostgreSQL, else the SQLite file. */
export type StoreEngine =
  | { kind: "sqlite"; path: string; /** a DATABASE_URL that is not a PostgreSQL URL (ignored; worth a warning) */ ignoredUrl?: string }
  | { kind: "postgres"; url: string };

export function selectEngine(config: Pick<AppConfig, "dbPath" | "databaseUrl">): StoreEngine {
  if (isPostgresUrl(config.databaseUrl)) return { kind: "postgres", url: config.databaseUrl };
  return { kind: "sqlite", path: config.dbPath, ...(config.databaseUrl ? { ignoredUrl: config.databaseUrl } : {}) };
}

/** PostgreSQL could not be reached or prepared: one line for the person starting the server. */
export class DatabaseUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DatabaseUnavailableError";
  }
}

/**
 * Connects and brings the schema up to date under the cluster-wide migration lock (several
 * instances starting at once migrate once). The caller closes `db.$client`.
 */
export async function openPostgresStore(url: string, opts: { instanceId?: string } = {}): Promise<{ db: PgDb; applied: number; total: number }> {
  const db = openPg(url, { appName: opts.instanceId ? `kiro-server ${opts.instanceId}` : "kiro-server" });
  try {
    const r = await runPgMigrations(db.$client);
    return { db, ...r };
  } catch (e) {
    await db.$client.close().catch(() => {});
    throw new DatabaseUnavailableError(`PostgreSQL at ${redactUrl(url)}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
