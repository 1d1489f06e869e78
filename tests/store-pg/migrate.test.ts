import { describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { readMigrationFiles } from "drizzle-orm/migrator";
import { getTableConfig, PgTable } from "drizzle-orm/pg-core";
import { pgMigrationsFolder, runPgMigrations } from "../../src/db/pg/migrate";
import * as schema from "../../src/db/schema-pg";
import { usePostgres } from "../support/postgres";

const pg = usePostgres();
const total = readMigrationFiles({ migrationsFolder: pgMigrationsFolder }).length;

describe.skipIf(!pg.available)("PostgreSQL migrations", () => {
  test("the generated migrations create every table and column of src/db/schema-pg.ts", async () => {
    const sql = new SQL(await pg.newDatabase("mig"), { max: 2 });
    try {
      expect(await runPgMigrations(sql)).toEqual({ applied: total, total });
      const rows: Array<{ table_name: string; column_name: string }> = await sql`
        select table_name, column_name from information_schema.columns where table_schema = 'public'`;
      const live = new Set(rows.map((r) => `${r.table_name}.${r.column_name}`));
      const declared = (Object.values(schema) as unknown[])
        .filter((t): t is PgTable => t instanceof PgTable)
        .flatMap((t) => { const c = getTableConfig(t); return c.columns.map((col) => `${c.name}.${col.name}`); });
      expect([...live].sort()).toEqual(declared.sort());
      // A second start finds nothing to do.
      expect(await runPgMigrations(sql)).toEqual({ applied: 0, total });
    } finally {
      await sql.close();
    }
  });

  test("four instances starting at once migrate once (advisory lock)", async () => {
    const url = await pg.newDatabase("mig");
    const clients = Array.from({ length: 4 }, () => new SQL(url, { max: 2 }));
    try {
      const results = await Promise.all(clients.map((c) => runPgMigrations(c)));
      expect(results.map((r) => r.applied).sort()).toEqual([0, 0, 0, total]);
      const [{ n }] = await clients[0]!`select count(*)::int as n from drizzle.__drizzle_migrations`;
      expect(n).toBe(total);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });
});

describe.skipIf(!pg.available)("PostgreSQL test harness", () => {
  test("each test gets its own empty database on the shared cluster", async () => {
    const a = new SQL(await pg.newDatabase("iso"));
    const b = new SQL(await pg.newDatabase("iso"));
    try {
      await a`create table t (x int)`;
      await a`insert into t values (1)`;
      const [{ n }] = await a`select count(*)::int as n from t`;
      expect(n).toBe(1);
      const rows = await b`select to_regclass('t') as r`;
      expect(rows[0].r).toBeNull();
      const [{ version }] = await a`show server_version`.then((r) => r.map((x: { server_version: string }) => ({ version: x.server_version })));
      expect(version.split(".")[0]).toBe(pg.cluster().version);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
