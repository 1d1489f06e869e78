import type { AppConfig } from "../../config/schema";
import { ConfigError } from "../../config/load";
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

/**
 * Server start in PostgreSQL mode, as far as this build goes: the schema is prepared (so
 * `migrate-store` and later instances find it), then start-up stops with a clear message, because
 * the request-path stores still run on SQLite (docs/multi-instance.md has the plan).
 */
export async function startOnPostgres(config: AppConfig, engine: { url: string }): Promise<never> {
  const { db, applied, total } = await openPostgresStore(engine.url, { instanceId: config.instanceId });
  await db.$client.close();
  throw new ConfigError(
    `PostgreSQL at ${redactUrl(engine.url)} is ready (schema: ${total} migration(s), ${applied} applied now), ` +
      `but serving from PostgreSQL is not available in this build yet (docs/multi-instance.md). ` +
      `Unset DATABASE_URL to serve from SQLite; \`kiro-server migrate-store --to <url>\` copies an SQLite install into PostgreSQL.`,
  );
}
