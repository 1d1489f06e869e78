import { defineConfig } from "drizzle-kit";

// Only `drizzle-kit generate` is used; the app applies migrations itself at start (src/db/migrate.ts).
export default defineConfig({ dialect: "sqlite", schema: "./src/db/schema.ts", out: "./migrations" });
