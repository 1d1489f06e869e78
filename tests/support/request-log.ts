/**
 * Reading the request log a test's app wrote, from the store it logs to: this process's SQLite,
 * or, in PostgreSQL mode (KIRO_TEST_DATABASE=postgres), the cluster's shared table (an instance
 * keeps no private copy there). Queries are written once with `?` placeholders and snake_case
 * column names, the same in both schemas.
 */
import { SQL } from "bun";
import type { Services } from "../../src/services";

/** Rows of `query` once every request recorded so far is stored. */
export async function queryLog(s: Services, query: string, ...params: unknown[]): Promise<Array<Record<string, any>>> {
  s.requestLog.flush();
  const shared = s.store.requestLogReads;
  if (!shared) return s.db.$client.query(query).all(...(params as Array<string | number | null>)) as Array<Record<string, any>>;
  await shared.flush();
  const sql = new SQL(s.config.databaseUrl!, { max: 1 });
  try {
    let n = 0;
    return (await sql.unsafe(query.replace(/\?/g, () => `$${++n}`), params)) as Array<Record<string, any>>;
  } finally {
    await sql.close();
  }
}

/** The row of one request id (`columns` as in a SELECT list), or null. */
export async function loggedRow(s: Services, requestId: string, columns = "*"): Promise<Record<string, any> | null> {
  const rows = await queryLog(s, `SELECT ${columns} FROM request_log WHERE request_id = ?`, requestId);
  return rows[0] ?? null;
}
