import type { Database, Statement } from "bun:sqlite";
import type { Db } from "../db/client";

/**
 * Read-side queries over the request log for the panel, on the raw connection with statements
 * prepared once. Request paging is keyset on the rowid, so no page costs more than its own rows
 * whatever the table size. (Charts and per-key usage: src/admin/rolling.ts; account state: the pool.)
 */
export type Bucket = { i: number; requests: number; tokens: number; errors: number };
export type Series = { start: number; stepMs: number; buckets: Bucket[]; requests: number; tokens: number; errors: number };


export type RequestRow = {
  id: number; request_id: string; at: number; client_key_name: string | null; dialect: string; model: string | null;
  account_label: string | null; account_id: string | null; stream: number; status: number; error_type: string | null;
  error_message: string | null; latency_ms: number | null; ttft_ms: number | null; input_tokens: number | null;
  output_tokens: number | null; credits: number | null; attempts: number; stop_reason: string | null;
};
export type RequestDetail = RequestRow & { request_body: string | null; client_key_id: string | null };

export type RequestFilter = { status?: "ok" | "error"; model?: string; account?: string; key?: string; dialect?: string; before?: number };
export type KeyUsage = { client_key_id: string; requests: number; tokens: number; errors: number };

const ROW_COLUMNS = `id, request_id, at, client_key_name, dialect, model, account_label, account_id, stream, status, error_type,
  error_message, latency_ms, ttft_ms, input_tokens, output_tokens, credits, attempts, stop_reason`;

export const PAGE_SIZE = 50;

/** Text for a LIKE pattern that matches itself literally (escape character: backslash). */
export function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export class PanelStats {
  private readonly sql: Database;
  private readonly q: {
    detail: Statement<RequestDetail>;
  };
  private readonly pageQueries = new Map<string, Statement<RequestRow>>();

  constructor(db: Db) {
    this.sql = db.$client;
    this.q = {
      detail: this.sql.prepare(`SELECT ${ROW_COLUMNS}, request_body, client_key_id FROM request_log WHERE id = $id`),
    };
  }

  /** One page of the request log, newest first; `before` is the last id of the previous page. */
  requests(f: RequestFilter): RequestRow[] {
    const where: string[] = [];
    const params: Record<string, string | number> = { limit: PAGE_SIZE };
    if (f.before) { where.push("id < $before"); params.before = f.before; }
    if (f.status === "ok") where.push("status < 400");
    if (f.status === "error") where.push("status >= 400");
    if (f.dialect) { where.push("dialect = $dialect"); params.dialect = f.dialect; }
    // Model, account and key match by prefix ("claude-haiku" finds every haiku version); % and _ typed by the
    // user are literal. SQLite's LIKE ignores ASCII case, which suits a search box.
    for (const [field, col] of [["model", "model"], ["account", "account_label"], ["key", "client_key_name"]] as const) {
      const v = f[field];
      if (v) { where.push(`${col} LIKE $${field} || '%' ESCAPE '\\'`); params[field] = likeLiteral(v); }
    }
    const sqlText = `SELECT ${ROW_COLUMNS} FROM request_log ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY id DESC LIMIT $limit`;
    let stmt = this.pageQueries.get(sqlText);
    if (!stmt) {
      stmt = this.sql.prepare(sqlText);
      this.pageQueries.set(sqlText, stmt);
    }
    return stmt.all(params);
  }

  request(id: number): RequestDetail | null {
    return this.q.detail.get({ id }) ?? null;
  }

}
