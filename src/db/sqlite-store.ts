import type { Db } from "./client";
import type { Store } from "./repos";
import { AccountStore } from "../pool/store";
import { SqliteKeyStore } from "../keys/key-store";
import { SqliteSettingsRepo } from "./settings-store";

/** The embedded engine: every repository over one bun:sqlite connection, writes synchronous. */
export function sqliteStore(db: Db, path = ":memory:"): Store {
  return {
    engine: "sqlite",
    description: `SQLite ${path === ":memory:" ? "in memory" : `file ${path}`}`,
    accounts: new AccountStore(db),
    keys: new SqliteKeyStore(db),
    settings: new SqliteSettingsRepo(db),
    async health() {
      const t = performance.now();
      try {
        db.$client.query("select 1").get();
        return { engine: "sqlite", ok: true, latencyMs: round(performance.now() - t) };
      } catch (e) {
        return { engine: "sqlite", ok: false, latencyMs: round(performance.now() - t), error: e instanceof Error ? e.message : String(e) };
      }
    },
    async flush() {},
    async close() {},
  };
}

export const round = (ms: number) => Math.round(ms * 100) / 100;
