import { eq } from "drizzle-orm";
import type { PgDb } from "../client";
import { adminSessions } from "../../schema-pg";
import type { SessionRepo, StoredSession } from "../../repos";
import { notify } from "./accounts";
import type { WriteQueue } from "./queue";

/** How stale a stored last-seen time may get before a page view writes it (idle expiry is 12 h). */
const TOUCH_EVERY_MS = 60_000;

/**
 * Admin sessions shared by every instance: all in memory (a handful), written through the queue
 * and announced, so a login on one instance is known to the others within the feed's delay. The
 * cookie signing key is derived from KIRO_SECRET_KEY, the same on every instance.
 */
export class PgSessionRepo implements SessionRepo {
  private readonly written = new Map<string, number>();
  /** Sessions saved or removed here so far: a reconcile whose read overlapped one leaves memory alone. */
  private writes = 0;

  private constructor(private readonly db: PgDb, private readonly queue: WriteQueue, private readonly instanceId: string, readonly signingKey: Uint8Array, readonly rows: Map<string, StoredSession>) {}

  static async open(db: PgDb, queue: WriteQueue, instanceId: string, secretKey: string): Promise<PgSessionRepo> {
    const rows = await db.select().from(adminSessions);
    const key = new Uint8Array(new Bun.CryptoHasher("sha256", secretKey).update("kiro-server admin session cookies").digest());
    return new PgSessionRepo(db, queue, instanceId, key, new Map(rows.map((r) => [r.id, r])));
  }

  get(id: string): StoredSession | undefined {
    return this.rows.get(id);
  }

  save(s: StoredSession): void {
    this.rows.set(s.id, s);
    this.written.set(s.id, s.lastSeen);
    this.write(s.id, (tx) => tx.insert(adminSessions).values(s).onConflictDoNothing());
  }

  touch(id: string, lastSeen: number): void {
    const s = this.rows.get(id);
    if (s) s.lastSeen = lastSeen;
    if (lastSeen - (this.written.get(id) ?? 0) < TOUCH_EVERY_MS) return;
    this.written.set(id, lastSeen);
    this.queue.push(`session ${id} touch`, async () => {
      await this.db.update(adminSessions).set({ lastSeen }).where(eq(adminSessions.id, id));
    });
  }

  remove(id: string): void {
    this.rows.delete(id);
    this.written.delete(id);
    this.write(id, (tx) => tx.delete(adminSessions).where(eq(adminSessions.id, id)));
  }

  /**
   * Reads every session: sessions started or ended elsewhere appear or go. Not while this
   * instance has a session write queued, nor when one was made while the read was under way: the
   * read may predate it, and would drop a login made a moment ago (its cookie refused until the
   * next reconcile).
   */
  async reconcile(): Promise<void> {
    if (this.queue.has("session ")) return;
    const before = this.writes;
    const rows = await this.db.select().from(adminSessions);
    if (this.writes !== before) return;
    const ids = new Set(rows.map((r) => r.id));
    for (const id of this.rows.keys()) if (!ids.has(id)) this.rows.delete(id);
    for (const r of rows) if (!this.rows.has(r.id)) this.rows.set(r.id, r);
  }

  async reread(id: string): Promise<void> {
    const [row] = await this.db.select().from(adminSessions).where(eq(adminSessions.id, id));
    if (row) this.rows.set(id, { ...row, lastSeen: Math.max(row.lastSeen, this.rows.get(id)?.lastSeen ?? 0) });
    else this.rows.delete(id);
  }

  private write(id: string, fn: (tx: Parameters<Parameters<PgDb["transaction"]>[0]>[0]) => Promise<unknown>): void {
    this.writes++;
    this.queue.push(`session ${id}`, () =>
      this.db.transaction(async (tx) => {
        await fn(tx);
        await notify(tx, "admin_sessions", id, this.instanceId);
      }),
    );
  }
}
