import { describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { join } from "node:path";
import { readMigrationFiles } from "drizzle-orm/migrator";
import { ConfigError, loadConfig } from "../../src/config/load";
import { selectEngine } from "../../src/db/pg/engine";
import { pgMigrationsFolder } from "../../src/db/pg/migrate";
import { usePostgres } from "../support/postgres";

const pg = usePostgres();
const ENTRY = join(import.meta.dir, "..", "..", "src", "index.ts");

describe("engine selection and cluster settings", () => {
  test("postgres:// or postgresql:// selects PostgreSQL; anything else keeps the SQLite file", () => {
    const k = { KIRO_SECRET_KEY: "a-cluster-secret-key-1234" };
    expect(selectEngine(loadConfig(["--db", "/tmp/x.db"], { ...k, DATABASE_URL: "postgres://u:p@db:5432/kiro" }).config)).toEqual({ kind: "postgres", url: "postgres://u:p@db:5432/kiro" });
    expect(selectEngine(loadConfig(["--database-url", "postgresql://db/kiro", "--db", "/tmp/x.db"], k).config).kind).toBe("postgres");
    expect(selectEngine(loadConfig(["--db", "/tmp/x.db"], {}).config)).toEqual({ kind: "sqlite", path: "/tmp/x.db" });
    expect(selectEngine(loadConfig(["--db", "/tmp/x.db"], { DATABASE_URL: "mysql://elsewhere/db" }).config)).toEqual({ kind: "sqlite", path: "/tmp/x.db", ignoredUrl: "mysql://elsewhere/db" });
  });

  test("PostgreSQL mode without KIRO_SECRET_KEY is a start-up error that says so", () => {
    expect(() => loadConfig([], { DATABASE_URL: "postgres://u:secretpw@db/kiro" })).toThrow(ConfigError);
    let msg = "";
    try { loadConfig([], { DATABASE_URL: "postgres://u:secretpw@db/kiro" }); } catch (e) { msg = (e as Error).message; }
    expect(msg).toContain("DATABASE_URL selects PostgreSQL");
    expect(msg).toContain("set KIRO_SECRET_KEY");
    expect(msg).not.toContain("secretpw");
  });

  test("instance id: KIRO_INSTANCE_ID / --instance-id, else hostname-pid", () => {
    expect(loadConfig([], { KIRO_INSTANCE_ID: "eu-1" }).config.instanceId).toBe("eu-1");
    expect(loadConfig(["--instance-id", "b"], {}).config.instanceId).toBe("b");
    expect(loadConfig([], {}).config.instanceId).toMatch(new RegExp(`^[A-Za-z0-9_-]+-${process.pid}$`));
    expect(() => loadConfig([], { KIRO_INSTANCE_ID: "has space" })).toThrow("KIRO_INSTANCE_ID");
  });
});

describe.skipIf(!pg.available)("server start in PostgreSQL mode", () => {
  test("two instances starting at once migrate once, then both serve from PostgreSQL", async () => {
    const url = await pg.newDatabase("start");
    const start = (id: string) => Bun.spawn([process.execPath, ENTRY, "--port", "0", "--host", "127.0.0.1"], {
      env: { ...process.env, DATABASE_URL: url, KIRO_SECRET_KEY: "a-cluster-secret-key-1234", KIRO_INSTANCE_ID: id, LOG_FORMAT: "json", KIRO_KV_PATH: "/nonexistent/never-used.db" },
      stdout: "pipe", stderr: "pipe",
    });
    const procs = [start("one"), start("two")];
    try {
      // Each prints its start-up lines; the one naming the database says how many migrations it applied.
      const lines = await Promise.all(procs.map(async (p) => {
        const seen: string[] = [];
        const reader = p.stdout.getReader();
        let text = "";
        while (!seen.some((l) => l.includes("database: PostgreSQL")) || !seen.some((l) => l.includes("listening on"))) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`instance exited: ${await new Response(p.stderr).text()}`);
          text += new TextDecoder().decode(value);
          const parts = text.split("\n");
          text = parts.pop()!;
          seen.push(...parts);
        }
        reader.releaseLock();
        return seen.map((l) => JSON.parse(l) as { msg: string; instance?: string });
      }));
      const total = readMigrationFiles({ migrationsFolder: pgMigrationsFolder }).length;
      const applied = lines.map((ls) => /(\d+) applied now/.exec(ls.find((l) => l.msg.includes("database: PostgreSQL"))!.msg)![1]).sort();
      // One of them applied the migrations, the other found them applied.
      expect(applied).toEqual(["0", String(total)]);
      // Every line names its instance.
      expect(new Set(lines[0]!.map((l) => l.instance))).toEqual(new Set(["one"]));
      for (const ls of lines) {
        const port = Number(/:(\d+)$/.exec(ls.find((l) => l.msg.includes("listening on"))!.msg.split(" ").at(-1)!)![1]);
        const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { database: { engine: string; ok: boolean } };
        expect(health.database).toMatchObject({ engine: "postgres", ok: true });
      }
    } finally {
      for (const p of procs) p.kill("SIGTERM");
      await Promise.all(procs.map((p) => p.exited));
    }
    const sql = new SQL(url, { max: 1 });
    try {
      const [{ n }] = await sql`select count(*)::int as n from drizzle.__drizzle_migrations`;
      expect(n).toBe(readMigrationFiles({ migrationsFolder: pgMigrationsFolder }).length);
    } finally {
      await sql.close();
    }
  }, 60_000);

  test("an unreachable database is one clear line without the password", async () => {
    const p = Bun.spawn([process.execPath, ENTRY], {
      env: { ...process.env, DATABASE_URL: `postgres://u:hunter2pw@127.0.0.1:${pg.cluster().port}/no_such_db`, KIRO_SECRET_KEY: "a-cluster-secret-key-1234" },
      stdout: "pipe", stderr: "pipe",
    });
    const [code, err] = await Promise.all([p.exited, new Response(p.stderr).text()]);
    expect(code).toBe(1);
    expect(err).toContain("PostgreSQL at postgres://u:***@127.0.0.1");
    expect(err).not.toContain("hunter2pw");
    expect(err.trim().split("\n")).toHaveLength(1);
  }, 30_000);
});
