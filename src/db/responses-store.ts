import { and, asc, eq, gt, lte, sql } from "drizzle-orm";
import type { Db } from "./client";
import { storedResponses } from "./schema";

/**
 * Stored OpenAI Responses, scoped per client key. A record of another key, or an expired one,
 * reads as absent: callers answer 404 / "not found" without telling the two apart.
 */
export type StoredResponse = {
  id: string;
  clientKeyId: string;
  createdAt: number;
  /** The response object as the client received it. */
  response: Record<string, unknown>;
  /** Every input item (inherited ones included), each with an `id`. */
  input: Array<Record<string, unknown>>;
  /** The output items as a continuation replays them. */
  output: Array<Record<string, unknown>>;
  /** `response` and `output` as JSON (the same text `JSON.stringify` gives), when the caller can assemble it; called at the write. */
  json?: () => { response: string; output: string };
};

/** A record's three JSON columns and their length together (what the size cap counts). */
export function recordColumns(r: StoredResponse): { responseJson: string; inputJson: string; outputJson: string; bytes: number } {
  const json = r.json?.();
  const responseJson = json?.response ?? JSON.stringify(r.response);
  const inputJson = JSON.stringify(r.input);
  const outputJson = json?.output ?? JSON.stringify(r.output);
  return { responseJson, inputJson, outputJson, bytes: responseJson.length + inputJson.length + outputJson.length };
}

export type ResponsesLookup = {
  /** PostgreSQL: look again for up to this long while the id is unknown (another instance may be storing it). */
  waitMs?: number;
  signal?: AbortSignal;
  /** The clock expiry is judged by (tests). */
  now?: number;
};

/**
 * The stored Responses of one engine (Services.responses): SQLite here, PostgreSQL in
 * src/db/pg/responses-store.ts. The Responses dialect uses get/save/delete; the housekeeping
 * timer (src/background.ts) prunes.
 */
export interface ResponsesRepo {
  get(id: string, clientKeyId: string, opts?: ResponsesLookup): Promise<StoredResponse | undefined>;
  /** Keeps one response until `createdAt + ttlMs` (replaces a record with the same id); returns at once. */
  save(r: StoredResponse, ttlMs: number): Promise<void>;
  /** True when the key's record existed (and is gone now). */
  delete(id: string, clientKeyId: string, opts?: ResponsesLookup): Promise<boolean>;
  count(): Promise<number>;
  /**
   * Drops expired records, then the oldest ones until all records together fit in `maxBytes`.
   * Resolves to how many were removed (PostgreSQL: 0 when another instance is pruning now).
   */
  prune(maxBytes: number, now?: number): Promise<number>;
  /** Resolves once every save made so far is stored. */
  flush(): Promise<void>;
}

/** drizzle types bun-sqlite's run() as void; at runtime it is bun:sqlite's Changes object. */
const changes = (r: unknown) => (r as { changes: number }).changes;

/**
 * The upsert's values (named placeholders) and its update set, shared by both engines' stores:
 * each builds and prepares the statement once (it runs for every stored response).
 */
export const UPSERT_VALUES = {
  id: sql.placeholder("id"),
  clientKeyId: sql.placeholder("clientKeyId"),
  createdAt: sql.placeholder("createdAt"),
  expiresAt: sql.placeholder("expiresAt"),
  bytes: sql.placeholder("bytes"),
  responseJson: sql.placeholder("responseJson"),
  inputJson: sql.placeholder("inputJson"),
  outputJson: sql.placeholder("outputJson"),
};
export const UPSERT_SET = {
  clientKeyId: sql`excluded.client_key_id`,
  createdAt: sql`excluded.created_at`,
  expiresAt: sql`excluded.expires_at`,
  bytes: sql`excluded.bytes`,
  responseJson: sql`excluded.response_json`,
  inputJson: sql`excluded.input_json`,
  outputJson: sql`excluded.output_json`,
};

function prepareUpsert(db: Db) {
  return db.insert(storedResponses).values(UPSERT_VALUES).onConflictDoUpdate({ target: storedResponses.id, set: UPSERT_SET }).prepare();
}

type Group = { records: Map<string, { record: StoredResponse; ttlMs: number }>; done: Promise<void>; settle: (err?: unknown) => void };

/**
 * SQLite: one object per process over the local database. A record is serialised and written on
 * the next turn of the event loop, after the stream's terminal event has gone out (neither its
 * JSON nor the commit, with a WAL checkpoint's fsyncs every ~1,000 pages, holds that back), in one
 * transaction with every other record saved in the same turn (responses that end together share a commit:
 * each commit writes every page it touched, the row's and a leaf of each index). Until then reads
 * of a record answer from memory; `flush` (shutdown, pruning, counting, deleting) writes at once.
 * A crash can lose only the saves of that one turn; `waitMs` has nothing to wait for (one process
 * writes and reads).
 */
export class ResponsesStore implements ResponsesRepo {
  private readonly upsert: ReturnType<typeof prepareUpsert>;
  private group: Group | undefined;
  private scheduled: ReturnType<typeof setImmediate> | undefined;

  constructor(private readonly db: Db) {
    this.upsert = prepareUpsert(db);
  }

  /** Keeps the record until the next turn (the caller does not change it after saving). */
  save(r: StoredResponse, ttlMs: number): Promise<void> {
    const g = (this.group ??= newGroup());
    g.records.set(r.id, { record: r, ttlMs });
    this.scheduled ??= setImmediate(() => this.write());
    return g.done;
  }

  /** Writes the waiting group in one transaction; its saves' promises settle with the outcome. */
  private write(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const g = this.group;
    if (!g) return;
    this.group = undefined;
    try {
      this.db.$client.transaction(() => {
        for (const { record: r, ttlMs } of g.records.values()) {
          this.upsert.run({ id: r.id, clientKeyId: r.clientKeyId, createdAt: r.createdAt, expiresAt: r.createdAt + ttlMs, ...recordColumns(r) });
        }
      }).immediate();
      g.settle();
    } catch (err) {
      g.settle(err);
    }
  }

  async get(id: string, clientKeyId: string, opts: ResponsesLookup = {}): Promise<StoredResponse | undefined> {
    const now = opts.now ?? Date.now();
    const mine = this.group?.records.get(id);
    if (mine) return mine.record.clientKeyId === clientKeyId && mine.record.createdAt + mine.ttlMs > now ? mine.record : undefined;
    const row = this.db
      .select()
      .from(storedResponses)
      .where(and(eq(storedResponses.id, id), eq(storedResponses.clientKeyId, clientKeyId), gt(storedResponses.expiresAt, now)))
      .get();
    if (!row) return undefined;
    return {
      id: row.id,
      clientKeyId: row.clientKeyId,
      createdAt: row.createdAt,
      response: JSON.parse(row.responseJson),
      input: JSON.parse(row.inputJson),
      output: JSON.parse(row.outputJson),
    };
  }

  async delete(id: string, clientKeyId: string): Promise<boolean> {
    this.write();
    return changes(this.db.delete(storedResponses).where(and(eq(storedResponses.id, id), eq(storedResponses.clientKeyId, clientKeyId))).run()) > 0;
  }

  async count(): Promise<number> {
    this.write();
    return this.db.select({ n: sql<number>`count(*)` }).from(storedResponses).get()?.n ?? 0;
  }

  async prune(maxBytes: number, now = Date.now()): Promise<number> {
    this.write();
    let removed = changes(this.db.delete(storedResponses).where(lte(storedResponses.expiresAt, now)).run());
    let total = this.db.select({ n: sql<number>`coalesce(sum(${storedResponses.bytes}), 0)` }).from(storedResponses).get()?.n ?? 0;
    while (total > maxBytes) {
      const oldest = this.db
        .select({ id: storedResponses.id, bytes: storedResponses.bytes })
        .from(storedResponses)
        .orderBy(asc(storedResponses.createdAt))
        .limit(200)
        .all();
      if (!oldest.length) break;
      for (const o of oldest) {
        if (total <= maxBytes) break;
        removed += changes(this.db.delete(storedResponses).where(eq(storedResponses.id, o.id)).run());
        total -= o.bytes;
      }
    }
    return removed;
  }

  async flush(): Promise<void> {
    const g = this.group;
    this.write();
    await g?.done;
  }
}

function newGroup(): Group {
  let settle!: Group["settle"];
  const done = new Promise<void>((resolve, reject) => {
    settle = (err) => (err === undefined ? resolve() : reject(err));
  });
  return { records: new Map(), done, settle };
}
