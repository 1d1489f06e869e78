/**
 * The periodic reconcile of the in-memory copies (PostgreSQL mode) against a local write made
 * while its read was under way: the read may predate the write, and applying it would drop what
 * was just written — a login made a moment ago (its cookie refused: the panel sent back to the
 * login page) or a key just created (its requests refused with 401) until the next reconcile.
 * The read is held here until the write is stored, so the race happens every time.
 */
import { describe, expect, test } from "bun:test";
import { openPg, type PgDb } from "../../src/db/pg/client";
import { runPgMigrations } from "../../src/db/pg/migrate";
import { PgKeyRepo } from "../../src/db/pg/repos/keys";
import { WriteQueue } from "../../src/db/pg/repos/queue";
import { PgSessionRepo } from "../../src/db/pg/repos/sessions";
import { usePostgres } from "../support/postgres";

const pg = usePostgres();

/**
 * Makes the next `db.select().from(t)` run now but hand its rows over only after `release()`;
 * `read` resolves once the database has answered.
 */
function holdNextSelect(db: PgDb): { read: Promise<void>; release(): void } {
  const real = db.select.bind(db);
  let answered!: () => void;
  let release!: () => void;
  const read = new Promise<void>((r) => (answered = r));
  const gate = new Promise<void>((r) => (release = r));
  (db as { select: unknown }).select = (...args: Parameters<PgDb["select"]>) => {
    (db as { select: unknown }).select = real;
    const builder = real(...args);
    return {
      from: (table: Parameters<typeof builder.from>[0]) => {
        const rows = builder.from(table).then((r) => (answered(), r));
        return gate.then(() => rows);
      },
    };
  };
  return { read, release };
}

async function freshDb(): Promise<PgDb> {
  const db = openPg(await pg.newDatabase("reconcile"), { max: 4 });
  await runPgMigrations(db.$client);
  return db;
}

describe.skipIf(!pg.available)("a reconcile overlapping a local write", () => {
  test("keeps a session saved while its read was under way; a later reconcile still drops one ended elsewhere", async () => {
    const db = await freshDb();
    const queue = new WriteQueue();
    const sessions = await PgSessionRepo.open(db, queue, "instance-a", "reconcile-test-secret-0123456789");
    const now = Date.now();
    const held = holdNextSelect(db);
    const reconciling = sessions.reconcile();
    await held.read;
    sessions.save({ id: "login-now", csrf: "c", createdAt: now, lastSeen: now });
    await queue.flush();
    held.release();
    await reconciling;
    expect(sessions.get("login-now")).toBeDefined();

    // Ended on another instance (deleted without this one's queue): the next reconcile drops it.
    await db.$client`delete from admin_sessions where id = 'login-now'`;
    await sessions.reconcile();
    expect(sessions.get("login-now")).toBeUndefined();
    await db.$client.close();
  });

  test("keeps a key created while its read was under way; a later reconcile still sees one created elsewhere", async () => {
    const db = await freshDb();
    const queue = new WriteQueue();
    const keys = await PgKeyRepo.open(db, queue, "instance-a");
    const row = { id: crypto.randomUUID(), name: "new", keyHash: "h".repeat(64), keyPrefix: "sk-kiro-abcd", builtin: false, createdAt: Date.now() };
    const held = holdNextSelect(db);
    const reconciling = keys.reconcile();
    await held.read;
    keys.insert(row);
    await queue.flush();
    held.release();
    expect(await reconciling).toBe(false);
    expect(keys.get(row.id)?.name).toBe("new");

    // Written by another instance: the next reconcile finds it.
    const other = crypto.randomUUID();
    await db.$client`insert into client_keys (id, name, key_hash, key_prefix, builtin, created_at) values (${other}, 'elsewhere', ${"e".repeat(64)}, 'sk-kiro-efgh', false, ${Date.now()})`;
    expect(await keys.reconcile()).toBe(true);
    expect(keys.all().map((k) => k.name).sort()).toEqual(["elsewhere", "new"]);
    await db.$client.close();
  });
});
