import { afterEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync, statSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDb } from "../../src/db/client";
import { runMigrations } from "../../src/db/migrate";
import { SecretBox, SecretKeyError } from "../../src/crypto/secret-box";
import { verifySecretKey } from "../../src/db/secrets-check";
import { bootServices, shutdownServices } from "../../src/boot";
import { testConfig } from "../support/app";

const dirs: string[] = [];
const tmp = () => { const d = mkdtempSync(join(tmpdir(), "kiro-store-")); dirs.push(d); return d; };
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

describe("migrations", () => {
  test("a fresh database gets every table and the WAL/busy/foreign-key settings", () => {
    const path = join(tmp(), "fresh.db");
    const db = openDb(path);
    runMigrations(db);
    const tables = db.$client.query("select name from sqlite_master where type='table' order by name").all().map((r: any) => r.name);
    expect(tables).toEqual(expect.arrayContaining(["__drizzle_migrations", "accounts", "client_keys", "request_log", "settings"]));
    expect((db.$client.query("pragma journal_mode").get() as any).journal_mode).toBe("wal");
    expect((db.$client.query("pragma busy_timeout").get() as any).timeout).toBe(5000);
    expect((db.$client.query("pragma foreign_keys").get() as any).foreign_keys).toBe(1);
    db.$client.close();
  });

  test("an already-migrated database is left as it is and keeps its data", () => {
    const path = join(tmp(), "again.db");
    const db = openDb(path);
    runMigrations(db);
    const applied = (db.$client.query("select count(*) n from __drizzle_migrations").get() as any).n;
    db.$client.run("insert into settings(key, value, updated_at) values ('k', 'v', 1)");
    db.$client.close();
    const again = openDb(path);
    runMigrations(again);
    expect((again.$client.query("select count(*) n from __drizzle_migrations").get() as any).n).toBe(applied);
    expect((again.$client.query("select value from settings where key='k'").get() as any).value).toBe("v");
    again.$client.close();
  });
});

describe("secrets at rest", () => {
  test("encrypt/decrypt round trip; ciphertext hides the plaintext and differs each time", async () => {
    const box = await SecretBox.fromSecret("a sufficiently long secret");
    const a = await box.encrypt("aorAAAA-refresh-token");
    const b = await box.encrypt("aorAAAA-refresh-token");
    expect(a).not.toBe(b);
    expect(a).not.toContain("aorAAAA");
    expect(await box.decrypt(a)).toBe("aorAAAA-refresh-token");
  });

  test("a wrong key is a clear error, never garbage", async () => {
    const sealed = await (await SecretBox.fromSecret("key number one, long")).encrypt("secret");
    const other = await SecretBox.fromSecret("key number two, long");
    await expect(other.decrypt(sealed)).rejects.toThrow(SecretKeyError);
    await expect(other.decrypt(sealed)).rejects.toThrow(/wrong or replaced secret key/);
  });

  test("the key file is created 0600 next to the database and reused", async () => {
    const path = join(tmp(), "k.db.key");
    const first = await SecretBox.fromKeyFile(path);
    expect(first.created).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const sealed = await first.box.encrypt("x");
    const second = await SecretBox.fromKeyFile(path);
    expect(second.created).toBe(false);
    expect(await second.box.decrypt(sealed)).toBe("x");
  });

  test("starting with a replaced key file refuses to start with a clear message", async () => {
    const dir = tmp();
    const dbPath = join(dir, "kiro.db");
    const first = await bootServices(testConfig({ dbPath, adminToken: undefined, clientToken: undefined }));
    await shutdownServices(first.services);
    writeFileSync(`${dbPath}.key`, Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64"));
    await expect(bootServices(testConfig({ dbPath }))).rejects.toThrow(/does not match this database/);
  });

  test("generated admin token and client key are stored encrypted and survive a restart", async () => {
    const dbPath = join(tmp(), "kiro.db");
    const cfg = testConfig({ dbPath, adminToken: undefined, clientToken: undefined });
    const a = await bootServices(cfg);
    expect(a.report.clientKeySource).toBe("generated");
    expect(a.report.adminTokenSource).toBe("generated");
    const key = a.report.clientKey;
    const admin = a.services.adminToken;
    await shutdownServices(a.services);
    const raw = readFileSync(dbPath);
    expect(raw.includes(Buffer.from(key))).toBe(false);
    expect(raw.includes(Buffer.from(admin))).toBe(false);
    const b = await bootServices(cfg);
    expect(b.report.clientKeySource).toBe("stored");
    expect(b.report.clientKey).toBe(key);
    expect(b.services.adminToken).toBe(admin);
    expect(b.services.keys.verify(key)).not.toBeNull();
    await shutdownServices(b.services);
  });

  test("verifySecretKey accepts the key that wrote the check value", async () => {
    const db = openDb(":memory:");
    runMigrations(db);
    const box = await SecretBox.fromSecret("one long enough secret");
    await verifySecretKey(db, box, "test");
    await verifySecretKey(db, box, "test");
    await expect(verifySecretKey(db, await SecretBox.fromSecret("another long secret"), "other key")).rejects.toThrow(/other key/);
  });
});
