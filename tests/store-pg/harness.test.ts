import { describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { usePostgres } from "../support/postgres";

const pg = usePostgres();

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
