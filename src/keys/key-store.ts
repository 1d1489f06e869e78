import type { Statement } from "bun:sqlite";
import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { clientKeys } from "../db/schema";
import type { ClientKey, KeyRepo, KeyUsage } from "../db/repos";

/** The SQLite key repository (see src/db/repos.ts for the contract): every call is one short local statement. */
export class SqliteKeyStore implements KeyRepo {
  private updateUsage?: Statement;

  constructor(private readonly db: Db) {}

  all(): ClientKey[] {
    return this.db.select().from(clientKeys).all();
  }

  get(id: string): ClientKey | undefined {
    return this.db.select().from(clientKeys).where(eq(clientKeys.id, id)).get();
  }

  insert(row: typeof clientKeys.$inferInsert): void {
    this.db.insert(clientKeys).values(row).run();
  }

  update(id: string, patch: Partial<ClientKey>): void {
    this.db.update(clientKeys).set(patch).where(eq(clientKeys.id, id)).run();
  }

  /** The keys' in-memory counters as they are (one process counts everything on SQLite), through one prepared statement. */
  writeUsage(rows: KeyUsage[]): void {
    if (!rows.length) return;
    const c = clientKeys;
    const stmt = (this.updateUsage ??= this.db.$client.prepare(
      `UPDATE client_keys SET "${c.tokensThisMonth.name}" = ?, "${c.budgetMonth.name}" = ?, "${c.requests.name}" = ?, "${c.lastUsedAt.name}" = ? WHERE "${c.id.name}" = ?`,
    ));
    this.db.$client.transaction(() => {
      for (const { key: k } of rows) stmt.run(k.tokensThisMonth, k.budgetMonth, k.requests, k.lastUsedAt, k.id);
    })();
  }
}
