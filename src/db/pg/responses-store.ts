import { and, eq, gt, ne, sql } from "drizzle-orm";
import type { Logger } from "../../logs/logger";
import { recordColumns, UPSERT_SET, UPSERT_VALUES, type ResponsesLookup, type ResponsesRepo, type StoredResponse } from "../responses-store";
import { storedResponses } from "../schema-pg";
import type { PgDb } from "./client";
import { tryWithAdvisoryLock } from "./lock";

/** Looks of a read waiting for a record another instance is storing: 5, 10, 20 … ms, then every 100 ms. */
const FIRST_PAUSE_MS = 5;
const MAX_PAUSE_MS = 100;
/**
 * How long a deleted record's empty row keeps its id known: far longer than readers look again for
 * a record being stored (an hour after it was minted, src/dialects/responses/ids.ts).
 */
const DELETED_KEPT_MS = 86_400_000;

export type PgResponsesOptions = {
  log?: Logger;
  /** Attempts of one write before it is given up (logged); pauses grow from `pauseMs`. */
  maxAttempts?: number;
  pauseMs?: number;
};

/** How often reads had to look again for a record being stored elsewhere, and the longest wait. */
export type LandingStats = { waited: number; found: number; longestMs: number };

type Row = typeof storedResponses.$inferSelect;

/** The upsert, prepared once per store (the SQLite store does the same, with the same parts). */
function prepareUpsert(db: PgDb) {
  return db.insert(storedResponses).values(UPSERT_VALUES).onConflictDoUpdate({ target: storedResponses.id, set: UPSERT_SET }).prepare("stored_responses_upsert");
}

/**
 * Stored OpenAI Responses in the shared PostgreSQL table, so a response created on one instance
 * is continued, read and deleted on any other.
 *
 * Writes leave the request path: `save` returns at once; the record is serialised and inserted on
 * a later turn of the event loop, after the client's terminal event was written, retried with a
 * growing pause when the database fails. Each record is its own write, not one more entry in the
 * store's ordered `WriteQueue`: records need no order among themselves, and a continuation waits
 * for its record's write only, never behind a large one. Until it is stored, this instance answers
 * reads of it from memory. Another instance may be asked for it before the row exists (the client continues
 * the moment it sees the terminal event): a read given `waitMs` looks again, briefly, while the
 * id is unknown. An id whose row exists for another key, or expired, is answered at once.
 *
 * Deleting empties the row (`response_json` = "") instead of removing it: the id stays known for a
 * day, so a later read answers "not found" at once instead of waiting for a write that will never
 * come; then the hourly pruning removes it with the expired rows (one instance at a time, under the
 * cluster lock).
 */
export class PgResponsesStore implements ResponsesRepo {
  /** Saves not stored yet, by response id. */
  private readonly pending = new Map<string, { record: StoredResponse; done: Promise<void> }>();
  private readonly upsert: ReturnType<typeof prepareUpsert>;
  readonly landing: LandingStats = { waited: 0, found: 0, longestMs: 0 };

  constructor(private readonly db: PgDb, private readonly opts: PgResponsesOptions = {}) {
    this.upsert = prepareUpsert(db);
  }

  save(r: StoredResponse, ttlMs: number): Promise<void> {
    const done: Promise<void> = new Promise<void>((resolve, reject) => {
      setImmediate(() => this.write(r, ttlMs).then(resolve, reject));
    }).finally(() => {
      if (this.pending.get(r.id)?.done === done) this.pending.delete(r.id);
    });
    this.pending.set(r.id, { record: r, done });
    return done;
  }

  private async write(r: StoredResponse, ttlMs: number): Promise<void> {
    const row = { id: r.id, clientKeyId: r.clientKeyId, createdAt: r.createdAt, expiresAt: r.createdAt + ttlMs, ...recordColumns(r) };
    const maxAttempts = this.opts.maxAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.upsert.execute(row);
        return;
      } catch (e) {
        const error = e instanceof Error ? e.message : String(e);
        if (attempt >= maxAttempts) {
          this.opts.log?.error(`stored response ${r.id} given up after ${attempt} attempts`, { error });
          throw e;
        }
        this.opts.log?.warn(`storing response ${r.id} failed, retrying`, { error, attempt });
        await Bun.sleep((this.opts.pauseMs ?? 100) * 2 ** (attempt - 1));
      }
    }
  }

  async get(id: string, clientKeyId: string, opts: ResponsesLookup = {}): Promise<StoredResponse | undefined> {
    const mine = this.pending.get(id)?.record;
    if (mine) return mine.clientKeyId === clientKeyId ? mine : undefined;
    const row = await this.untilKnown(id, opts, async () => (await this.db.select().from(storedResponses).where(eq(storedResponses.id, id)))[0]);
    if (!row || row.clientKeyId !== clientKeyId || row.expiresAt <= (opts.now ?? Date.now()) || row.responseJson === "") return undefined;
    return { id: row.id, clientKeyId: row.clientKeyId, createdAt: row.createdAt, response: JSON.parse(row.responseJson), input: JSON.parse(row.inputJson), output: JSON.parse(row.outputJson) };
  }

  async delete(id: string, clientKeyId: string, opts: ResponsesLookup = {}): Promise<boolean> {
    await this.pending.get(id)?.done.catch(() => {});
    const tombstone = async (): Promise<Pick<Row, "id"> | "absent" | undefined> => {
      const now = opts.now ?? Date.now();
      const [gone] = await this.db
        .update(storedResponses)
        .set({ expiresAt: now + DELETED_KEPT_MS, bytes: 0, responseJson: "", inputJson: "", outputJson: "" })
        .where(and(eq(storedResponses.id, id), eq(storedResponses.clientKeyId, clientKeyId), gt(storedResponses.expiresAt, now), ne(storedResponses.responseJson, "")))
        .returning({ id: storedResponses.id });
      if (gone) return gone;
      // Not this key's live record: another key's, expired, deleted (known), or not stored yet.
      const [known] = await this.db.select({ id: storedResponses.id }).from(storedResponses).where(eq(storedResponses.id, id));
      return known ? "absent" : undefined;
    };
    const r = await this.untilKnown(id, opts, tombstone);
    return r !== undefined && r !== "absent";
  }

  /** Runs `look` until it finds something or `waitMs` has passed (or the caller gave up). */
  private async untilKnown<T>(id: string, opts: ResponsesLookup, look: () => Promise<T | undefined>): Promise<T | undefined> {
    const first = await look();
    if (first !== undefined || !opts.waitMs) return first;
    const start = performance.now();
    this.landing.waited++;
    for (let pause = FIRST_PAUSE_MS; performance.now() - start + pause <= opts.waitMs && !opts.signal?.aborted; pause = Math.min(pause * 2, MAX_PAUSE_MS)) {
      await Bun.sleep(pause);
      // Stored by this instance meanwhile (a save that began after the first look).
      const found = (this.pending.has(id) ? await this.pending.get(id)!.done.then(look, look) : await look());
      if (found !== undefined) {
        this.landing.found++;
        this.landing.longestMs = Math.max(this.landing.longestMs, Math.round(performance.now() - start));
        return found;
      }
    }
    return undefined;
  }

  /** Records held (expired ones until pruned included; deleted ones not). */
  async count(): Promise<number> {
    const [r] = await this.db.select({ n: sql<number>`count(*)::int` }).from(storedResponses).where(ne(storedResponses.responseJson, ""));
    return r?.n ?? 0;
  }

  async prune(maxBytes: number, now = Date.now()): Promise<number> {
    const r = await tryWithAdvisoryLock(this.db.$client, "prune stored responses", async (conn) => {
      const expired = await conn`delete from stored_responses where expires_at <= ${now}`;
      // The newest records whose sizes add up to at most maxBytes stay; every older one goes
      // (deleted records' empty rows weigh nothing and go by their expiry).
      const over = await conn`
        delete from stored_responses where id in (
          select id from (select id, sum(bytes) over (order by created_at desc, id desc) as running from stored_responses where response_json <> '') t
          where running > ${maxBytes})`;
      return Number(expired.count ?? 0) + Number(over.count ?? 0);
    });
    return r.acquired ? r.value : 0;
  }

  async flush(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending.values()].map((p) => p.done));
  }
}
