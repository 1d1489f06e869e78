import { eq } from "drizzle-orm";
import type { PgDb } from "../client";
import { settings } from "../../schema-pg";
import type { SettingsRepo } from "../../repos";
import { notify } from "./accounts";
import type { WriteQueue } from "./queue";

/** Settings on PostgreSQL: every row in memory, writes queued and announced; `updated_at` is the version the reconcile compares. */
export class PgSettingsRepo implements SettingsRepo {
  private constructor(private readonly db: PgDb, private readonly queue: WriteQueue, private readonly instanceId: string, readonly rows: Map<string, { value: string; updatedAt: number }>) {}

  static async open(db: PgDb, queue: WriteQueue, instanceId: string): Promise<PgSettingsRepo> {
    const rows = await db.select().from(settings);
    return new PgSettingsRepo(db, queue, instanceId, new Map(rows.map((r) => [r.key, { value: r.value, updatedAt: r.updatedAt }])));
  }

  get(key: string): string | undefined {
    return this.rows.get(key)?.value;
  }

  put(key: string, value: string, updatedAt: number): void {
    this.rows.set(key, { value, updatedAt });
    this.queue.push(`setting ${key}`, () =>
      this.db.transaction(async (tx) => {
        await tx.insert(settings).values({ key, value, updatedAt }).onConflictDoUpdate({ target: settings.key, set: { value, updatedAt } });
        await notify(tx, "settings", key, this.instanceId);
      }),
    );
  }

  async putIfAbsent(key: string, value: string, updatedAt: number): Promise<string> {
    await this.queue.flush();
    await this.db.insert(settings).values({ key, value, updatedAt }).onConflictDoNothing();
    const [row] = await this.db.select().from(settings).where(eq(settings.key, key));
    this.rows.set(key, { value: row!.value, updatedAt: row!.updatedAt });
    return row!.value;
  }

  async reread(key: string): Promise<void> {
    const [row] = await this.db.select().from(settings).where(eq(settings.key, key));
    if (row) this.rows.set(key, { value: row.value, updatedAt: row.updatedAt });
    else this.rows.delete(key);
  }

  pending(key: string): boolean {
    return this.queue.has(`setting ${key}`);
  }
}
