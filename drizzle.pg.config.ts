import { defineConfig } from "drizzle-kit";

// The PostgreSQL twin of drizzle.config.ts (SQLite). Only `drizzle-kit generate` is used
// (`npm run db:generate` regenerates both); the app applies migrations itself at start,
// under an advisory lock (src/db/pg/migrate.ts).
export default defineConfig({ dialect: "postgresql", schema: "./src/db/schema-pg.ts", out: "./migrations/pg" });
