/**
 * SQLite's stored responses are written in groups (src/db/responses-store.ts): a save is held in
 * memory with the others saved in the same turn of the event loop, and they are written in one
 * transaction on the next. These tests look at the table itself, so they run on SQLite whatever
 * engine the suite is on.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootServices, shutdownServices } from "../../src/boot";
import { openDb, type Db } from "../../src/db/client";
import { runMigrations } from "../../src/db/migrate";
import { ResponsesStore } from "../../src/db/responses-store";
import { testConfig } from "../support/app";

let dir: string;
let db: Db;
let store: ResponsesStore;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "kiro-resp-groups-"));
  db = openDb(join(dir, "groups.db"));
  runMigrations(db);
  store = new ResponsesStore(db);
});
afterAll(() => {
  db.$client.close();
  rmSync(dir, { recursive: true, force: true });
});

const rec = (id: string, key = "k1", createdAt = Date.now(), text = "hi") => ({
  id, clientKeyId: key, createdAt,
  response: { id, object: "response", output: [{ $output: 0 }] },
  input: [{ id: `msg_in_${id}`, type: "message", role: "user", content: "q" }],
  output: [{ id: `msg_out_${id}`, type: "message", role: "assistant", content: [{ type: "output_text", text }] }],
});
const rows = (idPrefix: string) =>
  db.$client.query<{ id: string; bytes: number; output_json: string }, [string]>("select id, bytes, output_json from stored_responses where id like ? order by id").all(`${idPrefix}%`);

describe("grouped writes of stored responses", () => {
  test("saves of one turn are held, read back from memory, then written together on the next", async () => {
    const saves = [store.save(rec("grp_a1"), 60_000), store.save(rec("grp_a2", "k2"), 60_000), store.save(rec("grp_a3", "k1", Date.now() - 10_000), 5_000)];
    expect(rows("grp_a")).toHaveLength(0);
    expect((await store.get("grp_a1", "k1"))?.output[0]!.id).toBe("msg_out_grp_a1");
    expect(await store.get("grp_a1", "k2")).toBeUndefined(); // another key's
    expect((await store.get("grp_a2", "k2"))?.id).toBe("grp_a2");
    expect(await store.get("grp_a3", "k1")).toBeUndefined(); // expired while waiting
    expect(saves[0]).toBe(saves[1]!); // one group, one outcome
    await Promise.all(saves);
    expect(rows("grp_a").map((r) => r.id)).toEqual(["grp_a1", "grp_a2", "grp_a3"]);
    expect((await store.get("grp_a1", "k1"))?.output[0]!.id).toBe("msg_out_grp_a1");
  });

  test("a second save of an id in the same group replaces the first, and its size with it", async () => {
    void store.save(rec("grp_b1", "k1", Date.now(), "first"), 60_000);
    void store.save(rec("grp_b1", "k1", Date.now(), "second, longer"), 60_000);
    expect((await store.get("grp_b1", "k1"))?.output[0]).toMatchObject({ content: [{ text: "second, longer" }] });
    await store.flush();
    const [row] = rows("grp_b1");
    expect(JSON.parse(row!.output_json)[0].content[0].text).toBe("second, longer");
    expect(row!.bytes).toBeGreaterThan(JSON.stringify(rec("grp_b1", "k1", 0, "second, longer").output).length);
  });

  test("however many saves one turn makes, they wait for the next and are written together", async () => {
    const saves = Array.from({ length: 40 }, (_, i) => store.save(rec(`grp_c${String(i).padStart(2, "0")}`), 60_000));
    expect(rows("grp_c")).toHaveLength(0);
    expect(new Set(saves).size).toBe(1);
    await saves[0];
    expect(rows("grp_c")).toHaveLength(40);
  });

  test("delete, count and prune see a record still waiting", async () => {
    void store.save(rec("grp_d1"), 60_000);
    expect(await store.delete("grp_d1", "k2")).toBe(false);
    expect(await store.delete("grp_d1", "k1")).toBe(true);
    expect(await store.get("grp_d1", "k1")).toBeUndefined();
    const before = await store.count();
    void store.save(rec("grp_d2"), 60_000);
    expect(await store.count()).toBe(before + 1);
    void store.save(rec("grp_d3", "k1", Date.now() - 10_000), 1_000);
    expect(await store.prune(1 << 30)).toBeGreaterThanOrEqual(1);
    expect(rows("grp_d3")).toHaveLength(0);
  });

  test("a failed write rejects every save of its group and leaves nothing half-written", async () => {
    const other = openDb(join(dir, "failing.db"));
    runMigrations(other);
    const failing = new ResponsesStore(other);
    const a = failing.save(rec("grp_e1"), 60_000);
    const b = failing.save(rec("grp_e2"), 60_000);
    other.$client.exec("create trigger no_second before insert on stored_responses when new.id = 'grp_e2' begin select raise(abort, 'disk says no'); end");
    await expect(a).rejects.toThrow("disk says no");
    await expect(b).rejects.toThrow("disk says no");
    expect(other.$client.query("select count(*) as n from stored_responses").get()).toEqual({ n: 0 });
    expect(await failing.get("grp_e1", "k1")).toBeUndefined();
    other.$client.close();
  });

  test("shutdown writes the waiting group before the database closes", async () => {
    const dbPath = join(dir, "shutdown.db");
    const { services } = await bootServices(testConfig({ dbPath }));
    void services.responses.save(rec("grp_f1"), 60_000);
    await shutdownServices(services);
    const again = openDb(dbPath);
    expect(again.$client.query("select id from stored_responses").all()).toEqual([{ id: "grp_f1" }]);
    again.$client.close();
  });
});

describe("the stored_responses table's indexes", () => {
  test("reads and deletes go by the primary key, pruning by the expiry index; there is no index by client key", () => {
    const names = db.$client.query<{ name: string }, []>("select name from sqlite_master where type = 'index' and tbl_name = 'stored_responses' order by name").all().map((r) => r.name);
    expect(names).toEqual(["sqlite_autoindex_stored_responses_1", "stored_responses_expiry"]);
    const plan = (sql: string) => db.$client.query<{ detail: string }, []>(`explain query plan ${sql}`).all().map((r) => r.detail).join("; ");
    expect(plan("select * from stored_responses where id = 'x' and client_key_id = 'k' and expires_at > 0")).toContain("USING INDEX sqlite_autoindex_stored_responses_1 (id=?)");
    expect(plan("delete from stored_responses where id = 'x' and client_key_id = 'k'")).toContain("(id=?)");
    expect(plan("delete from stored_responses where expires_at <= 5")).toContain("stored_responses_expiry");
  });
});
