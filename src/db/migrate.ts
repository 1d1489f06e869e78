import { join } from "node:path";
import { migrate } from "drizzle-orm/bun-sqlite/migrator";
import type { Db } from "./client";

// In the compiled binary the folder is embedded with `--asset ./migrations` under /$bunfs/root;
// from source it is the repo's migrations/ folder; drizzle's stock migrator reads either through node:fs.
export const migrationsFolder = Bun.isStandaloneExecutable
  ? join(import.meta.dir, "migrations")
  : join(import.meta.dir, "..", "..", "migrations");

export function runMigrations(db: Db): void {
  migrate(db, { migrationsFolder });
}
