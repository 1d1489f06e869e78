import { SQL } from "bun";
import { drizzle, type BunSQLDatabase } from "drizzle-orm/bun-sql";
import * as schema from "../schema-pg";

export { isPostgresUrl, redactUrl } from "./url";

export type PgDb = BunSQLDatabase<typeof schema> & { $client: SQL };

/**
 * A connection pool on Bun's built-in PostgreSQL client with drizzle on top. `max` is small on
 * purpose: the request path never waits on the database (writes are batched), so a few
 * connections serve one instance; each cluster-wide lock holds one more while it is held.
 */
export function openPg(url: string, opts: { max?: number; appName?: string } = {}): PgDb {
  const client = new SQL(url, { max: opts.max ?? 8, idleTimeout: 30, connectionTimeout: 10, ...(opts.appName ? { connection: { application_name: opts.appName } } : {}) });
  return drizzle({ client, schema }) as PgDb;
}
