import { describe, expect, test } from "bun:test";
import { getTableConfig as sqliteConfig, SQLiteTable } from "drizzle-orm/sqlite-core";
import { getTableConfig as pgConfig, PgTable } from "drizzle-orm/pg-core";
import * as sqlite from "../../src/db/schema";
import * as pg from "../../src/db/schema-pg";

/**
 * src/db/schema.ts (SQLite) and src/db/schema-pg.ts (PostgreSQL) describe the same store. A table,
 * column or index added to one must be added to the other; what exists on one engine only is
 * listed here with the reason.
 */
const PG_ONLY_TABLES = [
  // Admin sessions valid on every instance; one SQLite process keeps its sessions in memory.
  "admin_sessions",
];
const PG_ONLY_COLUMNS: Record<string, string[]> = {
  // Several instances write one request log: each row says which one served it.
  request_log: ["instance_id"],
};
const PG_ONLY_INDEXES: Record<string, string[]> = {
  // Finds a row copied by `migrate-store` again, so copying twice adds nothing.
  request_log: ["request_log_origin"],
};

type Shape = {
  columns: Record<string, { notNull: boolean; primary: boolean; hasDefault: boolean; default: unknown; kind: string }>;
  indexes: Record<string, { unique: boolean; on: string[] }>;
};

/** What both engines must agree on; `kind` folds each engine's types into number/text/boolean. */
function kindOf(columnType: string, dataType: string): string {
  if (dataType === "boolean") return "boolean";
  if (dataType === "number" || /Integer|BigInt|Serial|Real|Double/i.test(columnType)) return "number";
  return dataType === "string" ? "text" : dataType;
}

function sqliteShapes(): Record<string, Shape> {
  const out: Record<string, Shape> = {};
  for (const t of Object.values(sqlite)) {
    if (!(t instanceof SQLiteTable)) continue;
    const c = sqliteConfig(t);
    out[c.name] = {
      columns: Object.fromEntries(c.columns.map((col) => [col.name, { notNull: col.notNull, primary: col.primary, hasDefault: col.hasDefault, default: col.default, kind: kindOf(col.columnType, col.dataType) }])),
      indexes: Object.fromEntries(c.indexes.map((i) => [i.config.name, { unique: i.config.unique, on: i.config.columns.map((x) => (x as { name: string }).name) }])),
    };
  }
  return out;
}

function pgShapes(): Record<string, Shape> {
  const out: Record<string, Shape> = {};
  for (const t of Object.values(pg)) {
    if (!(t instanceof PgTable)) continue;
    const c = pgConfig(t);
    out[c.name] = {
      columns: Object.fromEntries(c.columns.map((col) => [col.name, { notNull: col.notNull, primary: col.primary, hasDefault: col.hasDefault, default: col.default, kind: kindOf(col.columnType, col.dataType) }])),
      indexes: Object.fromEntries(c.indexes.map((i) => [i.config.name!, { unique: i.config.unique, on: i.config.columns.map((x) => (x as { name: string }).name) }])),
    };
  }
  return out;
}

describe("SQLite and PostgreSQL schemas are kept in step", () => {
  const a = sqliteShapes();
  const b = pgShapes();
  for (const only of PG_ONLY_TABLES) {
    expect(b[only]).toBeDefined(); // an allowance for a table that is gone is stale
    delete b[only];
  }

  test("the same tables", () => {
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    expect(Object.keys(a).length).toBeGreaterThan(0);
  });

  test("the same columns with the same nullability, key, default and kind", () => {
    for (const table of Object.keys(a)) {
      const pgCols = { ...b[table]?.columns };
      for (const only of PG_ONLY_COLUMNS[table] ?? []) {
        expect(pgCols[only]).toBeDefined(); // an allowance for a column that is gone is stale
        delete pgCols[only];
      }
      expect({ table, columns: pgCols }).toEqual({ table, columns: a[table]!.columns });
    }
  });

  test("the same indexes", () => {
    for (const table of Object.keys(a)) {
      const pgIdx = { ...b[table]?.indexes };
      for (const only of PG_ONLY_INDEXES[table] ?? []) {
        expect(pgIdx[only]).toBeDefined();
        delete pgIdx[only];
      }
      expect({ table, indexes: pgIdx }).toEqual({ table, indexes: a[table]!.indexes });
    }
  });
});
