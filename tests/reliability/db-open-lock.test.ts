/**
 * SQLite files another process holds a lock on: kiro-server's own database (a `kiro-server import`
 * next to a starting server, a backup tool reading, a test polling the file) and kiro-cli's, which
 * kiro-cli may be writing while we import from it. Switching a file to WAL needs an exclusive lock
 * for a moment, and reading a rollback-journal file waits out a writer's exclusive lock: both must
 * wait like every other statement does, not fail with "database is locked".
 */
import { afterAll, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { openDb } from "../../src/db/client";
import { parseKiroCliDb } from "../../src/pool/import/kiro-cli";

const dir = mkdtempSync(join(tmpdir(), "kiro-db-lock-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Another process takes the lock (`begin` + a read, or `begin exclusive`), says so, and holds it 300 ms. */
async function holdLock(path: string, begin: "begin" | "begin exclusive") {
  const holder = Bun.spawn(
    [process.execPath, "-e", `
      const { Database } = require("bun:sqlite");
      const db = new Database(${JSON.stringify(path)});
      db.exec(${JSON.stringify(begin)});
      db.query("select count(*) from sqlite_master").all();
      console.log("locked");
      setTimeout(() => { db.exec("commit"); db.close(); }, 300);
    `],
    { stdout: "pipe", stderr: "inherit" },
  );
  const reader = (holder.stdout as ReadableStream<Uint8Array>).getReader();
  let said = "";
  while (!said.includes("locked")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the lock holder exited first: ${said}`);
    said += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return holder;
}

test("openDb waits for another process's read lock instead of failing", async () => {
  const path = join(dir, "kiro.db");
  const seed = new Database(path, { create: true });
  seed.exec("create table t (n integer); insert into t values (1);"); // rollback-journal mode, as a fresh file is
  seed.close();

  const holder = await holdLock(path, "begin");
  const db = openDb(path); // blocks until the holder commits (busy_timeout), then switches to WAL
  try {
    expect(db.$client.query("pragma journal_mode").get()).toEqual({ journal_mode: "wal" });
    expect(db.$client.query("select n from t").get()).toEqual({ n: 1 });
  } finally {
    db.$client.close();
  }
  expect(await holder.exited).toBe(0);
});

test("importing from kiro-cli's database waits while kiro-cli holds a write lock on it", async () => {
  const path = join(dir, "data.sqlite3");
  const seed = new Database(path, { create: true });
  seed.exec(readFileSync(join(import.meta.dir, "..", "fixtures", "import", "kiro-cli.sql"), "utf8"));
  seed.close();

  const holder = await holdLock(path, "begin exclusive");
  const entries = parseKiroCliDb(path);
  expect(entries.map((e) => e.where.split("#")[1])).toEqual(["kirocli:external-idp:token", "kirocli:social:token", "kirocli:odic:token"]);
  expect(await holder.exited).toBe(0);
});
