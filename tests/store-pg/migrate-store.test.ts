import { describe, expect, test, afterAll } from "bun:test";
import { SQL } from "bun";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load";
import { bootServices, shutdownServices } from "../../src/boot";
import { SecretBox } from "../../src/crypto/secret-box";
import { runMigrateStoreCommand, parseMigrateStoreArgs, IMPORTED_INSTANCE } from "../../src/cli/migrate-store";
import { usePostgres } from "../support/postgres";
import { readMigrationFiles } from "drizzle-orm/migrator";
import { pgMigrationsFolder } from "../../src/db/pg/migrate";

const pg = usePostgres();
const dir = mkdtempSync(join(tmpdir(), "kiro-migrate-store-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = "cluster-secret-key-for-tests-0123456789";
const token = (tag: string) => `aorA${tag}-${crypto.randomUUID()}`.padEnd(180, "x");

/** A real SQLite install (key file next to it, not KIRO_SECRET_KEY) with accounts, keys, settings and log rows. */
async function populatedSqlite(dbPath: string) {
  const { config } = loadConfig([], {});
  const { services, report } = await bootServices({ ...config, dbPath, port: 0, logLevel: "error", clientToken: undefined, adminToken: undefined, secretKey: undefined });
  const refreshTokens = [token("social-a"), token("social-b"), token("idc-c")];
  const ids: string[] = [];
  for (const [i, rt] of refreshTokens.entries()) {
    const idc = i === 2;
    const r = await services.pool.upsert({ kind: idc ? "idc" : "social", refreshToken: rt, label: `acct-${i}`, ...(idc ? { clientId: "client-id-c", clientSecret: "client-secret-c-value" } : {}) });
    expect(r.outcome).toBe("added");
    ids.push(r.id);
  }
  const created = await services.keys.create({ name: "team key", monthlyTokenBudget: 100_000 });
  services.settings.update({ cooldownBaseMs: 5000, logRetentionDays: 7 });
  const now = Date.now();
  for (let i = 0; i < 25; i++) {
    services.requestLog.record({ requestId: `req-${i}`, at: now - i * 60_000, dialect: "openai", model: "claude-sonnet-4.5", accountId: ids[i % 3], status: 200, stream: i % 2 === 0, latencyMs: 100 + i, credits: 0.5 });
  }
  // Too old for the 7-day retention: not copied.
  services.requestLog.record({ requestId: "req-old", at: now - 10 * 86_400_000, dialect: "anthropic", status: 500 });
  // Stored Responses of the team key: two live ones, and one already expired (not copied).
  const stored = (id: string, createdAt: number) => ({
    id,
    clientKeyId: created.record.id,
    createdAt,
    response: { id, object: "response", status: "completed", output: [{ type: "message", content: [{ type: "output_text", text: `answer ${id} é ✓` }] }] },
    input: [{ id: `msg_in_${id}`, type: "message", role: "user", content: [{ type: "input_text", text: `question ${id}` }] }],
    output: [{ id: `msg_out_${id}`, type: "message", role: "assistant", content: [{ type: "output_text", text: `answer ${id} é ✓` }] }],
  });
  await services.responses.save(stored("resp_live_a", now - 60_000), 86_400_000);
  await services.responses.save(stored("resp_live_b", now - 30_000), 86_400_000);
  await services.responses.save(stored("resp_expired", now - 2 * 86_400_000), 86_400_000);
  await services.responses.flush();
  await shutdownServices(services);
  return { refreshTokens, builtinKey: report.clientKey, teamKey: created.key, teamKeyId: created.record.id, live: [stored("resp_live_a", now - 60_000), stored("resp_live_b", now - 30_000)] };
}

describe("migrate-store arguments", () => {
  test("its own switches are taken out, server settings stay", () => {
    expect(parseMigrateStoreArgs(["migrate-store", "--to", "postgres://h/db", "--db", "/x.db", "--log-days=3"])).toEqual({ to: "postgres://h/db", logDays: 3, rest: ["--db", "/x.db"] });
    expect(() => parseMigrateStoreArgs(["migrate-store", "--to"])).toThrow("--to needs a value");
  });

  test("refuses to run without KIRO_SECRET_KEY, and says why", async () => {
    await expect(runMigrateStoreCommand(["migrate-store", "--to", "postgres://127.0.0.1:1/x", "--db", join(dir, "none.db")], {}, () => {})).rejects.toThrow("migrate-store needs KIRO_SECRET_KEY");
  });
});

describe.skipIf(!pg.available)("migrate-store into a real PostgreSQL", () => {
  test("copies a populated SQLite install twice: same counts, no duplicates, secrets still decrypt", async () => {
    const dbPath = join(dir, "kiro-server.db");
    const src = await populatedSqlite(dbPath);
    expect(existsSync(`${dbPath}.key`)).toBe(true);
    const url = await pg.newDatabase("migrate");
    const env = { KIRO_SECRET_KEY: SECRET, KIRO_KV_PATH: dbPath };

    const lines1: string[] = [];
    expect(await runMigrateStoreCommand(["migrate-store", "--to", url], env, (l) => lines1.push(l))).toBe(0);
    const out1 = lines1.join("\n");
    expect(out1).toContain("accounts               3 added, 0 updated, 0 already present, 0 skipped");
    expect(out1).toContain("client keys            2 added");
    expect(out1).toContain("request log (7 d)      25 added, 0 updated, 0 already present");
    expect(out1).toContain("stored responses       2 added, 0 updated, 0 already present");
    expect(out1).not.toContain(SECRET);
    for (const rt of src.refreshTokens) expect(out1).not.toContain(rt);

    const sql = new SQL(url, { max: 2 });
    const counts = async () => {
      const [r] = await sql`select
        (select count(*)::int from accounts) as accounts,
        (select count(*)::int from account_fingerprints) as fingerprints,
        (select count(*)::int from client_keys) as keys,
        (select count(*)::int from settings) as settings,
        (select count(*)::int from request_log) as log,
        (select count(*)::int from stored_responses) as responses,
        (select sum(requests)::int from request_rollup where step = 86400000 and dim = 'total') as charted`;
      return r;
    };
    try {
      const first = await counts();
      // The copied rows are in the usage charts' aggregates too (and a second run adds nothing: the counts stay equal below).
      expect(first).toMatchObject({ accounts: 3, keys: 2, log: 25, responses: 2, charted: 25 });

      const lines2: string[] = [];
      expect(await runMigrateStoreCommand(["migrate-store", "--to", url], env, (l) => lines2.push(l))).toBe(0);
      const out2 = lines2.join("\n");
      expect(out2).toContain("accounts               0 added, 0 updated, 3 already present, 0 skipped");
      expect(out2).toContain("client keys            0 added, 0 updated, 2 already present");
      expect(out2).toContain("request log (7 d)      0 added, 0 updated, 25 already present");
      expect(out2).toContain("stored responses       0 added, 0 updated, 2 already present");
      expect(out2).toContain(`schema: ${readMigrationFiles({ migrationsFolder: pgMigrationsFolder }).length} migration(s), 0 applied now`);
      expect(await counts()).toEqual(first);

      // Secrets were re-encrypted for KIRO_SECRET_KEY (the install used a key file) and still open.
      const box = await SecretBox.fromSecret(SECRET);
      const accounts: Array<{ refresh_token_enc: string; client_secret_enc: string | null; label: string }> = await sql`select refresh_token_enc, client_secret_enc, label from accounts order by label`;
      expect(await Promise.all(accounts.map((a) => box.decrypt(a.refresh_token_enc)))).toEqual(src.refreshTokens);
      expect(await box.decrypt(accounts[2]!.client_secret_enc!)).toBe("client-secret-c-value");
      const [builtin] = await sql`select key_enc from client_keys where builtin = true`;
      expect(await box.decrypt(builtin.key_enc)).toBe(src.builtinKey);
      const [admin] = await sql`select value from settings where key = 'admin_token'`;
      expect((await box.decrypt(admin.value)).length).toBeGreaterThan(10);
      const [runtime] = await sql`select value from settings where key = 'runtime_settings'`;
      expect(JSON.parse(runtime.value)).toMatchObject({ cooldownBaseMs: 5000, logRetentionDays: 7 });
      const [log] = await sql`select count(*)::int as n, count(distinct request_id)::int as distinct_ids, bool_and(instance_id = ${IMPORTED_INSTANCE}) as tagged, sum(case when stream then 1 else 0 end)::int as streams from request_log`;
      expect(log).toEqual({ n: 25, distinct_ids: 25, tagged: true, streams: 13 });

      // An instance started on the copy serves it: the accounts, the built-in key, the settings.
      const { config } = loadConfig([], { DATABASE_URL: url, KIRO_SECRET_KEY: SECRET, KIRO_INSTANCE_ID: "after-copy" });
      const { services } = await bootServices({ ...config, logLevel: "error" });
      try {
        expect(services.store.engine).toBe("postgres");
        expect(services.pool.summary().total).toBe(3);
        expect(services.keys.verify(src.builtinKey)).not.toBeNull();
        expect(services.settings.runtime).toMatchObject({ cooldownBaseMs: 5000, logRetentionDays: 7 });
        // A continuation after the move finds the stored conversation, for its own key only.
        for (const r of src.live) expect(await services.responses.get(r.id, src.teamKeyId)).toEqual(r);
        expect(await services.responses.get("resp_live_a", "another-key")).toBeUndefined();
        expect(await services.responses.get("resp_expired", src.teamKeyId)).toBeUndefined();
      } finally {
        await shutdownServices(services);
      }

      // The same secret under another id there (a key made on PostgreSQL first): the SQLite key is
      // skipped and its stored Responses go to the key that holds the secret there.
      await sql`update client_keys set id = 'key-made-on-postgres' where id = ${src.teamKeyId}`;
      await sql`delete from stored_responses`;
      const lines3: string[] = [];
      expect(await runMigrateStoreCommand(["migrate-store", "--to", url], env, (l) => lines3.push(l))).toBe(0);
      expect(lines3.join("\n")).toContain("stored responses       2 added");
      const owners: Array<{ client_key_id: string }> = await sql`select distinct client_key_id from stored_responses`;
      expect(owners).toEqual([{ client_key_id: "key-made-on-postgres" }]);
    } finally {
      await sql.close();
    }
  });

  test("a wrong KIRO_SECRET_KEY for an existing PostgreSQL store stops the copy", async () => {
    const dbPath = join(dir, "second.db");
    await populatedSqlite(dbPath);
    const url = await pg.newDatabase("migrate");
    expect(await runMigrateStoreCommand(["--to", url, "--db", dbPath], { KIRO_SECRET_KEY: SECRET }, () => {})).toBe(0);
    await expect(runMigrateStoreCommand(["--to", url, "--db", dbPath], { KIRO_SECRET_KEY: "another-secret-key-0123456789" }, () => {})).rejects.toThrow("does not match the PostgreSQL store");
  });
});
